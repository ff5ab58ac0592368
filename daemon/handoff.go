package daemon

// The workspace socket. A terminal's `odod push`, run in a folder that an
// odod serve has open, hands its push to that daemon instead of pushing
// from a process of its own: the daemon already holds the watched index (no
// index file to read, no walk of the tree to find what changed), its
// connections to the cluster and the agent's stream are open, and it knows
// the objects it last applied. It also keeps one engine, not two, pushing
// into the container and writing the workspace's index.
//
// While a workspace is open, its daemon listens on a Unix socket named for
// the workspace id (the same id for the same folder, however spelled) in a
// directory only the user can enter. The socket speaks JSON-RPC 2.0 with
// LSP framing, and answers one method, odod/push (PushParams; the
// workspaceId may be left out), sending the push's odod/push/progress and
// odod/log notifications to the caller before its result.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/protocol"
)

// SocketDirEnv overrides the directory of the workspace sockets.
const SocketDirEnv = "ODOD_SOCKET_DIR"

// DefaultSocketDir is where daemons put their workspace sockets:
// $ODOD_SOCKET_DIR, else odod/sockets in the user's cache directory.
func DefaultSocketDir() string {
	if dir := os.Getenv(SocketDirEnv); dir != "" {
		return dir
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(cache, "odod", "sockets")
}

// socketPath is the socket of the workspace at root (canonical): the
// editor's odod serve's when tag is "", else a background daemon's
// (background.go) of that tag.
func socketPath(dir, root, tag string) string {
	name := workspaceID(root)
	if tag != "" {
		name += "-" + tag
	}
	return filepath.Join(dir, name+".sock")
}

// ErrNoDaemon says that no daemon has the workspace open.
var ErrNoDaemon = errors.New("no odod daemon has this workspace open")

// dialTimeout bounds connecting to a workspace socket: a daemon that has
// the workspace open accepts at once.
const dialTimeout = time.Second

// TerminalPush is a push handed to the daemon that has the workspace open.
type TerminalPush struct {
	Force, DryRun bool
	// Progress and Log receive the push's notifications, in order, from
	// the connection's reader (they must not block for long).
	Progress func(protocol.PushProgressParams)
	Log      func(protocol.LogParams)
}

// PushThroughDaemon hands a push of the workspace in dir to the odod serve
// that has it open, through the workspace socket in socketDir. It returns
// ErrNoDaemon (wrapped) when there is none, so the caller pushes itself;
// a push the daemon refused or that failed is a *jsonrpc2.Error with the
// daemon's code, message and suggestions.
func PushThroughDaemon(ctx context.Context, socketDir, dir string, o TerminalPush) (protocol.PushResult, error) {
	return pushThrough(ctx, socketDir, dir, "", o)
}

// PushThroughBackground is PushThroughDaemon to the background daemon of
// tag (BackgroundTag) that serves the workspace in dir.
func PushThroughBackground(ctx context.Context, socketDir, dir, tag string, o TerminalPush) (protocol.PushResult, error) {
	if tag == "" {
		return protocol.PushResult{}, fmt.Errorf("%w: no background daemon tag", ErrNoDaemon)
	}
	return pushThrough(ctx, socketDir, dir, tag, o)
}

func pushThrough(ctx context.Context, socketDir, dir, tag string, o TerminalPush) (protocol.PushResult, error) {
	var res protocol.PushResult
	if socketDir == "" {
		return res, ErrNoDaemon
	}
	root, err := CanonicalRoot(dir)
	if err != nil {
		return res, fmt.Errorf("%w: %v", ErrNoDaemon, err)
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	nc, err := (&net.Dialer{}).DialContext(dctx, "unix", socketPath(socketDir, root, tag))
	if err != nil {
		// No socket, or a stale one: no daemon has the workspace open.
		return res, fmt.Errorf("%w: %v", ErrNoDaemon, err)
	}
	notes := func(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) {
		if !req.Notif || req.Params == nil {
			return
		}
		switch req.Method {
		case protocol.MethodPushProgress:
			var p protocol.PushProgressParams
			if o.Progress != nil && json.Unmarshal(*req.Params, &p) == nil {
				o.Progress(p)
			}
		case protocol.MethodLog:
			var p protocol.LogParams
			if o.Log != nil && json.Unmarshal(*req.Params, &p) == nil {
				o.Log(p)
			}
		}
	}
	// The handler runs in the connection's read loop, so notifications
	// arrive in order and before the result.
	conn := jsonrpc2.NewConn(ctx, jsonrpc2.NewBufferedStream(nc, jsonrpc2.VSCodeObjectCodec{}), handlerFunc(notes))
	defer conn.Close()
	err = conn.Call(ctx, protocol.MethodPush, protocol.PushParams{Force: o.Force, DryRun: o.DryRun}, &res)
	if err != nil && ctx.Err() == nil && errors.Is(err, jsonrpc2.ErrClosed) {
		err = fmt.Errorf("the odod daemon that has this workspace open went away during the push: %w (push again; --no-daemon pushes from this process)", err)
	}
	return res, err
}

// workspaceSocket is one open workspace's socket: a listener and the
// connections it accepted, each served by its own goroutine. Close stops
// them all and waits.
type workspaceSocket struct {
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// listenWorkspace starts the socket of the workspace at root (of tag, see
// socketPath), its requests served by handle. It returns nil (and no
// error) when another daemon already serves that workspace: the
// terminal's pushes go to the first.
func listenWorkspace(dir, root, tag string, log *zap.Logger, handle handlerFunc) (*workspaceSocket, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("workspace socket directory: %w", err)
	}
	// Only the user may connect: whoever reaches the socket pushes as the
	// daemon's user.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("workspace socket directory: %w", err)
	}
	path := socketPath(dir, root, tag)
	ln, err := net.Listen("unix", path)
	// The path is taken (EADDRINUSE; Windows has its own error number for
	// it): by a live daemon, or by one that was killed.
	if _, serr := os.Lstat(path); err != nil && serr == nil {
		if c, derr := net.DialTimeout("unix", path, dialTimeout); derr == nil {
			_ = c.Close()
			log.Debug("another odod serve has this workspace open; it takes the terminal's pushes", zap.String("socket", path))
			return nil, nil
		}
		// Left by a daemon that was killed.
		_ = os.Remove(path)
		ln, err = net.Listen("unix", path)
	}
	if err != nil {
		return nil, fmt.Errorf("workspace socket %s: %w", path, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ws := &workspaceSocket{ln: ln, cancel: cancel}
	ws.wg.Add(1)
	go func() {
		defer ws.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			ws.wg.Add(1)
			go func() {
				defer ws.wg.Done()
				ws.serveConn(ctx, nc, handle)
			}()
		}
	}()
	return ws, nil
}

// serveConn serves one connection until the peer hangs up or the socket
// closes; each request runs in a goroutine of its own (a push must not
// block the reader, which notices the peer hanging up), all waited for.
func (ws *workspaceSocket) serveConn(ctx context.Context, nc net.Conn, handle handlerFunc) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var requests sync.WaitGroup
	conn := jsonrpc2.NewConn(ctx, jsonrpc2.NewBufferedStream(nc, jsonrpc2.VSCodeObjectCodec{}),
		handlerFunc(func(_ context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
			requests.Add(1)
			go func() {
				defer requests.Done()
				handle(ctx, conn, req)
			}()
		}))
	select {
	case <-conn.DisconnectNotify():
	case <-ctx.Done():
		_ = conn.Close()
		<-conn.DisconnectNotify()
	}
	// The reader has stopped, so no request starts any more; a push whose
	// terminal hung up is cancelled.
	stop()
	requests.Wait()
	_ = conn.Close()
}

// Close stops accepting, ends the connections and removes the socket.
func (ws *workspaceSocket) Close() {
	if ws == nil {
		return
	}
	ws.cancel()
	_ = ws.ln.Close()
	ws.wg.Wait()
}

// terminalPushHandler serves the requests on one workspace's socket.
type terminalPushHandler struct {
	s    *Server
	sess *session
}

func (h terminalPushHandler) handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	if req.Notif {
		return
	}
	var (
		res any
		err error
	)
	if req.Method != protocol.MethodPush {
		err = Errorf(protocol.CodeMethodNotFound, "use-odod-serve",
			"The workspace socket answers odod/push only; editors speak the whole protocol on odod serve's stdin and stdout.",
			"method not found on the workspace socket: %q", req.Method)
	} else {
		var p protocol.PushParams
		if req.Params != nil {
			if perr := decodeParams(req.Params, &p); perr != nil {
				err = perr
			}
		}
		if err == nil && p.WorkspaceID != "" && p.WorkspaceID != h.sess.id {
			err = invalidParams("workspaceId", fmt.Sprintf("this socket is workspace %s's", h.sess.id), "Leave workspaceId out on the workspace socket.")
		}
		if err == nil {
			res, err = h.push(ctx, conn, p)
		}
	}
	if err != nil {
		var rpcErr *jsonrpc2.Error
		if !errors.As(err, &rpcErr) {
			rpcErr = engineError(err)
		}
		_ = conn.ReplyWithError(ctx, req.ID, rpcErr)
		return
	}
	_ = conn.Reply(ctx, req.ID, res)
}

// push runs the push in the daemon's component, as odod/push does, and
// sends this push's progress and build output to the terminal too.
func (h terminalPushHandler) push(ctx context.Context, conn *jsonrpc2.Conn, p protocol.PushParams) (protocol.PushResult, error) {
	_, comp, err := h.s.componentFor(h.sess.id)
	if err != nil {
		return protocol.PushResult{}, err
	}
	if busy := h.s.opts.TerminalPushes; busy != nil {
		busy(1)
		defer busy(-1)
	}
	notes := newNotifier(h.s.log)
	notes.conn = conn
	nctx, stopNotes := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); notes.run(nctx) }()
	defer func() { stopNotes(); <-done }()

	var (
		mu     sync.Mutex
		pushID string
	)
	untap := h.sess.tapLogs(func(lp protocol.LogParams) {
		mu.Lock()
		mine := pushID != "" && lp.PushID == pushID
		mu.Unlock()
		if mine {
			notes.send(protocol.MethodLog, lp)
		}
	})
	defer untap()
	reportProgress := pushProgressGate()
	res, err := comp.Push(ctx, component.PushOptions{
		Force: p.Force, DryRun: p.DryRun,
		OnPushID: func(id string) { mu.Lock(); pushID = id; mu.Unlock() },
		Progress: func(pp protocol.PushProgressParams) {
			if reportProgress(pp) {
				notes.send(protocol.MethodPushProgress, pp)
			}
		},
	})
	// The terminal sees the push's notifications before its result.
	notes.flush()
	return res, err
}
