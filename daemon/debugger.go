package daemon

import (
	"context"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/protocol"
)

// The editor's debugger: odod/debug/start, info, stop.

func (s *Server) debugStart(ctx context.Context, _ *jsonrpc2.Conn, p protocol.DebugStartParams) (any, error) {
	if p.LocalPort < 0 || p.LocalPort > 65535 {
		return nil, invalidParams("localPort", "is not a port number", "Pass a free local port, or 0 for any.")
	}
	return onComponent(s, p.WorkspaceID, func(c *component.Component) (any, error) {
		// The forward outlives the request, as odod/portforward's.
		return c.StartDebug(context.WithoutCancel(ctx), p.LocalPort)
	})
}

func (s *Server) debugInfo(_ context.Context, _ *jsonrpc2.Conn, p protocol.WorkspaceParams) (any, error) {
	return onComponent(s, p.WorkspaceID, func(c *component.Component) (any, error) {
		return c.DebugInfo()
	})
}

func (s *Server) debugStop(_ context.Context, _ *jsonrpc2.Conn, p protocol.WorkspaceParams) (any, error) {
	return onComponent(s, p.WorkspaceID, func(c *component.Component) (any, error) {
		return nil, c.StopDebug()
	})
}
