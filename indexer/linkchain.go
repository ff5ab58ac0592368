package indexer

import (
	"io/fs"

	"github.com/odod-dev/odod/indexer/relpath"
)

// chainLeavesWorkspace reports whether the symlink at rel (pointing at
// target) ends outside the workspace, its chain of links resolved against
// the index (lookup returns a path's current state).
func chainLeavesWorkspace(rel, target string, lookup func(p string) state) bool {
	return relpath.LinkLeaves(rel, target, func(p string) (string, bool) {
		st := lookup(p)
		return st.target, st.exists() && st.mode&fs.ModeSymlink != 0
	})
}

// withChainChecked flags st, the state of p, as outside when it is a
// symlink whose chain of links, resolved against the whole index, leaves
// the workspace: the push skips it as it skips a link that leaves lexically.
func withChainChecked(p string, st state, lookup func(p string) state) state {
	if st.mode&fs.ModeSymlink != 0 && st.flags&flagOutside == 0 && chainLeavesWorkspace(p, st.target, lookup) {
		st.flags |= flagOutside
	}
	return st
}

// markEscapingLinks applies withChainChecked to each state of a ChangeSet.
func markEscapingLinks(states map[string]state, lookup func(p string) state) {
	for p, st := range states {
		states[p] = withChainChecked(p, st, lookup)
	}
}
