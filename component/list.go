package component

import (
	"sort"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
)

// Summarize is a component found on the cluster as the protocol shows it
// (odod/component/list, odod list -o json); ws is its open workspace, if
// any.
func Summarize(c cluster.ComponentSummary, ws *protocol.WorkspaceRef) protocol.ComponentSummary {
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

// Apps groups components by app, sorted by name; each app's component
// names sorted.
func Apps(namespace string, comps []protocol.ComponentSummary) []protocol.App {
	byName := map[string]int{}
	apps := []protocol.App{}
	for _, c := range comps {
		i, ok := byName[c.App]
		if !ok {
			i = len(apps)
			byName[c.App] = i
			apps = append(apps, protocol.App{Name: c.App, Namespace: namespace, Components: []string{}})
		}
		apps[i].Components = append(apps[i].Components, c.Name)
	}
	for i := range apps {
		sort.Strings(apps[i].Components)
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].Name < apps[j].Name })
	return apps
}
