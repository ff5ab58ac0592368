package daemon

import (
	"context"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// listComponents finds the components of a namespace (of one app when
// app is set) and says which open workspace each one is.
func (s *Server) listComponents(ctx context.Context, namespace, app string) (string, []protocol.ComponentSummary, error) {
	cl, err := s.connect(ctx, namespace)
	if err != nil {
		return "", nil, engineError(err)
	}
	found, err := cl.ListComponents(ctx, app)
	if err != nil {
		return "", nil, engineError(err)
	}
	open := s.openComponents(cl.Namespace())
	out := make([]protocol.ComponentSummary, 0, len(found))
	for _, c := range found {
		out = append(out, component.Summarize(c, open[cluster.ComponentRef{Name: c.Name, App: c.App}]))
	}
	return cl.Namespace(), out, nil
}

// openComponents maps the components of namespace that are open as
// workspaces to their workspace.
func (s *Server) openComponents(namespace string) map[cluster.ComponentRef]*protocol.WorkspaceRef {
	out := map[cluster.ComponentRef]*protocol.WorkspaceRef{}
	defaultNamespace := s.opts.Clusters.DefaultNamespace()
	for _, sess := range s.workspaces.all() {
		cfg, err := config.Load(sess.root)
		if err != nil {
			continue // not a component (yet)
		}
		st := cfg.ComponentSettings
		project := st.Project
		if project == "" {
			project = defaultNamespace
		}
		if project != namespace {
			continue
		}
		out[cluster.ComponentRef{Name: st.Name, App: st.App()}] = &protocol.WorkspaceRef{WorkspaceID: sess.id, URI: sess.uri}
	}
	return out
}

func (s *Server) componentList(ctx context.Context, _ *jsonrpc2.Conn, p protocol.ComponentListParams) (any, error) {
	ns, comps, err := s.listComponents(ctx, p.Namespace, p.App)
	if err != nil {
		return nil, err
	}
	return protocol.ComponentListResult{Namespace: ns, Components: comps}, nil
}

func (s *Server) appList(ctx context.Context, _ *jsonrpc2.Conn, p protocol.AppListParams) (any, error) {
	ns, comps, err := s.listComponents(ctx, p.Namespace, "")
	if err != nil {
		return nil, err
	}
	res := protocol.AppListResult{Namespace: ns, Apps: component.Apps(ns, comps)}
	return res, nil
}

// appComponents lists an app's components; an app without any is
// NotFound.
func (s *Server) appComponents(ctx context.Context, name, namespace string) (string, []protocol.ComponentSummary, error) {
	if name == "" {
		return "", nil, invalidParams("name", "is required", "Pass the app's name (odod/app/list lists them).")
	}
	ns, comps, err := s.listComponents(ctx, namespace, name)
	if err != nil {
		return "", nil, err
	}
	if len(comps) == 0 {
		return "", nil, Errorf(protocol.CodeNotFound, "list-apps", "odod/app/list lists the apps of the namespace; pass namespace for another one.",
			"no component of app %q in namespace %s", name, ns)
	}
	return ns, comps, nil
}

func (s *Server) appDescribe(ctx context.Context, _ *jsonrpc2.Conn, p protocol.AppParams) (any, error) {
	ns, comps, err := s.appComponents(ctx, p.Name, p.Namespace)
	if err != nil {
		return nil, err
	}
	return protocol.AppDescribeResult{Name: p.Name, Namespace: ns, Components: comps}, nil
}

// appDelete deletes each component of the app as odod/component/delete
// does, and stops the log subscriptions of their open workspaces.
func (s *Server) appDelete(ctx context.Context, _ *jsonrpc2.Conn, p protocol.AppDeleteParams) (any, error) {
	ns, comps, err := s.appComponents(ctx, p.Name, p.Namespace)
	if err != nil {
		return nil, err
	}
	cl, err := s.connect(ctx, ns)
	if err != nil {
		return nil, engineError(err)
	}
	res := protocol.AppDeleteResult{Components: []string{}, Deleted: []protocol.ObjectRef{}}
	wait := p.Wait == nil || *p.Wait
	for _, c := range comps {
		if c.Workspace != nil {
			if sess, err := s.sessionFor(c.Workspace.WorkspaceID); err == nil {
				sess.stopSubscriptions()
			}
		}
		deleted, err := cl.Delete(ctx, cluster.ComponentRef{Name: c.Name, App: c.App}, cluster.DeleteOptions{Wait: wait})
		for _, o := range deleted {
			res.Deleted = append(res.Deleted, protocol.ObjectRef{Kind: o.Kind, Name: o.Name})
		}
		if err != nil {
			return nil, engineError(err)
		}
		res.Components = append(res.Components, c.Name)
	}
	return res, nil
}
