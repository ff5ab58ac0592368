package indexer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/indexer/relpath"
)

// watcher keeps one inotify instance with a watch on each indexed
// directory, turns its events into queued paths, and lists the directories
// that could not be watched (the inotify limit) so that they are polled.
// Its reader goroutine lives until close or renew.
type watcher struct {
	root         string
	logger       *zap.Logger
	queue        *eventQueue
	warn         *warner
	relPath      func(string) (string, bool)
	pollInterval time.Duration
	// limit, when positive, makes watches beyond that many fail as the
	// kernel does when fs.inotify.max_user_watches is reached (tests).
	limit int
	// eventDelay: see Options.eventDelay.
	eventDelay time.Duration

	mu         sync.Mutex
	fsw        *fsnotify.Watcher
	watched    map[string]struct{}
	polled     map[string]struct{}
	limitHits  int
	limitShown int
	readers    sync.WaitGroup

	// cookies are the sync barriers in flight (syncToNow), by file name.
	cookieMu  sync.Mutex
	cookies   map[string]chan struct{}
	cookieSeq int
}

func newWatcher(root string, opts Options, queue *eventQueue, warn *warner, relPath func(string) (string, bool), logger *zap.Logger) *watcher {
	return &watcher{
		root:         root,
		logger:       logger,
		queue:        queue,
		warn:         warn,
		relPath:      relPath,
		pollInterval: opts.PollInterval,
		limit:        opts.watchLimit,
		eventDelay:   opts.eventDelay,
		watched:      map[string]struct{}{},
		polled:       map[string]struct{}{},
	}
}

func (w *watcher) abs(rel string) string {
	if rel == "" {
		return w.root
	}
	return filepath.Join(w.root, filepath.FromSlash(rel))
}

// start creates the inotify instance and the goroutine that drains it.
// Directories are added by the walks (watchDir), before being listed.
func (w *watcher) start(ctx context.Context) {
	fsw, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		w.warn.once("no-watcher", fmt.Sprintf("odod cannot watch %s for changes (%v), so it polls it every %s, which is slower. "+
			"If the error is \"too many open files\", raise the inotify instance limit: sudo sysctl -w fs.inotify.max_user_instances=1024",
			w.root, err, w.pollInterval))
		return
	}
	w.mu.Lock()
	w.fsw = fsw
	w.mu.Unlock()
	w.removeStaleCookies()
	w.readers.Add(1)
	go func() {
		defer w.readers.Done()
		w.readEvents(ctx, fsw)
	}()
}

func (w *watcher) readEvents(ctx context.Context, fsw *fsnotify.Watcher) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-fsw.Events:
			if !ok {
				return
			}
			if w.eventDelay > 0 {
				time.Sleep(w.eventDelay)
			}
			rel, ok := w.relPath(ev.Name)
			if ok && strings.HasPrefix(rel, cookiePrefix) {
				w.cookieSeen(rel)
				continue
			}
			if !ok || underAlwaysExcluded(rel) {
				continue
			}
			w.queue.add(rel, flagsOf(ev.Op))
		case err, ok := <-fsw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.queue.addOverflow()
				continue
			}
			w.logger.Warn("file watcher error", zap.Error(err))
		}
	}
}

// cookiePrefix names the files syncToNow creates in the workspace root for
// an instant. They are never indexed nor pushed.
const cookiePrefix = ".odod-cookie-"

// cookieWait bounds the wait for a cookie's event; past it (a watcher that
// lost it, an overflow) syncToNow falls back to drain.
const cookieWait = 2 * time.Second

// syncToNow returns once every file event that happened before the call is
// queued, as Watchman's cookies do: it creates a file in the watched root
// and waits for the watcher to read that file's event, which the kernel
// queues after every earlier event of the same instance. A save followed at
// once by a push is then in the push, however late the watcher's reader
// was scheduled. Where the root is not watched, or cannot be written (a
// read-only folder), it falls back to drain's heuristic.
func (w *watcher) syncToNow(ctx context.Context) error {
	w.mu.Lock()
	fsw := w.fsw
	w.mu.Unlock()
	if fsw == nil || !w.isWatched("") {
		return w.drain(ctx)
	}
	seen := make(chan struct{})
	w.cookieMu.Lock()
	if w.cookies == nil {
		w.cookies = map[string]chan struct{}{}
	}
	w.cookieSeq++
	name := fmt.Sprintf("%s%d-%d", cookiePrefix, os.Getpid(), w.cookieSeq)
	w.cookies[name] = seen
	w.cookieMu.Unlock()
	defer func() {
		w.cookieMu.Lock()
		delete(w.cookies, name)
		w.cookieMu.Unlock()
	}()
	path := w.abs(name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return w.drain(ctx)
	}
	_ = f.Close()
	defer func() { _ = os.Remove(path) }()
	timer := time.NewTimer(cookieWait)
	defer timer.Stop()
	select {
	case <-seen:
		// Exact where the kernel orders all the instance's events
		// (inotify); where it orders them per directory (kqueue, Windows),
		// the quiet moment stays the floor.
		return w.drain(ctx)
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		w.logger.Debug("the watcher did not report its sync cookie; falling back to waiting for a quiet moment", zap.String("cookie", name))
		return w.drain(ctx)
	}
}

// cookieSeen ends the wait for a cookie (the first of its events does).
func (w *watcher) cookieSeen(name string) {
	w.cookieMu.Lock()
	defer w.cookieMu.Unlock()
	if ch, ok := w.cookies[name]; ok {
		close(ch)
		delete(w.cookies, name)
	}
}

// removeStaleCookies deletes the cookies a killed process left in the root
// (a live one's lasts milliseconds).
func (w *watcher) removeStaleCookies() {
	entries, err := os.ReadDir(w.root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), cookiePrefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Minute {
			_ = os.Remove(w.abs(e.Name()))
		}
	}
}

// drain waits until the events the kernel delivered so far are queued: the
// fsnotify channel is empty and stays so for a moment (its reader may be
// handing over the last event it read). It is a heuristic: a reader not
// yet scheduled has not read what the kernel holds (syncToNow is exact).
func (w *watcher) drain(ctx context.Context) error {
	w.mu.Lock()
	fsw := w.fsw
	w.mu.Unlock()
	if fsw == nil {
		return nil
	}
	for quiet := 0; quiet < 2; {
		if len(fsw.Events) > 0 {
			quiet = 0
		} else {
			quiet++
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Microsecond):
		}
	}
	return nil
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
func (w *watcher) watchDir(rel string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fsw == nil {
		w.polled[rel] = struct{}{}
		return
	}
	if _, ok := w.watched[rel]; ok {
		return
	}
	var err error
	if w.limit > 0 && len(w.watched) >= w.limit {
		err = syscall.ENOSPC
	} else {
		err = w.fsw.Add(w.abs(rel))
	}
	switch {
	case err == nil:
		w.watched[rel] = struct{}{}
		delete(w.polled, rel)
	case errors.Is(err, fs.ErrNotExist):
	case watchLimitReached(err):
		w.polled[rel] = struct{}{}
		w.limitHits++
	default:
		w.polled[rel] = struct{}{}
		w.logger.Warn("cannot watch directory; polling it", zap.String("path", rel), zap.Error(err))
	}
}

func (w *watcher) unwatchDir(rel string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.watched[rel]; ok && w.fsw != nil {
		_ = w.fsw.Remove(w.abs(rel)) // already gone when the directory was deleted
	}
	delete(w.watched, rel)
	delete(w.polled, rel)
}

// unwatchUnder drops the watches of directories under the given ones.
func (w *watcher) unwatchUnder(dirs map[string]struct{}) {
	if len(dirs) == 0 {
		return
	}
	w.mu.Lock()
	var drop []string
	for p := range w.watched {
		if relpath.UnderAny(p, dirs) {
			drop = append(drop, p)
		}
	}
	for p := range w.polled {
		if relpath.UnderAny(p, dirs) {
			drop = append(drop, p)
		}
	}
	w.mu.Unlock()
	for _, p := range drop {
		w.unwatchDir(p)
	}
}

// renew replaces the inotify instance after lost events; the rescan that
// follows adds every directory again before listing it.
func (w *watcher) renew(ctx context.Context) {
	w.mu.Lock()
	old := w.fsw
	w.fsw = nil
	w.watched = map[string]struct{}{}
	w.polled = map[string]struct{}{}
	w.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	if ctx.Err() != nil {
		return
	}
	w.start(ctx)
}

// close stops the inotify instance and waits for its readers.
func (w *watcher) close() {
	w.mu.Lock()
	if w.fsw != nil {
		_ = w.fsw.Close()
	}
	w.mu.Unlock()
	w.readers.Wait()
}

// isWatched reports whether a directory has a watch (tests).
func (w *watcher) isWatched(rel string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.watched[rel]
	return ok
}

// counts returns the number of watched and polled directories.
func (w *watcher) counts() (watched, polled int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.watched), len(w.polled)
}

func (w *watcher) warnAboutLimit() {
	w.mu.Lock()
	hits, polled := w.limitHits, len(w.polled)
	shown := w.limitShown
	w.limitShown = hits
	w.mu.Unlock()
	if hits == 0 || shown > 0 {
		return
	}
	w.warn.once("watch-limit", watchLimitAdvice(runtime.GOOS, polled, w.root, inotifyWatchLimit(), w.pollInterval))
}

// watchLimitReached reports whether the kernel refused a watch for lack of
// room: inotify's watch limit on Linux (ENOSPC), or on macOS the open-file
// limit, since kqueue holds a descriptor for every watched file and
// directory (EMFILE).
func watchLimitReached(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE)
}

// watchLimitAdvice tells the user, in goos's terms, that some directories
// are polled and how to raise the limit.
func watchLimitAdvice(goos string, polled int, root, inotifyLimit string, interval time.Duration) string {
	what := fmt.Sprintf("odod cannot watch %d directories of %s", polled, root)
	poll := fmt.Sprintf("They are polled every %s instead, which is slower and costs CPU.", interval)
	switch goos {
	case "darwin":
		return what + ": the open-file limit is reached (on macOS every watched file and directory holds an open file). " + poll +
			" Fix: raise the limit for the editor that starts odod (ulimit -n 65536 in the shell it starts from, or sudo launchctl limit maxfiles 65536 200000), " +
			"or exclude large folders such as node_modules with .odoignore, then reopen the workspace."
	case "linux":
		return what + fmt.Sprintf(": the inotify watch limit (%s) is reached. ", inotifyLimit) + poll +
			" Fix: sudo sysctl -w fs.inotify.max_user_watches=524288 " +
			"(to keep it after a reboot: echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/90-odod-inotify.conf), then reopen the workspace."
	default:
		return what + ": the system refused more watches. " + poll +
			" Fix: exclude large folders such as node_modules with .odoignore, then reopen the workspace."
	}
}

// polledDirs returns the directories that could not be watched, after
// trying once more to watch them (the limit may have been raised).
func (w *watcher) polledDirs() map[string]struct{} {
	w.mu.Lock()
	dirs := make(map[string]struct{}, len(w.polled))
	for d := range w.polled {
		dirs[d] = struct{}{}
	}
	w.mu.Unlock()
	for d := range dirs {
		w.watchDir(d)
	}
	return dirs
}

// poll lists dirs and queues the paths whose lstat changed against known
// (the indexed entries of those directories), as events would have;
// ignored paths are left alone.
func (w *watcher) poll(ctx context.Context, dirs map[string]struct{}, known map[string]state, ignored map[string]struct{}) {
	seen := map[string]struct{}{}
	for d := range dirs {
		if ctx.Err() != nil {
			return
		}
		list, err := os.ReadDir(w.abs(d))
		if err != nil {
			w.queue.add(d, evPoll)
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
					w.queue.add(rel, evPoll)
				}
				continue
			}
			st := stateFromInfo(info)
			if old.mode != st.mode || old.size != st.size || old.mtime != st.mtime {
				w.queue.add(rel, evPoll)
			}
		}
	}
	for p := range known {
		if _, ok := seen[p]; !ok {
			w.queue.add(p, evPoll)
		}
	}
}

// warner sends each kind of user-facing message once (the index-write
// failure every time).
type warner struct {
	logger    *zap.Logger
	onWarning func(string)
	mu        sync.Mutex
	sent      map[string]bool
}

func (w *warner) once(kind, msg string) {
	w.mu.Lock()
	seen := w.sent[kind]
	if w.sent == nil {
		w.sent = map[string]bool{}
	}
	w.sent[kind] = true
	w.mu.Unlock()
	if seen && kind != "index-write" {
		return
	}
	w.logger.Warn(msg)
	if w.onWarning != nil {
		w.onWarning(msg)
	}
}
