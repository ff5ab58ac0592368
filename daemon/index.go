package daemon

import (
	"context"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/protocol"
)

// OpenIndexer is the IndexOpener of odod serve: the watched, persisted
// workspace index of package indexer.
func OpenIndexer(ctx context.Context, root string, log *zap.Logger, hooks IndexHooks) (WorkspaceIndex, error) {
	w, err := indexer.Open(ctx, root, indexer.Options{
		Logger:     log,
		OnProgress: hooks.Progress,
		OnChange: func(b indexer.Batch) {
			if hooks.Changed == nil {
				return
			}
			changes := make([]protocol.Change, len(b.Changes))
			for i, c := range b.Changes {
				changes[i] = protocol.Change{Path: c.Path, Type: protocol.FileChangeType(c.Kind)}
			}
			hooks.Changed(changes, b.Overflow, statsOf(b.Stats))
		},
		OnWarning: hooks.Warn,
	})
	if err != nil {
		return nil, err
	}
	return indexerIndex{w}, nil
}

// indexerIndex adapts *indexer.Workspace to WorkspaceIndex; the rest of
// its methods (Pending, Confirm, …) make it an engine.Index too.
type indexerIndex struct{ *indexer.Workspace }

func (i indexerIndex) Stats() protocol.IndexStats { return statsOf(i.Workspace.Stats()) }

func statsOf(s indexer.Stats) protocol.IndexStats {
	return protocol.IndexStats{Files: s.Files, Dirs: s.Dirs, Bytes: s.Bytes, Ignored: s.Ignored}
}
