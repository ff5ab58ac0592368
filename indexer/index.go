package indexer

import (
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

// index is the record state machine of a workspace: each path's current
// state and what the last confirmed push left in the container, how an
// update found on disk changes them, the ChangeSet of what differs, and
// Confirm. It does no I/O and has no lock: the Workspace guards it.
type index struct {
	// recs holds each known path's current state (absent only while the
	// path is pending as deleted). A synced record holds no more.
	recs recordStore
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
	// loading gathers the persisted entries during Open (endPersisted).
	loading persistedLoad
}

func newIndex() *index {
	return &index{
		recs:    newRecordStore(),
		remote:  map[string]state{},
		dirty:   map[string]struct{}{},
		ignored: map[string]struct{}{},
	}
}

// get returns p's record and its state (with the link target).
func (x *index) get(p string) (record, state, bool) { return x.recs.get(p) }

func (x *index) put(p string, st state, bits recordFlags) { x.recs.put(p, st, bits) }

func (x *index) drop(p string) { x.recs.drop(p) }

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
	x.markDirty(p)
}

func (x *index) markDirty(p string) {
	if x.dirtyAll {
		return
	}
	x.dirty[p] = struct{}{}
	if len(x.dirty) > dirtyCap {
		x.dirty, x.dirtyAll = nil, true
	}
}

// loadPersisted adds a state read from the persisted index, before the
// walk; it returns false for a duplicate path. What it adds is in the
// records once endPersisted has been called.
func (x *index) loadPersisted(p string, st state) bool {
	return x.loading.add(&x.recs, p, st, recUnseen)
}

// endPersisted ends the persisted index's stream.
func (x *index) endPersisted() {
	x.loading.closeAll(&x.recs, recUnseen)
	x.loading = persistedLoad{}
}

// resetPersisted forgets what loadPersisted added.
func (x *index) resetPersisted() {
	x.loading = persistedLoad{}
	x.recs.reset()
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

// seeDir records the entries the initial walk found in one directory
// (sorted by path, all directly in it): a directory the persisted index
// did not hold is added whole.
func (x *index) seeDir(entries []scanned) {
	if len(entries) == 0 {
		return
	}
	dir := parentDir(entries[0].path)
	if _, known := x.recs.dirs[dir]; known {
		for _, e := range entries {
			x.see(e.path, e.st)
		}
		return
	}
	for _, e := range entries {
		x.stats.add(e.st, 1)
		x.markDirty(e.path) // nothing was pushed: each is added
	}
	x.recs.addDir(dir, entries, recPending)
}

// finishLoad ends Open: what was persisted and not found again was
// deleted since the last push.
func (x *index) finishLoad() {
	var unseen []string
	x.recs.each(nil, func(d *dirNode, i int) {
		if d.recs[i].rec&recUnseen != 0 {
			unseen = append(unseen, d.pathOf(i))
		}
	})
	for _, p := range unseen {
		x.store(p, state{}, x.current(p))
	}
	if x.recs.scattered > x.recs.len()/4 {
		x.recs.compact()
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
		x.recs.each(func(dir string) bool { return relpath.UnderAny(dir, gone) }, func(d *dirNode, i int) {
			if !d.recs[i].exists() {
				return
			}
			if p := d.pathOf(i); !has(seen, p) {
				stale = append(stale, p)
			}
		})
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
		x.recs.each(nil, func(d *dirNode, i int) {
			if d.recs[i].rec&recPending != 0 {
				p := d.pathOf(i)
				add(p)
				if n++; n <= dirtyCap/2 {
					pending = append(pending, p)
				}
			}
		})
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
	markEscapingLinks(cs.taken, x.current)
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

// mayHold records that a push of cs may have written to the container
// without being confirmed (cancelled or failed once its sync had begun).
// A path it added is then no longer known to be absent there: if the
// workspace deletes it before a push is confirmed, the deletion must still
// be pushed, or the file would live on in the container for good. Such a
// path's remote state becomes one that matches nothing on disk, so it stays
// pending: deleted, it is deleted there; kept, it is sent again. Paths the
// container was known to hold are pending anyway (deleted or changed).
func (x *index) mayHold(cs ChangeSet) {
	if cs.epoch != x.epoch {
		return // MarkAllPending came since: the next push is a full one
	}
	for p, st := range cs.taken {
		if r, _, ok := x.get(p); ok && r.rec&recPending == 0 {
			continue // known to be there as it is now
		}
		if x.remote[p].exists() {
			continue
		}
		x.store(p, x.current(p), unconfirmedState(st))
	}
}

// unconfirmedState stands for "st may be in the container": st with its
// other-execute bit flipped, a mode no push confirms for it, so that it
// never equals the current state (sameContent compares modes first) and
// survives the persisted index as it is.
func unconfirmedState(st state) state {
	st.mode ^= 0o001
	return st
}

// markAllPending forgets what the container holds.
func (x *index) markAllPending() {
	paths := make([]string, 0, x.recs.len())
	x.recs.each(nil, func(d *dirNode, i int) { paths = append(paths, d.pathOf(i)) })
	for _, p := range paths {
		x.store(p, x.current(p), state{})
	}
	x.podUID = ""
	x.epoch++
}

// entries returns every current entry (unsorted).
func (x *index) entries() []Entry {
	out := make([]Entry, 0, x.recs.len())
	x.recs.each(nil, func(d *dirNode, i int) {
		if r := d.recs[i]; r.exists() {
			p := d.pathOf(i)
			out = append(out, withChainChecked(p, x.recs.stateOf(p, r), x.current).entry(p))
		}
	})
	return out
}

// pushed returns what the container holds, for the persisted index.
func (x *index) pushed() []persistEntry {
	out := make([]persistEntry, 0, x.recs.len())
	x.recs.each(nil, func(d *dirNode, i int) {
		r := d.recs[i]
		p := d.pathOf(i)
		if remote := x.remoteOf(p, r, x.recs.stateOf(p, r)); remote.exists() {
			out = append(out, persistEntry{path: p, st: remote})
		}
	})
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
	x.recs.each(func(dir string) bool { return has(dirs, dir) }, func(d *dirNode, i int) {
		if r := d.recs[i]; r.exists() {
			p := d.pathOf(i)
			out[p] = x.recs.stateOf(p, r)
		}
	})
	return out
}

func has(set map[string]struct{}, p string) bool {
	_, ok := set[p]
	return ok
}
