package indexer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

type evFlags uint8

const (
	evCreate evFlags = 1 << iota
	evWrite
	evRemove
	evRename
	evChmod
	evHint // an editor said so
	evPoll // the poller saw lstat change
)

// contentMayHaveChanged: lstat alone cannot be trusted, hash again.
const contentMayHaveChanged = evWrite | evCreate | evHint

// eventQueue collects paths from the watcher, the poller and editor hints
// until the processor takes them; adding never blocks on processing, so
// the kernel queue is drained while a batch is being handled.
type eventQueue struct {
	mu       sync.Mutex
	paths    map[string]evFlags
	overflow bool
	first    time.Time
	last     time.Time
	wake     chan struct{}
}

func newEventQueue() eventQueue {
	return eventQueue{paths: map[string]evFlags{}, wake: make(chan struct{}, 1)}
}

func (q *eventQueue) add(rel string, f evFlags) {
	q.mu.Lock()
	q.touchLocked()
	q.paths[rel] |= f
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) addOverflow() {
	q.mu.Lock()
	q.touchLocked()
	q.overflow = true
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) touchLocked() {
	now := time.Now()
	if len(q.paths) == 0 && !q.overflow {
		q.first = now
	}
	q.last = now
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

type takenEvents struct {
	paths    map[string]evFlags
	overflow bool
}

func (q *eventQueue) take() takenEvents {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := takenEvents{paths: q.paths, overflow: q.overflow}
	q.paths, q.overflow = map[string]evFlags{}, false
	return t
}

// due says when the pending batch may be flushed: after QuietWindow
// without events, and at most MaxDelay after its first event.
func (q *eventQueue) due(quiet, maxDelay time.Duration) (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.paths) == 0 && !q.overflow {
		return time.Time{}, false
	}
	at := q.last.Add(quiet)
	if capAt := q.first.Add(maxDelay); capAt.Before(at) {
		at = capAt
	}
	return at, true
}

func flagsOf(op fsnotify.Op) evFlags {
	var f evFlags
	if op.Has(fsnotify.Create) {
		f |= evCreate
	}
	if op.Has(fsnotify.Write) {
		f |= evWrite
	}
	if op.Has(fsnotify.Remove) {
		f |= evRemove
	}
	if op.Has(fsnotify.Rename) {
		f |= evRename
	}
	if op.Has(fsnotify.Chmod) {
		f |= evChmod
	}
	return f
}

// startWatcher creates the inotify instance and the goroutine that drains
// it. Directories are added by the walks (watchDir), before being listed.
func (w *Workspace) startWatcher(ctx context.Context) {
	fsw, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		w.warn("no-watcher", fmt.Sprintf("odod cannot watch %s for changes (%v), so it polls it every %s, which is slower. "+
			"If the error is \"too many open files\", raise the inotify instance limit: sudo sysctl -w fs.inotify.max_user_instances=1024",
			w.root, err, w.opts.PollInterval))
		return
	}
	w.watchMu.Lock()
	w.fsw = fsw
	w.watchMu.Unlock()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.readEvents(ctx, fsw)
	}()
}

func (w *Workspace) readEvents(ctx context.Context, fsw *fsnotify.Watcher) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-fsw.Events:
			if !ok {
				return
			}
			rel, ok := w.relPath(ev.Name)
			if !ok || underAlwaysExcluded(rel) {
				continue
			}
			w.events.add(rel, flagsOf(ev.Op))
		case err, ok := <-fsw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.events.addOverflow()
				continue
			}
			w.logger.Warn("file watcher error", zap.Error(err))
		}
	}
}

func underAlwaysExcluded(rel string) bool {
	for _, c := range strings.Split(rel, "/") {
		if alwaysExcluded(c) {
			return true
		}
	}
	return false
}

// watchDir adds a watch for a directory about to be listed; when the kernel
// refuses (inotify limit), the directory is polled instead.
func (w *Workspace) watchDir(rel string) {
	w.watchMu.Lock()
	defer w.watchMu.Unlock()
	if w.fsw == nil {
		w.polled[rel] = struct{}{}
		return
	}
	if _, ok := w.watched[rel]; ok {
		return
	}
	var err error
	if w.opts.watchLimit > 0 && len(w.watched) >= w.opts.watchLimit {
		err = syscall.ENOSPC
	} else {
		err = w.fsw.Add(w.abs(rel))
	}
	switch {
	case err == nil:
		w.watched[rel] = struct{}{}
		delete(w.polled, rel)
	case errors.Is(err, fs.ErrNotExist):
	case errors.Is(err, syscall.ENOSPC):
		w.polled[rel] = struct{}{}
		w.limitHits++
	default:
		w.polled[rel] = struct{}{}
		w.logger.Warn("cannot watch directory; polling it", zap.String("path", rel), zap.Error(err))
	}
}

func (w *Workspace) unwatchDir(rel string) {
	w.watchMu.Lock()
	defer w.watchMu.Unlock()
	if _, ok := w.watched[rel]; ok && w.fsw != nil {
		_ = w.fsw.Remove(w.abs(rel)) // already gone when the directory was deleted
	}
	delete(w.watched, rel)
	delete(w.polled, rel)
}

func (w *Workspace) warnAboutLimit() {
	w.watchMu.Lock()
	hits, polled := w.limitHits, len(w.polled)
	shown := w.limitShown
	w.limitShown = hits
	w.watchMu.Unlock()
	if hits == 0 || shown > 0 {
		return
	}
	limit := inotifyWatchLimit()
	w.warn("watch-limit", fmt.Sprintf("odod cannot watch %d directories of %s: the inotify watch limit (fs.inotify.max_user_watches = %s) is reached. "+
		"They are polled every %s instead, which is slower and costs CPU. Fix: sudo sysctl -w fs.inotify.max_user_watches=524288 "+
		"(to keep it after a reboot: echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/90-odod-inotify.conf), then reopen the workspace.",
		polled, w.root, limit, w.opts.PollInterval))
}

// processLoop owns event processing: it waits for the batch to be due,
// applies it, and reports it. It also polls unwatched directories.
func (w *Workspace) processLoop(ctx context.Context) {
	ticker := time.NewTicker(w.opts.PollInterval)
	defer ticker.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		at, pending := w.events.due(w.opts.QuietWindow, w.opts.MaxDelay)
		var fire <-chan time.Time
		if pending {
			timer.Reset(time.Until(at))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-w.events.wake:
			continue
		case <-ticker.C:
			w.poll(ctx)
			continue
		case <-fire:
		}
		if at, pending := w.events.due(w.opts.QuietWindow, w.opts.MaxDelay); !pending || time.Now().Before(at) {
			continue
		}
		batch, err := w.apply(ctx, w.events.take())
		if err != nil { // only cancellation
			return
		}
		if (len(batch.Changes) > 0 || batch.Overflow) && w.opts.OnChange != nil {
			w.opts.OnChange(batch)
		}
	}
}

// probe is one event path after lstat.
type probe struct {
	path  string
	flags evFlags
	info  fs.FileInfo
	err   error
	prev  state
	next  state
	force bool
}

// plan is the work one batch needs, decided under the lock and done
// without it.
type plan struct {
	// rescanRoots are directories re-walked as a whole (their ignore file
	// changed, or events were lost).
	rescanRoots map[string]struct{}
	// walkRoots are directories that appeared (created, moved in, or replaced
	// a file), with their own new state.
	walkRoots map[string]state
	// stale are directories whose previously indexed content is dropped
	// unless a walk finds it again.
	stale map[string]struct{}
	// singles are paths updated on their own (next absent = deleted).
	singles    []probe
	ignoredNow []string
	notIgnored []string
}

func newPlan() *plan {
	return &plan{rescanRoots: map[string]struct{}{}, walkRoots: map[string]state{}, stale: map[string]struct{}{}}
}

func (pl *plan) covered(p string) bool {
	if isUnderAny(p, pl.rescanRoots) {
		return true
	}
	for dir := p; ; dir = parentDir(dir) {
		if _, ok := pl.walkRoots[dir]; ok {
			return true
		}
		if dir == "" {
			return false
		}
	}
}

// apply brings the index up to date with one batch of event paths.
func (w *Workspace) apply(ctx context.Context, ev takenEvents) (Batch, error) {
	if ev.overflow {
		w.warn("overflow", fmt.Sprintf("odod's file watcher lost events in %s (inotify queue overflow) and rescanned the tree to catch up. "+
			"If this happens often, raise the queue: sudo sysctl -w fs.inotify.max_queued_events=65536", w.root))
		// Lost events may hide renamed directories whose watches now carry
		// stale paths: start over with a fresh inotify instance.
		w.renewWatcher(ctx)
		pl := newPlan()
		pl.rescanRoots[""] = struct{}{}
		changes, err := w.execute(ctx, pl)
		if err != nil {
			return Batch{}, err
		}
		return w.batch(changes, true), nil
	}
	paths := sortedKeys(ev.paths)
	pl := newPlan()
	// A changed ignore file re-walks its directory with the new rules:
	// newly ignored paths leave the index, newly included ones enter it.
	for _, p := range paths {
		if p != "" && isIgnoreFileName(baseName(p)) {
			pl.rescanRoots[parentDir(p)] = struct{}{}
		}
	}
	probes := make([]probe, 0, len(paths))
	rootMissing := false
	for _, p := range paths {
		if p == "" {
			_, err := os.Lstat(w.root)
			rootMissing = err != nil
			continue
		}
		if isUnderAny(p, pl.rescanRoots) {
			continue
		}
		fi, err := os.Lstat(w.abs(p))
		probes = append(probes, probe{path: p, flags: ev.paths[p], info: fi, err: err})
	}
	if rootMissing {
		w.warn("root-gone", fmt.Sprintf("the workspace folder %s was removed or renamed; odod sees every file as deleted. Reopen the workspace at its new place.", w.root))
		pl = newPlan()
		pl.stale[""] = struct{}{}
		probes = nil
	}

	w.mu.Lock()
	for _, pr := range probes {
		w.classifyLocked(pl, pr)
	}
	w.mu.Unlock()

	changes, err := w.execute(ctx, pl)
	if err != nil {
		return Batch{}, err
	}
	w.warnAboutLimit()
	return w.batch(changes, false), nil
}

func (w *Workspace) classifyLocked(pl *plan, pr probe) {
	p := pr.path
	parent := parentDir(p)
	if pl.covered(parent) {
		return // a walk of a new or re-read directory covers it
	}
	if parent != "" {
		if rec := w.records[parent]; rec == nil || !rec.cur.isDir() {
			return // inside an ignored or unknown directory
		}
	}
	if rec := w.records[p]; rec != nil {
		pr.prev = rec.cur
	}
	exists := pr.err == nil && indexable(pr.info.Mode())
	if exists && w.ig.ignored(w.ig.chainFor(w.dirRules, parent, true), strings.Split(p, "/"), pr.info.IsDir()) {
		exists = false
		pl.ignoredNow = append(pl.ignoredNow, p)
	} else {
		pl.notIgnored = append(pl.notIgnored, p)
	}
	isDir := exists && pr.info.IsDir()
	if pr.prev.isDir() && !isDir {
		pl.stale[p] = struct{}{}
	}
	switch {
	case !exists:
		if pr.prev.exists() {
			pl.singles = append(pl.singles, pr) // next stays absent: deleted
		}
	case isDir:
		st := stateFromInfo(pr.info)
		if pr.prev.isDir() && pr.flags&(evCreate|evRename|evHint|evPoll) == 0 {
			pr.next = st // an attribute change of a known directory
			pl.singles = append(pl.singles, pr)
			return
		}
		pl.walkRoots[p] = st
		if pr.prev.isDir() {
			pl.stale[p] = struct{}{}
		}
	default:
		pr.next = stateFromInfo(pr.info)
		pr.force = pr.flags&contentMayHaveChanged != 0
		pl.singles = append(pl.singles, pr)
	}
}

// execute does a plan: I/O (link targets, hashes, walks) without the lock,
// then the index update under it. It is the one place where current states
// change after Open.
func (w *Workspace) execute(ctx context.Context, pl *plan) ([]Change, error) {
	wk := w.newWalker(w.priorFromIndex, nil)
	buf := wk.getBuf()
	defer wk.putBuf(buf)
	for i := range pl.singles {
		pr := &pl.singles[i]
		if pr.next.exists() && !pr.next.isDir() {
			pr.next = wk.complete(pr.path, pr.next, buf, pr.force)
		}
	}
	// Watches of directories that went away must go before anything is
	// watched again: inotify hands a moved directory's old watch (and its
	// old path) to a new watch of the same inode.
	w.unwatchUnder(pl.stale)

	type walked struct {
		root string
		res  *walkResult
	}
	var results []walked
	for _, root := range append(sortedSet(pl.rescanRoots), sortedKeys(pl.walkRoots)...) {
		if isUnderAny(parentDir(root), pl.rescanRoots) && root != "" {
			continue // a walk of an enclosing directory covers it
		}
		res, err := wk.walk(ctx, root, w.ig.chainFor(w.dirRules, root, false))
		if err != nil {
			return nil, err
		}
		results = append(results, walked{root, res})
	}

	var changes []Change
	var droppedDirs []string
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, ErrClosed
	}
	set := func(p string, next state) {
		prevDir := false
		if rec := w.records[p]; rec != nil {
			prevDir = rec.cur.isDir()
		}
		if kind := w.setCurLocked(p, next); kind != 0 {
			changes = append(changes, Change{Path: p, Kind: kind})
		}
		if prevDir && !next.isDir() {
			droppedDirs = append(droppedDirs, p)
		}
	}
	for _, pr := range pl.singles {
		set(pr.path, pr.next)
	}
	for _, p := range pl.ignoredNow {
		w.ignoredSet[p] = struct{}{}
	}
	for _, p := range pl.notIgnored {
		delete(w.ignoredSet, p)
	}
	seen := map[string]struct{}{}
	for _, r := range results {
		if st, ok := pl.walkRoots[r.root]; ok {
			set(r.root, st)
		}
		for _, e := range r.res.entries {
			set(e.path, e.st)
			seen[e.path] = struct{}{}
		}
		for dir := range w.dirRules {
			if isUnder(dir, r.root) {
				delete(w.dirRules, dir)
			}
		}
		for dir, rules := range r.res.rules {
			w.dirRules[dir] = rules
		}
		for p := range w.ignoredSet {
			if p != r.root && isUnder(p, r.root) {
				delete(w.ignoredSet, p)
			}
		}
		for _, p := range r.res.ignored {
			w.ignoredSet[p] = struct{}{}
		}
	}
	// What used to be below a re-walked or vanished directory and was not
	// found again is gone: one pass over the index, only when needed.
	gone := map[string]struct{}{}
	for d := range pl.stale {
		gone[d] = struct{}{}
	}
	for d := range pl.rescanRoots {
		gone[d] = struct{}{}
	}
	if len(gone) > 0 {
		var stale []string
		for p, rec := range w.records {
			if _, ok := seen[p]; !ok && rec.cur.exists() && isUnderAny(parentDir(p), gone) {
				stale = append(stale, p)
			}
		}
		for _, p := range stale {
			set(p, state{})
		}
		for dir := range w.dirRules {
			if dir != "" && isUnderAny(dir, pl.stale) {
				if rec := w.records[dir]; rec == nil || !rec.cur.isDir() {
					delete(w.dirRules, dir)
				}
			}
		}
		for p := range w.ignoredSet {
			if parent := parentDir(p); isUnderAny(parent, pl.stale) {
				if rec := w.records[parent]; parent == "" || rec == nil || !rec.cur.isDir() {
					delete(w.ignoredSet, p)
				}
			}
		}
	}
	w.mu.Unlock()

	for _, d := range droppedDirs {
		w.unwatchDir(d)
	}
	sortChanges(changes)
	return changes, nil
}

func (w *Workspace) batch(changes []Change, overflow bool) Batch {
	return Batch{Changes: changes, Overflow: overflow, Stats: w.Stats()}
}

// unwatchUnder drops the watches of directories under the given ones.
func (w *Workspace) unwatchUnder(dirs map[string]struct{}) {
	if len(dirs) == 0 {
		return
	}
	w.watchMu.Lock()
	var drop []string
	for p := range w.watched {
		if isUnderAny(p, dirs) {
			drop = append(drop, p)
		}
	}
	for p := range w.polled {
		if isUnderAny(p, dirs) {
			drop = append(drop, p)
		}
	}
	w.watchMu.Unlock()
	for _, p := range drop {
		w.unwatchDir(p)
	}
}

// renewWatcher replaces the inotify instance after lost events; the rescan
// that follows adds every directory again before listing it.
func (w *Workspace) renewWatcher(ctx context.Context) {
	w.watchMu.Lock()
	old := w.fsw
	w.fsw = nil
	w.watched = map[string]struct{}{}
	w.polled = map[string]struct{}{}
	w.watchMu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	if ctx.Err() != nil {
		return
	}
	w.startWatcher(ctx)
}

// poll looks at the directories that could not be watched and queues the
// paths whose lstat changed, as events would have.
func (w *Workspace) poll(ctx context.Context) {
	w.watchMu.Lock()
	dirs := make(map[string]struct{}, len(w.polled))
	for d := range w.polled {
		dirs[d] = struct{}{}
	}
	w.watchMu.Unlock()
	if len(dirs) == 0 {
		return
	}
	// The limit may have been raised meanwhile: try to watch again.
	for d := range dirs {
		w.watchDir(d)
	}
	known := map[string]state{}
	w.mu.Lock()
	for p, rec := range w.records {
		if !rec.cur.exists() {
			continue
		}
		if _, ok := dirs[parentDir(p)]; ok {
			known[p] = rec.cur
		}
	}
	ignored := map[string]struct{}{}
	for p := range w.ignoredSet {
		if _, ok := dirs[parentDir(p)]; ok {
			ignored[p] = struct{}{}
		}
	}
	w.mu.Unlock()

	seen := map[string]struct{}{}
	for d := range dirs {
		if ctx.Err() != nil {
			return
		}
		list, err := os.ReadDir(w.abs(d))
		if err != nil {
			w.events.add(d, evPoll)
			continue
		}
		for _, e := range list {
			rel := joinRel(d, e.Name())
			seen[rel] = struct{}{}
			info, err := e.Info()
			if err != nil {
				continue
			}
			old, ok := known[rel]
			if !ok {
				if _, ign := ignored[rel]; !ign && !underAlwaysExcluded(rel) {
					w.events.add(rel, evPoll)
				}
				continue
			}
			st := stateFromInfo(info)
			if old.mode != st.mode || old.size != st.size || old.mtime != st.mtime {
				w.events.add(rel, evPoll)
			}
		}
	}
	for p := range known {
		if _, ok := seen[p]; !ok {
			w.events.add(p, evPoll)
		}
	}
}
