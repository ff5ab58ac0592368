package sync

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A link the container still holds from an earlier push (or that something
// else made there) where the workspace now has a directory must not be
// extracted through: the tar fallback would write outside the sync root.
func TestTransportsNeverWriteThroughAContainerLink(t *testing.T) {
	for name, open := range transports(t) {
		t.Run(name, func(t *testing.T) {
			tr, target := open()
			outside := filepath.Dir(target)
			if err := os.Symlink("..", filepath.Join(target, "x")); err != nil {
				t.Fatal(err)
			}
			root, entries := workspace(t, map[string]string{"x/evil": "pwned", "x/y/evil": "pwned"})
			lookup := func(p string) (Entry, bool) { e, ok := entries[p]; return e, ok }
			// x was pushed as a directory before: only the files are new.
			plan := PlanChanges(Changes{Added: []string{"x/evil", "x/y", "x/y/evil"}}, lookup)
			_, err := tr.Apply(context.Background(), plan, DirSource(root), nil)
			for _, p := range []string{filepath.Join(outside, "evil"), filepath.Join(outside, "y", "evil")} {
				if _, err := os.Lstat(p); err == nil {
					t.Fatalf("%s was written outside the sync root %s", p, target)
				}
			}
			if err != nil {
				t.Logf("apply refused: %v", err)
				return
			}
			if got := readTree(t, target); got["x/evil"] != "pwned" || got["x/y/evil"] != "pwned" || strings.HasPrefix(got["x"], "->") {
				t.Fatalf("container tree = %v, want x a directory holding evil and y/evil", got)
			}
		})
	}
}
