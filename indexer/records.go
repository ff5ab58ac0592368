package indexer

import (
	"io/fs"
	"slices"
	"sort"
	"strings"
)

// record is a path's current state without its path or link target: 32
// bytes, stored by value.
type record struct {
	size  int64
	mtime int64
	hash  uint64
	mode  fs.FileMode
	flags stateFlags
	rec   recordFlags
}

func (r record) exists() bool { return r.flags&flagExists != 0 }

func recordOf(st state, bits recordFlags) record {
	return record{size: st.size, mtime: st.mtime, hash: st.hash, mode: st.mode, flags: st.flags, rec: bits}
}

// dirNode holds the records of one directory's entries, sorted by name,
// in three flat arrays: a 100k-file tree has about 20 entries a directory,
// and a record then costs its 32 bytes, its name's bytes and 4 more,
// instead of a map slot and a path string of its own.
type dirNode struct {
	path  string
	names []byte   // the entries' names, concatenated in order
	ends  []uint32 // ends[i] is where name i ends in names
	recs  []record
}

func (d *dirNode) name(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = d.ends[i-1]
	}
	return d.names[start:d.ends[i]]
}

// find returns where name is, or where it would be inserted.
func (d *dirNode) find(name string) (int, bool) {
	i := sort.Search(len(d.recs), func(i int) bool { return string(d.name(i)) >= name })
	return i, i < len(d.recs) && string(d.name(i)) == name
}

func (d *dirNode) insert(i int, name string, r record) {
	start := uint32(0)
	if i > 0 {
		start = d.ends[i-1]
	}
	n := uint32(len(name))
	d.names = slices.Insert(d.names, int(start), []byte(name)...)
	d.ends = slices.Insert(d.ends, i, start+n)
	for j := i + 1; j < len(d.ends); j++ {
		d.ends[j] += n
	}
	d.recs = slices.Insert(d.recs, i, r)
}

func (d *dirNode) remove(i int) {
	start := uint32(0)
	if i > 0 {
		start = d.ends[i-1]
	}
	n := d.ends[i] - start
	d.names = slices.Delete(d.names, int(start), int(d.ends[i]))
	d.ends = slices.Delete(d.ends, i, i+1)
	for j := i; j < len(d.ends); j++ {
		d.ends[j] -= n
	}
	d.recs = slices.Delete(d.recs, i, i+1)
}

// recordStore holds every path's record, grouped by directory.
type recordStore struct {
	dirs  map[string]*dirNode
	links map[string]string // link targets of the records that are symlinks
	n     int
	// slab hands out the arrays of the directories the first walk adds
	// whole (addDir), from a few large allocations rather than one each.
	slab struct {
		nodes []dirNode
		recs  []record
		ends  []uint32
		names []byte
	}
	// scattered counts the records added one by one since the last
	// compact: each may sit on a page of garbage.
	scattered int
}

// carve returns n elements of slab with no spare capacity, starting a new
// slab of chunk elements when it is full.
func carve[T any](slab *[]T, n, chunk int) []T {
	if cap(*slab)-len(*slab) < n {
		*slab = make([]T, 0, max(n, chunk))
	}
	start := len(*slab)
	*slab = (*slab)[:start+n]
	return (*slab)[start : start+n : start+n]
}

// addDir adds a directory not yet in the store with all its entries at
// once; entries are sorted by path, all directly in dir.
func (s *recordStore) addDir(dir string, entries []scanned, bits recordFlags) {
	nameBytes := 0
	for _, e := range entries {
		nameBytes += len(baseName(e.path))
	}
	d := &carve(&s.slab.nodes, 1, 1024)[0]
	*d = dirNode{
		path:  strings.Clone(dir),
		recs:  carve(&s.slab.recs, len(entries), 16<<10),
		ends:  carve(&s.slab.ends, len(entries), 16<<10),
		names: carve(&s.slab.names, nameBytes, 256<<10)[:0],
	}
	for i, e := range entries {
		d.names = append(d.names, baseName(e.path)...)
		d.ends[i] = uint32(len(d.names))
		d.recs[i] = recordOf(e.st, bits)
		if e.st.target != "" {
			s.links[e.path] = e.st.target
		}
	}
	s.dirs[d.path] = d
	s.n += len(entries)
}

func newRecordStore() recordStore {
	return recordStore{dirs: map[string]*dirNode{}, links: map[string]string{}}
}

func (s *recordStore) len() int { return s.n }

// get returns p's record and its state (with the link target).
func (s *recordStore) get(p string) (record, state, bool) {
	d := s.dirs[parentDir(p)]
	if d == nil {
		return record{}, state{}, false
	}
	i, ok := d.find(baseName(p))
	if !ok {
		return record{}, state{}, false
	}
	r := d.recs[i]
	return r, s.stateOf(p, r), true
}

func (s *recordStore) stateOf(p string, r record) state {
	st := state{size: r.size, mtime: r.mtime, hash: r.hash, mode: r.mode, flags: r.flags}
	if r.mode&fs.ModeSymlink != 0 {
		st.target = s.links[p]
	}
	return st
}

// put stores p's record.
func (s *recordStore) put(p string, st state, bits recordFlags) {
	dir := parentDir(p)
	d := s.dirs[dir]
	if d == nil {
		dir = strings.Clone(dir) // not the whole of p
		d = &dirNode{path: dir}
		s.dirs[dir] = d
	}
	name := baseName(p)
	r := recordOf(st, bits)
	if i, ok := d.find(name); ok {
		d.recs[i] = r
	} else {
		d.insert(i, name, r)
		s.n++
		s.scattered++
	}
	if st.target != "" {
		s.links[p] = st.target
	} else if len(s.links) > 0 {
		delete(s.links, p)
	}
}

// drop removes p's record.
func (s *recordStore) drop(p string) {
	dir := parentDir(p)
	d := s.dirs[dir]
	if d == nil {
		return
	}
	i, ok := d.find(baseName(p))
	if !ok {
		return
	}
	d.remove(i)
	s.n--
	delete(s.links, p)
	if len(d.recs) == 0 {
		delete(s.dirs, dir)
	}
}

func (s *recordStore) reset() {
	clear(s.dirs)
	clear(s.links)
	s.n, s.scattered = 0, 0
}

// pathOf builds the path of entry i.
func (d *dirNode) pathOf(i int) string { return joinRel(d.path, string(d.name(i))) }

// each calls f for every record in the directories dirOK accepts (nil:
// all); d.pathOf(i) is its path. f must not change the store.
func (s *recordStore) each(dirOK func(dir string) bool, f func(d *dirNode, i int)) {
	for _, d := range s.dirs {
		if dirOK != nil && !dirOK(d.path) {
			continue
		}
		for i := range d.recs {
			f(d, i)
		}
	}
}

// compact moves every directory's arrays, and the nodes and their paths,
// into a few large allocations, once the first walk is done. Built by
// appending while the walk's garbage was being made, they are scattered
// over memory pages that the garbage shared, which the Go heap can then
// neither reuse well nor give back; packed, they leave those pages wholly
// free. Each directory's slices are capped at their own length, so a later
// insert copies that directory out rather than writing over its neighbour.
func (s *recordStore) compact() {
	var nRecs, nNames, nPaths int
	old := make([]*dirNode, 0, len(s.dirs))
	for _, d := range s.dirs {
		old = append(old, d)
		nRecs += len(d.recs)
		nNames += len(d.names)
		nPaths += len(d.path)
	}
	nodes := make([]dirNode, 0, len(s.dirs))
	recs := make([]record, 0, nRecs)
	ends := make([]uint32, 0, nRecs)
	names := make([]byte, 0, nNames)
	var paths strings.Builder
	paths.Grow(nPaths)
	for _, d := range old {
		paths.WriteString(d.path)
	}
	all := paths.String()
	off := 0
	dirs := make(map[string]*dirNode, len(s.dirs))
	for _, d := range old {
		r0, e0, n0 := len(recs), len(ends), len(names)
		recs = append(recs, d.recs...)
		ends = append(ends, d.ends...)
		names = append(names, d.names...)
		path := all[off : off+len(d.path)]
		off += len(d.path)
		nodes = append(nodes, dirNode{
			path:  path,
			recs:  recs[r0:len(recs):len(recs)],
			ends:  ends[e0:len(ends):len(ends)],
			names: names[n0:len(names):len(names)],
		})
		dirs[path] = &nodes[len(nodes)-1]
	}
	s.dirs = dirs
	s.scattered = 0
}
