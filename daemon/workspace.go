package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/protocol"
)

// IndexHooks are how a workspace index reports to the daemon.
type IndexHooks struct {
	// Progress is called while the first walk runs, with the entries
	// indexed so far.
	Progress func(filesDone int)
	// Changed is called with each coalesced batch of changes the watcher
	// saw, after the index has applied it.
	Changed func(changes []protocol.Change, overflow bool, stats protocol.IndexStats)
	// Warn is called with something the user must act on (e.g. the
	// inotify watch limit); the daemon shows it with window/showMessage.
	Warn func(message string)
}

// WorkspaceIndex is a workspace's live file index, as the daemon uses it.
type WorkspaceIndex interface {
	Stats() protocol.IndexStats
	// Hint re-examines paths (slash-separated, relative) the editor said
	// changed (workspace/didChangeWatchedFiles).
	Hint(paths []string)
	// Close stops watching and frees the index.
	Close() error
}

// IndexOpener builds the index of root and starts watching it. The context
// bounds the first walk only; the watcher runs until Close.
type IndexOpener func(ctx context.Context, root string, log *zap.Logger, hooks IndexHooks) (WorkspaceIndex, error)

// session is one open workspace.
type session struct {
	id   string
	uri  string
	root string

	// settingsMu is held by a request that edits .odo/config.yaml for
	// all its length; it is taken while the request holds the queue, so
	// in arrival order, and the workspace's later requests wait on it.
	settingsMu sync.Mutex

	// ready is closed when the first index is built or has failed.
	ready chan struct{}
	err   error

	mu    sync.Mutex // guards the fields below and orders notifications
	state protocol.WorkspaceState
	index WorkspaceIndex
	seq   uint64
	// notes is the connection's writer: emit queues on it under mu.
	notes *notifier
	// comp is the workspace's component, made on first use.
	comp *component.Component
	// subs are the running logs/follow subscriptions.
	subs map[string]context.CancelFunc
	// watch pushes the changes as they happen (odod/watch/start).
	watch *component.Watch
	// logTaps also receive the component's output (a terminal's push
	// through the workspace socket), by tap id.
	logTaps map[int]func(protocol.LogParams)
	tapSeq  int
	// socket takes a terminal's odod push (handoff.go); nil when another
	// daemon has it, or sockets are off.
	socket *workspaceSocket
}

// workspaces is the daemon's set of sessions, keyed by canonical root.
type workspaces struct {
	s      *Server
	mu     sync.Mutex
	byRoot map[string]*session
	byID   map[string]*session
}

func newWorkspaces(s *Server) *workspaces {
	return &workspaces{s: s, byRoot: map[string]*session{}, byID: map[string]*session{}}
}

// workspaceID is stable for a folder, so a restarted daemon gives the same
// folder the same id.
func workspaceID(root string) string {
	sum := sha256.Sum256([]byte(root))
	return "ws-" + hex.EncodeToString(sum[:6])
}

// open returns the workspace of p.URI, creating and indexing it if needed.
func (w *workspaces) open(ctx context.Context, conn *jsonrpc2.Conn, p protocol.WorkspaceOpenParams) (*protocol.WorkspaceOpenResult, error) {
	root, rpcErr := folderFromURI(p.URI)
	if rpcErr != nil {
		return nil, rpcErr
	}
	for {
		w.mu.Lock()
		sess, exists := w.byRoot[root]
		if !exists {
			sess = &session{
				id:    workspaceID(root),
				uri:   hostPaths.uriFromPath(root),
				root:  root,
				ready: make(chan struct{}),
				state: protocol.WorkspaceIndexing,
				notes: w.s.notes,
			}
			w.byRoot[root] = sess
			w.byID[sess.id] = sess
		}
		w.mu.Unlock()
		// Other requests may run while this folder is indexed.
		release(ctx)

		if !exists {
			w.build(ctx, conn, sess, p.WorkDoneToken)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-sess.ready:
		}
		if sess.err != nil {
			if exists {
				// The open we waited for failed (or was cancelled);
				// try again on our own account.
				continue
			}
			return nil, sess.err
		}
		return &protocol.WorkspaceOpenResult{WorkspaceID: sess.id, Index: sess.stats()}, nil
	}
}

// build indexes a new session; on failure it removes the session again.
func (w *workspaces) build(ctx context.Context, conn *jsonrpc2.Conn, sess *session, token json.RawMessage) {
	defer close(sess.ready)
	log := w.s.log.With(zap.String("workspaceId", sess.id), zap.String("root", sess.root))
	pctx, progress := w.s.startProgress(ctx, conn, token, "Indexing "+filepath.Base(sess.root), true)
	start := time.Now()
	hooks := IndexHooks{
		Progress: func(n int) { progress.Report(fmt.Sprintf("%d files", n), -1, false) },
		Changed: func(changes []protocol.Change, overflow bool, stats protocol.IndexStats) {
			sess.emit(protocol.MethodIndexDidChange, func(ev protocol.Event) any {
				return protocol.IndexDidChangeParams{Event: ev, Changes: changes, Overflow: overflow, IndexStats: stats}
			})
			sess.watchChanged(len(changes))
		},
		Warn: func(message string) {
			log.Warn(message)
			w.s.notes.send(protocol.MethodShowMessage, protocol.ShowMessageParams{Type: protocol.MessageWarning, Message: message})
		},
	}
	idx, err := w.s.opts.OpenIndex(pctx, sess.root, log, hooks)
	if err != nil {
		progress.End("failed")
		w.remove(sess)
		if pctx.Err() != nil {
			sess.err = cancelled()
			return
		}
		sess.err = Errorf(protocol.CodeIndexFailed, "check-permissions",
			"Check that odod can read every folder of the workspace, or ignore unreadable ones in .odoignore.",
			"cannot index %s: %v", sess.root, err)
		return
	}
	var socket *workspaceSocket
	if dir := w.s.opts.SocketDir; dir != "" {
		h := terminalPushHandler{s: w.s, sess: sess}
		if socket, err = listenWorkspace(dir, sess.root, w.s.opts.SocketTag, log, h.handle); err != nil {
			// The editor's pushes do not need it: a terminal's odod push
			// then pushes from its own process.
			log.Warn("a terminal's odod push in this workspace will not go through odod serve", zap.Error(err))
		}
	}
	sess.mu.Lock()
	sess.index = idx
	sess.socket = socket
	sess.state = protocol.WorkspaceWatching
	sess.mu.Unlock()
	st := idx.Stats()
	progress.End(fmt.Sprintf("%d files indexed", st.Files))
	// The first walk leaves a heap of transient garbage (directory
	// listings, hash buffers); return it to the OS now rather than keep a
	// long-lived daemon's footprint at its peak until the scavenger gets
	// to it.
	debug.FreeOSMemory()
	log.Info("workspace opened", zap.Int("files", st.Files), zap.Int64("bytes", st.Bytes), zap.Int("ignored", st.Ignored), zap.Duration("took", time.Since(start)))
}

func (w *workspaces) remove(sess *session) {
	w.mu.Lock()
	if w.byRoot[sess.root] == sess {
		delete(w.byRoot, sess.root)
		delete(w.byID, sess.id)
	}
	w.mu.Unlock()
}

// close closes one workspace.
func (w *workspaces) close(id string) error {
	if id == "" {
		return invalidParams("workspaceId", "is required", "Pass the workspaceId odod/workspace/open returned.")
	}
	w.mu.Lock()
	sess := w.byID[id]
	w.mu.Unlock()
	if sess == nil {
		return workspaceNotFound(id)
	}
	<-sess.ready
	w.remove(sess)
	return sess.close()
}

func workspaceNotFound(id string) error {
	return Errorf(protocol.CodeWorkspaceNotFound, "open-workspace",
		"Open the folder with odod/workspace/open and use the workspaceId it returns; odod/status lists open workspaces.",
		"no open workspace has id %q", id)
}

// closeAll closes every workspace (shutdown, end of connection).
func (w *workspaces) closeAll() {
	w.mu.Lock()
	all := make([]*session, 0, len(w.byID))
	for _, sess := range w.byID {
		all = append(all, sess)
	}
	w.byID = map[string]*session{}
	w.byRoot = map[string]*session{}
	w.mu.Unlock()
	for _, sess := range all {
		select {
		case <-sess.ready:
			if err := sess.close(); err != nil {
				w.s.log.Warn("closing workspace", zap.String("workspaceId", sess.id), zap.Error(err))
			}
		default:
			// Still indexing: its request's context is cancelled by
			// Serve, and build removes it.
		}
	}
}

// all returns the open sessions.
func (w *workspaces) all() []*session {
	w.mu.Lock()
	defer w.mu.Unlock()
	all := make([]*session, 0, len(w.byID))
	for _, sess := range w.byID {
		all = append(all, sess)
	}
	return all
}

func (w *workspaces) list() []protocol.WorkspaceStatus {
	all := w.all()
	out := make([]protocol.WorkspaceStatus, 0, len(all))
	for _, sess := range all {
		sess.mu.Lock()
		st := protocol.WorkspaceStatus{WorkspaceID: sess.id, URI: sess.uri, State: sess.state}
		if sess.index != nil {
			st.Index = sess.index.Stats()
		}
		st.Watch = sess.watchStatusLocked()
		sess.mu.Unlock()
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URI < out[j].URI })
	return out
}

// hint routes editor file events to the workspaces containing them.
func (w *workspaces) hint(events []protocol.FileEvent) {
	w.mu.Lock()
	sessions := make([]*session, 0, len(w.byRoot))
	for _, sess := range w.byRoot {
		sessions = append(sessions, sess)
	}
	w.mu.Unlock()
	perSession := map[*session][]string{}
	for _, ev := range events {
		path, err := hostPaths.pathFromURI(ev.URI)
		if err != nil {
			w.s.log.Debug("ignoring a watched-file event", zap.String("uri", ev.URI), zap.Error(err))
			continue
		}
		for _, sess := range sessions {
			if rel, ok := hostPaths.within(sess.root, path); ok {
				perSession[sess] = append(perSession[sess], rel)
			}
		}
	}
	for sess, paths := range perSession {
		sess.mu.Lock()
		idx := sess.index
		sess.mu.Unlock()
		if idx != nil {
			idx.Hint(paths)
		}
	}
}

func (sess *session) stats() protocol.IndexStats {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.index == nil {
		return protocol.IndexStats{}
	}
	return sess.index.Stats()
}

func (sess *session) close() error {
	sess.stopWatch()
	sess.stopSubscriptions()
	sess.mu.Lock()
	idx, comp, socket := sess.index, sess.comp, sess.socket
	sess.index, sess.comp, sess.socket = nil, nil, nil
	sess.state = protocol.WorkspaceClosed
	sess.mu.Unlock()
	// First the socket: a terminal's push in flight is cancelled and
	// answered before the component closes.
	socket.Close()
	var errs []error
	if comp != nil {
		errs = append(errs, comp.Close())
	}
	if idx != nil {
		errs = append(errs, idx.Close())
	}
	return errors.Join(errs...)
}

// tapLogs adds a receiver of the component's output; the returned func
// removes it.
func (sess *session) tapLogs(fn func(protocol.LogParams)) (untap func()) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.logTaps == nil {
		sess.logTaps = map[int]func(protocol.LogParams){}
	}
	sess.tapSeq++
	id := sess.tapSeq
	sess.logTaps[id] = fn
	return func() {
		sess.mu.Lock()
		delete(sess.logTaps, id)
		sess.mu.Unlock()
	}
}

// tappedLogs are the log taps, for a caller outside the lock.
func (sess *session) tappedLogs() []func(protocol.LogParams) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	taps := make([]func(protocol.LogParams), 0, len(sess.logTaps))
	for _, fn := range sess.logTaps {
		taps = append(taps, fn)
	}
	return taps
}

// editSettings takes the settings lock and returns its release.
func (sess *session) editSettings() (done func()) {
	sess.settingsMu.Lock()
	return sess.settingsMu.Unlock
}

// waitForEdits returns once the settings edits that came before have
// ended.
func (sess *session) waitForEdits() {
	sess.settingsMu.Lock()
	//lint:ignore SA2001 the lock is a barrier here: nothing is guarded
	sess.settingsMu.Unlock()
}

// emit sends a notification about this workspace. It is queued on the
// connection's writer under the lock, so seq order is wire order, but
// nothing is written under the lock.
func (sess *session) emit(method string, build func(ev protocol.Event) any) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.state == protocol.WorkspaceClosed {
		return
	}
	sess.seq++
	ev := protocol.Event{WorkspaceID: sess.id, Seq: sess.seq, Time: time.Now().UTC()}
	sess.notes.send(method, build(ev))
}

// folderFromURI turns a file:// URI into a canonical local directory path,
// or an invalid-params error saying what is wrong.
func folderFromURI(uri string) (string, error) {
	if uri == "" {
		return "", invalidParams("uri", "is required", "Pass the folder as a file:// URI, e.g. file:///home/me/project.")
	}
	path, err := hostPaths.pathFromURI(uri)
	if err != nil {
		return "", invalidParams("uri", err.Error(), "Pass a local folder as a file:// URI, e.g. file:///home/me/project or file:///C:/Users/me/project.")
	}
	root, err := CanonicalRoot(path)
	if err != nil {
		var rootErr *rootError
		if errors.As(err, &rootErr) {
			return "", invalidParams("uri", err.Error(), rootErr.action)
		}
		return "", invalidParams("uri", err.Error(), "Check the folder's permissions.")
	}
	return root, nil
}

// rootError says why a folder cannot be a workspace, and what to do.
type rootError struct {
	msg, action string
}

func (e *rootError) Error() string { return e.msg }

// CanonicalRoot is the workspace root of a local folder, the one spelling
// of it that the daemon keys workspaces (and their ids) by: absolute,
// symlinks resolved, and where case does not matter (macOS, Windows) in
// the case the file system has. A terminal's command finds the editor's
// workspace through it.
func CanonicalRoot(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", &rootError{fmt.Sprintf("%s: %v", path, err), "Pass an absolute folder."}
	}
	path = abs
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", &rootError{fmt.Sprintf("%s does not exist", path), "Open an existing local folder."}
	case err != nil:
		return "", &rootError{fmt.Sprintf("cannot read %s: %v", path, err), "Check the folder's permissions."}
	case !info.IsDir():
		return "", &rootError{fmt.Sprintf("%s is a file, not a directory", path), "Open the folder that contains the component, not a file in it."}
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", &rootError{fmt.Sprintf("cannot resolve %s: %v", path, err), "Check the folder's symlinks and permissions."}
	}
	// One folder is one workspace however it is spelled: where case does
	// not matter, file:///Users/me/App and file:///users/me/app are the
	// same root (and so the same workspace id).
	return hostPaths.canonical(filepath.Clean(real), readDirNames), nil
}
