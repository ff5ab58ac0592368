//go:build integration

// Package e2e drives odod serve over JSON-RPC, as an editor does, against
// the real local cluster: create a Node.js component, push it, reach it
// through a port-forward, edit, delete and break files, and delete it.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/daemon"
	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/protocol"
)

var ododBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "odod-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ododBin = filepath.Join(dir, "odod")
	// The daemons and terminals of these tests find each other's
	// workspace sockets here, not in the user's cache directory.
	if err := os.Setenv(daemon.SocketDirEnv, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", ododBin, "github.com/odod-dev/odod/cmd/odod")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build odod:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// editor is the test's JSON-RPC client of one odod serve process.
type editor struct {
	t    *testing.T
	conn *jsonrpc2.Conn
	cmd  *exec.Cmd

	mu    sync.Mutex
	notes []*jsonrpc2.Request
	wake  chan struct{}
	// secrets are values that must never be in odod's log or
	// notifications: the kubeconfig's credentials, and what a test plants.
	secrets map[string]string
}

type stdioRWC struct {
	io.ReadCloser
	io.WriteCloser
}

func (s stdioRWC) Close() error {
	werr := s.WriteCloser.Close()
	rerr := s.ReadCloser.Close()
	if werr != nil {
		return werr
	}
	return rerr
}

func startOdod(t *testing.T, kubeconfig string) *editor {
	t.Helper()
	cmd := exec.Command(ododBin, "serve", "--log-level=debug")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "odod.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &editor{t: t, cmd: cmd, wake: make(chan struct{}, 1), secrets: credentials(t, kubeconfig)}
	e.conn = jsonrpc2.NewConn(context.Background(), jsonrpc2.NewBufferedStream(stdioRWC{stdout, stdin}, jsonrpc2.VSCodeObjectCodec{}),
		jsonrpc2.HandlerWithError(func(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
			if req.Notif {
				e.mu.Lock()
				e.notes = append(e.notes, req)
				e.mu.Unlock()
				select {
				case e.wake <- struct{}{}:
				default:
				}
			}
			return nil, nil // window/workDoneProgress/create
		}))
	t.Cleanup(func() {
		_ = e.conn.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logFile.Close()
		e.scanForSecrets(logPath)
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			lines := strings.Split(string(b), "\n")
			if len(lines) > 80 {
				lines = lines[len(lines)-80:]
			}
			t.Logf("odod's log (last lines):\n%s", strings.Join(lines, "\n"))
		}
	})
	return e
}

// credentials are the kubeconfig's bearer token and client key (its
// base64 lines), which odod must never log.
func credentials(t *testing.T, kubeconfig string) map[string]string {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", kubeconfig, err)
	}
	out := map[string]string{}
	if cfg.BearerToken != "" {
		out["the kubeconfig's bearer token"] = cfg.BearerToken
	}
	key := cfg.KeyData
	if len(key) == 0 && cfg.KeyFile != "" {
		key, _ = os.ReadFile(cfg.KeyFile)
	}
	for i, l := range strings.Split(strings.TrimSpace(string(key)), "\n") {
		if len(l) >= 32 && !strings.HasPrefix(l, "-----") {
			out[fmt.Sprintf("line %d of the kubeconfig's client key", i)] = l
		}
	}
	return out
}

// plant adds a value that odod must never log or notify.
func (e *editor) plant(what, value string) {
	e.mu.Lock()
	e.secrets[what] = value
	e.mu.Unlock()
}

// scanForSecrets fails the test when odod's log or a notification holds
// one of the editor's secrets.
func (e *editor) scanForSecrets(logPath string) {
	log, err := os.ReadFile(logPath)
	if err != nil {
		e.t.Errorf("read odod's log: %v", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var notes strings.Builder
	for _, n := range e.notes {
		if n.Params != nil {
			notes.Write(*n.Params)
		}
	}
	for what, v := range e.secrets {
		if strings.Contains(string(log), v) {
			e.t.Errorf("odod's log holds %s", what)
		}
		if strings.Contains(notes.String(), v) {
			e.t.Errorf("a notification of odod holds %s", what)
		}
	}
}

func (e *editor) call(timeout time.Duration, method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return e.conn.Call(ctx, method, params, result)
}

func (e *editor) mustCall(timeout time.Duration, method string, params, result any) {
	e.t.Helper()
	if err := e.call(timeout, method, params, result); err != nil {
		e.t.Fatalf("%s: %v", method, err)
	}
}

// since returns the notifications of method received from index from on.
func (e *editor) since(from int, method string) []json.RawMessage {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []json.RawMessage
	for _, n := range e.notes[from:] {
		if n.Method == method && n.Params != nil {
			out = append(out, *n.Params)
		}
	}
	return out
}

func (e *editor) mark() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.notes)
}

// waitFor waits until a notification of method after mark satisfies pred.
func (e *editor) waitFor(mark int, method string, timeout time.Duration, pred func(json.RawMessage) bool) json.RawMessage {
	e.t.Helper()
	deadline := time.After(timeout)
	for {
		for _, n := range e.since(mark, method) {
			if pred(n) {
				return n
			}
		}
		select {
		case <-e.wake:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			e.t.Fatalf("no matching %s within %s", method, timeout)
		}
	}
}

func logsOf(raws []json.RawMessage, source protocol.LogSource) []protocol.LogParams {
	var out []protocol.LogParams
	for _, r := range raws {
		var p protocol.LogParams
		if json.Unmarshal(r, &p) == nil && p.Source == source {
			out = append(out, p)
		}
	}
	return out
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// get fetches url until it answers want (the app restarts after a push).
func get(t *testing.T, u string, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(u)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			last = strings.TrimSpace(string(b))
			if last == want {
				return
			}
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("GET %s: last answer %q, want %q", u, last, want)
}

func TestNodeJSComponentEndToEnd(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-e2e")
	ws := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "nodejs-app"), ws)

	e := startOdod(t, c.Kubeconfig)
	var init protocol.InitializeResult
	e.mustCall(30*time.Second, protocol.MethodInitialize, protocol.InitializeParams{
		Capabilities:          protocol.ClientCapabilities{Window: &protocol.WindowClientCapabilities{WorkDoneProgress: true}},
		InitializationOptions: &protocol.InitializationOptions{Namespace: ns, LogLevel: "debug"},
	}, &init)
	_ = e.conn.Notify(context.Background(), protocol.MethodInitialized, struct{}{})

	var opened protocol.WorkspaceOpenResult
	e.mustCall(time.Minute, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: ws}).String()}, &opened)
	if opened.Index.Files != 5 {
		t.Fatalf("index of the app = %+v, want 5 files", opened.Index)
	}
	wsID := opened.WorkspaceID

	// The catalog lists the local Node.js builder.
	var catalog protocol.CatalogListResult
	e.mustCall(time.Minute, protocol.MethodCatalogList, protocol.CatalogListParams{WorkspaceID: wsID}, &catalog)
	found := false
	for _, ty := range catalog.Types {
		found = found || ty.Name == "nodejs"
	}
	if !found {
		t.Fatalf("catalog = %+v, want nodejs", catalog)
	}

	var created protocol.ComponentCreateResult
	e.mustCall(time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{
		WorkspaceID: wsID, Type: "nodejs", Name: "hello", Ports: []string{"8080"},
	}, &created)
	if created.Component.Project != ns {
		t.Fatalf("component = %+v, want project %s", created.Component, ns)
	}

	// First push: every file, a build, streamed output.
	mark := e.mark()
	var first protocol.PushResult
	start := time.Now()
	e.mustCall(10*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: wsID}, &first)
	t.Logf("first push: %+v in %s", first, time.Since(start))
	if first.FilesCopied != 5 || first.BuildExitCode == nil || *first.BuildExitCode != 0 || first.Transport != "agent" || !first.Full {
		t.Fatalf("first push = %+v", first)
	}
	build := logsOf(e.since(mark, protocol.MethodLog), protocol.LogBuild)
	if len(build) == 0 {
		t.Fatal("no build output arrived as odod/log")
	}
	if spread := build[len(build)-1].Time.Sub(build[0].Time); spread <= 0 {
		t.Fatalf("build output all arrived at once (spread %s): it must stream", spread)
	}
	states := e.since(mark, protocol.MethodComponentStateChanged)
	var last protocol.StateChangedParams
	_ = json.Unmarshal(states[len(states)-1], &last)
	if last.To != protocol.StateRunning {
		t.Fatalf("last state = %+v, want Running", last)
	}

	// Reach the app.
	var pf protocol.PortForwardResult
	e.mustCall(time.Minute, protocol.MethodPortForward, protocol.PortForwardParams{WorkspaceID: wsID, RemotePort: 8080}, &pf)
	appURL := "http://" + pf.Address + "/"
	get(t, appURL, "Hello from odod v1", 2*time.Minute)

	// A URL: a Route here (the cluster serves route.openshift.io), at once
	// since the component is pushed.
	var u protocol.URLCreateResult
	e.mustCall(time.Minute, protocol.MethodURLCreate, protocol.URLCreateParams{WorkspaceID: wsID, Name: "www", Port: 8080}, &u)
	if u.URL.State != "Pushed" || u.URL.Kind != "Route" {
		t.Fatalf("url create = %+v, want a pushed Route", u.URL)
	}
	var desc protocol.DescribeResult
	e.mustCall(time.Minute, protocol.MethodComponentDescribe, protocol.WorkspaceParams{WorkspaceID: wsID}, &desc)
	if desc.State != protocol.StateRunning || len(desc.URLs) != 1 || desc.LastPush == nil || len(desc.ForwardedPorts) != 1 {
		t.Fatalf("describe = %+v", desc)
	}
	e.mustCall(time.Minute, protocol.MethodURLDelete, protocol.NameParams{WorkspaceID: wsID, Name: "www"}, nil)
	var urls protocol.URLListResult
	e.mustCall(time.Minute, protocol.MethodURLList, protocol.WorkspaceParams{WorkspaceID: wsID}, &urls)
	if len(urls.URLs) != 0 {
		t.Fatalf("after url delete: %+v", urls)
	}

	// Edit one file: only it is sent, and the app answers anew.
	mark = e.mark()
	v2 := []byte("exports.greeting = () => 'Hello from odod v2';\n")
	if err := os.WriteFile(filepath.Join(ws, "lib", "greeting.js"), v2, 0o644); err != nil {
		t.Fatal(err)
	}
	e.waitFor(mark, protocol.MethodIndexDidChange, 10*time.Second, func(json.RawMessage) bool { return true })
	var second protocol.PushResult
	e.mustCall(5*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: wsID}, &second)
	t.Logf("one-file push: %+v", second)
	if second.FilesCopied != 1 || second.FilesDeleted != 0 || second.Full || second.Bytes != int64(len(v2)) {
		t.Fatalf("one-file push = %+v, want 1 file of %d bytes", second, len(v2))
	}
	// The forward goes to the pod, which stays: the app restarts in it.
	get(t, appURL, "Hello from odod v2", 2*time.Minute)

	// Delete a file: gone from /tmp/src.
	mark = e.mark()
	if err := os.Remove(filepath.Join(ws, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	e.waitFor(mark, protocol.MethodIndexDidChange, 10*time.Second, func(json.RawMessage) bool { return true })
	var third protocol.PushResult
	e.mustCall(5*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: wsID}, &third)
	if third.FilesDeleted != 1 || third.FilesCopied != 0 {
		t.Fatalf("delete push = %+v", third)
	}
	cl, err := cluster.Connect(context.Background(), cluster.Options{Kubeconfig: c.Kubeconfig, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	var ls strings.Builder
	if err := cl.Exec(context.Background(), first.Pod, "hello-app", []string{"ls", "-A", "/tmp/src", "/opt/app-root/src"}, nil, &ls, &ls); err != nil {
		t.Fatalf("ls /tmp/src: %v: %s", err, ls.String())
	}
	if strings.Contains(ls.String(), "notes.txt") || !strings.Contains(ls.String(), "server.js") {
		t.Fatalf("/tmp/src and the working dir after deleting notes.txt: %q", ls.String())
	}

	// Storage is applied on the next push, which rolls out a new pod: a
	// full resync, and as /tmp/src is the container's own and starts
	// empty, all 4 files are sent.
	e.mustCall(time.Minute, protocol.MethodStorageAdd, protocol.StorageAddParams{WorkspaceID: wsID, Name: "data", Path: "/data", Size: "100Mi"}, nil)
	var withStorage protocol.PushResult
	e.mustCall(5*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: wsID}, &withStorage)
	t.Logf("push with storage: %+v", withStorage)
	if withStorage.Pod == first.Pod || !withStorage.Full || withStorage.FilesCopied != 4 {
		t.Fatalf("push after adding storage = %+v, want a full push of 4 files to a new pod", withStorage)
	}
	var st protocol.StorageListResult
	e.mustCall(time.Minute, protocol.MethodStorageList, protocol.WorkspaceParams{WorkspaceID: wsID}, &st)
	if len(st.Storage) != 1 || st.Storage[0].State != "Pushed" {
		t.Fatalf("storage = %+v", st)
	}
	get(t, appURL, "Hello from odod v2", 2*time.Minute) // the forward follows the new pod

	// Break the app: its crash shows in the app's log.
	var sub protocol.LogsFollowResult
	e.mustCall(time.Minute, protocol.MethodLogsFollow, protocol.LogsFollowParams{WorkspaceID: wsID}, &sub)
	mark = e.mark()
	if err := os.WriteFile(filepath.Join(ws, "lib", "greeting.js"), []byte("exports.greeting = () => { this is not javascript\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.waitFor(mark, protocol.MethodIndexDidChange, 10*time.Second, func(json.RawMessage) bool { return true })
	var broken protocol.PushResult
	_ = e.call(5*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: wsID}, &broken)
	e.waitFor(mark, protocol.MethodLog, 2*time.Minute, func(raw json.RawMessage) bool {
		var p protocol.LogParams
		_ = json.Unmarshal(raw, &p)
		return p.SubscriptionID == sub.SubscriptionID && strings.Contains(p.Text, "SyntaxError")
	})
	e.mustCall(time.Minute, protocol.MethodLogsStop, protocol.LogsStopParams(sub), nil)

	// Delete the component: nothing with its labels is left.
	var deleted protocol.ComponentDeleteResult
	e.mustCall(3*time.Minute, protocol.MethodComponentDelete, protocol.ComponentDeleteParams{WorkspaceID: wsID}, &deleted)
	if len(deleted.Deleted) == 0 {
		t.Fatal("delete removed nothing")
	}
	client := c.Client(t)
	selector := "app.kubernetes.io/instance=hello,app.kubernetes.io/part-of=app"
	ctx := context.Background()
	pods, _ := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	deps, _ := client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	svcs, _ := client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	pvcs, _ := client.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	secrets, _ := client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if n := len(pods.Items) + len(deps.Items) + len(svcs.Items) + len(pvcs.Items) + len(secrets.Items); n != 0 {
		t.Fatalf("after delete: %d pods, %d deployments, %d services, %d PVCs, %d secrets remain",
			len(pods.Items), len(deps.Items), len(svcs.Items), len(pvcs.Items), len(secrets.Items))
	}

	e.mustCall(time.Minute, protocol.MethodShutdown, nil, nil)
	_ = e.conn.Notify(context.Background(), protocol.MethodExit, nil)
}

// odod runs the CLI with the cluster's kubeconfig.
func odod(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	out, _ := ododStreams(t, kubeconfig, args...)
	return out
}

// ododStreams runs the CLI and returns what it printed on stdout and on
// stderr; it fails the test when the command fails.
func ododStreams(t *testing.T, kubeconfig string, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(ododBin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	var errOut strings.Builder
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("odod %s: %v\n%s\n%s", strings.Join(args, " "), err, out, errOut.String())
	}
	return string(out), errOut.String()
}

// cliComponent is testdata/nodejs-app in a new workspace, made a Node.js
// component name on port 8080 with odod create, in a new namespace.
func cliComponent(t *testing.T, namespace, name string) (c *testcluster.Cluster, ns, ws string) {
	t.Helper()
	c = testcluster.Require(t)
	ns = c.Namespace(t, namespace)
	ws = t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "nodejs-app"), ws)
	odod(t, c.Kubeconfig, "create", "nodejs", name, "--context", ws, "--project", ns, "--port", "8080")
	return c, ns, ws
}

// odod push in a terminal, in a folder an editor's odod serve has open,
// hands the push to that daemon: the terminal prints the build's output
// and the result, the editor sees the push's notifications, and the app
// serves the change. Once the editor closes the folder, odod push pushes
// from its own process again.
func TestCLIPushThroughServe(t *testing.T) {
	c, ns, ws := cliComponent(t, "odod-handoff", "handoff")
	e := initialized(t, c.Kubeconfig, ns)
	wsID := e.open(ws)

	mark := e.mark()
	out := odod(t, c.Kubeconfig, "push", "--context", ws)
	if !strings.Contains(out, "Pushed 5 files") || !strings.Contains(out, "(through odod serve)") {
		t.Fatalf("odod push beside odod serve printed:\n%s", out)
	}
	if !strings.Contains(out, "accepting connections on port 8080") {
		t.Fatalf("the terminal did not get the build's output:\n%s", out)
	}
	// The editor saw the push: its progress, on this workspace.
	e.waitFor(mark, protocol.MethodPushProgress, 10*time.Second, func(raw json.RawMessage) bool {
		var p protocol.PushProgressParams
		return json.Unmarshal(raw, &p) == nil && p.WorkspaceID == wsID && p.Phase == protocol.PhaseBuild
	})

	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello through odod serve';\n")
	out = odod(t, c.Kubeconfig, "push", "--context", ws)
	if !strings.Contains(out, "Pushed 1 file") || !strings.Contains(out, "(through odod serve)") {
		t.Fatalf("second odod push beside odod serve printed:\n%s", out)
	}
	var desc protocol.DescribeResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "describe", "--context", ws, "-o", "json")), &desc); err != nil {
		t.Fatal(err)
	}
	answer, err := waitPodAnswer(context.Background(), c.Client(t), ns, desc.Pod, "Hello through odod serve", 2*time.Minute)
	if answer != "Hello through odod serve" {
		t.Fatalf("the app answers %q (%v) after the push through odod serve", answer, err)
	}

	e.mustCall(time.Minute, protocol.MethodWorkspaceClose, protocol.WorkspaceCloseParams{WorkspaceID: wsID}, nil)
	out = odod(t, c.Kubeconfig, "push", "--context", ws, "--no-daemon")
	if strings.Contains(out, "through odod") {
		t.Fatalf("odod push --no-daemon after the editor closed the folder went through a daemon:\n%s", out)
	}
}

// odod push in a folder no editor has open starts a background daemon for
// it and hands it the push, and hands it the next pushes too: the app
// serves each change, the daemon's engine keeps the index. When an editor
// opens the folder the background daemon leaves it to the editor's odod
// serve; odod daemon stop ends it.
func TestCLIPushStartsABackgroundDaemon(t *testing.T) {
	c, ns, ws := cliComponent(t, "odod-background", "background")
	sockets := os.Getenv(daemon.SocketDirEnv)
	t.Cleanup(func() { odod(t, c.Kubeconfig, "daemon", "stop", "--context", ws) })
	logPath, err := daemon.BackgroundLog(sockets, ws)
	if err != nil {
		t.Fatal(err)
	}
	// waitEnded waits for the background daemon to log that it ended,
	// and why, and for its socket to be gone.
	waitEnded := func(reason string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			log, _ := os.ReadFile(logPath)
			left, _ := daemon.BackgroundSockets(sockets, ws)
			if strings.Contains(string(log), "background daemon ending") && len(left) == 0 {
				if !strings.Contains(string(log), reason) {
					t.Fatalf("the background daemon ended, not because %q:\n%s", reason, log)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the background daemon did not end (%s) within 20 s; sockets %v; log:\n%s", reason, left, log)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	out, errOut := ododStreams(t, c.Kubeconfig, "push", "--context", ws)
	if !strings.Contains(errOut, "Starting odod's background daemon") || !strings.Contains(out, "Pushed 5 files") ||
		!strings.Contains(out, "(through odod's background daemon)") || !strings.Contains(out, "accepting connections on port 8080") {
		t.Fatalf("first odod push printed:\n%s\n%s", out, errOut)
	}
	if left, _ := daemon.BackgroundSockets(sockets, ws); len(left) != 1 {
		t.Fatalf("background sockets of the folder: %v, want one", left)
	}

	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello from the background';\n")
	if err := os.Remove(filepath.Join(ws, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	out, errOut = ododStreams(t, c.Kubeconfig, "push", "--context", ws)
	if strings.Contains(errOut, "Starting") || !strings.Contains(out, "Pushed 1 file") || !strings.Contains(out, "deleted 1,") ||
		!strings.Contains(out, "(through odod's background daemon)") {
		t.Fatalf("second odod push printed:\n%s\n%s", out, errOut)
	}
	var desc protocol.DescribeResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "describe", "--context", ws, "-o", "json")), &desc); err != nil {
		t.Fatal(err)
	}
	if answer, err := waitPodAnswer(context.Background(), c.Client(t), ns, desc.Pod, "Hello from the background", 2*time.Minute); answer != "Hello from the background" {
		t.Fatalf("the app answers %q (%v) after the push through the background daemon", answer, err)
	}
	// The daemon killed with SIGKILL: the next push starts another, over
	// the dead one's socket, and converges.
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`"pid": (\d+)`).FindSubmatch(log)
	if m == nil {
		t.Fatalf("the background daemon's log names no pid:\n%s", log)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	// os.Process.Kill is SIGKILL.
	if p, err := os.FindProcess(pid); err != nil || p.Kill() != nil {
		t.Fatalf("kill -9 the background daemon (pid %d): %v", pid, err)
	}
	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello after a kill';\n")
	out, errOut = ododStreams(t, c.Kubeconfig, "push", "--context", ws)
	if !strings.Contains(errOut, "Starting odod's background daemon") || !strings.Contains(out, "(through odod's background daemon)") {
		t.Fatalf("odod push after the background daemon was killed printed:\n%s\n%s", out, errOut)
	}
	if answer, err := waitPodAnswer(context.Background(), c.Client(t), ns, desc.Pod, "Hello after a kill", 2*time.Minute); answer != "Hello after a kill" {
		t.Fatalf("the app answers %q (%v) after the push through a new background daemon", answer, err)
	}

	// An editor opens the folder: its odod serve takes the pushes now,
	// from the index the background daemon saved (one file to send, not
	// the whole folder).
	e := initialized(t, c.Kubeconfig, ns)
	wsID := e.open(ws)
	waitEnded("an editor's odod serve has the folder open")
	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello from the editor';\n")
	if out := odod(t, c.Kubeconfig, "push", "--context", ws); !strings.Contains(out, "Pushed 1 file") || !strings.Contains(out, "(through odod serve)") {
		t.Fatalf("odod push with the editor's odod serve open printed:\n%s", out)
	}

	// The editor closes it: the next push starts a background daemon
	// again, which odod daemon stop ends.
	e.mustCall(time.Minute, protocol.MethodWorkspaceClose, protocol.WorkspaceCloseParams{WorkspaceID: wsID}, nil)
	out, errOut = ododStreams(t, c.Kubeconfig, "push", "--context", ws)
	if !strings.Contains(errOut, "Starting odod's background daemon") || !strings.Contains(out, "(through odod's background daemon)") {
		t.Fatalf("odod push after the editor closed the folder printed:\n%s\n%s", out, errOut)
	}
	if out := odod(t, c.Kubeconfig, "daemon", "stop", "--context", ws); !strings.Contains(out, "1 background daemon asked to end") {
		t.Fatalf("odod daemon stop printed %q", out)
	}
	waitEnded("its socket was removed")
}

func TestCLIPushDescribeDelete(t *testing.T) {
	c, ns, ws := cliComponent(t, "odod-cli", "cli")
	var first protocol.PushResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "push", "--context", ws, "-o", "json", "--no-daemon")), &first); err != nil {
		t.Fatal(err)
	}
	if first.FilesCopied != 5 || first.BuildExitCode == nil || *first.BuildExitCode != 0 {
		t.Fatalf("odod push = %+v", first)
	}
	// The index was saved: a new process knows nothing changed.
	if out := odod(t, c.Kubeconfig, "push", "--context", ws, "--no-daemon"); !strings.Contains(out, "No file changes detected") {
		t.Fatalf("second odod push: %q", out)
	}
	var desc protocol.DescribeResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "describe", "--context", ws, "-o", "json")), &desc); err != nil {
		t.Fatal(err)
	}
	if desc.State != protocol.StateRunning || desc.Namespace != ns || len(desc.Objects) == 0 {
		t.Fatalf("odod describe = %+v", desc)
	}
	var deleted protocol.ComponentDeleteResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "delete", "--context", ws, "-o", "json")), &deleted); err != nil {
		t.Fatal(err)
	}
	if len(deleted.Deleted) == 0 {
		t.Fatalf("odod delete = %+v", deleted)
	}
}
