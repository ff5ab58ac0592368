package indexer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"
)

// A directory swapped for a symlink after its parent was listed must not
// be walked through: the files it points at would be indexed and pushed.
func TestWalkNeverFollowsADirectorySwappedForALink(t *testing.T) {
	secrets := t.TempDir()
	if err := os.WriteFile(filepath.Join(secrets, "id_rsa"), []byte("PRIVATE KEY"), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := newTree(t, map[string]string{"lib/a.txt": "a", "inner/b.txt": "b"})
	swap := map[string]string{"lib": secrets, "inner": "lib"}
	wk := &walker{
		root:    tr.root,
		ig:      newIgnorer(nil, false),
		workers: 1,
		logger:  zaptest.NewLogger(t),
		beforeRead: func(rel string) {
			if target, ok := swap[rel]; ok {
				tr.remove(rel)
				tr.symlink(target, rel)
			}
		},
	}
	res, err := wk.walk(context.Background(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.entries {
		if strings.HasPrefix(e.path, "lib/") || strings.HasPrefix(e.path, "inner/") {
			t.Errorf("walked through a swapped link: %s", e.path)
		}
	}
}
