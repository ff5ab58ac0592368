package daemon

import (
	"context"
	"io/fs"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/protocol"
)

// walkIndex is the index used when no IndexOpener is configured: a plain
// count of the tree (.git and .odo left out), with no watcher.
func walkIndex(ctx context.Context, root string, _ *zap.Logger, hooks IndexHooks) (WorkspaceIndex, error) {
	var st protocol.IndexStats
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if path == root {
			return nil
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".odo") {
			st.Ignored++
			return filepath.SkipDir
		}
		st.Files++
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				st.Bytes += info.Size()
			}
		}
		if hooks.Progress != nil && st.Files%1000 == 0 {
			hooks.Progress(st.Files)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return staticIndex{st}, nil
}

type staticIndex struct{ st protocol.IndexStats }

func (s staticIndex) Stats() protocol.IndexStats { return s.st }
func (staticIndex) Hint([]string)                {}
func (staticIndex) Close() error                 { return nil }
