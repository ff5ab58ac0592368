package daemon

import (
	"context"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/protocol"
)

func (s *Server) buildImage(ctx context.Context, conn *jsonrpc2.Conn, p protocol.ComponentBuildParams) (any, error) {
	sess, comp, err := s.componentFor(p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	ctx, progress := s.startProgress(ctx, conn, p.WorkDoneToken, "Building an image of "+sess.name(), true)
	res, err := comp.Build(ctx)
	if err != nil {
		progress.End("failed")
		return nil, engineError(err)
	}
	progress.End("built " + res.Image)
	return protocol.ComponentBuildResult{Image: res.Image, DurationMs: res.DurationMs}, nil
}

func (s *Server) history(ctx context.Context, _ *jsonrpc2.Conn, p protocol.WorkspaceParams) (any, error) {
	return onSettings(s, p.WorkspaceID, reads, func(c *component.Settings) (any, error) {
		return c.History(ctx)
	})
}

func (s *Server) rollback(ctx context.Context, _ *jsonrpc2.Conn, p protocol.ComponentRollbackParams) (any, error) {
	return onComponent(s, p.WorkspaceID, func(c *component.Component) (any, error) {
		return c.Rollback(ctx, p.Revision)
	})
}
