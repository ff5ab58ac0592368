//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/internal/lockedbuf"
	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/internal/treesum"
	"github.com/odod-dev/odod/protocol"
)

// watchStatus is the workspace's watch as odod/status says.
func (e *editor) watchStatus(wsID string) protocol.WatchStatus {
	e.t.Helper()
	var st protocol.StatusResult
	e.mustCall(time.Minute, protocol.MethodStatus, nil, &st)
	for _, w := range st.Workspaces {
		if w.WorkspaceID == wsID {
			return w.Watch
		}
	}
	e.t.Fatalf("odod/status does not list %s: %+v", wsID, st)
	return protocol.WatchStatus{}
}

// converge waits until the watch has pushed the workspace as it is: the
// watch is idle and healthy, and the running pod's /tmp/src holds exactly
// the workspace's files. It returns the pod.
func converge(t *testing.T, e *editor, cl *cluster.Client, wsID, root, component string, timeout time.Duration) string {
	t.Helper()
	return convergeWhen(t, func() (bool, string) {
		w := e.watchStatus(wsID)
		if !w.Active {
			t.Fatalf("the watch stopped: %+v", w)
		}
		return !w.Pushing && !w.Retrying && w.LastError == "", fmt.Sprintf("watch %+v", w)
	}, cl, root, component, timeout)
}

// convergeWhen is converge with idle saying whether the watch is at rest
// (and what it does otherwise).
func convergeWhen(t *testing.T, idle func() (bool, string), cl *cluster.Client, root, component string, timeout time.Duration) string {
	t.Helper()
	ref := cluster.ComponentRef{Name: component, App: "app"}
	want, err := treesum.Local(root)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		if ok, what := idle(); !ok {
			last = what
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		ps, err := cl.PodStatus(ctx, ref)
		if err != nil || ps.State != cluster.StateRunning {
			cancel()
			last = fmt.Sprintf("pod %+v %v", ps, err)
			continue
		}
		got, err := treesum.Remote(ctx, cl, ps.Pod, component+"-app", "/tmp/src")
		cancel()
		if err != nil {
			last = err.Error()
			continue
		}
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			return ps.Pod
		}
		last = fmt.Sprintf("pod %s holds\n%s\nwant\n%s", ps.Pod, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	t.Fatalf("the watch did not converge in %s: %s", timeout, last)
	return ""
}

func writeWorkspaceFile(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWatchKeepsTheContainerInStep(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-watch")
	ws := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "nodejs-app"), ws)
	cl, err := cluster.Connect(context.Background(), cluster.Options{Kubeconfig: c.Kubeconfig, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}

	e := startOdod(t, c.Kubeconfig)
	e.mustCall(30*time.Second, protocol.MethodInitialize, protocol.InitializeParams{
		Capabilities:          protocol.ClientCapabilities{Window: &protocol.WindowClientCapabilities{WorkDoneProgress: true}},
		InitializationOptions: &protocol.InitializationOptions{Namespace: ns, LogLevel: "debug"},
	}, nil)
	_ = e.conn.Notify(context.Background(), protocol.MethodInitialized, struct{}{})
	var opened protocol.WorkspaceOpenResult
	e.mustCall(time.Minute, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: ws}).String()}, &opened)
	wsID := opened.WorkspaceID
	e.mustCall(time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{
		WorkspaceID: wsID, Type: "nodejs", Name: "watched", Ports: []string{"8080"},
	}, nil)

	// Start: the first push sends everything.
	mark := e.mark()
	debounce := 100
	var st protocol.WatchStatus
	e.mustCall(time.Minute, protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: wsID, DebounceMs: &debounce}, &st)
	if !st.Active || st.DebounceMs != 100 {
		t.Fatalf("watch/start = %+v", st)
	}
	start := time.Now()
	pod := converge(t, e, cl, wsID, ws, "watched", 10*time.Minute)
	t.Logf("first watch push converged in %s", time.Since(start))
	// The same notifications as odod/push.
	if len(e.since(mark, protocol.MethodPushProgress)) == 0 || len(logsOf(e.since(mark, protocol.MethodLog), protocol.LogBuild)) == 0 {
		t.Fatal("the watch's push sent no odod/push/progress or no build output")
	}
	var desc protocol.DescribeResult
	e.mustCall(time.Minute, protocol.MethodComponentDescribe, protocol.WorkspaceParams{WorkspaceID: wsID}, &desc)
	if !desc.Watch.Active || desc.LastPush == nil {
		t.Fatalf("describe = %+v, want an active watch and a last push", desc)
	}
	var pf protocol.PortForwardResult
	e.mustCall(time.Minute, protocol.MethodPortForward, protocol.PortForwardParams{WorkspaceID: wsID, RemotePort: 8080}, &pf)
	appURL := "http://" + pf.Address + "/"
	get(t, appURL, "Hello from odod v1", 2*time.Minute)

	steps := []struct {
		name   string
		do     func()
		answer string
	}{
		{"edit", func() {
			writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello from odod v2';\n")
		}, "Hello from odod v2"},
		{"create", func() {
			writeWorkspaceFile(t, ws, "lib/name.js", "exports.name = 'watch';\n")
			writeWorkspaceFile(t, ws, "lib/greeting.js", "const { name } = require('./name');\nexports.greeting = () => 'Hello from odod ' + name;\n")
		}, "Hello from odod watch"},
		{"delete", func() {
			if err := os.Remove(filepath.Join(ws, "notes.txt")); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"rename", func() {
			if err := os.Rename(filepath.Join(ws, "lib", "name.js"), filepath.Join(ws, "lib", "who.js")); err != nil {
				t.Fatal(err)
			}
			writeWorkspaceFile(t, ws, "lib/greeting.js", "const { name } = require('./who');\nexports.greeting = () => 'Hello from odod ' + name + ' renamed';\n")
		}, "Hello from odod watch renamed"},
		{"atomic save", func() {
			// An editor's save: write a temporary file, rename it over.
			tmp := filepath.Join(ws, "lib", ".greeting.js.swp")
			if err := os.WriteFile(tmp, []byte("exports.greeting = () => 'Hello from odod v3';\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, filepath.Join(ws, "lib", "greeting.js")); err != nil {
				t.Fatal(err)
			}
		}, "Hello from odod v3"},
	}
	for _, s := range steps {
		before := e.watchStatus(wsID).Pushes
		start := time.Now()
		s.do()
		if got := converge(t, e, cl, wsID, ws, "watched", 3*time.Minute); got != pod {
			t.Fatalf("%s: the pod changed from %s to %s; a file change must not replace it", s.name, pod, got)
		}
		if s.answer != "" {
			get(t, appURL, s.answer, 2*time.Minute)
		}
		t.Logf("%s: converged in %s, %d push(es)", s.name, time.Since(start), e.watchStatus(wsID).Pushes-before)
	}

	// Every kind change, each to each other: file, directory, symlink. The
	// old entry goes first, so nothing is written through a stale link and
	// no push fails on a file where a directory now is.
	kinds := []struct {
		name string
		do   func(p string)
	}{
		{"file", func(p string) { writeWorkspaceFile(t, ws, p, "a file at "+p+"\n") }},
		{"directory", func(p string) { writeWorkspaceFile(t, ws, p+"/inside.txt", "inside "+p+"\n") }},
		{"symlink", func(p string) {
			if err := os.Symlink("../lib", filepath.Join(ws, p)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, from := range kinds {
		for _, to := range kinds {
			if from.name == to.name {
				continue
			}
			p := "kinds/" + from.name + "-to-" + to.name
			from.do(p)
			converge(t, e, cl, wsID, ws, "watched", 3*time.Minute)
			if err := os.RemoveAll(filepath.Join(ws, p)); err != nil {
				t.Fatal(err)
			}
			to.do(p)
			start := time.Now()
			if got := converge(t, e, cl, wsID, ws, "watched", 3*time.Minute); got != pod {
				t.Fatalf("%s: the pod changed from %s to %s", p, pod, got)
			}
			t.Logf("%s: converged in %s", p, time.Since(start))
		}
	}
	get(t, appURL, "Hello from odod v3", 2*time.Minute)

	// A branch switch: two branches that differ in hundreds of files.
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed for the branch switch: %v", err)
	}
	gitIn := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=odod", "-c", "user.email=odod@example.invalid", "-C", ws}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	gitIn("init", "-q", "-b", "main")
	for i := range 200 {
		writeWorkspaceFile(t, ws, fmt.Sprintf("branchy/common%03d.txt", i), fmt.Sprintf("main %d\n", i))
		writeWorkspaceFile(t, ws, fmt.Sprintf("branchy/main-only%03d.txt", i), fmt.Sprintf("only on main %d\n", i))
	}
	gitIn("add", "-A")
	gitIn("commit", "-q", "-m", "main")
	gitIn("checkout", "-q", "-b", "feature")
	for i := range 200 {
		writeWorkspaceFile(t, ws, fmt.Sprintf("branchy/common%03d.txt", i), fmt.Sprintf("feature %d\n", i))
		writeWorkspaceFile(t, ws, fmt.Sprintf("branchy/feature-only%03d.txt", i), fmt.Sprintf("only on feature %d\n", i))
		if err := os.Remove(filepath.Join(ws, fmt.Sprintf("branchy/main-only%03d.txt", i))); err != nil {
			t.Fatal(err)
		}
	}
	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello from the feature branch';\n")
	gitIn("add", "-A")
	gitIn("commit", "-q", "-m", "feature")
	converge(t, e, cl, wsID, ws, "watched", 3*time.Minute)
	get(t, appURL, "Hello from the feature branch", 2*time.Minute)
	for _, branch := range []string{"main", "feature"} {
		before := e.watchStatus(wsID).Pushes
		start := time.Now()
		gitIn("checkout", "-q", branch)
		if got := converge(t, e, cl, wsID, ws, "watched", 3*time.Minute); got != pod {
			t.Fatalf("checkout %s: the pod changed from %s to %s", branch, pod, got)
		}
		t.Logf("git checkout %s (600 paths): converged in %s, %d push(es)", branch, time.Since(start), e.watchStatus(wsID).Pushes-before)
	}
	get(t, appURL, "Hello from the feature branch", 2*time.Minute)
	// Back to the greeting the steps below expect.
	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello from odod v3';\n")
	converge(t, e, cl, wsID, ws, "watched", 3*time.Minute)
	get(t, appURL, "Hello from odod v3", 2*time.Minute)

	// A burst of 300 files (a checkout) during which nothing is lost.
	before := e.watchStatus(wsID).Pushes
	for i := range 300 {
		writeWorkspaceFile(t, ws, fmt.Sprintf("gen/f%03d.txt", i), fmt.Sprintf("file %d\n", i))
	}
	pod = converge(t, e, cl, wsID, ws, "watched", 3*time.Minute)
	t.Logf("300-file burst: %d push(es)", e.watchStatus(wsID).Pushes-before)

	// Delete the pod: the watch resyncs its replacement by itself.
	mark = e.mark()
	if err := c.Client(t).CoreV1().Pods(ns).Delete(context.Background(), pod, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		ps, err := cl.PodStatus(context.Background(), cluster.ComponentRef{Name: "watched", App: "app"})
		if err == nil && ps.Pod != "" && ps.Pod != pod {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new pod: %+v %v", ps, err)
		}
		time.Sleep(time.Second)
	}
	newPod := converge(t, e, cl, wsID, ws, "watched", 5*time.Minute)
	if newPod == pod {
		t.Fatalf("converged on the deleted pod %s", pod)
	}
	t.Logf("pod deleted: resynced %s in %s", newPod, time.Since(start))
	get(t, appURL, "Hello from odod v3", 2*time.Minute)
	// And it keeps watching the new pod.
	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello from odod v4';\n")
	converge(t, e, cl, wsID, ws, "watched", 3*time.Minute)
	get(t, appURL, "Hello from odod v4", 2*time.Minute)
	// Edit the settings by hand: the watch applies them (a new rollout,
	// as the environment changed) and resyncs the new pod.
	cfg, err := config.Load(ws)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ComponentSettings.Envs = append(cfg.ComponentSettings.Envs, config.EnvVar{Name: "ODOD_WATCH_E2E", Value: "edited"})
	if err := config.Save(ws, cfg); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	var envPod string
	for deadline := time.Now().Add(5 * time.Minute); ; {
		envPod = converge(t, e, cl, wsID, ws, "watched", 5*time.Minute)
		var env strings.Builder
		if err := cl.Exec(context.Background(), envPod, "watched-app", []string{"printenv", "ODOD_WATCH_E2E"}, nil, &env, &env); err == nil && strings.TrimSpace(env.String()) == "edited" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the edited settings did not reach the pod")
		}
	}
	t.Logf("settings edited: applied and resynced %s in %s", envPod, time.Since(start))
	newPod = envPod
	get(t, appURL, "Hello from odod v4", 2*time.Minute)
	for _, raw := range e.since(mark, protocol.MethodComponentStateChanged) {
		var p protocol.StateChangedParams
		_ = json.Unmarshal(raw, &p)
		t.Logf("state: %s → %s %s %s", p.From, p.To, p.Reason, p.Message)
	}

	e.mustCall(time.Minute, protocol.MethodWatchStop, protocol.WatchStopParams{WorkspaceID: wsID}, &st)
	if st.Active {
		t.Fatalf("watch/stop = %+v", st)
	}
	e.mustCall(time.Minute, protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: wsID}, &st)

	// The editor goes away while watching (its odod serve ends with the
	// connection); a file changes meanwhile. A new odod serve that opens
	// the workspace resumes its watch, whose first push sends only that
	// file, to the same pod: the index was saved.
	e.mustCall(time.Minute, protocol.MethodShutdown, nil, nil)
	_ = e.conn.Notify(context.Background(), protocol.MethodExit, nil)
	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello from odod v5';\n")
	e2 := startOdod(t, c.Kubeconfig)
	e2.mustCall(30*time.Second, protocol.MethodInitialize, protocol.InitializeParams{
		InitializationOptions: &protocol.InitializationOptions{Namespace: ns},
	}, nil)
	_ = e2.conn.Notify(context.Background(), protocol.MethodInitialized, struct{}{})
	e2.mustCall(time.Minute, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: ws}).String()}, &opened)
	if w := e2.watchStatus(opened.WorkspaceID); !w.Active {
		t.Fatalf("a new odod serve did not resume the workspace's watch: %+v", w)
	}
	if got := converge(t, e2, cl, opened.WorkspaceID, ws, "watched", 3*time.Minute); got != newPod {
		t.Fatalf("after reconnecting, the watch pushed to %s, want the same pod %s", got, newPod)
	}
	e2.mustCall(time.Minute, protocol.MethodComponentDescribe, protocol.WorkspaceParams{WorkspaceID: opened.WorkspaceID}, &desc)
	if lp := desc.LastPush; lp == nil || lp.Full || lp.FilesCopied != 1 || !desc.Watch.Active {
		t.Fatalf("the first watch push after reconnecting = %+v (watch %+v), want the one changed file", lp, desc.Watch)
	}
	// The first odod's forward ended with it.
	e2.mustCall(time.Minute, protocol.MethodPortForward, protocol.PortForwardParams{WorkspaceID: opened.WorkspaceID, RemotePort: 8080}, &pf)
	get(t, "http://"+pf.Address+"/", "Hello from odod v5", 2*time.Minute)
	e2.mustCall(3*time.Minute, protocol.MethodComponentDelete, protocol.ComponentDeleteParams{WorkspaceID: opened.WorkspaceID}, nil)
	if w := e2.watchStatus(opened.WorkspaceID); w.Active {
		t.Fatalf("component/delete left the watch running: %+v", w)
	}
	e2.mustCall(time.Minute, protocol.MethodShutdown, nil, nil)
	_ = e2.conn.Notify(context.Background(), protocol.MethodExit, nil)
}

// TestCLIWatch runs odod watch in a terminal: the same engine as the
// daemon's watch, printing what it does.
func TestCLIWatch(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-cliwatch")
	ws := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "nodejs-app"), ws)
	cl, err := cluster.Connect(context.Background(), cluster.Options{Kubeconfig: c.Kubeconfig, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	odod(t, c.Kubeconfig, "create", "nodejs", "clw", "--context", ws, "--project", ns, "--port", "8080")

	cmd := exec.Command(ododBin, "watch", "--context", ws)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	var out lockedbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("odod watch printed:\n%s", out.String())
		}
	})
	// At rest: the last thing it printed says it waits.
	idle := func() (bool, string) {
		text := strings.TrimSpace(out.String())
		lines := strings.Split(text, "\n")
		lastLine := lines[len(lines)-1]
		return strings.HasPrefix(lastLine, "Waiting for something to change in "), "odod watch: " + lastLine
	}
	pod := convergeWhen(t, idle, cl, ws, "clw", 10*time.Minute)
	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello from odod watch in a terminal';\n")
	if got := convergeWhen(t, idle, cl, ws, "clw", 3*time.Minute); got != pod {
		t.Fatalf("the pod changed from %s to %s on a file edit", pod, got)
	}
	if err := c.Client(t).CoreV1().Pods(ns).Delete(context.Background(), pod, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var newPod string
	for deadline := time.Now().Add(5 * time.Minute); newPod == "" || newPod == pod; {
		newPod = convergeWhen(t, idle, cl, ws, "clw", 5*time.Minute)
		if time.Now().After(deadline) {
			t.Fatalf("odod watch did not resync a new pod")
		}
	}
	if !strings.Contains(out.String(), "Pushed ") {
		t.Fatalf("odod watch printed no push result:\n%s", out.String())
	}
	// Ctrl-C ends it cleanly.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("odod watch after an interrupt: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("odod watch did not end on an interrupt")
	}
	odod(t, c.Kubeconfig, "delete", "--context", ws)
}
