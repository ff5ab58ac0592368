package daemon

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap/zaptest"

	"github.com/odod-dev/odod/protocol"
)

// A terminal's push in a folder an odod serve has open goes to that daemon
// through the workspace socket, and comes back with the engine's error,
// code and suggestion; once the folder is closed there is no daemon to
// hand to, and the socket file is gone.
func TestTerminalPushHandsOffToTheDaemon(t *testing.T) {
	sockets := shortTempDir(t)
	c := startServer(t, Options{SocketDir: sockets})
	c.initialize(nil, false)
	ws := componentFolder(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := PushThroughDaemon(ctx, sockets, ws, TerminalPush{}); !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("before the folder is open: %v, want ErrNoDaemon", err)
	}
	var opened protocol.WorkspaceOpenResult
	if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(ws)}, &opened); err != nil {
		t.Fatal(err)
	}
	// The folder spelled another way is the same workspace.
	_, err := PushThroughDaemon(ctx, sockets, filepath.Join(ws, ".odo", ".."), TerminalPush{})
	var rpcErr *jsonrpc2.Error
	if !errors.As(err, &rpcErr) {
		t.Fatalf("push through the daemon: %v, want the daemon's error", err)
	}
	if rpcErr.Code != protocol.CodeInvalidConfig || !strings.Contains(rpcErr.Message, "Not_A-Valid-Name") || rpcErr.Data == nil {
		t.Fatalf("push through the daemon: code %d, %q, data %v", rpcErr.Code, rpcErr.Message, rpcErr.Data)
	}
	if d := errorData(t, err); len(d.Suggestions) == 0 {
		t.Fatalf("the daemon's error has no suggestion: %+v", d)
	}

	if err := c.call(protocol.MethodWorkspaceClose, protocol.WorkspaceCloseParams{WorkspaceID: opened.WorkspaceID}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := PushThroughDaemon(ctx, sockets, ws, TerminalPush{}); !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("after the folder is closed: %v, want ErrNoDaemon", err)
	}
	if left, _ := os.ReadDir(sockets); len(left) != 0 {
		t.Fatalf("sockets left after close: %v", left)
	}
}

// The socket answers odod/push only, and refuses another workspace's id.
func TestWorkspaceSocketAnswersPushOnly(t *testing.T) {
	sockets := shortTempDir(t)
	c := startServer(t, Options{SocketDir: sockets})
	c.initialize(nil, false)
	ws := t.TempDir()
	var opened protocol.WorkspaceOpenResult
	if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(ws)}, &opened); err != nil {
		t.Fatal(err)
	}
	root, err := CanonicalRoot(ws)
	if err != nil {
		t.Fatal(err)
	}
	conn := dialSocket(t, socketPath(sockets, root, ""))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got := rpcCode(t, conn.Call(ctx, protocol.MethodStatus, nil, nil)); got != protocol.CodeMethodNotFound {
		t.Errorf("odod/status on the socket: code %d, want %d", got, protocol.CodeMethodNotFound)
	}
	err = conn.Call(ctx, protocol.MethodPush, protocol.PushParams{WorkspaceID: "ws-000000000000"}, nil)
	if got := rpcCode(t, err); got != protocol.CodeInvalidParams {
		t.Errorf("odod/push with another workspace's id: code %d, want %d", got, protocol.CodeInvalidParams)
	}
}

// A second daemon with the same folder open leaves the socket to the
// first; a socket left by a killed daemon is taken over.
func TestWorkspaceSocketOwnership(t *testing.T) {
	sockets := shortTempDir(t)
	ws := t.TempDir()
	root, err := CanonicalRoot(ws)
	if err != nil {
		t.Fatal(err)
	}
	log := zaptest.NewLogger(t)
	serve := func(context.Context, *jsonrpc2.Conn, *jsonrpc2.Request) {}
	first, err := listenWorkspace(sockets, root, "", log, serve)
	if err != nil || first == nil {
		t.Fatalf("first daemon: %v, %v", first, err)
	}
	second, err := listenWorkspace(sockets, root, "", log, serve)
	if err != nil || second != nil {
		t.Fatalf("second daemon: %v, %v; want it to leave the socket to the first", second, err)
	}
	first.Close()
	// A stale socket file (its daemon killed): the next daemon takes over.
	if err := os.WriteFile(socketPath(sockets, root, ""), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	third, err := listenWorkspace(sockets, root, "", log, serve)
	if err != nil || third == nil {
		t.Fatalf("over a stale socket: %v, %v", third, err)
	}
	third.Close()
	if info, err := os.Stat(sockets); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory: %v, %v; want 0700", info, err)
	}
}

// shortTempDir is a temporary directory with a short path: a Unix socket's
// path has a limit of about 100 bytes, which a test's TempDir can pass on
// macOS.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "odod-s")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func dialSocket(t *testing.T, path string) *jsonrpc2.Conn {
	t.Helper()
	nc, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn := jsonrpc2.NewConn(context.Background(), jsonrpc2.NewBufferedStream(nc, jsonrpc2.VSCodeObjectCodec{}),
		handlerFunc(func(context.Context, *jsonrpc2.Conn, *jsonrpc2.Request) {}))
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}
