package indexer

import (
	"io/fs"
	"strings"
)

// maxLinkHops bounds how many symlinks one resolution follows. A longer
// chain (or a cycle) resolves nowhere: the kernel gives up with ELOOP after
// a similar number, so it cannot lead out either.
const maxLinkHops = 40

// chainLeavesWorkspace resolves the symlink at rel (pointing at target)
// component by component, following the links the index holds (lookup
// returns a path's current state), and reports whether it ends outside the
// workspace. Checking each link lexically on its own is not enough: with
// sub/up -> .. and x -> sub/up/.., each looks inside, but x resolves to the
// workspace's parent.
func chainLeavesWorkspace(rel, target string, lookup func(p string) state) bool {
	if target == "" || strings.HasPrefix(target, "/") {
		return true
	}
	// The link's own directory is real: the walk never follows links.
	var stack []string
	if dir := parentDir(rel); dir != "" {
		stack = strings.Split(dir, "/")
	}
	pending := strings.Split(target, "/")
	hops := 0
	for len(pending) > 0 {
		comp := pending[0]
		pending = pending[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return true
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, comp)
		st := lookup(strings.Join(stack, "/"))
		if !st.exists() || st.mode&fs.ModeSymlink == 0 {
			continue
		}
		if hops++; hops > maxLinkHops {
			return false
		}
		if st.target == "" || strings.HasPrefix(st.target, "/") {
			return true
		}
		stack = stack[:len(stack)-1]
		pending = append(strings.Split(st.target, "/"), pending...)
	}
	return false
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
