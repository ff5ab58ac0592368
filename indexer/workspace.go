package indexer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
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
	// MaxDelay: ...or this long after its first event, so that a constant
	// trickle still flushes (default 1 s).
	MaxDelay time.Duration
	// PollInterval is how often directories that cannot be watched (inotify
	// limit reached) are polled (default 2 s).
	PollInterval time.Duration
	// PersistDelay coalesces index writes after Confirm (default 250 ms);
	// Flush and Close write at once.
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
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.QuietWindow <= 0 {
		o.QuietWindow = 50 * time.Millisecond
	}
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

// record is one path's current state and what the last confirmed push left
// in the container. Most of the time the two are the same (synced), and
// only one state is kept.
type record struct {
	cur    state
	pushed *state // when !synced: the remote state; nil means absent remotely
	synced bool
	// unseen: during Open only, cur holds the persisted state of a path
	// the walk has not reached yet.
	unseen bool
}

func (r *record) remote() state {
	if r.synced {
		return r.cur
	}
	if r.pushed != nil {
		return *r.pushed
	}
	return state{}
}

func (r *record) setCur(next state) {
	if r.synced {
		old := r.cur
		r.pushed, r.synced = &old, false
		if !old.exists() {
			r.pushed = nil
		}
	}
	r.cur = next
	r.settle()
}

func (r *record) setRemote(s state) {
	r.synced, r.pushed = false, nil
	if s.exists() {
		r.pushed = &s
	}
	r.settle()
}

// settle folds the remote state into cur when pushing would change
// nothing; the remote then takes cur's mtime, which is what a warm start
// will stat.
func (r *record) settle() {
	if !r.synced && sameContent(r.cur, r.remote()) {
		r.synced, r.pushed = true, nil
	}
}

// Workspace is the live index of one workspace root. All methods are safe
// for concurrent use.
type Workspace struct {
	root     string // absolute, symlinks resolved
	rootSeen string // absolute as given, for editor paths
	opts     Options
	logger   *zap.Logger
	ig       *ignorer

	mu         sync.Mutex
	records    map[string]*record
	dirty      map[string]struct{} // paths whose record is not synced
	ignoredSet map[string]struct{}
	stats      Stats
	podUID     string
	indexState IndexFileState
	// indexProblem says why a corrupt or foreign index was not used.
	indexProblem string
	epoch        uint64
	confirmGen   uint64
	writtenGen   uint64
	writeErr     error
	writeDone    chan struct{}
	closed       bool

	// dirRules holds each directory's parsed ignore file; owned by the
	// goroutine that runs walks and event processing.
	dirRules map[string][]rule

	events eventQueue

	watchMu    sync.Mutex
	fsw        *fsnotify.Watcher
	watching   bool
	watched    map[string]struct{}
	polled     map[string]struct{}
	limitHits  int
	limitShown int
	warned     map[string]bool

	bufs        sync.Pool // read buffers for hashing
	persistKick chan struct{}
	flushNow    chan struct{}
	cancel      context.CancelFunc
	done        chan struct{}
	wg          sync.WaitGroup
	closeOnce   sync.Once
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
	return &Workspace{
		root:        resolved,
		rootSeen:    abs,
		opts:        opts,
		logger:      opts.Logger.With(zap.String("workspace", resolved)),
		ig:          newIgnorer(opts.IgnorePatterns, opts.NoGitignore),
		records:     map[string]*record{},
		dirty:       map[string]struct{}{},
		ignoredSet:  map[string]struct{}{},
		dirRules:    map[string][]rule{},
		writeDone:   make(chan struct{}),
		watched:     map[string]struct{}{},
		polled:      map[string]struct{}{},
		warned:      map[string]bool{},
		persistKick: make(chan struct{}, 1),
		flushNow:    make(chan struct{}, 1),
		done:        make(chan struct{}),
		events:      newEventQueue(),
	}, nil
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
	if !w.opts.NoWatch {
		w.watching = true
		w.startWatcher(bg)
	}
	if err := w.load(ctx); err != nil {
		_ = w.Close()
		return nil, err
	}
	w.wg.Add(2)
	go func() { defer w.wg.Done(); w.processLoop(bg) }()
	go func() { defer w.wg.Done(); w.persistLoop(bg) }()
	go func() { w.wg.Wait(); close(w.done) }()
	return w, nil
}

func (w *Workspace) newWalker(prior func(string) (state, bool), progress func(int)) *walker {
	wk := &walker{
		root:     w.root,
		ig:       w.ig,
		workers:  w.opts.Workers,
		hash:     w.opts.Hashing == HashContent,
		logger:   w.logger,
		prior:    prior,
		progress: progress,
		bufs:     &w.bufs,
	}
	if w.watching {
		wk.beforeRead = w.watchDir
	}
	return wk
}

// priorFromIndex looks a path up in the live index, for hash reuse.
func (w *Workspace) priorFromIndex(rel string) (state, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rec := w.records[rel]; rec != nil && rec.cur.exists() {
		return rec.cur, true
	}
	return state{}, false
}

// load reads the persisted index and walks the tree. The persisted
// entries go straight into the records (as unseen), and the walk's
// entries straight onto them, so that no second copy of a 100k-file index
// is ever built.
func (w *Workspace) load(ctx context.Context) error {
	p := loadIndexFile(w.root, func(path string, st state) bool {
		if _, dup := w.records[path]; dup {
			return false
		}
		w.records[path] = &record{cur: st, unseen: true}
		return true
	}, func() { clear(w.records) })
	switch p.state {
	case IndexCorrupt, IndexForeign:
		clear(w.records)
		w.logger.Warn("the persisted file index cannot be used; rebuilding it, and the next push sends every file",
			zap.String("file", IndexFile), zap.Stringer("state", p.state), zap.Error(p.reason))
	case IndexLoaded:
		if p.skipped > 0 {
			w.logger.Warn("invalid entries in the persisted file index were dropped; those files are pushed again",
				zap.String("file", IndexFile), zap.Int("entries", p.skipped))
		}
	}
	prior := func(rel string) (state, bool) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if rec := w.records[rel]; rec != nil && rec.unseen {
			return rec.cur, true
		}
		return state{}, false
	}
	wk := w.newWalker(prior, w.opts.OnProgress)
	wk.emit = func(entries []scanned) {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, e := range entries {
			w.seeLocked(e.path, e.st)
		}
	}
	res, err := wk.walk(ctx, "", w.ig.chainFor(nil, "", false))
	if err != nil {
		return fmt.Errorf("index %s: %w", w.root, err)
	}

	w.mu.Lock()
	w.indexState, w.podUID = p.state, p.podUID
	if p.reason != nil {
		w.indexProblem = p.reason.Error()
	}
	for path, rec := range w.records {
		if rec.unseen { // persisted, not found: deleted since the last push
			remote := rec.cur
			rec.cur, rec.unseen, rec.pushed, rec.synced = state{}, false, &remote, false
		}
		w.trackLocked(path, rec)
	}
	for _, ig := range res.ignored {
		w.ignoredSet[ig] = struct{}{}
	}
	w.dirRules = res.rules
	w.mu.Unlock()
	w.warnAboutLimit()
	return nil
}

// seeLocked records a path the initial walk found.
func (w *Workspace) seeLocked(path string, st state) {
	w.stats.add(st, 1)
	rec := w.records[path]
	if rec == nil {
		w.records[path] = &record{cur: st}
		return
	}
	if rec.unseen {
		remote := rec.cur
		rec.cur, rec.unseen = st, false
		if sameContent(st, remote) {
			rec.synced = true
		} else {
			rec.pushed = &remote
		}
	}
}

// trackLocked keeps the dirty set and drops records that say nothing.
func (w *Workspace) trackLocked(path string, rec *record) {
	if !rec.synced {
		w.dirty[path] = struct{}{}
		return
	}
	delete(w.dirty, path)
	if !rec.cur.exists() {
		delete(w.records, path)
	}
}

// setCurLocked records a path's new state and says how it changed.
func (w *Workspace) setCurLocked(path string, next state) ChangeKind {
	rec := w.records[path]
	if rec == nil {
		if !next.exists() {
			return 0
		}
		rec = &record{}
		w.records[path] = rec
	}
	prev := rec.cur
	if prev == next {
		return 0
	}
	w.stats.add(prev, -1)
	w.stats.add(next, 1)
	rec.setCur(next)
	w.trackLocked(path, rec)
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

// Root is the workspace's absolute path, symlinks resolved.
func (w *Workspace) Root() string { return w.root }

// IndexFileState says what Open found in the persisted index.
func (w *Workspace) IndexFileState() IndexFileState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.indexState
}

// Stats returns the index's totals.
func (w *Workspace) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.statsLocked()
}

func (w *Workspace) statsLocked() Stats {
	s := w.stats
	s.Ignored = len(w.ignoredSet)
	return s
}

// Pending returns what changed since the last confirmed push. Its cost is
// in the number of changed paths, not in the size of the tree.
func (w *Workspace) Pending() ChangeSet {
	w.mu.Lock()
	defer w.mu.Unlock()
	cs := ChangeSet{taken: map[string]state{}, gone: map[string]state{}, epoch: w.epoch}
	for path := range w.dirty {
		rec := w.records[path]
		if rec == nil || rec.synced {
			delete(w.dirty, path)
			continue
		}
		remote := rec.remote()
		switch {
		case !remote.exists():
			cs.Added = append(cs.Added, path)
			cs.taken[path] = rec.cur
		case !rec.cur.exists():
			cs.Deleted = append(cs.Deleted, path)
			cs.gone[path] = remote
		default:
			cs.Modified = append(cs.Modified, path)
			cs.taken[path] = rec.cur
		}
	}
	sortStrings(cs.Added, cs.Modified, cs.Deleted)
	return cs
}

// Confirm records that the push of cs succeeded: the container now holds
// each path as it was when cs was taken. Paths that changed since stay
// pending. The index is then written in the background (see Flush).
func (w *Workspace) Confirm(cs ChangeSet, meta ConfirmMeta) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if cs.epoch != w.epoch {
		return ErrStaleChangeSet
	}
	for path, st := range cs.taken {
		w.setRemoteLocked(path, st)
	}
	for _, path := range cs.Deleted {
		w.setRemoteLocked(path, state{})
	}
	if meta.PodUID != "" {
		w.podUID = meta.PodUID
	}
	w.confirmGen++
	select {
	case w.persistKick <- struct{}{}:
	default:
	}
	return nil
}

func (w *Workspace) setRemoteLocked(path string, st state) {
	rec := w.records[path]
	if rec == nil {
		if !st.exists() {
			return
		}
		rec = &record{}
		w.records[path] = rec
	}
	rec.setRemote(st)
	w.trackLocked(path, rec)
}

// MarkAllPending forgets what the container holds, so the next Pending
// lists every file as added: a full push, e.g. to a new pod. ChangeSets
// taken before can no longer be confirmed.
func (w *Workspace) MarkAllPending() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for path, rec := range w.records {
		rec.setRemote(state{})
		w.trackLocked(path, rec)
	}
	w.podUID = ""
	w.epoch++
}

// LastPodUID is the pod the last confirmed push went to, as persisted; ""
// if unknown (then push everything).
func (w *Workspace) LastPodUID() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.podUID
}

// Entry returns the current entry of a path.
func (w *Workspace) Entry(path string) (Entry, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rec := w.records[path]; rec != nil && rec.cur.exists() {
		return rec.cur.entry(path), true
	}
	return Entry{}, false
}

// Snapshot returns every current entry, sorted by path: the full list for
// a resync. It copies the index (time and memory in its size).
func (w *Workspace) Snapshot() []Entry {
	w.mu.Lock()
	out := make([]Entry, 0, len(w.records))
	for path, rec := range w.records {
		if rec.cur.exists() {
			out = append(out, rec.cur.entry(path))
		}
	}
	w.mu.Unlock()
	sortEntries(out)
	return out
}

// Hint merges editor file events (workspace/didChangeWatchedFiles): the
// paths, absolute or relative to the root, are looked at again in the next
// batch. Paths outside the workspace are ignored.
func (w *Workspace) Hint(paths []string) {
	for _, p := range paths {
		if rel, ok := w.relPath(p); ok {
			w.events.add(rel, evHint)
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

// Flush waits until everything confirmed so far is written to the index
// file, and returns the error of that write.
func (w *Workspace) Flush(ctx context.Context) error {
	w.mu.Lock()
	target := w.confirmGen
	for w.writtenGen < target {
		if w.closed {
			w.mu.Unlock()
			return ErrClosed
		}
		ch := w.writeDone
		w.mu.Unlock()
		select {
		case w.flushNow <- struct{}{}:
		default:
		}
		select {
		case w.persistKick <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-w.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		w.mu.Lock()
	}
	err := w.writeErr
	w.mu.Unlock()
	return err
}

func (w *Workspace) persistLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			w.persist()
			return
		case <-w.persistKick:
		}
		timer := time.NewTimer(w.opts.PersistDelay)
		select {
		case <-timer.C:
		case <-w.flushNow:
		case <-ctx.Done():
		}
		timer.Stop()
		w.persist()
	}
}

// persist writes the index if a confirm happened since the last write.
func (w *Workspace) persist() {
	w.mu.Lock()
	gen := w.confirmGen
	if gen == w.writtenGen {
		w.mu.Unlock()
		return
	}
	entries := make([]persistEntry, 0, len(w.records))
	for path, rec := range w.records {
		if remote := rec.remote(); remote.exists() {
			entries = append(entries, persistEntry{path: path, st: remote})
		}
	}
	podUID := w.podUID
	w.mu.Unlock()

	err := writeIndexFile(w.root, podUID, entries)
	if err != nil {
		w.logger.Error("cannot write the file index", zap.Error(err))
		w.warn("index-write", fmt.Sprintf("odod could not save the file index of %s: %v. Pushes still work; a restart will push more files than needed.", w.root, err))
	}
	w.mu.Lock()
	w.writtenGen, w.writeErr = gen, err
	close(w.writeDone)
	w.writeDone = make(chan struct{})
	w.mu.Unlock()
}

// Close stops the watcher and the goroutines, writes what was confirmed
// but not yet written, and frees the index. It returns that write's error.
func (w *Workspace) Close() error {
	w.closeOnce.Do(func() {
		if w.cancel != nil {
			w.cancel()
		}
		w.watchMu.Lock()
		if w.fsw != nil {
			_ = w.fsw.Close()
		}
		w.watchMu.Unlock()
		w.wg.Wait()
		w.mu.Lock()
		w.closed = true
		w.records, w.dirty, w.ignoredSet, w.dirRules = nil, nil, nil, nil
		w.stats = Stats{}
		w.mu.Unlock()
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.writtenGen < w.confirmGen {
		return ErrClosed
	}
	return w.writeErr
}

// warn sends a user-facing message once per kind.
func (w *Workspace) warn(kind, msg string) {
	w.watchMu.Lock()
	seen := w.warned[kind]
	w.warned[kind] = true
	w.watchMu.Unlock()
	if seen && kind != "index-write" {
		return
	}
	w.logger.Warn(msg)
	if w.opts.OnWarning != nil {
		w.opts.OnWarning(msg)
	}
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
		PodUID:       w.podUID,
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
