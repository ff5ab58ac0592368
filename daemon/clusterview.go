package daemon

import (
	"context"
	"strings"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/protocol"
)

// The editor's view of the cluster: the methods that need no workspace.

func (s *Server) clusterContexts(context.Context, *jsonrpc2.Conn, protocol.ClusterContextsParams) (any, error) {
	kc, err := s.opts.Clusters.Contexts()
	if err != nil {
		return nil, engineError(err)
	}
	res := protocol.ClusterContextsResult{Current: kc.Current, Contexts: []protocol.ClusterContext{}}
	for _, c := range kc.Contexts {
		res.Contexts = append(res.Contexts, protocol.ClusterContext{Name: c.Name, Cluster: c.Cluster, Server: c.Server,
			User: c.User, Namespace: c.Namespace, Current: c.Name == kc.Current})
	}
	return res, nil
}

// clusterUse switches context and namespace. Nothing is restarted: the
// workspaces' components reach the cluster through s.connect on each
// request, so their next request uses the new selection.
func (s *Server) clusterUse(_ context.Context, _ *jsonrpc2.Conn, p protocol.ClusterUseParams) (any, error) {
	if p.Context == "" && p.Namespace == "" {
		return nil, invalidParams("context/namespace", "name a context, a namespace or both",
			"Pass a context from odod/cluster/contexts and/or a namespace.")
	}
	kc, err := s.opts.Clusters.Contexts()
	if err != nil {
		return nil, engineError(err)
	}
	sel := s.opts.Clusters.Selection()
	name := kc.Current
	if p.Context != "" {
		if _, ok := kc.Find(p.Context); !ok {
			names := make([]string, 0, len(kc.Contexts))
			for _, c := range kc.Contexts {
				names = append(names, c.Name)
			}
			return nil, Errorf(protocol.CodeNotFound, "choose-context", "Choose one of: "+strings.Join(names, ", ")+" (odod/cluster/contexts).",
				"the kubeconfig has no context %q", p.Context)
		}
		name = p.Context
		sel.Context = p.Context
		sel.Namespace = "" // the context's own, unless given
	}
	if p.Namespace != "" {
		sel.Namespace = p.Namespace
	}
	s.opts.Clusters.Configure(sel)
	s.clusterSelectionChanged()
	s.log.Info("using a new cluster context", zap.String("context", name), zap.String("namespace", s.opts.Clusters.DefaultNamespace()))
	ctx, _ := kc.Find(name)
	return protocol.ClusterUseResult{Context: name, Namespace: s.opts.Clusters.DefaultNamespace(), Server: ctx.Server}, nil
}

func (s *Server) clusterInfo(ctx context.Context, _ *jsonrpc2.Conn, _ protocol.ClusterInfoParams) (any, error) {
	cl, err := s.connect(ctx, "")
	if err != nil {
		return nil, engineError(err)
	}
	info, err := cl.Info(ctx)
	if err != nil {
		return nil, engineError(err)
	}
	res := protocol.ClusterInfoResult{Namespace: cl.Namespace(), Server: info.Server, Version: info.Version,
		OpenShift: info.OpenShift, APIGroups: info.Groups, User: info.User, UserGroups: info.UserGroups}
	if res.APIGroups == nil {
		res.APIGroups = []string{}
	}
	if kc, err := s.opts.Clusters.Contexts(); err == nil {
		res.Context = kc.Current
		if c, ok := kc.Find(kc.Current); ok && res.Server == "" {
			res.Server = c.Server
		}
	}
	return res, nil
}
