package indexer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"
)

// HashPolicy says when file content is hashed.
type HashPolicy int

const (
	// HashContent (the default) hashes each regular file when it is first
	// seen and whenever its size or mtime changes, reusing the persisted
	// hash otherwise; a write event whose lstat looks unchanged (a same-size
	// edit within the filesystem's mtime granularity) is hashed again. A
	// file rewritten with the same content is not a change.
	HashContent HashPolicy = iota
	// HashOff compares size and mtime only, as odo did: nothing is read.
	HashOff
)

// Options configure a Workspace. The zero value is usable.
type Options struct {
	Logger *zap.Logger
	// QuietWindow: a batch is flushed once no event came for this long
	// (default 50 ms)...
	QuietWindow time.Duration
	// SettleWindow: ...or this long, while the batch holds at most four
	// paths: an editor's save (default 15 ms, at most QuietWindow). A
	// storm (a checkout, an install) adds paths faster than that and
	// waits out QuietWindow.
	SettleWindow time.Duration
	// MaxDelay: ...or this long after its first event, so that a constant
	// trickle still flushes (default 1 s).
	MaxDelay time.Duration
	// PollInterval is how often directories that cannot be watched (inotify
	// limit reached) are polled (default 2 s).
	PollInterval time.Duration
	// PersistDelay coalesces index writes after Confirm (default 250 ms);
	// WaitPersisted and Close write at once.
	PersistDelay time.Duration
	Hashing      HashPolicy
	// Workers for the parallel walk (default 2×GOMAXPROCS, at least 4).
	Workers int
	// NoGitignore: read only .odoignore files, never .gitignore.
	NoGitignore bool
	// IgnorePatterns are gitignore lines relative to the root that take
	// precedence over every ignore file (workspace/open's ignore.patterns).
	IgnorePatterns []string
	// NoWatch builds the index without a watcher: it then changes only
	// through Hint and Rescan.
	NoWatch bool

	// OnProgress receives the number of entries found so far during Open's
	// walk ($/progress on large trees). Called from walk goroutines, one
	// call at a time.
	OnProgress func(filesDone int)
	// OnChange receives each non-empty coalesced batch, in order, from the
	// watcher goroutine. It must not block for long, and must not call Close.
	OnChange func(Batch)
	// OnWarning receives messages for the user (window/showMessage): the
	// inotify limit with its fix, lost events, a workspace root that went
	// away, an index that could not be written.
	OnWarning func(message string)

	// watchLimit, when positive, makes watches beyond that many fail as the
	// kernel does when fs.inotify.max_user_watches is reached (tests).
	watchLimit int
	// eventDelay, when positive, delays the watcher's reader before it
	// queues each event, as a reader the scheduler ran late (tests).
	eventDelay time.Duration
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.QuietWindow <= 0 {
		o.QuietWindow = 50 * time.Millisecond
	}
	if o.SettleWindow <= 0 {
		o.SettleWindow = 15 * time.Millisecond
	}
	o.SettleWindow = min(o.SettleWindow, o.QuietWindow)
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Second
	}
	if o.MaxDelay < o.QuietWindow {
		o.MaxDelay = o.QuietWindow
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.PersistDelay < 0 {
		o.PersistDelay = 0
	} else if o.PersistDelay == 0 {
		o.PersistDelay = 250 * time.Millisecond
	}
	if o.Workers <= 0 {
		o.Workers = defaultWorkers()
	}
	return o
}

func (o Options) windows() windows {
	return windows{quiet: o.QuietWindow, settle: o.SettleWindow, maxDelay: o.MaxDelay}
}

// Stats are the totals of the index.
type Stats struct {
	// Files counts regular files and symlinks; Dirs directories (the root
	// not included); Bytes is the size of the regular files.
	Files int
	Dirs  int
	Bytes int64
	// Ignored counts the paths the ignore rules excluded where the walk
	// stopped: an ignored directory counts once, not its content.
	Ignored int
}

func (s *Stats) add(st state, sign int) {
	switch {
	case !st.exists():
	case st.isDir():
		s.Dirs += sign
	default:
		s.Files += sign
		if st.isRegular() {
			s.Bytes += int64(sign) * st.size
		}
	}
}

// ConfirmMeta describes the push a ChangeSet was confirmed by.
type ConfirmMeta struct {
	// PodUID is the pod the files went to; it is persisted so that a new
	// pod (a different UID) is known to need a full resync.
	PodUID string
}

var (
	// ErrStaleChangeSet: the ChangeSet was taken before MarkAllPending, so
	// confirming it would lie about the new target.
	ErrStaleChangeSet = errors.New("the change set was taken before the index was reset for a full push; take a new one with Pending and push it")
	// ErrClosed: the workspace was closed.
	ErrClosed = errors.New("the workspace index is closed; open the workspace again")
)

// Workspace is the live index of one workspace root: the record state
// machine (index) behind one lock, the watcher that feeds its event queue,
// the processor that applies the queued events, and the persister that
// writes it after confirms. All methods are safe for concurrent use.
type Workspace struct {
	root     string // absolute, symlinks resolved
	rootSeen string // absolute as given, for editor paths
	opts     Options
	logger   *zap.Logger

	idx *lockedIndex
	// indexState and indexProblem say what Open found in the persisted
	// index; set before Open returns.
	indexState   IndexFileState
	indexProblem string

	queue   *eventQueue
	warn    *warner
	watch   *watcher // nil with NoWatch
	proc    *processor
	persist *persister

	cancel    context.CancelFunc
	done      chan struct{} // closed when every goroutine has returned
	wg        sync.WaitGroup
	closeOnce sync.Once
}

func newWorkspace(root string, opts Options) (*Workspace, error) {
	opts = opts.withDefaults()
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("workspace root %q: %w", root, err)
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("workspace root %s: %w; open an existing folder", abs, err)
	}
	fi, err := os.Stat(resolved)
	if err != nil {
		return nil, fmt.Errorf("workspace root %s: %w; open an existing folder", abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("workspace root %s is not a directory; open the folder that holds the component's source", abs)
	}
	logger := opts.Logger.With(zap.String("workspace", resolved))
	w := &Workspace{
		root:     resolved,
		rootSeen: abs,
		opts:     opts,
		logger:   logger,
		idx:      &lockedIndex{x: newIndex()},
		queue:    newEventQueue(),
		warn:     &warner{logger: logger, onWarning: opts.OnWarning},
		done:     make(chan struct{}),
	}
	if !opts.NoWatch {
		w.watch = newWatcher(resolved, opts, w.queue, w.warn, w.relPath, logger)
	}
	w.proc = &processor{
		root:     resolved,
		opts:     opts,
		logger:   logger,
		ig:       newIgnorer(opts.IgnorePatterns, opts.NoGitignore),
		idx:      w.idx,
		queue:    w.queue,
		watch:    w.watch,
		warn:     w.warn,
		dirRules: map[string][]rule{},
		flushes:  make(chan chan error),
	}
	w.persist = newPersister(opts.PersistDelay, w.writeIndex)
	return w, nil
}

// Open builds the index of root and, unless opts.NoWatch, keeps it current
// with a watcher until Close. ctx bounds the initial walk only.
func Open(ctx context.Context, root string, opts Options) (*Workspace, error) {
	w, err := newWorkspace(root, opts)
	if err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	if w.watch != nil {
		w.watch.start(bg)
	}
	if err := w.load(ctx); err != nil {
		_ = w.Close()
		return nil, err
	}
	w.wg.Add(2)
	go func() { defer w.wg.Done(); w.proc.run(bg) }()
	go func() { defer w.wg.Done(); w.persist.run(bg) }()
	go func() { w.wg.Wait(); close(w.done) }()
	return w, nil
}

// load reads the persisted index and walks the tree. The persisted
// entries go straight into the records (as unseen), and the walk's
// entries straight onto them, so that no second copy of a 100k-file index
// is ever built. It runs before the processor's goroutine starts.
func (w *Workspace) load(ctx context.Context) error {
	x := w.idx.x
	p := loadIndexFile(w.root, x.loadPersisted, x.resetPersisted)
	x.endPersisted()
	switch p.state {
	case IndexCorrupt, IndexForeign:
		x.resetPersisted()
		w.logger.Warn("the persisted file index cannot be used; rebuilding it, and the next push sends every file",
			zap.String("file", IndexFile), zap.Stringer("state", p.state), zap.Error(p.reason))
	case IndexLoaded:
		if p.skipped > 0 {
			w.logger.Warn("invalid entries in the persisted file index were dropped; those files are pushed again",
				zap.String("file", IndexFile), zap.Int("entries", p.skipped))
		}
	}
	prior := func(rel string) (st state, ok bool) {
		w.idx.with(func(x *index) { st, ok = x.persistedUnseen(rel) })
		return st, ok
	}
	wk := w.proc.newWalker(prior, w.opts.OnProgress)
	wk.emit = func(entries []scanned) {
		w.idx.with(func(x *index) { x.seeDir(entries) })
	}
	res, err := wk.walk(ctx, "", w.proc.ig.chainFor(nil, "", false))
	if err != nil {
		return fmt.Errorf("index %s: %w", w.root, err)
	}
	w.idx.with(func(x *index) {
		x.podUID = p.podUID
		x.finishLoad()
		for _, ig := range res.ignored {
			x.ignored[ig] = struct{}{}
		}
	})
	w.indexState = p.state
	if p.reason != nil {
		w.indexProblem = p.reason.Error()
	}
	w.proc.dirRules = res.rules
	if w.watch != nil {
		w.watch.warnAboutLimit()
	}
	return nil
}

// Root is the workspace's absolute path, symlinks resolved.
func (w *Workspace) Root() string { return w.root }

// IndexFileState says what Open found in the persisted index.
func (w *Workspace) IndexFileState() IndexFileState { return w.indexState }

// Stats returns the index's totals.
func (w *Workspace) Stats() (s Stats) {
	w.idx.with(func(x *index) { s = x.statsNow() })
	return s
}

// Pending returns what changed since the last confirmed push. Its cost is
// in the number of changed paths, not in the size of the tree. Call Flush
// first to include what was saved in the last moments (the quiet window).
func (w *Workspace) Pending() (cs ChangeSet) {
	w.idx.with(func(x *index) { cs = x.pending() })
	return cs
}

// Flush applies the file events received so far at once, without waiting
// for the quiet window that coalesces them, and returns when the index
// holds them: a Pending taken after it includes every save that happened
// before Flush was called (an editor's save-then-push). The batch is
// reported to OnChange as usual.
func (w *Workspace) Flush(ctx context.Context) error {
	if w.done == nil || w.cancel == nil {
		return ErrClosed
	}
	return w.proc.flush(ctx, w.done)
}

// Confirm records that the push of cs succeeded: the container now holds
// each path as it was when cs was taken. Paths that changed since stay
// pending. The index is then written in the background (see WaitPersisted).
func (w *Workspace) Confirm(cs ChangeSet, meta ConfirmMeta) error {
	var err error
	if !w.idx.with(func(x *index) { err = x.confirm(cs, meta) }) {
		return ErrClosed
	}
	if err != nil {
		return err
	}
	w.persist.confirmedOne()
	return nil
}

// MayHold records that a push of cs ended unconfirmed after its sync had
// begun, so the container may hold what cs added: those paths stay pending
// until a push is confirmed (a later deletion is pushed too).
func (w *Workspace) MayHold(cs ChangeSet) {
	if w.idx.with(func(x *index) { x.mayHold(cs) }) {
		w.persist.confirmedOne()
	}
}

// MarkAllPending forgets what the container holds, so the next Pending
// lists every file as added: a full push, e.g. to a new pod. ChangeSets
// taken before can no longer be confirmed.
func (w *Workspace) MarkAllPending() {
	w.idx.with(func(x *index) { x.markAllPending() })
}

// LastPodUID is the pod the last confirmed push went to, as persisted; ""
// if unknown (then push everything).
func (w *Workspace) LastPodUID() (uid string) {
	w.idx.with(func(x *index) { uid = x.podUID })
	return uid
}

// Entry returns the current entry of a path.
func (w *Workspace) Entry(path string) (e Entry, ok bool) {
	w.idx.with(func(x *index) {
		if st := x.current(path); st.exists() {
			e, ok = withChainChecked(path, st, x.current).entry(path), true
		}
	})
	return e, ok
}

// Snapshot returns every current entry, sorted by path: the full list for
// a resync. It copies the index (time and memory in its size).
func (w *Workspace) Snapshot() (out []Entry) {
	w.idx.with(func(x *index) { out = x.entries() })
	sortEntries(out)
	return out
}

// Hint merges editor file events (workspace/didChangeWatchedFiles): the
// paths, absolute or relative to the root, are looked at again in the next
// batch. Paths outside the workspace are ignored.
func (w *Workspace) Hint(paths []string) {
	for _, p := range paths {
		if rel, ok := w.relPath(p); ok {
			w.queue.add(rel, evHint)
		}
	}
}

func (w *Workspace) relPath(p string) (string, bool) {
	if !filepath.IsAbs(p) {
		rel := filepath.ToSlash(filepath.Clean(p))
		if rel == "." {
			return "", true
		}
		return rel, validRelPath(rel)
	}
	for _, base := range []string{w.root, w.rootSeen} {
		r, err := filepath.Rel(base, filepath.Clean(p))
		if err != nil {
			continue
		}
		if r == "." {
			return "", true
		}
		if rel := filepath.ToSlash(r); validRelPath(rel) {
			return rel, true
		}
	}
	return "", false
}

func (w *Workspace) abs(rel string) string {
	if rel == "" {
		return w.root
	}
	return filepath.Join(w.root, filepath.FromSlash(rel))
}

// WaitPersisted waits until everything confirmed so far is written to the
// index file, and returns the error of that write.
func (w *Workspace) WaitPersisted(ctx context.Context) error {
	return w.persist.wait(ctx)
}

// writeIndex writes what the container holds to the index file (the
// persister's write).
func (w *Workspace) writeIndex() error {
	var entries []persistEntry
	var podUID string
	if !w.idx.with(func(x *index) { entries, podUID = x.pushed(), x.podUID }) {
		return ErrClosed
	}
	err := writeIndexFile(w.root, podUID, entries)
	if err != nil {
		w.logger.Error("cannot write the file index", zap.Error(err))
		w.warn.once("index-write", fmt.Sprintf("odod could not save the file index of %s: %v. Pushes still work; a restart will push more files than needed.", w.root, err))
	}
	return err
}

// Close stops the watcher and the goroutines, writes what was confirmed
// but not yet written, and frees the index. It returns that write's error.
func (w *Workspace) Close() error {
	w.closeOnce.Do(func() {
		if w.cancel != nil {
			w.cancel()
		}
		if w.watch != nil {
			w.watch.close()
		}
		w.wg.Wait()
		w.idx.mu.Lock()
		w.idx.x = nil
		w.idx.mu.Unlock()
	})
	return w.persist.result()
}

// Report is the read-only comparison of a tree with its persisted index.
type Report struct {
	Root       string
	IndexFile  string
	IndexState IndexFileState
	// IndexProblem says why a corrupt or foreign index was not used.
	IndexProblem string
	PodUID       string
	Stats        Stats
	Changes      ChangeSet
}

// Compare walks root and compares it with the persisted index without
// writing or watching anything: what the next push would send.
func Compare(ctx context.Context, root string, opts Options) (Report, error) {
	opts.NoWatch = true
	w, err := newWorkspace(root, opts)
	if err != nil {
		return Report{}, err
	}
	if err := w.load(ctx); err != nil {
		return Report{}, err
	}
	r := Report{
		Root:         w.root,
		IndexFile:    w.abs(IndexFile),
		IndexState:   w.indexState,
		IndexProblem: w.indexProblem,
		PodUID:       w.LastPodUID(),
		Stats:        w.Stats(),
		Changes:      w.Pending(),
	}
	return r, nil
}

func sortStrings(lists ...[]string) {
	for _, l := range lists {
		slicesSort(l)
	}
}
