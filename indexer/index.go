package indexer

import (
	"io/fs"
	"strings"

	"github.com/odod-dev/odod/indexer/relpath"
)

// dirtyCap bounds the set of pending paths the index tracks one by one.
// Beyond it (a first push, a full resync) Pending scans the records: the
// ChangeSet is then of that size anyway, and a 100k-entry set is not kept.
const dirtyCap = 4096

// recordFlags are the index's bookkeeping about a record.
type recordFlags uint8

const (
	// recPending: what the last push left differs from the current state
	// (the index's remote map holds that, when it exists).
	recPending recordFlags = 1 << iota
	// recUnseen: during Open only, the state is the persisted one of a path
	// the walk has not reached yet.
	recUnseen
)

// recKey names a record by its directory (interned: a node_modules tree
// has 20 files a directory) and its base name, so that each record holds
// a short name rather than a full path.
type recKey struct {
	dir  uint32
	name string
}

// record is a path's current state without its link target (links holds
// those, for the few symlinks): 32 bytes, stored by value.
type record struct {
	size  int64
	mtime int64
	hash  uint64
	mode  fs.FileMode
	flags stateFlags
	rec   recordFlags
}

func (r record) exists() bool { return r.flags&flagExists != 0 }

// internedDir is one directory path shared by the keys of its records.
type internedDir struct {
	path string
	refs int // records keyed under it
}

// index is the record state machine of a workspace: each path's current
// state and what the last confirmed push left in the container, how an
// update found on disk changes them, the ChangeSet of what differs, and
// Confirm. It does no I/O and has no lock: the Workspace guards it.
type index struct {
	// recs holds each known path's current state (absent only while the
	// path is pending as deleted). A synced record holds no more.
	recs  map[recKey]record
	links map[recKey]string // link targets of the records that are symlinks
	// dirs and dirIDs intern the directory part of the keys; freeDirs are
	// ids whose directory no record uses any more.
	dirs     []internedDir
	dirIDs   map[string]uint32
	freeDirs []uint32
	// remote holds the last pushed state of the pending records that exist
	// in the container; a pending record missing here is absent there.
	remote map[string]state
	// dirty lists the pending paths, unless dirtyAll: too many to list.
	dirty    map[string]struct{}
	dirtyAll bool
	// ignored are the paths the ignore rules excluded where a walk stopped.
	ignored map[string]struct{}
	stats   Stats
	podUID  string
	// epoch changes with MarkAllPending; older ChangeSets cannot be confirmed.
	epoch uint64
}

func newIndex() *index {
	return &index{
		recs:    map[recKey]record{},
		links:   map[recKey]string{},
		dirIDs:  map[string]uint32{},
		remote:  map[string]state{},
		dirty:   map[string]struct{}{},
		ignored: map[string]struct{}{},
	}
}

// lookupKey returns the key of p if its directory is known.
func (x *index) lookupKey(p string) (recKey, bool) {
	id, ok := x.dirIDs[parentDir(p)]
	return recKey{dir: id, name: baseName(p)}, ok
}

// pathOf rebuilds a key's path.
func (x *index) pathOf(k recKey) string { return joinRel(x.dirs[k.dir].path, k.name) }

// get returns p's record and its state (with the link target).
func (x *index) get(p string) (record, state, bool) {
	k, ok := x.lookupKey(p)
	if !ok {
		return record{}, state{}, false
	}
	r, ok := x.recs[k]
	if !ok {
		return record{}, state{}, false
	}
	return r, x.stateOf(k, r), true
}

func (x *index) stateOf(k recKey, r record) state {
	st := state{size: r.size, mtime: r.mtime, hash: r.hash, mode: r.mode, flags: r.flags}
	if r.mode&fs.ModeSymlink != 0 {
		st.target = x.links[k]
	}
	return st
}

// put stores p's record, adding its key if new.
func (x *index) put(p string, st state, bits recordFlags) {
	k, ok := x.lookupKey(p)
	if ok {
		if _, exists := x.recs[k]; !exists {
			ok = false
		}
	}
	if !ok {
		dir := parentDir(p)
		id, known := x.dirIDs[dir]
		if !known {
			dir = strings.Clone(dir)
			if n := len(x.freeDirs); n > 0 {
				id = x.freeDirs[n-1]
				x.freeDirs = x.freeDirs[:n-1]
				x.dirs[id] = internedDir{path: dir}
			} else {
				id = uint32(len(x.dirs))
				x.dirs = append(x.dirs, internedDir{path: dir})
			}
			x.dirIDs[dir] = id
		}
		x.dirs[id].refs++
		k = recKey{dir: id, name: baseName(p)}
	}
	// A copy of the name alone, also when the record exists (assigning
	// replaces a map's string key): p itself, a whole path, is not kept.
	k.name = strings.Clone(k.name)
	x.recs[k] = record{size: st.size, mtime: st.mtime, hash: st.hash, mode: st.mode, flags: st.flags, rec: bits}
	if st.target != "" {
		x.links[k] = st.target
	} else {
		delete(x.links, k)
	}
}

// drop removes p's record, and its directory's name when it was the last.
func (x *index) drop(p string) {
	k, ok := x.lookupKey(p)
	if !ok {
		return
	}
	if _, exists := x.recs[k]; !exists {
		return
	}
	delete(x.recs, k)
	delete(x.links, k)
	d := &x.dirs[k.dir]
	if d.refs--; d.refs == 0 {
		delete(x.dirIDs, d.path)
		*d = internedDir{}
		x.freeDirs = append(x.freeDirs, k.dir)
	}
}

// current returns a path's current state; absent when unknown.
func (x *index) current(p string) state {
	_, st, _ := x.get(p)
	return st
}

// remoteOf is what the container holds for a record.
func (x *index) remoteOf(p string, r record, cur state) state {
	if r.rec&recPending == 0 {
		return cur
	}
	return x.remote[p]
}

// store records a path's current and remote states, folding them into one
// when pushing would change nothing (the remote then takes cur's mtime,
// which is what a warm start will stat).
func (x *index) store(p string, cur, remote state) {
	if sameContent(cur, remote) {
		delete(x.remote, p)
		if !x.dirtyAll {
			delete(x.dirty, p)
		}
		if cur.exists() {
			x.put(p, cur, 0)
		} else {
			x.drop(p)
		}
		return
	}
	x.put(p, cur, recPending)
	if remote.exists() {
		x.remote[p] = remote
	} else {
		delete(x.remote, p)
	}
	if !x.dirtyAll {
		x.dirty[p] = struct{}{}
		if len(x.dirty) > dirtyCap {
			x.dirty, x.dirtyAll = nil, true
		}
	}
}

// loadPersisted adds a state read from the persisted index, before the
// walk; it returns false for a duplicate path.
func (x *index) loadPersisted(p string, st state) bool {
	if _, _, dup := x.get(p); dup {
		return false
	}
	x.put(p, st, recUnseen)
	return true
}

// resetPersisted forgets what loadPersisted added.
func (x *index) resetPersisted() {
	clear(x.recs)
	clear(x.links)
	clear(x.dirIDs)
	x.dirs, x.freeDirs = nil, nil
}

// persistedUnseen returns the persisted state of a path the walk has not
// reached yet, for hash reuse.
func (x *index) persistedUnseen(p string) (state, bool) {
	if r, st, ok := x.get(p); ok && r.rec&recUnseen != 0 {
		return st, true
	}
	return state{}, false
}

// see records a path the initial walk found.
func (x *index) see(p string, st state) {
	x.stats.add(st, 1)
	r, old, ok := x.get(p)
	switch {
	case !ok:
		x.store(p, st, state{})
	case r.rec&recUnseen != 0:
		x.store(p, st, old)
	}
}

// finishLoad ends Open: what was persisted and not found again was
// deleted since the last push.
func (x *index) finishLoad() {
	var unseen []recKey
	for k, r := range x.recs {
		if r.rec&recUnseen != 0 {
			unseen = append(unseen, k)
		}
	}
	for _, k := range unseen {
		x.store(x.pathOf(k), state{}, x.stateOf(k, x.recs[k]))
	}
}

// set records a path's new current state and says how it changed.
func (x *index) set(p string, next state) ChangeKind {
	r, prev, ok := x.get(p)
	if !ok && !next.exists() {
		return 0
	}
	if prev == next {
		return 0
	}
	x.stats.add(prev, -1)
	x.stats.add(next, 1)
	remote := state{}
	if ok {
		remote = x.remoteOf(p, r, prev)
	}
	x.store(p, next, remote)
	switch {
	case !prev.exists():
		return Added
	case !next.exists():
		return Deleted
	case !sameContent(prev, next):
		return Modified
	}
	return 0
}

// setRemote records what the container now holds for a path.
func (x *index) setRemote(p string, st state) {
	x.store(p, x.current(p), st)
}

// update is what one batch found on disk, applied to the index at once.
type update struct {
	// singles are paths updated on their own (an absent state: deleted).
	singles []scanned
	// walks are the re-read subtrees; a root with a state (rootState.exists())
	// is recorded itself too.
	walks []walkOutcome
	// stale are directories whose previously indexed content is dropped
	// unless a walk found it again; rescanned the roots walked as a whole.
	stale, rescanned map[string]struct{}
	// ignoredNow and notIgnored are single paths the ignore rules now
	// exclude or include.
	ignoredNow, notIgnored []string
}

// walkOutcome is one re-read subtree.
type walkOutcome struct {
	root      string
	rootState state
	entries   []scanned
	ignored   []string
}

// apply brings the records up to date with u. It returns the changes, and
// the directories that are no longer directories (their watches go).
func (x *index) apply(u update) (changes []Change, droppedDirs []string) {
	set := func(p string, next state) {
		prevDir := x.current(p).isDir()
		if kind := x.set(p, next); kind != 0 {
			changes = append(changes, Change{Path: p, Kind: kind})
		}
		if prevDir && !next.isDir() {
			droppedDirs = append(droppedDirs, p)
		}
	}
	for _, s := range u.singles {
		set(s.path, s.st)
	}
	for _, p := range u.ignoredNow {
		x.ignored[p] = struct{}{}
	}
	for _, p := range u.notIgnored {
		delete(x.ignored, p)
	}
	var seen map[string]struct{}
	if len(u.stale)+len(u.rescanned) > 0 {
		seen = map[string]struct{}{}
	}
	for _, r := range u.walks {
		if r.rootState.exists() {
			set(r.root, r.rootState)
		}
		for _, e := range r.entries {
			set(e.path, e.st)
			if seen != nil {
				seen[e.path] = struct{}{}
			}
		}
		for p := range x.ignored {
			if p != r.root && relpath.Under(p, r.root) {
				delete(x.ignored, p)
			}
		}
		for _, p := range r.ignored {
			x.ignored[p] = struct{}{}
		}
	}
	// What used to be below a re-walked or vanished directory and was not
	// found again is gone: one pass over the index, only when needed.
	if seen != nil {
		gone := make(map[string]struct{}, len(u.stale)+len(u.rescanned))
		for d := range u.stale {
			gone[d] = struct{}{}
		}
		for d := range u.rescanned {
			gone[d] = struct{}{}
		}
		var stale []string
		for k, r := range x.recs {
			if !r.exists() || !relpath.UnderAny(x.dirs[k.dir].path, gone) {
				continue
			}
			if p := x.pathOf(k); !has(seen, p) {
				stale = append(stale, p)
			}
		}
		for _, p := range stale {
			set(p, state{})
		}
		for p := range x.ignored {
			if parent := parentDir(p); relpath.UnderAny(parent, u.stale) && (parent == "" || !x.current(parent).isDir()) {
				delete(x.ignored, p)
			}
		}
	}
	sortChanges(changes)
	return changes, droppedDirs
}

// pending is the ChangeSet of what differs from the last confirmed push.
func (x *index) pending() ChangeSet {
	cs := ChangeSet{taken: map[string]state{}, gone: map[string]state{}, epoch: x.epoch}
	add := func(p string) {
		r, cur, _ := x.get(p)
		if r.rec&recPending == 0 {
			return
		}
		remote := x.remote[p]
		switch {
		case !remote.exists():
			cs.Added = append(cs.Added, p)
			cs.taken[p] = cur
		case !cur.exists():
			cs.Deleted = append(cs.Deleted, p)
			cs.gone[p] = remote
		case cur.kind() != remote.kind():
			cs.Deleted = append(cs.Deleted, p)
			cs.gone[p] = remote
			cs.Added = append(cs.Added, p)
			cs.taken[p] = cur
			cs.KindChanged = append(cs.KindChanged, p)
		default:
			cs.Modified = append(cs.Modified, p)
			cs.taken[p] = cur
		}
	}
	if x.dirtyAll {
		n := 0
		var pending []string
		for k, r := range x.recs {
			if r.rec&recPending != 0 {
				p := x.pathOf(k)
				add(p)
				if n++; n <= dirtyCap/2 {
					pending = append(pending, p)
				}
			}
		}
		if n <= dirtyCap/2 { // few again: list them one by one
			x.dirty, x.dirtyAll = make(map[string]struct{}, len(pending)), false
			for _, p := range pending {
				x.dirty[p] = struct{}{}
			}
		}
	} else {
		for p := range x.dirty {
			add(p)
		}
	}
	sortStrings(cs.Added, cs.Modified, cs.Deleted, cs.KindChanged)
	return cs
}

// confirm records that the push of cs succeeded.
func (x *index) confirm(cs ChangeSet, meta ConfirmMeta) error {
	if cs.epoch != x.epoch {
		return ErrStaleChangeSet
	}
	for p, st := range cs.taken {
		x.setRemote(p, st)
	}
	for _, p := range cs.Deleted {
		if _, replaced := cs.taken[p]; !replaced {
			x.setRemote(p, state{})
		}
	}
	if meta.PodUID != "" {
		x.podUID = meta.PodUID
	}
	return nil
}

// markAllPending forgets what the container holds.
func (x *index) markAllPending() {
	keys := make([]recKey, 0, len(x.recs))
	for k := range x.recs {
		keys = append(keys, k)
	}
	for _, k := range keys {
		p := x.pathOf(k)
		x.store(p, x.current(p), state{})
	}
	x.podUID = ""
	x.epoch++
}

// entries returns every current entry (unsorted).
func (x *index) entries() []Entry {
	out := make([]Entry, 0, len(x.recs))
	for k, r := range x.recs {
		if r.exists() {
			out = append(out, x.stateOf(k, r).entry(x.pathOf(k)))
		}
	}
	return out
}

// pushed returns what the container holds, for the persisted index.
func (x *index) pushed() []persistEntry {
	out := make([]persistEntry, 0, len(x.recs))
	for k, r := range x.recs {
		p := x.pathOf(k)
		if remote := x.remoteOf(p, r, x.stateOf(k, r)); remote.exists() {
			out = append(out, persistEntry{path: p, st: remote})
		}
	}
	return out
}

func (x *index) statsNow() Stats {
	s := x.stats
	s.Ignored = len(x.ignored)
	return s
}

// known returns the current states of the records in dirs (the poller's
// view of the directories it lists).
func (x *index) known(dirs map[string]struct{}) map[string]state {
	out := map[string]state{}
	for k, r := range x.recs {
		if !r.exists() {
			continue
		}
		if _, ok := dirs[x.dirs[k.dir].path]; ok {
			out[x.pathOf(k)] = x.stateOf(k, r)
		}
	}
	return out
}

func has(set map[string]struct{}, p string) bool {
	_, ok := set[p]
	return ok
}
