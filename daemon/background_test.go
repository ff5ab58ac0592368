package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/odod-dev/odod/protocol"
)

// componentFolder is a folder with a component whose name cannot be
// pushed: a push fails inside the daemon, before any cluster is needed,
// with the engine's coded error.
func componentFolder(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	if err := os.MkdirAll(filepath.Join(ws, ".odo"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "kind: LocalConfig\napiversion: odo.openshift.io/v1alpha1\nComponentSettings:\n  Type: nodejs\n  Name: Not_A-Valid-Name\n  Application: app\n  Project: p\n  Ports:\n  - \"8080\"\n"
	if err := os.WriteFile(filepath.Join(ws, ".odo", "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "a.js"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	return ws
}

// background is a RunBackground in a goroutine, with what it logged.
type background struct {
	socket string
	logs   *observer.ObservedLogs
	done   chan error
}

func startBackground(t *testing.T, o BackgroundOptions) *background {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	o.Server.Logger = zap.New(core)
	if o.CheckEvery == 0 {
		o.CheckEvery = 20 * time.Millisecond
	}
	ready := make(chan string, 1)
	o.Ready = func(socket string) { ready <- socket }
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{logs: logs, done: make(chan error, 1)}
	go func() { b.done <- RunBackground(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			t.Error("the background daemon did not end within 10 s of its context")
		}
	})
	select {
	case b.socket = <-ready:
	case err := <-b.done:
		t.Fatalf("the background daemon ended before it was ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the background daemon was not ready within 10 s")
	}
	return b
}

// ended waits for the daemon to end by itself and returns the reason it
// logged.
func (b *background) ended(t *testing.T, within time.Duration) string {
	t.Helper()
	select {
	case err := <-b.done:
		b.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("the background daemon ended with %v", err)
		}
	case <-time.After(within):
		t.Fatalf("the background daemon did not end within %s", within)
	}
	for _, e := range b.logs.FilterMessage("background daemon ending").All() {
		return e.ContextMap()["reason"].(string)
	}
	t.Fatal("the background daemon logged no reason for ending")
	return ""
}

// A background daemon takes the folder's pushes from terminals of its tag
// only, and ends after the idle time counted from the last push; it
// leaves no socket behind.
func TestBackgroundDaemonServesUntilIdle(t *testing.T) {
	sockets := shortTempDir(t)
	ws := componentFolder(t)
	const idle = 700 * time.Millisecond
	b := startBackground(t, BackgroundOptions{Root: ws, SocketDir: sockets, Tag: "bg-test", Idle: idle})
	if filepath.Dir(b.socket) != sockets || !strings.HasSuffix(b.socket, "-bg-test.sock") {
		t.Fatalf("socket %s, want a bg-test socket in %s", b.socket, sockets)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := PushThroughDaemon(ctx, sockets, ws, TerminalPush{}); !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("an editor's socket: %v, want ErrNoDaemon (a background daemon is not an editor's)", err)
	}
	if _, err := PushThroughBackground(ctx, sockets, ws, "bg-other", TerminalPush{}); !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("another tag: %v, want ErrNoDaemon", err)
	}
	// Pushes keep it alive past its idle time.
	start := time.Now()
	var lastPush time.Time
	for time.Since(start) < 2*idle {
		_, err := PushThroughBackground(ctx, sockets, filepath.Join(ws, "."), "bg-test", TerminalPush{})
		var rpcErr *jsonrpc2.Error
		if !errors.As(err, &rpcErr) || rpcErr.Code != protocol.CodeInvalidConfig {
			t.Fatalf("push through the background daemon: %v, want the engine's invalid-config error", err)
		}
		lastPush = time.Now()
		time.Sleep(idle / 4)
	}
	reason := b.ended(t, 10*time.Second)
	if !strings.HasPrefix(reason, "no push for") {
		t.Fatalf("ended because %q, want idle", reason)
	}
	if since := time.Since(lastPush); since < idle {
		t.Fatalf("ended %s after the last push, before its idle time %s", since, idle)
	}
	if left, _ := filepath.Glob(filepath.Join(sockets, "*.sock")); len(left) != 0 {
		t.Fatalf("sockets left: %v", left)
	}
}

// Each way a background daemon is told to go, it goes.
func TestBackgroundDaemonEnds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string
		do     func(t *testing.T, ws, sockets, socket string, tag *atomic.Value)
	}{
		{"stopped", "its socket was removed", func(t *testing.T, ws, sockets, socket string, _ *atomic.Value) {
			list, err := BackgroundSockets(sockets, ws)
			if err != nil || len(list) != 1 || list[0] != socket {
				t.Fatalf("BackgroundSockets: %v, %v; want [%s]", list, err, socket)
			}
			if all, _ := BackgroundSockets(sockets, ""); len(all) != 1 {
				t.Fatalf("BackgroundSockets of every folder: %v", all)
			}
			if err := os.Remove(socket); err != nil {
				t.Fatal(err)
			}
		}},
		{"editor", "an editor's odod serve has the folder open", func(t *testing.T, ws, sockets, _ string, _ *atomic.Value) {
			c := startServer(t, Options{SocketDir: sockets})
			c.initialize(nil, false)
			if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(ws)}, nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"new odod", "odod or the kubeconfig changed since it started", func(_ *testing.T, _, _, _ string, tag *atomic.Value) {
			tag.Store("bg-newer")
		}},
		{"folder removed", "the folder is gone", func(t *testing.T, ws, _, _ string, _ *atomic.Value) {
			if err := os.RemoveAll(ws); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sockets := shortTempDir(t)
			ws := componentFolder(t)
			var tag atomic.Value
			tag.Store("bg-test")
			b := startBackground(t, BackgroundOptions{
				Root: ws, SocketDir: sockets, Tag: "bg-test", Idle: time.Hour,
				CurrentTag: func() string { return tag.Load().(string) },
			})
			// It serves until told.
			time.Sleep(100 * time.Millisecond)
			select {
			case err := <-b.done:
				t.Fatalf("ended before it was told: %v", err)
			default:
			}
			tc.do(t, ws, sockets, b.socket, &tag)
			if reason := b.ended(t, 10*time.Second); reason != tc.reason {
				t.Fatalf("ended because %q, want %q", reason, tc.reason)
			}
		})
	}
}

// Two terminals that start a background daemon for the same folder at once
// get one: the second leaves the folder to the first.
func TestSecondBackgroundDaemonLeavesTheFolderToTheFirst(t *testing.T) {
	sockets := shortTempDir(t)
	ws := componentFolder(t)
	first := startBackground(t, BackgroundOptions{Root: ws, SocketDir: sockets, Tag: "bg-test", Idle: time.Hour})
	second := startBackground(t, BackgroundOptions{Root: ws, SocketDir: sockets, Tag: "bg-test", Idle: time.Hour})
	if second.socket != first.socket {
		t.Fatalf("second daemon's socket %s, want the first's %s", second.socket, first.socket)
	}
	select {
	case err := <-second.done:
		second.done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("the second daemon did not leave")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := PushThroughBackground(ctx, sockets, ws, "bg-test", TerminalPush{})
	var rpcErr *jsonrpc2.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != protocol.CodeInvalidConfig {
		t.Fatalf("push after the second left: %v, want the first daemon's answer", err)
	}
}

// The tag changes with what chooses the cluster, and only then.
func TestBackgroundTagFollowsTheKubeconfig(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)
	first := BackgroundTag()
	if again := BackgroundTag(); again != first || !strings.HasPrefix(first, "bg-") {
		t.Fatalf("tags %q then %q, want one bg- tag", first, again)
	}
	// An oc login rewrites the file.
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\ncurrent-context: other\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if BackgroundTag() == first {
		t.Fatal("the tag did not change with the kubeconfig file")
	}
	second := BackgroundTag()
	t.Setenv("ODOD_INIT_IMAGE", "example.com/odod-init:other")
	if BackgroundTag() == second {
		t.Fatal("the tag did not change with the init image")
	}
}

func TestBackgroundIdle(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want time.Duration
		bad  bool
	}{
		{"", DefaultBackgroundIdle, false},
		{"0", 0, false},
		{"off", 0, false},
		{"5m", 5 * time.Minute, false},
		{"soon", 0, true},
		{"-1m", 0, true},
	} {
		t.Setenv(BackgroundIdleEnv, tc.env)
		got, err := BackgroundIdle()
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("%s=%q: %v, %v; want %v (error: %v)", BackgroundIdleEnv, tc.env, got, err, tc.want, tc.bad)
		}
		if err != nil && !strings.Contains(err.Error(), BackgroundIdleEnv) {
			t.Errorf("the error does not name %s: %v", BackgroundIdleEnv, err)
		}
	}
}

// A relative KUBECONFIG names the file from the terminal's directory: the
// daemon, which runs elsewhere, gets it absolute, and the same tag.
func TestBackgroundEnvMakesTheKubeconfigAbsolute(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kc"), []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("KUBECONFIG", "kc"+string(filepath.ListSeparator)+"missing")
	relative := BackgroundTag()
	var got string
	for _, kv := range BackgroundEnv() {
		if v, ok := strings.CutPrefix(kv, "KUBECONFIG="); ok {
			got = v
		}
	}
	want := filepath.Join(dir, "kc") + string(filepath.ListSeparator) + filepath.Join(dir, "missing")
	if got != want {
		t.Fatalf("KUBECONFIG for the daemon = %q, want %q", got, want)
	}
	t.Setenv("KUBECONFIG", want)
	t.Chdir(t.TempDir())
	if BackgroundTag() != relative {
		t.Fatal("the daemon's tag, with the absolute KUBECONFIG in another directory, differs from the terminal's")
	}
}
