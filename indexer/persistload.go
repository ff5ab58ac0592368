package indexer

import "github.com/odod-dev/odod/indexer/relpath"

// persistedLoad adds the persisted index's entries to a recordStore a
// directory at a time, the way the first walk does (recordStore.addDir:
// carved from slabs, no per-entry insert), instead of one insert per entry
// that grows each directory's arrays and leaves their old copies behind.
// That garbage, and the compaction it then needed, made a warm start peak
// higher than a first open.
//
// odod writes the index in path order. In that order every directory's
// subtree is contiguous (its paths share the prefix "dir/"), so a
// directory's entries are complete once the stream leaves its subtree: the
// open directories form a stack, each under the one below it. An entry out
// of order (a file odod did not write, or encoding/json's map order) is
// still added, one by one.
type persistedLoad struct {
	open []openDir
	free [][]scanned // emptied entry buffers, reused
}

type openDir struct {
	path    string
	entries []scanned // in path order, all directly in path
}

// add takes the next persisted entry; it returns false for a duplicate.
func (l *persistedLoad) add(s *recordStore, p string, st state, bits recordFlags) bool {
	dir := relpath.Parent(p)
	for n := len(l.open); n > 0 && !relpath.Under(dir, l.open[n-1].path); n-- {
		l.closeTop(s, bits)
	}
	if n := len(l.open); n > 0 && l.open[n-1].path == dir {
		top := &l.open[n-1]
		last := top.entries[len(top.entries)-1].path
		switch {
		case p > last:
			top.entries = append(top.entries, scanned{path: p, st: st})
			return true
		case p == last:
			return false
		}
		l.closeAll(s, bits) // out of order: this directory goes on one by one
	}
	if _, known := s.dirs[dir]; known {
		if _, _, dup := s.get(p); dup {
			return false
		}
		s.put(p, st, bits)
		return true
	}
	var buf []scanned
	if n := len(l.free); n > 0 {
		buf, l.free = l.free[n-1], l.free[:n-1]
	}
	l.open = append(l.open, openDir{path: dir, entries: append(buf, scanned{path: p, st: st})})
	return true
}

// closeAll adds every open directory to s; call it when the stream ends.
func (l *persistedLoad) closeAll(s *recordStore, bits recordFlags) {
	for len(l.open) > 0 {
		l.closeTop(s, bits)
	}
}

func (l *persistedLoad) closeTop(s *recordStore, bits recordFlags) {
	n := len(l.open) - 1
	d := l.open[n]
	l.open = l.open[:n]
	s.addDir(d.path, d.entries, bits)
	clear(d.entries) // addDir copied the names; drop the path strings
	l.free = append(l.free, d.entries[:0])
}
