package agentserver

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/agent"
)

// staleTempAge is how old a temporary file must be for the cleanup at
// start to remove it: a put in progress (another agent on the same root,
// for a moment after a reconnect) writes to its file all along.
const staleTempAge = 2 * time.Minute

// tempSuffixLen is the length of tempName's random hex suffix.
const tempSuffixLen = 12

// isAgentTemp reports whether name is one of the agent's temporary names
// (tempName: prefix, base, '.', 12 lower-case hex digits). A workspace file
// that merely starts with the prefix is not one: it is listed and synced.
func isAgentTemp(name string) bool {
	if !strings.HasPrefix(name, agent.TempPrefix) {
		return false
	}
	dot := strings.LastIndexByte(name, '.')
	if dot <= len(agent.TempPrefix) || len(name)-dot-1 != tempSuffixLen {
		return false
	}
	for _, c := range name[dot+1:] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// removeStaleTemps removes the temporary files an agent killed mid-put
// left behind, once they are older than staleTempAge.
func removeStaleTemps(ctx context.Context, root *os.Root, log *zap.Logger) {
	cutoff := time.Now().Add(-staleTempAge)
	removed := 0
	_ = fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil || d.IsDir() || !isAgentTemp(d.Name()) {
			return nil
		}
		if info, err := d.Info(); err == nil && info.ModTime().Before(cutoff) {
			if err := root.Remove(name); err == nil {
				removed++
			}
		}
		return nil
	})
	if removed > 0 {
		log.Info("removed temporary files a previous agent left", zap.Int("count", removed))
	}
}
