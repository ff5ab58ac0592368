// Package daemon is odod's JSON-RPC server: the LSP-style lifecycle, the
// request queue with cancellation, progress, and one session per workspace.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/protocol"
)

// Options configure a Server.
type Options struct {
	// Logger writes odod's own log (stderr in odod serve). Its entries at
	// or above Level are mirrored to the editor as window/logMessage.
	Logger *zap.Logger
	// Level is the log level; initializationOptions.logLevel changes it.
	Level zap.AtomicLevel
	// Version is reported in serverInfo and odod/status.
	Version string
	// OpenIndex builds a workspace's index; nil means OpenIndexer.
	OpenIndex IndexOpener
	// ParentPollInterval is how often the editor's processId is checked
	// (default 1 s).
	ParentPollInterval time.Duration
	// ProcessAlive reports whether a process exists (default: kill(pid, 0),
	// on Windows a wait on the process with a zero timeout).
	ProcessAlive func(pid int) bool
	// Clusters reaches the cluster; nil means the kubeconfig's
	// (NewKubeconfig), configured by initialize.
	Clusters Clusters
	// SocketDir is where each open workspace's socket goes, through which
	// a terminal's odod push hands its push to this daemon (handoff.go);
	// "" means no sockets. odod serve uses DefaultSocketDir.
	SocketDir string
	// SocketTag names the sockets of a background daemon (background.go);
	// "" is an editor's odod serve.
	SocketTag string
	// TerminalPushes, when set, is called with +1 as a push through the
	// workspace socket starts and -1 as it ends (a background daemon's
	// idle clock).
	TerminalPushes func(delta int)
	// ClusterWatchWindow is how long odod/cluster/didChange gathers
	// changes (default 200 ms).
	ClusterWatchWindow time.Duration
}

// drainTimeout bounds how long messages read before the end of input may
// still run.
const drainTimeout = 2 * time.Second

// lifecycle states, as gopls's serverState.
type state int

const (
	stateCreated state = iota
	stateInitializing
	stateInitialized
	stateShutDown
)

// Server is one connection's server. Create it with New and run it with
// Serve; it is not reusable.
type Server struct {
	opts Options
	log  *zap.Logger

	mu          sync.Mutex
	state       state
	clientInfo  *protocol.ClientInfo
	clientProgr bool       // client supports window/workDoneProgress/create
	debug       bool       // odod/debug/* methods enabled
	inflight    *cancelSet // by request id
	progress    *cancelSet // by progress token
	progressSeq int

	// serveCtx ends when Serve returns; goroutines started for the
	// connection (parent watch, log forwarding) are counted in goroutines
	// and waited for by Serve.
	serveCtx   context.Context
	goroutines sync.WaitGroup
	// exited is closed when exit arrives or the editor's process dies;
	// exitCode is set before.
	exited   chan struct{}
	exitOnce sync.Once
	exitCode int

	// methods is the dispatch table (methods.go).
	methods    map[string]method
	queue      *requestQueue
	notes      *notifier
	workspaces *workspaces
	userLog    *userLogSink
	// initImage is odod's init image reference (initializationOptions,
	// else $ODOD_INIT_IMAGE, else the local cluster's).
	initImage string
	subSeq    int
	// clusterWatch is odod/cluster/watch's (clusterwatch.go).
	clusterWatch *clusterWatch
}

// New creates a server.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Level == (zap.AtomicLevel{}) {
		opts.Level = zap.NewAtomicLevelAt(zap.InfoLevel)
	}
	if opts.ParentPollInterval <= 0 {
		opts.ParentPollInterval = time.Second
	}
	if opts.ProcessAlive == nil {
		opts.ProcessAlive = processAlive
	}
	if opts.OpenIndex == nil {
		opts.OpenIndex = OpenIndexer
	}
	s := &Server{
		opts:     opts,
		inflight: newCancelSet(),
		progress: newCancelSet(),
		exited:   make(chan struct{}),
	}
	s.userLog = newUserLogSink(opts.Level)
	s.log = opts.Logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, s.userLog)
	}))
	if s.opts.Clusters == nil {
		// With the server's logger: the cluster's log reaches the editor too.
		s.opts.Clusters = NewKubeconfig(s.log)
	}
	s.methods = newMethodTable()
	s.workspaces = newWorkspaces(s)
	s.clusterWatch = newClusterWatch(s, opts.ClusterWatchWindow)
	s.initImage = initimage.DefaultRef()
	return s
}

// Serve speaks JSON-RPC on in/out until exit, end of input, the editor's
// process dying, or ctx ending. It returns the process exit code LSP asks
// for: 0 after shutdown then exit, 1 otherwise.
func (s *Server) Serve(ctx context.Context, in io.Reader, out io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var closer io.Closer
	if c, ok := in.(io.Closer); ok {
		closer = c
	}
	st := newStream(in, out, closer, s.log)
	s.queue = newRequestQueue()
	s.notes = newNotifier(s.log)
	s.mu.Lock()
	s.serveCtx = ctx
	s.mu.Unlock()
	wg := &s.goroutines
	wg.Add(1)
	go func() { defer wg.Done(); s.queue.run(ctx, s) }()

	connLog := &connLogger{log: s.log}
	defer connLog.stop()
	conn := jsonrpc2.NewConn(ctx, st, handlerFunc(s.handle), jsonrpc2.SetLogger(connLog))
	s.notes.conn = conn
	wg.Add(1)
	go func() { defer wg.Done(); s.notes.run(ctx) }()

	wg.Add(1)
	go func() { defer wg.Done(); s.userLog.forward(ctx, conn) }()

	select {
	case <-conn.DisconnectNotify():
		s.log.Info("client disconnected")
		// Run what was read before the end (a shutdown and exit sent
		// just before closing), for a bounded time.
		s.queue.close()
		select {
		case <-s.queue.stopped:
		case <-time.After(drainTimeout):
		}
	case <-s.exited:
	case <-ctx.Done():
	}

	s.mu.Lock()
	code := 1
	select {
	case <-s.exited:
		code = s.exitCode
	default:
		if s.state == stateShutDown {
			// End of input after shutdown is a clean stop too.
			code = 0
		}
	}
	for _, c := range s.inflight.all() {
		c()
	}
	s.mu.Unlock()

	s.workspaces.closeAll()
	cancel()
	_ = conn.Close()
	wg.Wait()
	return code
}

// connLogger is jsonrpc2's logger. jsonrpc2's read loop outlives Serve by
// a moment (it notices the closed stream after Serve returned), so what it
// logs after Serve is dropped rather than written to a logger whose owner
// is gone.
type connLogger struct {
	log     *zap.Logger
	mu      sync.RWMutex
	stopped bool
}

func (l *connLogger) Printf(format string, args ...any) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if !l.stopped {
		l.log.Debug(strings.TrimSpace(fmt.Sprintf(format, args...)))
	}
}

func (l *connLogger) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
}

type handlerFunc func(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request)

func (f handlerFunc) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	f(ctx, conn, req)
}

// handle runs in jsonrpc2's read loop: it must not block. Cancellation is
// handled here at once; everything else is queued in order.
func (s *Server) handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	if m, ok := s.methods[req.Method]; ok && m.queue == immediate {
		if _, err := m.handle(s, ctx, conn, req.Params); err != nil {
			s.log.Debug("ignoring a malformed notification", zap.String("method", req.Method), zap.Error(err))
		}
		if req.Notif {
			return
		}
		// Sent as a request: it is answered, in the queue like the rest.
	}
	reqCtx, cancel := context.WithCancel(ctx)
	if !req.Notif {
		s.mu.Lock()
		handle := s.inflight.add(requestKey(req.ID), cancel)
		s.mu.Unlock()
		reqCtx = context.WithValue(reqCtx, inflightKey{}, handle)
	}
	s.queue.push(queuedRequest{ctx: reqCtx, cancel: cancel, conn: conn, req: req})
}

// dispatch runs one request or notification and answers it.
func (s *Server) dispatch(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	result, err := s.call(ctx, conn, req)
	if req.Notif {
		if err != nil {
			s.log.Warn("notification failed", zap.String("method", req.Method), zap.Error(err))
		}
		return
	}
	if handle, ok := ctx.Value(inflightKey{}).(uint64); ok {
		s.mu.Lock()
		s.inflight.remove(requestKey(req.ID), handle)
		s.mu.Unlock()
	}
	// The notifications the request caused go out before its answer.
	s.notes.flush()

	if err == nil && ctx.Err() != nil {
		// The work finished but the client cancelled it: LSP lets us
		// send either; the result is more useful than an error.
		err = nil
	}
	if err != nil {
		rpcErr := toRPCError(err)
		s.log.Debug("request failed", zap.String("method", req.Method), zap.Int64("code", rpcErr.Code), zap.String("message", rpcErr.Message))
		if sendErr := conn.ReplyWithError(context.Background(), req.ID, rpcErr); sendErr != nil && !errors.Is(sendErr, jsonrpc2.ErrClosed) {
			s.log.Warn("cannot send reply", zap.Error(sendErr))
		}
		return
	}
	if sendErr := conn.Reply(context.Background(), req.ID, result); sendErr != nil && !errors.Is(sendErr, jsonrpc2.ErrClosed) {
		s.log.Warn("cannot send reply", zap.Error(sendErr))
	}
}

// call finds the method in the table, checks the lifecycle state and
// runs it.
func (s *Server) call(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	s.mu.Lock()
	st := s.state
	debug := s.debug
	s.mu.Unlock()

	m, known := s.methods[req.Method]
	if !known || !m.anyState {
		if st == stateCreated {
			if req.Notif {
				s.log.Debug("dropping notification before initialize", zap.String("method", req.Method))
				return nil, nil
			}
			return nil, notInitialized()
		}
		if st == stateShutDown {
			return nil, shuttingDown()
		}
	}
	if !known || (m.debugOnly && !debug) {
		if req.Notif {
			// LSP: unknown notifications are ignored ($/ ones explicitly).
			s.log.Debug("ignoring unknown notification", zap.String("method", req.Method))
			return nil, nil
		}
		return nil, methodNotFound(req.Method)
	}
	if m.queue == immediate {
		// Sent as a request: handle ran it already; this is the answer.
		return nil, nil
	}
	if m.queue == concurrent {
		release(ctx)
	}
	return m.handle(s, ctx, conn, req.Params)
}

func (s *Server) initialized(none) {
	s.mu.Lock()
	if s.state == stateInitializing {
		s.state = stateInitialized
	}
	s.mu.Unlock()
}

func (s *Server) shutdown(context.Context, *jsonrpc2.Conn, none) (any, error) {
	s.mu.Lock()
	s.state = stateShutDown
	s.mu.Unlock()
	s.workspaces.closeAll()
	return nil, nil
}

func (s *Server) didChangeWatchedFiles(p protocol.DidChangeWatchedFilesParams) {
	s.workspaces.hint(p.Changes)
}

func (s *Server) openWorkspace(ctx context.Context, conn *jsonrpc2.Conn, p protocol.WorkspaceOpenParams) (any, error) {
	res, err := s.workspaces.open(ctx, conn, p)
	if err != nil {
		return nil, err
	}
	if sess, serr := s.sessionFor(res.WorkspaceID); serr == nil {
		s.resumeWatch(ctx, conn, sess)
	}
	return res, nil
}

func (s *Server) closeWorkspace(_ context.Context, _ *jsonrpc2.Conn, p protocol.WorkspaceCloseParams) (any, error) {
	return nil, s.workspaces.close(p.WorkspaceID)
}

func (s *Server) exit() {
	s.mu.Lock()
	code := 1
	if s.state == stateShutDown {
		code = 0
	}
	s.mu.Unlock()
	s.stop(code)
}

// stop makes Serve return with code; the first caller wins.
func (s *Server) stop(code int) {
	s.exitOnce.Do(func() {
		s.mu.Lock()
		s.exitCode = code
		s.mu.Unlock()
		close(s.exited)
	})
}

func (s *Server) status(context.Context, *jsonrpc2.Conn, protocol.StatusParams) (any, error) {
	return protocol.StatusResult{Version: s.opts.Version, Workspaces: s.workspaces.list(), Goroutines: runtime.NumGoroutine()}, nil
}

// cancelRequest is $/cancelRequest: it ends the request's context.
func (s *Server) cancelRequest(p protocol.CancelParams) {
	if len(p.ID) == 0 {
		return
	}
	s.mu.Lock()
	cancels := s.inflight.get(idKey(p.ID))
	s.mu.Unlock()
	for _, cancel := range cancels {
		cancel()
	}
}

// cancelProgress is window/workDoneProgress/cancel: it ends the context
// of the work reporting on the token.
func (s *Server) cancelProgress(p protocol.WorkDoneProgressCancelParams) {
	s.mu.Lock()
	cancels := s.progress.get(string(p.Token))
	s.mu.Unlock()
	for _, cancel := range cancels {
		cancel()
	}
}

// requestKey and idKey give the same key for the same id, whether read
// from a request or from $/cancelRequest's params.
func requestKey(id jsonrpc2.ID) string {
	b, _ := json.Marshal(id)
	return string(b)
}

func idKey(raw json.RawMessage) string {
	var id jsonrpc2.ID
	if err := json.Unmarshal(raw, &id); err != nil {
		return string(raw)
	}
	return requestKey(id)
}

// goOwned runs f in a goroutine Serve waits for; f must return when its
// context ends.
func (s *Server) goOwned(f func(ctx context.Context)) {
	s.mu.Lock()
	ctx := s.serveCtx
	s.mu.Unlock()
	s.goroutines.Add(1)
	go func() { defer s.goroutines.Done(); f(ctx) }()
}

// watchParent exits the server when the editor's process is gone: the
// editor can no longer stop odod, so odod stops itself.
func (s *Server) watchParent(ctx context.Context, pid int) {
	t := time.NewTicker(s.opts.ParentPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.exited:
			return
		case <-t.C:
			if !s.opts.ProcessAlive(pid) {
				s.log.Warn("the editor's process is gone; exiting", zap.Int("processId", pid))
				s.stop(1)
				return
			}
		}
	}
}
