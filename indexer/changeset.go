package indexer

import (
	"slices"
	"strings"

	"github.com/odod-dev/odod/indexer/relpath"
)

// ChangeKind is the kind of one change; the values are LSP's FileChangeType
// (Created 1, Changed 2, Deleted 3), so they go to editors unchanged.
type ChangeKind int

const (
	Added    ChangeKind = 1
	Modified ChangeKind = 2
	Deleted  ChangeKind = 3
)

func (k ChangeKind) String() string {
	switch k {
	case Added:
		return "added"
	case Modified:
		return "modified"
	case Deleted:
		return "deleted"
	}
	return "unknown"
}

// Change is one path in a Batch.
type Change struct {
	Path string
	Kind ChangeKind
}

// Batch is what the watcher learnt in one coalescing window, relative to
// the index before it: it drives odod/index/didChange. Overflow means
// events were lost and the tree was rescanned to catch up.
type Batch struct {
	Changes  []Change
	Overflow bool
	// Stats are the index's totals after the batch.
	Stats Stats
}

// ChangeSet is what differs between the workspace and what the last
// confirmed push left in the container. Paths are slash-separated,
// relative, sorted, so a directory comes before what it contains. A rename
// is a delete plus an add. A path whose kind changed (a file, a directory
// or a symlink became another of the three) is in both Deleted and Added,
// and in KindChanged: the push deletes the old entry first, then creates
// the new one. Entry returns its new entry, DeletedEntry the old one.
//
// A ChangeSet is an immutable snapshot: changes that happen after it was
// taken are not in it, and stay pending after Confirm.
type ChangeSet struct {
	Added, Modified, Deleted []string
	// KindChanged lists the paths in both Deleted and Added because their
	// kind changed.
	KindChanged []string

	// taken holds the state of each added or modified path when the
	// ChangeSet was taken; gone the last pushed state of each deleted one.
	taken map[string]state
	gone  map[string]state
	epoch uint64
}

// Len is the number of changed paths (a kind change counts once).
func (cs ChangeSet) Len() int {
	return len(cs.Added) + len(cs.Modified) + len(cs.Deleted) - len(cs.KindChanged)
}

// Empty reports whether there is nothing to push.
func (cs ChangeSet) Empty() bool { return cs.Len() == 0 }

// Entry returns the entry to push for an added or modified path, as it was
// when the ChangeSet was taken; for a deleted path it returns what the last
// push left there (so the push knows whether it deletes a directory).
func (cs ChangeSet) Entry(path string) (Entry, bool) {
	if st, ok := cs.taken[path]; ok {
		return st.entry(path), true
	}
	if st, ok := cs.gone[path]; ok {
		return st.entry(path), true
	}
	return Entry{}, false
}

// DeletedEntry returns what the last push left at a deleted path, the old
// entry of a path whose kind changed included.
func (cs ChangeSet) DeletedEntry(path string) (Entry, bool) {
	if st, ok := cs.gone[path]; ok {
		return st.entry(path), true
	}
	return Entry{}, false
}

// Bytes is the total size of the regular files to copy.
func (cs ChangeSet) Bytes() int64 {
	var n int64
	for _, st := range cs.taken {
		if st.isRegular() {
			n += st.size
		}
	}
	return n
}

// DeletedRoots returns the deleted paths with everything under a deleted
// directory left out: one `rm -rf dir` instead of one per file.
func (cs ChangeSet) DeletedRoots() []string {
	var roots []string
	for _, p := range cs.Deleted {
		if !cs.underDeletedDir(p) {
			roots = append(roots, p)
		}
	}
	return roots
}

func (cs ChangeSet) underDeletedDir(p string) bool {
	if p == "" {
		return false
	}
	return relpath.UnderAnyFunc(relpath.Parent(p), func(dir string) bool {
		st, ok := cs.gone[dir]
		return dir != "" && ok && st.isDir()
	})
}

func sortedPaths(set map[string]struct{}) []string {
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func slicesSort(s []string) { slices.Sort(s) }

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
}

func sortChanges(cs []Change) {
	slices.SortFunc(cs, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
}

func sortedSet(set map[string]struct{}) []string { return sortedPaths(set) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
