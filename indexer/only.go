package indexer

import "github.com/odod-dev/odod/indexer/relpath"

// Only is the part of cs about the given paths (slash-separated, relative
// to the root): each path, what is under it, and the directories above it
// that are new. A binary component pushes its artifact alone this way;
// the rest of cs is not confirmed with it, so it stays pending.
func (cs ChangeSet) Only(paths ...string) ChangeSet {
	keep := func(p string) bool {
		for _, want := range paths {
			if relpath.Under(p, want) || (p != "" && relpath.Under(want, p)) {
				return true
			}
		}
		return false
	}
	out := ChangeSet{taken: map[string]state{}, gone: map[string]state{}, epoch: cs.epoch}
	filter := func(list []string) []string {
		var kept []string
		for _, p := range list {
			if keep(p) {
				kept = append(kept, p)
			}
		}
		return kept
	}
	out.Added, out.Modified, out.Deleted, out.KindChanged = filter(cs.Added), filter(cs.Modified), filter(cs.Deleted), filter(cs.KindChanged)
	for p, st := range cs.taken {
		if keep(p) {
			out.taken[p] = st
		}
	}
	for p, st := range cs.gone {
		if keep(p) {
			out.gone[p] = st
		}
	}
	return out
}
