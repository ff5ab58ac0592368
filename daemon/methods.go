package daemon

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/protocol"
)

// queueing says how a method shares the ordered request queue.
type queueing int

const (
	// alone: the method runs alone, so the next message waits, until it
	// answers, releases the queue itself (odod/workspace/open once its
	// folder is registered) or reaches the cluster (the server's connector
	// releases it): a hung API server never holds up odod/status. The
	// methods that edit .odo/config.yaml are alone so that they are
	// ordered; a workspace's later requests still wait for the whole
	// edit through the session's settings lock.
	alone queueing = iota
	// concurrent: the queue is released before the handler runs.
	concurrent
	// immediate: a notification handled in jsonrpc2's read loop, never
	// queued ($/cancelRequest): its handler must not block.
	immediate
)

// method is one entry of the dispatch table: everything the server knows
// of a method it answers.
type method struct {
	name  string
	notif bool
	queue queueing
	// anyState: answered whatever the lifecycle state (initialize, exit).
	anyState bool
	// debugOnly: answered only with initializationOptions.debugMethods.
	debugOnly bool
	// params is the Go type of the params, for the test that keeps the
	// table in step with protocol.Methods (and so with docs/protocol.md).
	params reflect.Type
	handle func(s *Server, ctx context.Context, conn *jsonrpc2.Conn, raw *json.RawMessage) (any, error)
}

// handlerOf is the form of every handler: the server, the request's
// context and connection, and its decoded params.
type handlerOf[P any] func(s *Server, ctx context.Context, conn *jsonrpc2.Conn, p P) (any, error)

// request is a table entry for a request whose params decode into P.
func request[P any](name string, q queueing, h handlerOf[P]) method {
	return method{name: name, queue: q, params: reflect.TypeFor[P](), handle: decoded(h)}
}

// notification is a table entry for a notification.
func notification[P any](name string, q queueing, h func(s *Server, p P)) method {
	return method{name: name, notif: true, queue: q, params: reflect.TypeFor[P](),
		handle: decoded(func(s *Server, _ context.Context, _ *jsonrpc2.Conn, p P) (any, error) { h(s, p); return nil, nil })}
}

func decoded[P any](h handlerOf[P]) func(*Server, context.Context, *jsonrpc2.Conn, *json.RawMessage) (any, error) {
	return func(s *Server, ctx context.Context, conn *jsonrpc2.Conn, raw *json.RawMessage) (any, error) {
		var p P
		if err := decodeParams(raw, &p); err != nil {
			return nil, err
		}
		return h(s, ctx, conn, p)
	}
}

func (m method) always() method   { m.anyState = true; return m }
func (m method) debugged() method { m.debugOnly = true; return m }

// none is the params of the methods that take none.
type none = struct{}

// newMethodTable is every method the server answers. Adding a method is a
// line here (and its constant, its protocol.Methods entry and its section
// in docs/protocol.md, which tests check).
func newMethodTable() map[string]method {
	entries := []method{
		// The lifecycle.
		request(protocol.MethodInitialize, alone, (*Server).initialize).always(),
		notification(protocol.MethodInitialized, alone, (*Server).initialized),
		request(protocol.MethodShutdown, alone, (*Server).shutdown),
		// exit is obeyed whatever its params.
		{name: protocol.MethodExit, notif: true, queue: alone, anyState: true, params: reflect.TypeFor[none](),
			handle: func(s *Server, _ context.Context, _ *jsonrpc2.Conn, _ *json.RawMessage) (any, error) {
				s.exit()
				return nil, nil
			}},
		notification(protocol.MethodCancelRequest, immediate, (*Server).cancelRequest).always(),
		notification(protocol.MethodWorkDoneProgressCancel, immediate, (*Server).cancelProgress).always(),
		notification(protocol.MethodDidChangeWatchedFiles, alone, (*Server).didChangeWatchedFiles),

		// The daemon and its workspaces.
		request(protocol.MethodStatus, concurrent, (*Server).status),
		request(protocol.MethodWorkspaceOpen, alone, (*Server).openWorkspace),
		request(protocol.MethodWorkspaceClose, alone, (*Server).closeWorkspace),
		request(protocol.MethodDebugSleep, concurrent, (*Server).debugSleep).debugged(),

		// A workspace's component and its settings.
		request(protocol.MethodCatalogList, concurrent, (*Server).catalog),
		request(protocol.MethodComponentCreate, alone, (*Server).create),
		request(protocol.MethodPush, concurrent, (*Server).push),
		request(protocol.MethodComponentDescribe, concurrent, (*Server).describe),
		request(protocol.MethodComponentDelete, concurrent, (*Server).deleteComponent),
		request(protocol.MethodLogsFollow, concurrent, (*Server).followLogs),
		request(protocol.MethodLogsStop, concurrent, (*Server).stopLogs),
		request(protocol.MethodURLCreate, alone, (*Server).createURL),
		request(protocol.MethodURLList, concurrent, (*Server).listURLs),
		request(protocol.MethodURLDelete, alone, (*Server).deleteURL),
		request(protocol.MethodStorageAdd, alone, (*Server).addStorage),
		request(protocol.MethodStorageList, concurrent, (*Server).listStorage),
		request(protocol.MethodStorageRemove, alone, (*Server).removeStorage),
		request(protocol.MethodPortForward, concurrent, (*Server).portForward),
		request(protocol.MethodPortForwardStop, concurrent, (*Server).stopPortForward),
		// After odod/component/create in the queue's order, so a watch sees its settings.
		request(protocol.MethodWatchStart, alone, (*Server).watchStart),
		request(protocol.MethodWatchStop, alone, (*Server).watchStop),
		request(protocol.MethodConfigView, concurrent, (*Server).configView),
		request(protocol.MethodConfigSet, alone, (*Server).configSet),
		request(protocol.MethodConfigUnset, alone, (*Server).configUnset),
		request(protocol.MethodComponentBuild, concurrent, (*Server).buildImage),
		request(protocol.MethodComponentHistory, concurrent, (*Server).history),
		request(protocol.MethodComponentRollback, concurrent, (*Server).rollback),
		request(protocol.MethodLink, alone, (*Server).link),
		request(protocol.MethodUnlink, alone, (*Server).unlink),
		request(protocol.MethodDebugStart, concurrent, (*Server).debugStart),
		request(protocol.MethodDebugInfo, concurrent, (*Server).debugInfo),
		request(protocol.MethodDebugStop, concurrent, (*Server).debugStop),

		// The cluster, without a workspace.
		request(protocol.MethodClusterContexts, concurrent, (*Server).clusterContexts),
		request(protocol.MethodClusterUse, alone, (*Server).clusterUse),
		request(protocol.MethodClusterInfo, concurrent, (*Server).clusterInfo),
		request(protocol.MethodProjectList, concurrent, (*Server).projectList),
		request(protocol.MethodProjectCreate, concurrent, (*Server).projectCreate),
		request(protocol.MethodProjectSet, alone, (*Server).projectSet),
		request(protocol.MethodProjectDelete, concurrent, (*Server).projectDelete),
		request(protocol.MethodComponentList, concurrent, (*Server).componentList),
		request(protocol.MethodAppList, concurrent, (*Server).appList),
		request(protocol.MethodAppDescribe, concurrent, (*Server).appDescribe),
		request(protocol.MethodAppDelete, concurrent, (*Server).appDelete),
		request(protocol.MethodLogin, alone, (*Server).login),
		request(protocol.MethodLogout, alone, (*Server).logout),
		request(protocol.MethodClusterWatch, alone, (*Server).clusterWatchStart),
		request(protocol.MethodClusterUnwatch, alone, (*Server).clusterWatchStop),
	}
	table := make(map[string]method, len(entries))
	for _, m := range entries {
		if _, dup := table[m.name]; dup {
			panic("daemon: method " + m.name + " is in the table twice")
		}
		table[m.name] = m
	}
	return table
}

// advertised lists the odod/* requests of the table that initialize
// advertises (not the debug ones), sorted.
func advertised(table map[string]method) []string {
	var out []string
	for name, m := range table {
		if strings.HasPrefix(name, "odod/") && !m.notif && !m.debugOnly {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
