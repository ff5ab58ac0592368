package component

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/container/agentserver"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/protocol"
	odsync "github.com/odod-dev/odod/sync"
)

// podDirs maps the container's paths to directories of this machine.
type pod struct {
	src     string // /tmp/src
	workdir string // /opt/app-root/src
	build   func(stdout, stderr io.Writer) int
	runs    [][]string
	envs    [][]string // of the builds
}

// scripted is the agent transport with the pod's commands scripted: the
// build script and rm of the S2I directories.
type scripted struct {
	odsync.Transport
	p *pod
}

// Broken is the agent's: whether its stream ended.
func (s scripted) Broken() bool { return broken(s.Transport) }

func (s scripted) Run(ctx context.Context, argv, env []string, stdout, stderr io.Writer) (int, error) {
	s.p.runs = append(s.p.runs, argv)
	switch argv[0] {
	case initimage.AssembleAndRestartCommand()[0]:
		s.p.envs = append(s.p.envs, env)
		return s.p.build(stdout, stderr), nil
	case "rm":
		mapped := []string{"rm"}
		for _, a := range argv[1:] {
			mapped = append(mapped, strings.Replace(strings.Replace(a, "/opt/app-root/src", s.p.workdir, 1), "/tmp/src", s.p.src, 1))
		}
		err := exec.CommandContext(ctx, mapped[0], mapped[1:]...).Run()
		return 0, err
	}
	return 127, nil
}

// agentExec runs the agent in process; closing gone ends it, as a
// container that goes away ends the exec stream.
type agentExec struct {
	root string
	gone <-chan struct{}
}

func (a agentExec) Exec(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if a.gone != nil {
		stop := context.AfterFunc(ctx, func() {})
		defer stop()
		go func() {
			select {
			case <-a.gone:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return agentserver.Serve(ctx, stdin, stdout, agentserver.Options{Root: a.root, Version: "test"})
}

type recorder struct {
	mu     sync.Mutex
	states []string
	logs   []string
}

func (r *recorder) hooks() Hooks {
	return Hooks{
		State: func(from, to protocol.ComponentState, reason, message string) {
			r.mu.Lock()
			r.states = append(r.states, string(to))
			r.mu.Unlock()
		},
		Log: func(p protocol.LogParams) {
			r.mu.Lock()
			r.logs = append(r.logs, string(p.Source)+":"+p.Text)
			r.mu.Unlock()
		},
	}
}

type harness struct {
	t     *testing.T
	root  string
	idx   *indexer.Workspace
	cl    *fakeCluster
	p     *pod
	c     *Component
	rec   *recorder
	dials int
	// gone is closed when the container the agent runs in goes away.
	gone chan struct{}
}

// replaceContainer gives the pod a new identity (set changes the fake
// cluster's pod or container id) and ends the old container's exec
// streams, as the cluster would.
func (h *harness) replaceContainer(set func(*fakeCluster)) {
	h.cl.mu.Lock()
	set(h.cl)
	h.cl.mu.Unlock()
	close(h.gone)
	h.gone = make(chan struct{})
	// The daemon learns it when the stream ends.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		h.c.mu.Lock()
		tr := h.c.transport
		h.c.mu.Unlock()
		if tr == nil || broken(tr) {
			break
		}
		if time.Now().After(deadline) {
			h.t.Fatal("the transport did not notice its stream ended")
		}
	}
}

func newHarness(t *testing.T, files map[string]string) *harness {
	return newHarnessQuiet(t, files, 5*time.Millisecond)
}

// newHarnessQuiet is newHarness with the watcher's quiet window set.
func newHarnessQuiet(t *testing.T, files map[string]string, quiet time.Duration) *harness {
	t.Helper()
	root := t.TempDir()
	for rel, content := range files {
		writeFile(t, filepath.Join(root, rel), content)
	}
	cfg := config.New("web", "nodejs")
	cfg.ComponentSettings.Ports = []string{"8080"}
	if err := config.Save(root, cfg); err != nil {
		t.Fatal(err)
	}
	idx, err := indexer.Open(context.Background(), root, indexer.Options{Logger: zaptest.NewLogger(t), QuietWindow: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idx.Close() })
	h := &harness{t: t, root: root, idx: idx, cl: &fakeCluster{podUID: "uid-1"}, rec: &recorder{}, gone: make(chan struct{})}
	h.p = &pod{src: filepath.Join(t.TempDir(), "src"), workdir: t.TempDir(), build: func(stdout, stderr io.Writer) int {
		_, _ = io.WriteString(stdout, "+ npm install\nadded 0 packages\n")
		return 0
	}}
	h.c = New(Options{
		Index:     idx,
		Connect:   func(context.Context, string) (Cluster, error) { return h.cl, nil },
		InitImage: "init:test",
		Version:   "test",
		Logger:    zaptest.NewLogger(t),
		Hooks:     h.rec.hooks(),
		Dial: func(ctx context.Context, _ odsync.Executor, target string, log *zap.Logger) (odsync.Transport, error) {
			if target != "/tmp/src" {
				t.Errorf("dial target %q, want /tmp/src", target)
			}
			h.dials++
			tr, err := odsync.DialAgent(ctx, agentExec{root: h.p.src, gone: h.gone}, h.p.src, "test", log)
			if err != nil {
				return nil, err
			}
			return scripted{Transport: tr, p: h.p}, nil
		},
	})
	t.Cleanup(func() { _ = h.c.Close() })
	return h
}

// scripted hides AgentTransport's Lister; expose it again.
func (s scripted) List(ctx context.Context) ([]odsync.Entry, error) {
	return s.Transport.(odsync.Lister).List(ctx)
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitPending waits until the watcher has seen n pending paths.
func (h *harness) waitPending(n int) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.idx.Pending().Len() != n {
		if time.Now().After(deadline) {
			h.t.Fatalf("pending = %+v, want %d paths", h.idx.Pending(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) podFiles() []string {
	var out []string
	_ = filepath.WalkDir(h.p.src, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(h.p.src, p)
			b, _ := os.ReadFile(p)
			out = append(out, rel+"="+string(b))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func TestPushLifecycle(t *testing.T) {
	h := newHarness(t, map[string]string{"server.js": "v1", "package.json": "{}", "lib/a.js": "a"})
	ctx := context.Background()

	// First push: everything, built, confirmed.
	res, err := h.c.Push(ctx, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full || res.FilesCopied != 3 || res.BuildExitCode == nil || *res.BuildExitCode != 0 || res.Transport != "agent" || res.Pod != "pod-uid-1" {
		t.Fatalf("first push = %+v", res)
	}
	if got, want := h.podFiles(), []string{"lib/a.js=a", "package.json={}", "server.js=v1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pod files = %v, want %v", got, want)
	}
	if !h.idx.Pending().Empty() || h.idx.LastPodUID() != "uid-1" {
		t.Fatalf("after push: pending %+v, pod %q", h.idx.Pending(), h.idx.LastPodUID())
	}
	h.rec.mu.Lock()
	states := strings.Join(h.rec.states, ",")
	logs := strings.Join(h.rec.logs, "|")
	h.rec.mu.Unlock()
	if states != "Starting,Starting,Syncing,Building,Running" {
		t.Fatalf("states = %s", states)
	}
	if logs != "build:+ npm install|build:added 0 packages" {
		t.Fatalf("logs = %s", logs)
	}

	// One edit: only that file.
	writeFile(t, filepath.Join(h.root, "server.js"), "v2")
	h.waitPending(1)
	res, err = h.c.Push(ctx, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Full || res.FilesCopied != 1 || res.Bytes != 2 || res.FilesDeleted != 0 {
		t.Fatalf("one-file push = %+v", res)
	}
	if h.dials != 1 {
		t.Fatalf("dialled %d times; the agent stream should be kept open", h.dials)
	}
	// The first build considers every source; this one only the edit.
	if env := strings.Join(h.p.envs[0], " "); strings.Contains(env, "ODOD_PUSH_") {
		t.Errorf("the first push's build got change lists: %q", env)
	}
	if env := strings.Join(h.p.envs[1], " "); !strings.Contains(env, "ODOD_PUSH_INCREMENTAL=true") || !strings.Contains(env, "ODOD_PUSH_CHANGED=server.js ") {
		t.Errorf("the one-file push's build env = %q", env)
	}

	// A deletion reaches /tmp/src and the working directory.
	writeFile(t, filepath.Join(h.p.workdir, "lib", "a.js"), "a")
	if err := os.RemoveAll(filepath.Join(h.root, "lib")); err != nil {
		t.Fatal(err)
	}
	h.waitPending(2)
	res, err = h.c.Push(ctx, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesDeleted != 1 {
		t.Fatalf("delete push = %+v", res)
	}
	if env := strings.Join(h.p.envs[2], " "); !strings.Contains(env, "ODOD_PUSH_DELETED=lib") {
		t.Errorf("the deletion's build env = %q", env)
	}
	if got := h.podFiles(); !reflect.DeepEqual(got, []string{"package.json={}", "server.js=v2"}) {
		t.Fatalf("pod files after delete = %v", got)
	}
	if _, err := os.Stat(filepath.Join(h.p.workdir, "lib")); !os.IsNotExist(err) {
		t.Fatalf("deleted dir still in the working dir: %v", err)
	}

	// Nothing changed: no build.
	runs := len(h.p.runs)
	res, err = h.c.Push(ctx, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.BuildExitCode != nil || res.FilesCopied != 0 || len(h.p.runs) != runs {
		t.Fatalf("no-change push = %+v (runs %d → %d)", res, runs, len(h.p.runs))
	}
}

func TestFailedBuildLeavesChangesPending(t *testing.T) {
	h := newHarness(t, map[string]string{"server.js": "v1"})
	ctx := context.Background()
	if _, err := h.c.Push(ctx, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(h.root, "server.js"), "broken")
	h.waitPending(1)
	h.p.build = func(stdout, stderr io.Writer) int {
		_, _ = io.WriteString(stderr, "SyntaxError: Unexpected identifier\n")
		return 2
	}
	res, err := h.c.Push(ctx, PushOptions{})
	coded := Coded(err)
	if coded.Code != protocol.CodeBuildFailed || !strings.Contains(coded.Message, "SyntaxError") || res.BuildExitCode == nil || *res.BuildExitCode != 2 {
		t.Fatalf("failed build: err %v, result %+v", err, res)
	}
	if h.c.State() != protocol.StateError {
		t.Fatalf("state after a failed build = %s", h.c.State())
	}
	// Not confirmed: the next push sends the file again.
	if h.idx.Pending().Len() != 1 {
		t.Fatalf("pending after failed build = %+v", h.idx.Pending())
	}
	h.p.build = func(io.Writer, io.Writer) int { return 0 }
	writeFile(t, filepath.Join(h.root, "server.js"), "fixed")
	res, err = h.c.Push(ctx, PushOptions{})
	if err != nil || res.FilesCopied != 1 {
		t.Fatalf("push after fix: %+v, %v", res, err)
	}
}

func TestNewPodResyncsOnlyWhatDiffers(t *testing.T) {
	h := newHarness(t, map[string]string{"a.js": "a", "b.js": "b", "c.js": "c"})
	ctx := context.Background()
	if _, err := h.c.Push(ctx, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	// The pod is replaced: its /tmp/src kept a.js and b.js but lost c.js,
	// and has a stray file.
	h.replaceContainer(func(f *fakeCluster) { f.podUID = "uid-2" })
	if err := os.Remove(filepath.Join(h.p.src, "c.js")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(h.p.src, "stray.js"), "s")
	res, err := h.c.Push(ctx, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full || res.FilesCopied != 1 || res.FilesDeleted != 1 || h.dials != 2 {
		t.Fatalf("resync = %+v (dials %d)", res, h.dials)
	}
	if got := h.podFiles(); !reflect.DeepEqual(got, []string{"a.js=a", "b.js=b", "c.js=c"}) {
		t.Fatalf("pod after resync = %v", got)
	}
	if h.idx.LastPodUID() != "uid-2" {
		t.Fatalf("index pod = %q", h.idx.LastPodUID())
	}
}

func TestRestartedContainerIsResynced(t *testing.T) {
	h := newHarness(t, map[string]string{"a.js": "a", "b.js": "b"})
	h.cl.ctrID = "containerd://1"
	ctx := context.Background()
	if _, err := h.c.Push(ctx, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	// The container restarts in the same pod: its /tmp/src starts empty.
	h.replaceContainer(func(f *fakeCluster) { f.ctrID = "containerd://2" })
	if err := os.RemoveAll(h.p.src); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(h.p.src, 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := h.c.Push(ctx, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full || res.FilesCopied != 2 {
		t.Fatalf("push to a restarted container = %+v, want a full push of 2 files", res)
	}
	if got := h.podFiles(); !reflect.DeepEqual(got, []string{"a.js=a", "b.js=b"}) {
		t.Fatalf("container after resync = %v", got)
	}
}

func TestDryRunTouchesNothing(t *testing.T) {
	h := newHarness(t, map[string]string{"a.js": "aaa", "d/b.js": "b"})
	connected := false
	h.c.connect = func(context.Context, string) (Cluster, error) { connected = true; return h.cl, nil }
	res, err := h.c.Push(context.Background(), PushOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if connected || h.dials != 0 {
		t.Fatal("a dry run reached the cluster")
	}
	var ops []string
	for _, o := range res.Operations {
		ops = append(ops, o.Op+" "+o.Path)
	}
	if want := []string{"mkdir d", "put a.js", "put d/b.js"}; !reflect.DeepEqual(ops, want) || res.Bytes != 4 {
		t.Fatalf("dry run = %v (%d bytes), want %v", ops, res.Bytes, want)
	}
	if h.idx.Pending().Empty() {
		t.Fatal("a dry run confirmed the index")
	}
}

func TestPushWithoutSettingsIsNotConfigured(t *testing.T) {
	h := newHarness(t, map[string]string{"a.js": "a"})
	if err := os.Remove(config.Path(h.root)); err != nil {
		t.Fatal(err)
	}
	_, err := h.c.Push(context.Background(), PushOptions{})
	if c := Coded(err); c.Code != protocol.CodeComponentNotConfigured || c.Suggestion == "" {
		t.Fatalf("push without settings: %+v", c)
	}
}

func TestPushesQueueAndCancel(t *testing.T) {
	h := newHarness(t, map[string]string{"a.js": "a"})
	release := make(chan struct{})
	h.p.build = func(io.Writer, io.Writer) int { <-release; return 0 }
	first := make(chan error, 1)
	go func() { _, err := h.c.Push(context.Background(), PushOptions{}); first <- err }()
	// A second push waits for the first; cancelling it while it waits
	// ends it cleanly.
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() { _, err := h.c.Push(ctx, PushOptions{}); second <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued push cancelled: %v", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}

func TestDeleteForgetsTheContainer(t *testing.T) {
	h := newHarness(t, map[string]string{"a.js": "a"})
	if _, err := h.c.Push(context.Background(), PushOptions{}); err != nil {
		t.Fatal(err)
	}
	d, err := h.c.Describe(context.Background())
	if err != nil || d.State != protocol.StateRunning || d.LastPush == nil || d.Name != "web" {
		t.Fatalf("describe = %+v, %v", d, err)
	}
	deleted, err := h.c.Delete(context.Background(), true)
	if err != nil || len(deleted) != 1 {
		t.Fatalf("delete = %v, %v", deleted, err)
	}
	if h.idx.Pending().Len() != 1 || h.c.State() != protocol.StateAbsent {
		t.Fatalf("after delete: pending %+v state %s", h.idx.Pending(), h.c.State())
	}
}

// An editor's save then push: the push must send what was saved, even
// though the watcher's quiet window has not ended yet.
func TestPushRightAfterASaveSendsTheSave(t *testing.T) {
	h := newHarnessQuiet(t, map[string]string{"server.js": "v1", "package.json": "{}"}, time.Hour)
	ctx := context.Background()
	if _, err := h.c.Push(ctx, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(h.root, "server.js"), "v2-saved")
	res, err := h.c.Push(ctx, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesCopied != 1 {
		t.Fatalf("push right after the save copied %d files, want 1 (%+v)", res.FilesCopied, res)
	}
	if got, want := h.podFiles(), []string{"package.json={}", "server.js=v2-saved"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pod files = %v, want %v", got, want)
	}
}

// An edit push with unchanged settings does no apply and no pod wait while
// the transport into the pod is open; a settings change, a forced push and
// a pod that went away make the push ask the cluster again.
func TestEditPushSkipsApplyAndPodWait(t *testing.T) {
	h := newHarness(t, map[string]string{"a.js": "a"})
	ctx := context.Background()
	calls := func() (int, int) {
		h.cl.mu.Lock()
		defer h.cl.mu.Unlock()
		return h.cl.applied, h.cl.waits
	}
	if _, err := h.c.Push(ctx, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(h.root, "a.js"), "a2")
	h.waitPending(1)
	res, err := h.c.Push(ctx, PushOptions{})
	if err != nil || res.FilesCopied != 1 {
		t.Fatalf("edit push: %+v, %v", res, err)
	}
	if a, w := calls(); a != 1 || w != 1 {
		t.Fatalf("after an edit push: %d applies, %d pod waits; want the first push's 1 and 1", a, w)
	}

	// A settings change: applied again.
	cfg, err := config.Load(h.root)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ComponentSettings.Ports = []string{"8080", "9090"}
	if err := config.Save(h.root, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Push(ctx, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if a, _ := calls(); a != 2 {
		t.Fatalf("after a settings change: %d applies, want 2", a)
	}
	// Forced: applied again.
	if _, err := h.c.Push(ctx, PushOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if a, _ := calls(); a != 3 {
		t.Fatalf("after a forced push: %d applies, want 3", a)
	}

	// The pod is replaced while the transport looks open (its end not yet
	// noticed): the sync fails, and the same push asks the cluster and
	// resyncs into the new pod.
	_, waitsBefore := calls()
	h.cl.mu.Lock()
	h.cl.podUID = "uid-2"
	h.cl.mu.Unlock()
	h.c.mu.Lock()
	h.c.transport = deadTransport{h.c.transport}
	h.c.mu.Unlock()
	writeFile(t, filepath.Join(h.root, "a.js"), "a3")
	h.waitPending(1)
	res, err = h.c.Push(ctx, PushOptions{})
	if err != nil || !res.Full || res.Pod != "pod-uid-2" {
		t.Fatalf("push after the pod went away: %+v, %v", res, err)
	}
	if _, w := calls(); w != waitsBefore+1 {
		t.Fatalf("pod waits %d -> %d, want one more", waitsBefore, w)
	}
	if got := h.podFiles(); !reflect.DeepEqual(got, []string{"a.js=a3"}) {
		t.Fatalf("the new pod holds %v", got)
	}
}

// deadTransport is a transport whose stream is gone but not yet noticed.
type deadTransport struct{ odsync.Transport }

func (deadTransport) Apply(context.Context, odsync.Plan, odsync.Source, func(odsync.Progress)) (odsync.Result, error) {
	return odsync.Result{}, errors.New("write to the agent: broken pipe")
}

// TestBuildFailingAsThePodGoesIsRetryable: the pod is deleted during the
// build (found by hack/chaos: the pod deleted with grace period 0), so
// assemble-and-restart fails ("run: ERROR (context canceled)"). That says
// nothing of the sources: the error must be one the watch retries on the
// next pod, not BuildFailed, which waits for the developer's next save.
// A build that fails while its pod still runs stays BuildFailed.
func TestBuildFailingAsThePodGoesIsRetryable(t *testing.T) {
	h := newHarness(t, map[string]string{"server.js": "v1"})
	ctx := context.Background()
	if _, err := h.c.Push(ctx, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(h.root, "server.js"), "v2")
	h.waitPending(1)
	h.cl.podState = cluster.PodStatus{State: cluster.StateRunning, Pod: "pod-uid-1"}
	h.p.build = func(stdout, stderr io.Writer) int { return 1 }
	if _, err := h.c.Push(ctx, PushOptions{}); Coded(err).Code != protocol.CodeBuildFailed {
		t.Fatalf("a build failing in a running pod: %v, want BuildFailed", err)
	}
	h.p.build = func(stdout, stderr io.Writer) int {
		h.cl.podState = cluster.PodStatus{State: cluster.StateStarting, Pod: "pod-uid-2", Reason: "ContainerCreating"}
		_, _ = io.WriteString(stderr, "run: ERROR (context canceled)\n")
		return 1
	}
	_, err := h.c.Push(ctx, PushOptions{})
	if Coded(err).Code == protocol.CodeBuildFailed || !retryable(err) || !strings.Contains(err.Error(), "pod-uid-1") {
		t.Fatalf("a build failing as its pod goes: %v (code %d), want an error the watch retries that names the pod", err, Coded(err).Code)
	}
	if h.idx.Pending().Len() != 1 {
		t.Fatalf("pending after the pod went = %+v", h.idx.Pending())
	}
}

// TestFileOfAnUnconfirmedPushDeletedLeavesTheContainer: a push sends a new
// file and ends unconfirmed (here its build fails; in a watch, newer changes
// cancel it); the file is deleted before the next push. Found by hack/chaos's
// load run: such files stayed in the container for good, nothing pending.
func TestFileOfAnUnconfirmedPushDeletedLeavesTheContainer(t *testing.T) {
	h := newHarness(t, map[string]string{"server.js": "v1"})
	ctx := context.Background()
	if _, err := h.c.Push(ctx, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(h.root, "extra.js"), "x")
	h.waitPending(1)
	h.p.build = func(io.Writer, io.Writer) int { return 1 }
	if _, err := h.c.Push(ctx, PushOptions{}); Coded(err).Code != protocol.CodeBuildFailed {
		t.Fatalf("push with a failing build: %v", err)
	}
	if got := h.podFiles(); !reflect.DeepEqual(got, []string{"extra.js=x", "server.js=v1"}) {
		t.Fatalf("the pod holds %v after the failed push", got)
	}
	if err := os.Remove(filepath.Join(h.root, "extra.js")); err != nil {
		t.Fatal(err)
	}
	h.waitPending(1) // the deletion, not nothing
	h.p.build = func(io.Writer, io.Writer) int { return 0 }
	if _, err := h.c.Push(ctx, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := h.podFiles(); !reflect.DeepEqual(got, []string{"server.js=v1"}) {
		t.Fatalf("the pod holds %v, want the deleted file gone", got)
	}
}
