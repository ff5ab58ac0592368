package daemon

import (
	"context"
	"sort"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/cluster"
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
		out = append(out, summary(c, open[cluster.ComponentRef{Name: c.Name, App: c.App}]))
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

func summary(c cluster.ComponentSummary, ws *protocol.WorkspaceRef) protocol.ComponentSummary {
	out := protocol.ComponentSummary{Name: c.Name, App: c.App, Namespace: c.Namespace, Type: c.Type, ManagedBy: c.ManagedBy,
		Pod: c.Pod.Pod, Reason: c.Pod.Reason, URLs: []protocol.URL{}, Storage: []protocol.Storage{}, Workspace: ws}
	switch c.Pod.State {
	case cluster.StateRunning:
		out.State = protocol.StateRunning
	case cluster.StateError:
		out.State = protocol.StateError
	default:
		out.State = protocol.StateStarting
	}
	for _, u := range c.URLs {
		out.URLs = append(out.URLs, protocol.URL{Name: u.Name, Port: u.Port, Secure: u.Secure, Kind: u.Kind, Host: u.Host, URL: u.URL, State: protocol.SettingPushed})
	}
	for _, st := range c.Storage {
		out.Storage = append(out.Storage, protocol.Storage{Name: st.Name, Path: st.Path, Size: st.Size, State: protocol.SettingPushed})
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
	byName := map[string]*protocol.App{}
	for _, c := range comps {
		a := byName[c.App]
		if a == nil {
			a = &protocol.App{Name: c.App, Namespace: ns, Components: []string{}}
			byName[c.App] = a
		}
		a.Components = append(a.Components, c.Name)
	}
	res := protocol.AppListResult{Namespace: ns, Apps: []protocol.App{}}
	for _, a := range byName {
		sort.Strings(a.Components)
		res.Apps = append(res.Apps, *a)
	}
	sort.Slice(res.Apps, func(i, j int) bool { return res.Apps[i].Name < res.Apps[j].Name })
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
