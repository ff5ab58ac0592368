package daemon

import (
	"context"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/protocol"
)

// Links: odod/link, odod/unlink.

func (s *Server) link(ctx context.Context, _ *jsonrpc2.Conn, p protocol.LinkParams) (any, error) {
	if p.To == "" {
		return nil, invalidParams("to", "is required", "Name the component or Service to link to (odod/component/list lists the components).")
	}
	if p.Port < 0 || p.Port > 65535 {
		return nil, invalidParams("port", "is not a port number", "Pass one of the target's ports, or leave it out when it has one.")
	}
	return onSettings(s, p.WorkspaceID, edits, func(c *component.Settings) (any, error) {
		return c.Link(ctx, p.To, p.Port)
	})
}

func (s *Server) unlink(ctx context.Context, _ *jsonrpc2.Conn, p protocol.UnlinkParams) (any, error) {
	if p.To == "" {
		return nil, invalidParams("to", "is required", "Name the linked component or Service (odod/component/describe lists the links).")
	}
	return onSettings(s, p.WorkspaceID, edits, func(c *component.Settings) (any, error) {
		return c.Unlink(ctx, p.To)
	})
}
