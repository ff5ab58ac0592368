package daemon

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// TestWatchStartStatusStop drives the watch of a workspace without
// settings: it runs, its push fails (not retried: the user must create
// the component), odod/status says so, and it stops.
func TestWatchStartStatusStop(t *testing.T) {
	c := startServer(t, Options{})
	c.initialize(nil, false)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.js"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ws protocol.WorkspaceOpenResult
	if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(dir)}, &ws); err != nil {
		t.Fatal(err)
	}
	bad := -1
	err := c.call(protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: ws.WorkspaceID, DebounceMs: &bad}, nil)
	if rpcCode(t, err) != protocol.CodeInvalidParams {
		t.Fatalf("debounceMs -1: %v", err)
	}
	if err := c.call(protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: "ws-nope"}, nil); rpcCode(t, err) != protocol.CodeWorkspaceNotFound {
		t.Fatalf("unknown workspace: %v", err)
	}

	debounce := 20
	var st protocol.WatchStatus
	if err := c.call(protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: ws.WorkspaceID, DebounceMs: &debounce}, &st); err != nil {
		t.Fatal(err)
	}
	if !st.Active || st.DebounceMs != 20 {
		t.Fatalf("watch/start answered %+v", st)
	}
	// The watch's first push has the same notifications as odod/push.
	c.waitNotification(protocol.MethodComponentStateChanged, func(raw json.RawMessage) bool {
		var p protocol.StateChangedParams
		_ = json.Unmarshal(raw, &p)
		return p.WorkspaceID == ws.WorkspaceID && p.To == protocol.StateError && p.Reason == "NotConfigured"
	})
	// The watch records the push's outcome right after the notification.
	var status protocol.StatusResult
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := c.call(protocol.MethodStatus, nil, &status); err != nil {
			t.Fatal(err)
		}
		if len(status.Workspaces) != 1 {
			t.Fatalf("status %+v", status)
		}
		if status.Workspaces[0].Watch.Pushes > 0 || time.Now().After(deadline) {
			break
		}
	}
	if w := status.Workspaces[0].Watch; !w.Active || w.Retrying || w.LastError == "" {
		t.Fatalf("status of a watch whose push needs the user: %+v", w)
	}
	// Starting it again only changes the debounce.
	debounce = 50
	if err := c.call(protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: ws.WorkspaceID, DebounceMs: &debounce}, &st); err != nil || st.DebounceMs != 50 || st.Pushes != 1 {
		t.Fatalf("second watch/start: %+v, %v", st, err)
	}
	if err := c.call(protocol.MethodWatchStop, protocol.WatchStopParams{WorkspaceID: ws.WorkspaceID}, &st); err != nil || st.Active {
		t.Fatalf("watch/stop: %+v, %v", st, err)
	}
	if err := c.call(protocol.MethodStatus, nil, &status); err != nil || status.Workspaces[0].Watch.Active {
		t.Fatalf("status after stop: %+v, %v", status, err)
	}
	// Stopping twice is fine.
	if err := c.call(protocol.MethodWatchStop, protocol.WatchStopParams{WorkspaceID: ws.WorkspaceID}, &st); err != nil {
		t.Fatal(err)
	}
}

// TestWatchRetriesAnUnreachableClusterAndTellsOnce: the cluster cannot be
// reached; the watch keeps retrying with backoff, says why in
// odod/component/stateChanged each time, and shows one message.
func TestWatchRetriesAnUnreachableClusterAndTellsOnce(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	// Nothing listens on port 1.
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(dir, "ws")
	cfg := config.New("web", "nodejs")
	cfg.ComponentSettings.Ports = []string{"8080"}
	if err := config.Save(ws, cfg); err != nil {
		t.Fatal(err)
	}
	c := startServer(t, Options{})
	c.initialize(&protocol.InitializationOptions{Kubeconfig: kubeconfig}, false)
	var opened protocol.WorkspaceOpenResult
	if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(ws)}, &opened); err != nil {
		t.Fatal(err)
	}
	if err := c.call(protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: opened.WorkspaceID}, nil); err != nil {
		t.Fatal(err)
	}
	// Backoff 1 s, 2 s: three pushes in about 3 s.
	var st protocol.WatchStatus
	for deadline := time.Now().Add(20 * time.Second); st.Pushes < 3; time.Sleep(50 * time.Millisecond) {
		var status protocol.StatusResult
		if err := c.call(protocol.MethodStatus, nil, &status); err != nil {
			t.Fatal(err)
		}
		st = status.Workspaces[0].Watch
		if time.Now().After(deadline) {
			t.Fatalf("the watch did not retry: %+v", st)
		}
	}
	if !st.Retrying || st.LastError == "" {
		t.Fatalf("status while the cluster is unreachable: %+v", st)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var shown, unreachable int
	for _, n := range c.notifications {
		switch n.Method {
		case protocol.MethodShowMessage:
			shown++
		case protocol.MethodComponentStateChanged:
			var p protocol.StateChangedParams
			_ = json.Unmarshal(*n.Params, &p)
			if p.To == protocol.StateError && p.Reason != "" {
				if unreachable == 0 {
					t.Logf("stateChanged: %s %s", p.Reason, p.Message)
				}
				unreachable++
			}
		}
	}
	if shown != 1 || unreachable < 3 {
		t.Fatalf("%d window/showMessage (want 1) and %d stateChanged to Error with a reason (want one per push)", shown, unreachable)
	}
}

// A watch belongs to the workspace, not to the connection: an editor that
// reconnects (a new odod serve) finds it running, until it is stopped.
func TestWatchResumesInTheNextDaemon(t *testing.T) {
	dir := t.TempDir()
	open := func() (*client, string) {
		c := startServer(t, Options{})
		c.initialize(nil, false)
		var ws protocol.WorkspaceOpenResult
		if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(dir)}, &ws); err != nil {
			t.Fatal(err)
		}
		return c, ws.WorkspaceID
	}
	watching := func(c *client) protocol.WatchStatus {
		var status protocol.StatusResult
		if err := c.call(protocol.MethodStatus, nil, &status); err != nil || len(status.Workspaces) != 1 {
			t.Fatalf("status: %+v, %v", status, err)
		}
		return status.Workspaces[0].Watch
	}

	first, id := open()
	if w := watching(first); w.Active {
		t.Fatalf("a fresh workspace is watched: %+v", w)
	}
	debounce := 30
	if err := first.call(protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: id, DebounceMs: &debounce}, nil); err != nil {
		t.Fatal(err)
	}

	second, id2 := open()
	if w := watching(second); !w.Active || w.DebounceMs != 30 {
		t.Fatalf("the next daemon did not resume the watch: %+v", w)
	}
	if err := second.call(protocol.MethodWatchStop, protocol.WatchStopParams{WorkspaceID: id2}, nil); err != nil {
		t.Fatal(err)
	}
	third, _ := open()
	if w := watching(third); w.Active {
		t.Fatalf("a stopped watch was resumed: %+v", w)
	}
}
