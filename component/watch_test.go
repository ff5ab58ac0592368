package component

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/protocol"
	odsync "github.com/odod-dev/odod/sync"
)

// fakePusher records the pushes a Watch makes. Each push runs step (when
// set) with its context, and the push's number (1-based).
type fakePusher struct {
	mu      sync.Mutex
	started int
	ended   []error
	step    func(ctx context.Context, n int) error
	pushed  chan int // receives each push's number as it starts
}

func newFakePusher(step func(ctx context.Context, n int) error) *fakePusher {
	return &fakePusher{step: step, pushed: make(chan int, 100)}
}

func (f *fakePusher) Push(ctx context.Context, _ PushOptions) (protocol.PushResult, error) {
	f.mu.Lock()
	f.started++
	n := f.started
	step := f.step
	f.mu.Unlock()
	f.pushed <- n
	var err error
	if step != nil {
		err = step(ctx, n)
	}
	f.mu.Lock()
	f.ended = append(f.ended, err)
	f.mu.Unlock()
	return protocol.PushResult{PushID: "p"}, err
}

func (f *fakePusher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started
}

// waitPush waits for push number n to start.
func (f *fakePusher) waitPush(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-f.pushed:
			if got == n {
				return
			}
			if got > n {
				t.Fatalf("push %d started, waiting for push %d", got, n)
			}
		case <-deadline:
			t.Fatalf("push %d did not start (pushes: %d)", n, f.count())
		}
	}
}

// noMorePushes checks that no push starts within d.
func (f *fakePusher) noMorePushes(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case n := <-f.pushed:
		t.Fatalf("unexpected push %d", n)
	case <-time.After(d):
	}
}

func startWatch(t *testing.T, p Pusher, opts WatchOptions) *Watch {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = zaptest.NewLogger(t)
	}
	w := NewWatch(p, opts)
	w.Start(context.Background())
	t.Cleanup(w.Stop)
	return w
}

func TestWatchPushesOnStartThenOnceForABurst(t *testing.T) {
	p := newFakePusher(nil)
	w := startWatch(t, p, WatchOptions{Debounce: 30 * time.Millisecond})
	p.waitPush(t, 1)
	for range 10 {
		w.Changed(1)
		time.Sleep(5 * time.Millisecond)
	}
	p.waitPush(t, 2)
	p.noMorePushes(t, 150*time.Millisecond)
	if st := w.Status(); !st.Active || st.Pushes != 2 || st.DebounceMs != 30 || st.Pushing {
		t.Fatalf("status %+v", st)
	}
}

func TestWatchStormIsOnePush(t *testing.T) {
	p := newFakePusher(nil)
	w := startWatch(t, p, WatchOptions{Debounce: 10 * time.Millisecond, StormSize: 100, StormDebounce: 200 * time.Millisecond})
	p.waitPush(t, 1)
	// A checkout: big batches 100 ms apart (the index's cap on a batch),
	// then a small last one.
	w.Changed(5000)
	time.Sleep(100 * time.Millisecond)
	w.Changed(4000)
	time.Sleep(100 * time.Millisecond)
	w.Changed(1000)
	time.Sleep(50 * time.Millisecond)
	if p.count() != 1 {
		t.Fatalf("a push started during the storm")
	}
	p.waitPush(t, 2)
	p.noMorePushes(t, 300*time.Millisecond)
}

func TestWatchChangesDuringAPushArePushedRightAfter(t *testing.T) {
	release := make(chan struct{})
	p := newFakePusher(func(ctx context.Context, n int) error {
		if n == 2 {
			<-release
		}
		return nil
	})
	w := startWatch(t, p, WatchOptions{Debounce: time.Millisecond, MaxSupersede: -1})
	p.waitPush(t, 1)
	w.Changed(1)
	p.waitPush(t, 2)
	if !w.Status().Pushing {
		t.Fatal("status does not say pushing")
	}
	// Without superseding, changes during a push wait for it…
	w.Changed(1)
	w.Changed(1)
	p.noMorePushes(t, 50*time.Millisecond)
	close(release)
	// …and are pushed once, right after.
	p.waitPush(t, 3)
	p.noMorePushes(t, 100*time.Millisecond)
}

func TestWatchNewChangesSupersedeTheRunningPush(t *testing.T) {
	p := newFakePusher(func(ctx context.Context, n int) error {
		if n == 2 {
			<-ctx.Done() // a build that would run until cancelled
			return ctx.Err()
		}
		return nil
	})
	var mu sync.Mutex
	var results []bool
	w := startWatch(t, p, WatchOptions{Debounce: time.Millisecond, OnResult: func(_ protocol.PushResult, err error, superseded bool) {
		mu.Lock()
		results = append(results, superseded)
		mu.Unlock()
	}})
	p.waitPush(t, 1)
	w.Changed(1)
	p.waitPush(t, 2)
	w.Changed(1)
	// The running push is cancelled, and one push carries everything.
	p.waitPush(t, 3)
	p.noMorePushes(t, 100*time.Millisecond)
	p.mu.Lock()
	ended := append([]error(nil), p.ended...)
	p.mu.Unlock()
	if len(ended) != 3 || !errors.Is(ended[1], context.Canceled) || ended[2] != nil {
		t.Fatalf("push outcomes %v", ended)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(results) != 3 || results[0] || !results[1] || results[2] {
		t.Fatalf("superseded flags %v", results)
	}
	if st := w.Status(); st.Retrying || st.LastError != "" {
		t.Fatalf("a superseded push is no trouble: %+v", st)
	}
}

func TestWatchSupersedesAtMostMaxSupersedeInARow(t *testing.T) {
	changes := make(chan struct{}, 10)
	p := newFakePusher(func(ctx context.Context, n int) error {
		if n == 1 {
			return nil
		}
		changes <- struct{}{}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
			return nil
		}
	})
	w := startWatch(t, p, WatchOptions{Debounce: time.Millisecond, MaxSupersede: 2})
	p.waitPush(t, 1)
	w.Changed(1)
	// A change during every push: two are cancelled, the third finishes.
	for i := 2; i <= 4; i++ {
		p.waitPush(t, i)
		<-changes
		w.Changed(1)
	}
	p.waitPush(t, 5) // the last change, after the push that finished
	time.Sleep(150 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	cancelled := 0
	for _, err := range p.ended[:4] {
		if err != nil {
			cancelled++
		}
	}
	if cancelled != 2 || p.ended[3] != nil {
		t.Fatalf("push outcomes %v", p.ended)
	}
}

func TestWatchStopDuringAPushCancelsIt(t *testing.T) {
	p := newFakePusher(func(ctx context.Context, n int) error {
		<-ctx.Done()
		return ctx.Err()
	})
	w := NewWatch(p, WatchOptions{Logger: zaptest.NewLogger(t)})
	w.Start(context.Background())
	p.waitPush(t, 1)
	stopped := make(chan struct{})
	go func() { w.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
	p.mu.Lock()
	ended := append([]error(nil), p.ended...)
	p.mu.Unlock()
	if len(ended) != 1 || !errors.Is(ended[0], context.Canceled) {
		t.Fatalf("push outcomes %v", ended)
	}
	w.Changed(1)
	p.noMorePushes(t, 50*time.Millisecond)
	if w.Status().Active {
		t.Fatal("a stopped watch says it is active")
	}
	w.Stop() // twice is fine
}

func TestWatchRetriesWhatMayPassAndTellsOnce(t *testing.T) {
	unreachable := &Error{Code: protocol.CodeClusterUnreachable, Reason: "Unreachable", Message: "the API server does not answer"}
	var fail sync.Mutex
	failing := true
	p := newFakePusher(func(ctx context.Context, n int) error {
		fail.Lock()
		defer fail.Unlock()
		if failing {
			return unreachable
		}
		return nil
	})
	var mu sync.Mutex
	var troubles, recoveries int
	w := startWatch(t, p, WatchOptions{
		Debounce: time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		OnTrouble:   func(error, time.Duration) { mu.Lock(); troubles++; mu.Unlock() },
		OnRecovered: func() { mu.Lock(); recoveries++; mu.Unlock() },
	})
	for i := 1; i <= 4; i++ {
		p.waitPush(t, i)
	}
	// Let the fourth push fail before the cluster comes back.
	for w.Status().Pushes < 4 {
		time.Sleep(time.Millisecond)
	}
	if st := w.Status(); !st.Retrying || st.LastError != unreachable.Message {
		t.Fatalf("status while failing: %+v", st)
	}
	fail.Lock()
	failing = false
	fail.Unlock()
	p.waitPush(t, 5)
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if troubles != 1 || recoveries != 1 {
		t.Fatalf("told the user %d times, recovered %d times; want once each", troubles, recoveries)
	}
	if st := w.Status(); st.Retrying || st.LastError != "" {
		t.Fatalf("status after recovery: %+v", st)
	}
	p.noMorePushes(t, 100*time.Millisecond)
}

func TestWatchDoesNotRetryAFailedBuild(t *testing.T) {
	build := &Error{Code: protocol.CodeBuildFailed, Reason: "BuildFailed", Message: "assemble-and-restart exited with status 2"}
	p := newFakePusher(func(ctx context.Context, n int) error {
		if n == 1 {
			return build
		}
		return nil
	})
	var troubles atomic.Int32
	w := startWatch(t, p, WatchOptions{Debounce: time.Millisecond, MinBackoff: 5 * time.Millisecond,
		OnTrouble: func(error, time.Duration) { troubles.Add(1) },
		Pending:   func() int { return 0 },
	})
	p.waitPush(t, 1)
	p.noMorePushes(t, 100*time.Millisecond)
	if st := w.Status(); st.Retrying || st.LastError == "" {
		t.Fatalf("status after a failed build: %+v", st)
	}
	// The fix: even if it makes nothing pending (a revert), the failed
	// push's files in the container are replaced.
	w.Changed(1)
	p.waitPush(t, 2)
	if troubles.Load() != 0 {
		t.Fatal("a failed build is not trouble to retry")
	}
}

// A build killed by SIGKILL (the out-of-memory killer, a kill -9) says
// nothing about the sources: the watch builds again by itself, a bounded
// number of times in a row, and tells the user once.
func TestWatchRetriesAKilledBuildAFewTimes(t *testing.T) {
	killed := &Error{Code: protocol.CodeBuildFailed, Reason: ReasonBuildKilled, Message: "assemble-and-restart was killed"}
	p := newFakePusher(func(ctx context.Context, n int) error { return killed })
	var troubles, recoveries atomic.Int32
	w := startWatch(t, p, WatchOptions{Debounce: time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond,
		OnTrouble:   func(error, time.Duration) { troubles.Add(1) },
		OnRecovered: func() { recoveries.Add(1) },
		Pending:     func() int { return 0 },
	})
	// The first build and maxKilledBuildRetries retries, then no more.
	for i := 1; i <= 1+maxKilledBuildRetries; i++ {
		p.waitPush(t, i)
	}
	p.noMorePushes(t, 200*time.Millisecond)
	if troubles.Load() != 1 || recoveries.Load() != 0 {
		t.Fatalf("told the user of trouble %d times (want once) and of recovery %d times (want never)", troubles.Load(), recoveries.Load())
	}
	if st := w.Status(); st.Retrying || st.LastError != killed.Message {
		t.Fatalf("status after the retries: %+v", st)
	}
	// A save builds again.
	w.Changed(1)
	p.waitPush(t, 2+maxKilledBuildRetries)
}

func TestWatchSkipsAChangeAlreadyPushed(t *testing.T) {
	var pending sync.Mutex
	n := 1
	p := newFakePusher(func(ctx context.Context, _ int) error {
		pending.Lock()
		n = 0
		pending.Unlock()
		return nil
	})
	w := startWatch(t, p, WatchOptions{Debounce: time.Millisecond, MaxSupersede: -1, Pending: func() int {
		pending.Lock()
		defer pending.Unlock()
		return n
	}})
	p.waitPush(t, 1)
	// The index reported a change that the push just ended carried.
	w.Changed(1)
	p.noMorePushes(t, 100*time.Millisecond)
	pending.Lock()
	n = 1
	pending.Unlock()
	w.Changed(1)
	p.waitPush(t, 2)
}

func TestWatchPushesEditedSettings(t *testing.T) {
	dir := t.TempDir()
	settings := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(settings, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newFakePusher(nil)
	startWatch(t, p, WatchOptions{Debounce: time.Millisecond, SettingsFile: settings, SettingsPoll: 10 * time.Millisecond, Pending: func() int { return 0 }})
	p.waitPush(t, 1)
	p.noMorePushes(t, 50*time.Millisecond)
	if err := os.WriteFile(settings, []byte("a: 22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.waitPush(t, 2)
	p.noMorePushes(t, 50*time.Millisecond)
}

func TestWatchResyncsWhenThePodMoves(t *testing.T) {
	var mu sync.Mutex
	moved := false
	p := newFakePusher(func(context.Context, int) error {
		mu.Lock()
		moved = false
		mu.Unlock()
		return nil
	})
	startWatch(t, p, WatchOptions{Debounce: time.Millisecond, ProbeInterval: 10 * time.Millisecond, Pending: func() int { return 0 },
		Probe: func(context.Context) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			return moved, nil
		}})
	p.waitPush(t, 1)
	p.noMorePushes(t, 50*time.Millisecond)
	mu.Lock()
	moved = true
	mu.Unlock()
	p.waitPush(t, 2)
	p.noMorePushes(t, 50*time.Millisecond)
}

// ctxScripted is the harness's transport whose build ends when its
// context does, as the agent's Run does.
type ctxScripted struct {
	scripted
	building chan struct{}
}

func (s ctxScripted) Run(ctx context.Context, argv, env []string, stdout, stderr io.Writer) (int, error) {
	if argv[0] == initimage.AssembleAndRestartCommand()[0] {
		close(s.building)
		<-ctx.Done()
		return -1, ctx.Err()
	}
	return s.scripted.Run(ctx, argv, env, stdout, stderr)
}

// TestCancelledPushLeavesChangesPending is the engine's side of a
// superseded push: nothing is confirmed, so the next push sends it all.
func TestCancelledPushLeavesChangesPending(t *testing.T) {
	h := newHarness(t, map[string]string{"server.js": "v1"})
	ctx := context.Background()
	if _, err := h.c.Push(ctx, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	building := make(chan struct{})
	c := New(Options{
		Index:     h.idx,
		Connect:   func(context.Context, string) (Cluster, error) { return h.cl, nil },
		InitImage: "init:test",
		Version:   "test",
		Logger:    zaptest.NewLogger(t),
		Dial: func(ctx context.Context, _ odsync.Executor, _ string, log *zap.Logger) (odsync.Transport, error) {
			tr, err := odsync.DialAgent(ctx, agentExec{root: h.p.src}, h.p.src, "test", log)
			if err != nil {
				return nil, err
			}
			return ctxScripted{scripted: scripted{Transport: tr, p: h.p}, building: building}, nil
		},
	})
	t.Cleanup(func() { _ = c.Close() })
	writeFile(t, filepath.Join(h.root, "server.js"), "v2")
	writeFile(t, filepath.Join(h.root, "new.js"), "n")
	h.waitPending(2)
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := c.Push(pctx, PushOptions{}); done <- err }()
	<-building
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled push: %v", err)
	}
	if cs := h.idx.Pending(); cs.Len() != 2 {
		t.Fatalf("pending after a cancelled build = %+v, want both paths", cs)
	}
}

// TestWatchCheckoutStormIsOnePush: 10,000 files written at once (a git
// checkout) through the real index make one push that carries them all.
func TestWatchCheckoutStormIsOnePush(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "server.js"), "v1")
	var watch atomic.Pointer[Watch]
	idx, err := indexer.Open(context.Background(), root, indexer.Options{Logger: zaptest.NewLogger(t), OnChange: func(b indexer.Batch) {
		if w := watch.Load(); w != nil {
			w.Changed(len(b.Changes))
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idx.Close() })
	var mu sync.Mutex
	var carried, completed []int
	p := newFakePusher(func(ctx context.Context, n int) error {
		cs := idx.Pending()
		mu.Lock()
		carried = append(carried, cs.Len())
		mu.Unlock()
		select { // a push takes a moment: apply, sync, build
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
		if err := idx.Confirm(cs, indexer.ConfirmMeta{PodUID: "pod"}); err != nil {
			return err
		}
		mu.Lock()
		completed = append(completed, cs.Len())
		mu.Unlock()
		return nil
	})
	w := NewWatch(p, WatchOptions{Logger: zaptest.NewLogger(t), Pending: func() int { return idx.Pending().Len() }})
	watch.Store(w)
	w.Start(context.Background())
	t.Cleanup(w.Stop)
	p.waitPush(t, 1)
	for w.Status().Pushes != 1 {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	for d := range 20 {
		dir := filepath.Join(root, "src", fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := range 500 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.js", f)), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("10,000 files written in %s", time.Since(start))
	p.waitPush(t, 2)
	// The storm's last batch, the wait after it, the push.
	time.Sleep(6 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	// One push carries the 10,000 files, 20 directories and src. A push
	// that the storm's first small batch started is cancelled by the next
	// batch: it confirms nothing.
	t.Logf("pushes started with %v paths pending", carried)
	if len(completed) != 2 || completed[1] != 10021 || w.Status().Pushing {
		t.Fatalf("pushes completed with %v paths, want the start's and one of 10021", completed)
	}
}
