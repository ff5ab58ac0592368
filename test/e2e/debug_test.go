//go:build integration

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/protocol"
)

// inspectorVersion is the Node.js inspector's /json/version answer.
type inspectorVersion struct {
	Browser  string `json:"Browser"`
	Protocol string `json:"Protocol-Version"`
}

// getJSON fetches http://addr/path until it answers 200 with JSON, or
// fails the test after timeout.
func getJSON(t *testing.T, addr, path string, v any, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + path)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == 200 && json.Unmarshal(b, v) == nil {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("GET %s%s: last answer %s", addr, path, last)
}

// evaluate runs expression in the inspected app through the Chrome
// DevTools Protocol's Runtime.evaluate over the inspector's WebSocket,
// reached through addr, and returns the value.
func evaluate(t *testing.T, addr, expression string) any {
	t.Helper()
	var targets []struct {
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	getJSON(t, addr, "/json/list", &targets, time.Minute)
	if len(targets) == 0 {
		t.Fatal("the inspector lists no target")
	}
	// The URL names the container's address; the forward is addr.
	u, err := url.Parse(targets[0].WebSocketDebuggerURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial(u.String(), nil)
	if err != nil {
		t.Fatalf("dial the inspector at %s: %v", u, err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	req := map[string]any{"id": 1, "method": "Runtime.evaluate", "params": map[string]any{"expression": expression, "returnByValue": true}}
	if err := ws.WriteJSON(req); err != nil {
		t.Fatal(err)
	}
	for {
		var msg struct {
			ID     int `json:"id"`
			Result struct {
				Result struct {
					Type  string `json:"type"`
					Value any    `json:"value"`
				} `json:"result"`
				ExceptionDetails any `json:"exceptionDetails"`
			} `json:"result"`
		}
		if err := ws.ReadJSON(&msg); err != nil {
			t.Fatalf("read the inspector's answer: %v", err)
		}
		if msg.ID != 1 {
			continue // an event
		}
		if msg.Result.ExceptionDetails != nil {
			t.Fatalf("Runtime.evaluate(%s) threw: %+v", expression, msg.Result.ExceptionDetails)
		}
		return msg.Result.Result.Value
	}
}

// TestDebugNodeJS: odod/debug/start forwards to the Node.js inspector of
// the component's app, which answers /json/version and evaluates an
// expression inside the running app over its WebSocket; the session
// follows a new pod; debug mode off is an error with a suggestion; the
// CLI's debug port-forward and debug info do the same.
func TestDebugNodeJS(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-debug")
	client := c.Client(t)
	e := initialized(t, c.Kubeconfig, ns)
	wsID, dir := e.pushedComponent("nodejs-app", "dbg")

	var s protocol.DebugSession
	e.mustCall(time.Minute, protocol.MethodDebugStart, protocol.DebugStartParams{WorkspaceID: wsID}, &s)
	want := protocol.LaunchConfiguration{Type: "node", Request: "attach", Name: "Attach to dbg (odod)",
		Address: "127.0.0.1", Port: s.LocalPort, LocalRoot: dir, RemoteRoot: "/opt/app-root/src"}
	if s.Language != "nodejs" || s.RemotePort != 5858 || s.LocalPort == 0 || s.Launch != want {
		t.Fatalf("debug/start = %+v\nwant launch %+v", s, want)
	}
	var again protocol.DebugSession
	e.mustCall(time.Minute, protocol.MethodDebugStart, protocol.DebugStartParams{WorkspaceID: wsID}, &again)
	if again.LocalPort != s.LocalPort {
		t.Fatalf("a second debug/start made another session: %+v, first %+v", again, s)
	}

	var v inspectorVersion
	getJSON(t, s.Address, "/json/version", &v, 2*time.Minute)
	if !strings.HasPrefix(v.Browser, "node.js/") || v.Protocol == "" {
		t.Fatalf("/json/version = %+v", v)
	}
	const expr = `process.mainModule.require("./lib/greeting").greeting() + " @ " + process.env.DEBUG_PORT`
	if got := evaluate(t, s.Address, expr); got != helloAnswer+" @ 5858" {
		t.Fatalf("Runtime.evaluate = %#v, want %q", got, helloAnswer+" @ 5858")
	}

	// A new pod: the session follows it on the same local port.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	old := runningPod(ctx, t, client, ns, "dbg")
	if err := client.CoreV1().Pods(ns).Delete(ctx, old.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var info protocol.DebugInfoResult
	deadline := time.Now().Add(3 * time.Minute)
	for {
		e.mustCall(time.Minute, protocol.MethodDebugInfo, protocol.WorkspaceParams{WorkspaceID: wsID}, &info)
		if info.Session != nil && info.Session.Pod != old.Name && info.Session.Pod != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("debug/info after the pod was deleted = %+v (old pod %s)", info.Session, old.Name)
		}
		time.Sleep(time.Second)
	}
	if !info.DevMode || info.DebugPort != 5858 || info.Session.LocalPort != s.LocalPort {
		t.Fatalf("debug/info = %+v", info)
	}
	if got := evaluate(t, s.Address, expr); got != helloAnswer+" @ 5858" {
		t.Fatalf("Runtime.evaluate in the new pod = %#v", got)
	}

	e.mustCall(time.Minute, protocol.MethodDebugStop, protocol.WorkspaceParams{WorkspaceID: wsID}, nil)
	if conn, err := net.DialTimeout("tcp", s.Address, 2*time.Second); err == nil {
		_ = conn.Close()
		t.Fatalf("%s still accepts connections after debug/stop", s.Address)
	}

	// The CLI: odod debug port-forward runs until interrupted; debug info
	// sees it.
	cmd := exec.Command(ododBin, "debug", "port-forward", "--context", dir)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
		}
	})
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var started string
	timeout := time.After(2 * time.Minute)
	for started == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("odod debug port-forward ended: %v", <-exited)
			}
			if strings.HasPrefix(l, "Started port forwarding at ports - ") {
				started = l
			}
		case <-timeout:
			t.Fatal("odod debug port-forward printed no start line")
		}
	}
	var cliInfo protocol.DebugInfoResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "debug", "info", "--context", dir, "-o", "json")), &cliInfo); err != nil {
		t.Fatal(err)
	}
	if cliInfo.Session == nil || !strings.Contains(started, fmt.Sprintf(" - %d:5858", cliInfo.Session.LocalPort)) {
		t.Fatalf("odod debug info = %+v after %q", cliInfo.Session, started)
	}
	getJSON(t, cliInfo.Session.Address, "/json/version", &v, 2*time.Minute)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("odod debug port-forward after an interrupt: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("odod debug port-forward did not stop on an interrupt")
	}
	if _, err := os.Stat(filepath.Join(dir, ".odo", "odod-debug.json")); !os.IsNotExist(err) {
		t.Errorf("the debug state file is left behind: %v", err)
	}
	if out := odod(t, c.Kubeconfig, "debug", "info", "--context", dir); !strings.Contains(out, "No debug session") {
		t.Errorf("odod debug info after the forward stopped: %q", out)
	}

	// Debug mode off: a clear error, with what to do.
	e.mustCall(time.Minute, protocol.MethodConfigSet, protocol.ConfigSetParams{WorkspaceID: wsID, Env: []string{"DEV_MODE=false"}}, nil)
	err = e.call(time.Minute, protocol.MethodDebugStart, protocol.DebugStartParams{WorkspaceID: wsID}, nil)
	if code, d := rpcError(t, err); code != protocol.CodeInvalidConfig || d.Reason != "DebugModeOff" || !strings.Contains(suggestions(d), "DEV_MODE") {
		t.Fatalf("debug/start with DEV_MODE=false: %v %+v", err, d)
	}
}
