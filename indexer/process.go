package indexer

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/indexer/relpath"
)

// lockedIndex is the index with the one lock that guards it; x is nil once
// the workspace is closed.
type lockedIndex struct {
	mu sync.Mutex
	x  *index
}

// with runs f under the lock; it returns false when the index is closed.
func (l *lockedIndex) with(f func(x *index)) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.x == nil {
		return false
	}
	f(l.x)
	return true
}

// processor turns queued event paths into index updates: it waits for a
// batch to be due (the quiet window), looks at the paths on disk, walks
// new or re-read directories, applies the result to the index and reports
// it. Its goroutine (run) is the only one that walks after Open, and owns
// dirRules.
type processor struct {
	root   string
	opts   Options
	logger *zap.Logger
	ig     *ignorer
	idx    *lockedIndex
	queue  *eventQueue
	watch  *watcher // nil with NoWatch
	warn   *warner
	bufs   sync.Pool // read buffers for hashing

	// dirRules holds each directory's parsed ignore file.
	dirRules map[string][]rule
	// flushes are Flush calls waiting for the queued events to be applied.
	flushes chan chan error
}

func (p *processor) abs(rel string) string {
	if rel == "" {
		return p.root
	}
	return filepath.Join(p.root, filepath.FromSlash(rel))
}

func (p *processor) newWalker(prior func(string) (state, bool), progress func(int)) *walker {
	wk := &walker{
		root:     p.root,
		ig:       p.ig,
		workers:  p.opts.Workers,
		hash:     p.opts.Hashing == HashContent,
		logger:   p.logger,
		prior:    prior,
		progress: progress,
		bufs:     &p.bufs,
		badName:  func(rel string) { p.warn.once("bad-name", badNameWarning(rel)) },
	}
	if p.watch != nil {
		wk.beforeRead = p.watch.watchDir
	}
	return wk
}

// priorFromIndex looks a path up in the live index, for hash reuse.
func (p *processor) priorFromIndex(rel string) (st state, ok bool) {
	p.idx.with(func(x *index) {
		st = x.current(rel)
		ok = st.exists()
	})
	return st, ok
}

// run owns event processing until ctx ends: it waits for the batch to be
// due, applies it, and reports it. It also polls unwatched directories and
// answers Flush.
func (p *processor) run(ctx context.Context) {
	ticker := time.NewTicker(p.opts.PollInterval)
	defer ticker.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		at, pending := p.queue.due(p.opts.windows())
		var fire <-chan time.Time
		if pending {
			timer.Reset(time.Until(at))
			fire = timer.C
		}
		var flushed chan error
		select {
		case <-ctx.Done():
			return
		case <-p.queue.wake:
			continue
		case <-ticker.C:
			p.poll(ctx)
			continue
		case flushed = <-p.flushes:
		case <-fire:
			if at, pending := p.queue.due(p.opts.windows()); !pending || time.Now().Before(at) {
				continue
			}
		}
		err := p.applyAndReport(ctx, p.queue.take())
		if flushed != nil {
			flushed <- err
		}
		if err != nil { // only cancellation or Close
			return
		}
	}
}

func (p *processor) applyAndReport(ctx context.Context, ev takenEvents) error {
	if len(ev.paths) == 0 && !ev.overflow {
		return nil
	}
	batch, err := p.apply(ctx, ev)
	if err != nil {
		return err
	}
	if (len(batch.Changes) > 0 || batch.Overflow) && p.opts.OnChange != nil {
		p.opts.OnChange(batch)
	}
	return nil
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
	return relpath.UnderAny(p, pl.rescanRoots) || relpath.UnderAny(p, pl.walkRoots)
}

// apply brings the index up to date with one batch of event paths.
func (p *processor) apply(ctx context.Context, ev takenEvents) (Batch, error) {
	if ev.overflow {
		p.warn.once("overflow", fmt.Sprintf("odod's file watcher lost events in %s (inotify queue overflow) and rescanned the tree to catch up. "+
			"If this happens often, raise the queue: sudo sysctl -w fs.inotify.max_queued_events=65536", p.root))
		// Lost events may hide renamed directories whose watches now carry
		// stale paths: start over with a fresh inotify instance.
		if p.watch != nil {
			p.watch.renew(ctx)
		}
		pl := newPlan()
		pl.rescanRoots[""] = struct{}{}
		return p.execute(ctx, pl, true)
	}
	paths := sortedKeys(ev.paths)
	pl := newPlan()
	// A changed ignore file re-walks its directory with the new rules:
	// newly ignored paths leave the index, newly included ones enter it.
	for _, path := range paths {
		if path != "" && isIgnoreFileName(baseName(path)) {
			pl.rescanRoots[parentDir(path)] = struct{}{}
		}
	}
	probes := make([]probe, 0, len(paths))
	rootMissing := false
	for _, path := range paths {
		if path == "" {
			_, err := os.Lstat(p.root)
			rootMissing = err != nil
			continue
		}
		if relpath.UnderAny(path, pl.rescanRoots) {
			continue
		}
		fi, err := os.Lstat(p.abs(path))
		probes = append(probes, probe{path: path, flags: ev.paths[path], info: fi, err: err})
	}
	if rootMissing {
		p.warn.once("root-gone", fmt.Sprintf("the workspace folder %s was removed or renamed; odod sees every file as deleted. Reopen the workspace at its new place.", p.root))
		pl = newPlan()
		pl.stale[""] = struct{}{}
		probes = nil
	}

	if !p.idx.with(func(x *index) {
		for _, pr := range probes {
			p.classify(x, pl, pr)
		}
	}) {
		return Batch{}, ErrClosed
	}
	return p.execute(ctx, pl, false)
}

// classify decides what one probed path needs.
func (p *processor) classify(x *index, pl *plan, pr probe) {
	path := pr.path
	parent := parentDir(path)
	if pl.covered(parent) {
		return // a walk of a new or re-read directory covers it
	}
	if parent != "" && !x.current(parent).isDir() {
		return // inside an ignored or unknown directory
	}
	pr.prev = x.current(path)
	exists := pr.err == nil && indexable(pr.info.Mode())
	if exists && !validName(path) {
		p.warn.once("bad-name", badNameWarning(path))
		exists = false
	}
	if exists && p.ig.ignored(p.ig.chainFor(p.dirRules, parent, true), strings.Split(path, "/"), pr.info.IsDir()) {
		exists = false
		pl.ignoredNow = append(pl.ignoredNow, path)
	} else {
		pl.notIgnored = append(pl.notIgnored, path)
	}
	isDir := exists && pr.info.IsDir()
	if pr.prev.isDir() && !isDir {
		pl.stale[path] = struct{}{}
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
		pl.walkRoots[path] = st
		if pr.prev.isDir() {
			pl.stale[path] = struct{}{}
		}
	default:
		pr.next = stateFromInfo(pr.info)
		pr.force = pr.flags&contentMayHaveChanged != 0
		pl.singles = append(pl.singles, pr)
	}
}

// execute does a plan: I/O (link targets, hashes, walks) without the lock,
// then the index update under it.
func (p *processor) execute(ctx context.Context, pl *plan, overflow bool) (Batch, error) {
	wk := p.newWalker(p.priorFromIndex, nil)
	buf := wk.getBuf()
	defer wk.putBuf(buf)
	u := update{stale: pl.stale, rescanned: pl.rescanRoots, ignoredNow: pl.ignoredNow, notIgnored: pl.notIgnored}
	for _, pr := range pl.singles {
		if pr.next.exists() && !pr.next.isDir() {
			pr.next = wk.complete(pr.path, pr.next, buf, pr.force)
		}
		u.singles = append(u.singles, scanned{path: pr.path, st: pr.next})
	}
	// Watches of directories that went away must go before anything is
	// watched again: inotify hands a moved directory's old watch (and its
	// old path) to a new watch of the same inode.
	if p.watch != nil {
		p.watch.unwatchUnder(pl.stale)
	}

	rules := map[string][]rule{}
	for _, root := range append(sortedSet(pl.rescanRoots), sortedKeys(pl.walkRoots)...) {
		if root != "" && relpath.UnderAny(parentDir(root), pl.rescanRoots) {
			continue // a walk of an enclosing directory covers it
		}
		res, err := wk.walk(ctx, root, p.ig.chainFor(p.dirRules, root, false))
		if err != nil {
			return Batch{}, err
		}
		u.walks = append(u.walks, walkOutcome{root: root, rootState: pl.walkRoots[root], entries: res.entries, ignored: res.ignored})
		for dir := range p.dirRules {
			if relpath.Under(dir, root) {
				delete(p.dirRules, dir)
			}
		}
		for dir, r := range res.rules {
			rules[dir] = r
		}
	}
	for dir, r := range rules {
		p.dirRules[dir] = r
	}

	var batch Batch
	var droppedDirs []string
	if !p.idx.with(func(x *index) {
		batch.Changes, droppedDirs = x.apply(u)
		// The rules of directories that are gone go with them.
		for dir := range p.dirRules {
			if dir != "" && relpath.UnderAny(dir, pl.stale) && !x.current(dir).isDir() {
				delete(p.dirRules, dir)
			}
		}
		batch.Stats = x.statsNow()
	}) {
		return Batch{}, ErrClosed
	}
	batch.Overflow = overflow
	if p.watch != nil {
		for _, d := range droppedDirs {
			p.watch.unwatchDir(d)
		}
		if !overflow {
			p.watch.warnAboutLimit()
		}
	}
	return batch, nil
}

// poll looks at the directories that could not be watched and queues the
// paths whose lstat changed, as events would have.
func (p *processor) poll(ctx context.Context) {
	if p.watch == nil {
		return
	}
	dirs := p.watch.polledDirs()
	if len(dirs) == 0 {
		return
	}
	var known map[string]state
	ignored := map[string]struct{}{}
	p.idx.with(func(x *index) {
		known = x.known(dirs)
		for path := range x.ignored {
			if _, ok := dirs[parentDir(path)]; ok {
				ignored[path] = struct{}{}
			}
		}
	})
	p.watch.poll(ctx, dirs, known, ignored)
}

// flush applies the queued events now, without waiting for the quiet
// window, and returns once they are in the index.
func (p *processor) flush(ctx context.Context, done <-chan struct{}) error {
	if p.watch != nil {
		if err := p.watch.syncToNow(ctx); err != nil {
			return err
		}
	}
	reply := make(chan error, 1)
	select {
	case p.flushes <- reply:
	case <-done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}
