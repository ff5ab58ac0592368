package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/odod-dev/odod/protocol"
)

// client is an editor-side test peer on a pipe to a Server.
type client struct {
	t    *testing.T
	conn *jsonrpc2.Conn
	done chan int // receives Serve's exit code

	mu            sync.Mutex
	notifications []*jsonrpc2.Request
	created       []string // tokens the server asked us to create
	notified      chan struct{}
}

func startServer(t *testing.T, opts Options) *client {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = zaptest.NewLogger(t)
	}
	opts.Version = "test"
	srvIn, cliOut := io.Pipe()
	cliIn, srvOut := io.Pipe()
	c := &client{t: t, done: make(chan int, 1), notified: make(chan struct{}, 1000)}
	srv := New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		code := srv.Serve(ctx, srvIn, srvOut)
		_ = srvOut.Close()
		c.done <- code
	}()
	c.conn = jsonrpc2.NewConn(ctx, jsonrpc2.NewBufferedStream(pipeConn{cliIn, cliOut}, jsonrpc2.VSCodeObjectCodec{}), handlerFunc(c.handle))
	t.Cleanup(func() {
		_ = c.conn.Close()
		cancel()
		_ = srvIn.Close()
		<-stopped
	})
	return c
}

func (c *client) handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	if req.Method == protocol.MethodWorkDoneProgressCreate {
		var p protocol.WorkDoneProgressCreateParams
		_ = json.Unmarshal(*req.Params, &p)
		c.mu.Lock()
		c.created = append(c.created, string(p.Token))
		c.mu.Unlock()
		_ = conn.Reply(ctx, req.ID, nil)
		return
	}
	c.mu.Lock()
	c.notifications = append(c.notifications, req)
	c.mu.Unlock()
	c.notified <- struct{}{}
}

func (c *client) call(method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.conn.Call(ctx, method, params, result)
}

func (c *client) initialize(opts *protocol.InitializationOptions, progress bool) protocol.InitializeResult {
	c.t.Helper()
	var res protocol.InitializeResult
	p := protocol.InitializeParams{InitializationOptions: opts, ClientInfo: &protocol.ClientInfo{Name: "test"}}
	if progress {
		p.Capabilities.Window = &protocol.WindowClientCapabilities{WorkDoneProgress: true}
	}
	if err := c.call(protocol.MethodInitialize, p, &res); err != nil {
		c.t.Fatalf("initialize: %v", err)
	}
	if err := c.conn.Notify(context.Background(), protocol.MethodInitialized, struct{}{}); err != nil {
		c.t.Fatal(err)
	}
	return res
}

// waitNotification waits for a notification of method matching pred.
func (c *client) waitNotification(method string, pred func(raw json.RawMessage) bool) json.RawMessage {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	seen := 0
	for {
		c.mu.Lock()
		for ; seen < len(c.notifications); seen++ {
			n := c.notifications[seen]
			if n.Method == method && n.Params != nil && (pred == nil || pred(*n.Params)) {
				c.mu.Unlock()
				return *n.Params
			}
		}
		c.mu.Unlock()
		select {
		case <-c.notified:
		case <-deadline:
			c.t.Fatalf("no %s notification arrived", method)
		}
	}
}

func (c *client) exitCode() int {
	c.t.Helper()
	select {
	case code := <-c.done:
		return code
	case <-time.After(10 * time.Second):
		c.t.Fatal("server did not stop")
		return -1
	}
}

func rpcCode(t *testing.T, err error) int64 {
	t.Helper()
	var e *jsonrpc2.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a *jsonrpc2.Error, got %v", err)
	}
	return e.Code
}

func errorData(t *testing.T, err error) protocol.ErrorData {
	t.Helper()
	var e *jsonrpc2.Error
	if !errors.As(err, &e) || e.Data == nil {
		t.Fatalf("want an error with data, got %v", err)
	}
	var d protocol.ErrorData
	if uerr := json.Unmarshal(*e.Data, &d); uerr != nil {
		t.Fatal(uerr)
	}
	return d
}

func fileURI(path string) string { return hostPaths.uriFromPath(path) }

func TestLifecycleShutdownExit(t *testing.T) {
	c := startServer(t, Options{})
	err := c.call(protocol.MethodStatus, nil, nil)
	if got := rpcCode(t, err); got != protocol.CodeServerNotInitialized {
		t.Fatalf("before initialize: code %d, want -32002", got)
	}
	res := c.initialize(nil, false)
	if res.ServerInfo.Name != "odod" || res.ServerInfo.Version != "test" {
		t.Fatalf("serverInfo = %+v", res.ServerInfo)
	}
	if res.Capabilities.Experimental.ProtocolVersion != protocol.ProtocolVersion || len(res.Capabilities.Experimental.Methods) == 0 {
		t.Fatalf("experimental capabilities = %+v", res.Capabilities.Experimental)
	}
	for _, m := range res.Capabilities.Experimental.Methods {
		if m == protocol.MethodDebugSleep {
			t.Fatal("debug methods advertised")
		}
	}
	err = c.call(protocol.MethodInitialize, protocol.InitializeParams{}, nil)
	if got := rpcCode(t, err); got != protocol.CodeInvalidRequest {
		t.Fatalf("second initialize: code %d, want -32600", got)
	}
	var status protocol.StatusResult
	if err := c.call(protocol.MethodStatus, nil, &status); err != nil || status.Version != "test" || status.Goroutines == 0 {
		t.Fatalf("status = %+v, %v", status, err)
	}
	if err := c.call(protocol.MethodShutdown, nil, nil); err != nil {
		t.Fatal(err)
	}
	err = c.call(protocol.MethodStatus, nil, nil)
	if got := rpcCode(t, err); got != protocol.CodeInvalidRequest {
		t.Fatalf("after shutdown: code %d, want -32600", got)
	}
	_ = c.conn.Notify(context.Background(), protocol.MethodExit, nil)
	if code := c.exitCode(); code != 0 {
		t.Fatalf("exit after shutdown: code %d, want 0", code)
	}
}

func TestExitWithoutShutdownIsOne(t *testing.T) {
	c := startServer(t, Options{})
	c.initialize(nil, false)
	_ = c.conn.Notify(context.Background(), protocol.MethodExit, nil)
	if code := c.exitCode(); code != 1 {
		t.Fatalf("exit without shutdown: code %d, want 1", code)
	}
}

func TestEndOfInputWithoutShutdownIsOne(t *testing.T) {
	c := startServer(t, Options{})
	c.initialize(nil, false)
	_ = c.conn.Close()
	if code := c.exitCode(); code != 1 {
		t.Fatalf("EOF without shutdown: code %d, want 1", code)
	}
}

func TestParentProcessDeathStopsServer(t *testing.T) {
	var mu sync.Mutex
	alive := true
	c := startServer(t, Options{
		ParentPollInterval: 10 * time.Millisecond,
		ProcessAlive: func(pid int) bool {
			mu.Lock()
			defer mu.Unlock()
			return alive
		},
	})
	pid := 4242
	var res protocol.InitializeResult
	if err := c.call(protocol.MethodInitialize, protocol.InitializeParams{ProcessID: &pid}, &res); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-c.done:
		t.Fatalf("server stopped (code %d) while the editor lives", code)
	case <-time.After(50 * time.Millisecond):
	}
	mu.Lock()
	alive = false
	mu.Unlock()
	if code := c.exitCode(); code != 1 {
		t.Fatalf("parent died: code %d, want 1", code)
	}
}

func TestCancelSlowRequestWhileOthersAreServed(t *testing.T) {
	c := startServer(t, Options{})
	c.initialize(&protocol.InitializationOptions{DebugMethods: true}, false)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleep, err := c.conn.DispatchCall(ctx, protocol.MethodDebugSleep, protocol.DebugSleepParams{DurationMs: 60000})
	if err != nil {
		t.Fatal(err)
	}
	// The slow request must not block others.
	var status protocol.StatusResult
	if err := c.call(protocol.MethodStatus, nil, &status); err != nil {
		t.Fatalf("status while a slow request runs: %v", err)
	}
	// The first request the client sent has id 0 (initialize), then 1
	// (the sleep) in jsonrpc2's numbering.
	if err := c.conn.Notify(context.Background(), protocol.MethodCancelRequest, map[string]any{"id": 1}); err != nil {
		t.Fatal(err)
	}
	waitCtx, waitCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer waitCancel()
	err = sleep.Wait(waitCtx, nil)
	if got := rpcCode(t, err); got != protocol.CodeRequestCancelled {
		t.Fatalf("cancelled request: code %d, want -32800", got)
	}
}

func TestProgressOnClientToken(t *testing.T) {
	c := startServer(t, Options{})
	c.initialize(&protocol.InitializationOptions{DebugMethods: true}, false)
	var res protocol.DebugSleepResult
	p := protocol.DebugSleepParams{DurationMs: 250, WorkDoneProgressParams: protocol.WorkDoneProgressParams{WorkDoneToken: json.RawMessage(`"tok-1"`)}}
	if err := c.call(protocol.MethodDebugSleep, p, &res); err != nil {
		t.Fatal(err)
	}
	if res.SleptMs < 250 {
		t.Fatalf("slept %d ms, want ≥ 250", res.SleptMs)
	}
	kinds := c.progressKinds(`"tok-1"`, "end")
	if kinds[0] != "begin" || kinds[len(kinds)-1] != "end" || len(kinds) < 3 {
		t.Fatalf("progress kinds = %v, want begin, report…, end", kinds)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.created) != 0 {
		t.Fatalf("server created tokens %v although the client gave one", c.created)
	}
}

// progressKinds waits for a $/progress of kind last on token and returns
// the kinds seen on it in order.
func (c *client) progressKinds(token, last string) []string {
	c.t.Helper()
	c.waitNotification(protocol.MethodProgress, func(raw json.RawMessage) bool {
		var p struct {
			Token json.RawMessage `json:"token"`
			Value struct{ Kind string }
		}
		_ = json.Unmarshal(raw, &p)
		return string(p.Token) == token && p.Value.Kind == last
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	var kinds []string
	for _, n := range c.notifications {
		if n.Method != protocol.MethodProgress {
			continue
		}
		var p struct {
			Token json.RawMessage `json:"token"`
			Value struct{ Kind string }
		}
		_ = json.Unmarshal(*n.Params, &p)
		if string(p.Token) == token {
			kinds = append(kinds, p.Value.Kind)
		}
	}
	return kinds
}

func TestProgressOnCreatedTokenAndCancel(t *testing.T) {
	c := startServer(t, Options{})
	c.initialize(&protocol.InitializationOptions{DebugMethods: true}, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := c.conn.DispatchCall(ctx, protocol.MethodDebugSleep, protocol.DebugSleepParams{DurationMs: 60000})
	if err != nil {
		t.Fatal(err)
	}
	c.waitNotification(protocol.MethodProgress, func(raw json.RawMessage) bool { return true })
	c.mu.Lock()
	if len(c.created) != 1 {
		c.mu.Unlock()
		t.Fatalf("server created %d tokens, want 1", len(c.created))
	}
	token := c.created[0]
	c.mu.Unlock()
	if err := c.conn.Notify(context.Background(), protocol.MethodWorkDoneProgressCancel, protocol.WorkDoneProgressCancelParams{Token: json.RawMessage(token)}); err != nil {
		t.Fatal(err)
	}
	waitCtx, waitCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer waitCancel()
	if got := rpcCode(t, w.Wait(waitCtx, nil)); got != protocol.CodeRequestCancelled {
		t.Fatalf("progress-cancelled request: code %d, want -32800", got)
	}
	kinds := c.progressKinds(token, "end")
	if kinds[0] != "begin" {
		t.Fatalf("progress kinds = %v", kinds)
	}
}

func TestErrors(t *testing.T) {
	c := startServer(t, Options{})
	c.initialize(nil, false)

	err := c.call("odod/nope", nil, nil)
	if got := rpcCode(t, err); got != protocol.CodeMethodNotFound {
		t.Fatalf("unknown method: code %d", got)
	}
	if d := errorData(t, err); len(d.Suggestions) == 0 {
		t.Fatal("unknown method: no suggestions")
	}
	// Debug methods are unknown unless enabled.
	if got := rpcCode(t, c.call(protocol.MethodDebugSleep, protocol.DebugSleepParams{}, nil)); got != protocol.CodeMethodNotFound {
		t.Fatalf("debug method without debugMethods: code %d", got)
	}

	err = c.call(protocol.MethodWorkspaceOpen, map[string]any{"uri": 42}, nil)
	if got := rpcCode(t, err); got != protocol.CodeInvalidParams {
		t.Fatalf("wrong type: code %d", got)
	}
	if d := errorData(t, err); d.Field != "uri" || d.Reason == "" {
		t.Fatalf("wrong type: data %+v, want field uri with a reason", d)
	}
	err = c.call(protocol.MethodWorkspaceOpen, []any{1}, nil)
	if got := rpcCode(t, err); got != protocol.CodeInvalidParams {
		t.Fatalf("array params: code %d", got)
	}
	err = c.call(protocol.MethodWorkspaceClose, protocol.WorkspaceCloseParams{WorkspaceID: "ws-nope"}, nil)
	if got := rpcCode(t, err); got != protocol.CodeWorkspaceNotFound {
		t.Fatalf("unknown workspace: code %d", got)
	}
	// An unknown notification is ignored, and the connection goes on.
	_ = c.conn.Notify(context.Background(), "$/setTrace", map[string]string{"value": "off"})
	if err := c.call(protocol.MethodStatus, nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestWorkspaceOpenClose(t *testing.T) {
	c := startServer(t, Options{})
	c.initialize(nil, false)
	dir := t.TempDir()
	for _, f := range []string{"a.js", "sub/b.js", ".git/HEAD", ".odo/config.yaml"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var first, second protocol.WorkspaceOpenResult
	if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(dir)}, &first); err != nil {
		t.Fatal(err)
	}
	// a.js and sub/b.js in sub; .git and .odo are left out.
	if first.Index.Files != 2 || first.Index.Dirs != 1 || first.Index.Bytes != 10 || first.Index.Ignored != 2 {
		t.Fatalf("index = %+v, want 2 files, 1 dir, 10 bytes, 2 ignored", first.Index)
	}
	if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(dir + "/sub/..")}, &second); err != nil {
		t.Fatal(err)
	}
	if first.WorkspaceID != second.WorkspaceID {
		t.Fatalf("the same folder opened twice gave %s and %s", first.WorkspaceID, second.WorkspaceID)
	}
	other := t.TempDir()
	var third protocol.WorkspaceOpenResult
	if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(other)}, &third); err != nil {
		t.Fatal(err)
	}
	var status protocol.StatusResult
	if err := c.call(protocol.MethodStatus, nil, &status); err != nil {
		t.Fatal(err)
	}
	if len(status.Workspaces) != 2 || status.Workspaces[0].State != protocol.WorkspaceWatching {
		t.Fatalf("status = %+v, want two watching workspaces", status)
	}
	if err := c.call(protocol.MethodWorkspaceClose, protocol.WorkspaceCloseParams{WorkspaceID: first.WorkspaceID}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call(protocol.MethodStatus, nil, &status); err != nil || len(status.Workspaces) != 1 || status.Workspaces[0].WorkspaceID != third.WorkspaceID {
		t.Fatalf("after close: %+v, %v", status, err)
	}
}

func TestWorkspaceOpenRejectsNonDirectories(t *testing.T) {
	c := startServer(t, Options{})
	c.initialize(nil, false)
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"", fileURI(file), fileURI(filepath.Join(dir, "missing")), "https://example.com/x", "file://otherhost/tmp", "file:relative/path", "::::"} {
		err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: uri}, nil)
		if got := rpcCode(t, err); got != protocol.CodeInvalidParams {
			t.Errorf("open %q: code %d, want -32602", uri, got)
			continue
		}
		if d := errorData(t, err); d.Field != "uri" || d.Reason == "" || len(d.Suggestions) == 0 {
			t.Errorf("open %q: data %+v", uri, d)
		}
	}
}

// fakeIndex lets a test drive the hooks of an index.
type fakeIndex struct {
	hooks  IndexHooks
	mu     sync.Mutex
	hints  []string
	closed bool
}

func (f *fakeIndex) Stats() protocol.IndexStats { return protocol.IndexStats{Files: 7} }
func (f *fakeIndex) Hint(p []string) {
	f.mu.Lock()
	f.hints = append(f.hints, p...)
	f.mu.Unlock()
}
func (f *fakeIndex) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

func TestNotificationsCarryWorkspaceSeqAndTime(t *testing.T) {
	idx := &fakeIndex{}
	c := startServer(t, Options{OpenIndex: func(ctx context.Context, root string, log *zap.Logger, hooks IndexHooks) (WorkspaceIndex, error) {
		idx.hooks = hooks
		return idx, nil
	}})
	c.initialize(nil, false)
	dir := t.TempDir()
	var ws protocol.WorkspaceOpenResult
	if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(dir)}, &ws); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	idx.hooks.Changed([]protocol.Change{{Path: "a", Type: protocol.FileCreated}}, false, protocol.IndexStats{Files: 1})
	idx.hooks.Changed([]protocol.Change{{Path: "a", Type: protocol.FileDeleted}}, true, protocol.IndexStats{})
	var got []protocol.IndexDidChangeParams
	c.waitNotification(protocol.MethodIndexDidChange, func(raw json.RawMessage) bool {
		var p protocol.IndexDidChangeParams
		_ = json.Unmarshal(raw, &p)
		got = append(got, p)
		return p.Seq == 2
	})
	if len(got) != 2 {
		t.Fatalf("got %d notifications, want 2", len(got))
	}
	for i, p := range got {
		if p.WorkspaceID != ws.WorkspaceID || p.Seq != uint64(i+1) || p.Time.Before(before) {
			t.Fatalf("notification %d = %+v", i, p)
		}
	}
	if !got[1].Overflow || got[1].Changes[0].Type != protocol.FileDeleted {
		t.Fatalf("second notification = %+v", got[1])
	}

	// Editor hints reach the index as relative paths.
	_ = c.conn.Notify(context.Background(), protocol.MethodDidChangeWatchedFiles, protocol.DidChangeWatchedFilesParams{Changes: []protocol.FileEvent{
		{URI: fileURI(filepath.Join(dir, "x", "y.js")), Type: protocol.FileChanged},
		{URI: fileURI("/elsewhere/z.js"), Type: protocol.FileChanged},
	}})
	if err := c.call(protocol.MethodStatus, nil, nil); err != nil { // orders after the hint
		t.Fatal(err)
	}
	idx.mu.Lock()
	hints := append([]string(nil), idx.hints...)
	idx.mu.Unlock()
	if len(hints) != 1 || hints[0] != "x/y.js" {
		t.Fatalf("hints = %v, want [x/y.js]", hints)
	}
	if err := c.call(protocol.MethodShutdown, nil, nil); err != nil {
		t.Fatal(err)
	}
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if !idx.closed {
		t.Fatal("shutdown did not close the workspace's index")
	}
}

// TestInitializeRefusesIncompatibleClients: a client of another major
// version, or one that requires a method odod does not speak, is answered
// -32602 naming what is wrong; the session can then still be initialized.
func TestInitializeRefusesIncompatibleClients(t *testing.T) {
	c := startServer(t, Options{})
	init := func(o protocol.InitializationOptions) error {
		return c.call(protocol.MethodInitialize, protocol.InitializeParams{InitializationOptions: &o}, nil)
	}
	major, err := protocol.MajorVersion(protocol.ProtocolVersion)
	if err != nil {
		t.Fatal(err)
	}
	err = init(protocol.InitializationOptions{ProtocolVersion: fmt.Sprintf("%d.0.0", major+1)})
	if got := rpcCode(t, err); got != protocol.CodeInvalidParams {
		t.Fatalf("next major version: code %d, want -32602", got)
	}
	if d := errorData(t, err); d.Field != "initializationOptions.protocolVersion" || !strings.Contains(d.Reason, protocol.ProtocolVersion) {
		t.Fatalf("next major version: data %+v", d)
	}
	err = init(protocol.InitializationOptions{RequiredMethods: []string{protocol.MethodPush, "odod/teleport", protocol.MethodDebugSleep, "odod/beam"}})
	if got := rpcCode(t, err); got != protocol.CodeInvalidParams {
		t.Fatalf("missing methods: code %d, want -32602", got)
	}
	if d := errorData(t, err); d.Field != "initializationOptions.requiredMethods" ||
		!strings.HasSuffix(d.Reason, "does not speak odod/teleport, odod/debug/sleep, odod/beam") {
		t.Fatalf("missing methods: data %+v", d)
	}
	var res protocol.InitializeResult
	err = c.call(protocol.MethodInitialize, protocol.InitializeParams{InitializationOptions: &protocol.InitializationOptions{
		ProtocolVersion: fmt.Sprintf("%d.0.0", major), DebugMethods: true,
		RequiredMethods: []string{protocol.MethodPush, protocol.MethodDebugSleep, protocol.MethodLog, protocol.MethodProgress, protocol.MethodCancelRequest},
	}}, &res)
	if err != nil {
		t.Fatalf("compatible client refused: %v", err)
	}
	if res.Capabilities.Experimental.ProtocolVersion != protocol.ProtocolVersion {
		t.Fatalf("protocolVersion %q", res.Capabilities.Experimental.ProtocolVersion)
	}
}
