package indexer

import (
	"io/fs"
	"testing"
)

// A chain of links that each look inside can resolve outside: the push
// must skip the link that leaves, or tar and the scripts in the container
// follow it out of the sync root.
func TestLinkChainsLeavingTheWorkspaceAreOutside(t *testing.T) {
	tr := newTree(t, map[string]string{"sub/a.txt": "a"})
	tr.symlink("..", "sub/up")          // the workspace root: inside
	tr.symlink("sub/up/..", "x")        // the workspace's parent: outside
	tr.symlink("x/etc", "through-x")    // through an escaping link: outside
	tr.symlink("sub/up/sub/a.txt", "z") // back inside: fine
	tr.symlink("../sub/up/../..", "sub/deep")
	tr.symlink("loop2", "loop1")
	tr.symlink("loop1", "loop2")
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))

	want := map[string]bool{"sub/up": false, "x": true, "through-x": true, "z": false, "sub/deep": true, "loop1": false}
	cs := w.Pending()
	for p, outside := range want {
		e, ok := cs.Entry(p)
		if !ok || e.OutsideWorkspace != outside {
			t.Errorf("pending %s: %+v, want outside=%v", p, e, outside)
		}
	}
	for p, outside := range want {
		if e, ok := w.Entry(p); !ok || e.OutsideWorkspace != outside {
			t.Errorf("entry %s: %+v, want outside=%v", p, e, outside)
		}
	}
	for _, e := range w.Snapshot() {
		if outside, ok := want[e.Path]; ok && e.OutsideWorkspace != outside {
			t.Errorf("snapshot %s: outside=%v, want %v", e.Path, e.OutsideWorkspace, outside)
		}
	}
}

// With no links in the index, resolving a chain is the lexical check; with
// links, a target that leaves lexically still leaves (links only add ways out).
func FuzzChainLeavesWorkspace(f *testing.F) {
	f.Add("a/b/link", "../../x", "a/up", "..")
	f.Add("x", "sub/up/..", "sub/up", "..")
	f.Add("l", "/etc", "m", "l/..")
	f.Fuzz(func(t *testing.T, rel, target, otherLink, otherTarget string) {
		if !validRelPath(rel) {
			return
		}
		none := func(string) state { return state{} }
		if got, want := chainLeavesWorkspace(rel, target, none), linkLeavesWorkspace(rel, target); got != want {
			t.Fatalf("%q -> %q with no other links: chain says outside=%v, lexical %v", rel, target, got, want)
		}
		if !validRelPath(otherLink) {
			return
		}
		links := map[string]state{
			rel:       {mode: fs.ModeSymlink, flags: flagExists, target: target},
			otherLink: {mode: fs.ModeSymlink, flags: flagExists, target: otherTarget},
		}
		_ = chainLeavesWorkspace(rel, target, func(p string) state { return links[p] }) // must end
	})
}
