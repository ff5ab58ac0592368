package component

import (
	"context"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/protocol"
)

// Pusher is what a Watch drives; *Component is one.
type Pusher interface {
	Push(ctx context.Context, opts PushOptions) (protocol.PushResult, error)
}

// WatchOptions tune a Watch. The zero value is usable.
type WatchOptions struct {
	// Debounce is how long the watch waits after the last change before
	// it pushes, on top of the index's own coalescing (default 0: the
	// index already waits for a save to settle, 15 ms, or for a bigger
	// batch to go quiet, 50 ms; changes during a push supersede it).
	Debounce time.Duration
	// After a batch of at least StormSize changes (default 200: a git
	// checkout, an npm install) the wait is StormDebounce instead (default
	// 1.5 s, more than the index's 1 s cap on one batch), so that the
	// storm's later batches join it and it is one push.
	StormSize     int
	StormDebounce time.Duration
	// MinBackoff and MaxBackoff bound the waits between retries of a push
	// that failed for a reason that may pass (default 1 s doubling up to
	// 15 s).
	MinBackoff, MaxBackoff time.Duration
	// MaxSupersede is how many pushes in a row newer changes may cancel
	// before one is let finish (default 2): a steady trickle of changes
	// still gets pushed.
	MaxSupersede int

	// Pending, when set, says how many paths wait to be pushed: a change
	// that the push just ended already carried does not push again.
	Pending func() int
	// SettingsFile (.odo/config.yaml) is polled every SettingsPoll (default
	// 1 s): an edit pushes, which applies the objects with the new
	// settings.
	SettingsFile string
	SettingsPoll time.Duration
	// Probe, when set, is called every ProbeInterval (default 3 s) while
	// the watch is idle after a good push; true means the component's pod
	// is no longer the one pushed to (deleted, rescheduled), and the watch
	// pushes, which resyncs the new pod.
	Probe         func(ctx context.Context) (bool, error)
	ProbeInterval time.Duration

	// OnResult is called after each push; superseded is true when newer
	// changes cancelled it (they are pushed next, with its own).
	OnResult func(res protocol.PushResult, err error, superseded bool)
	// OnTrouble is called with the first failure of a streak that the
	// watch retries (once per streak, not per retry); OnRecovered when a
	// push gets through again.
	OnTrouble   func(err error, retryIn time.Duration)
	OnRecovered func()
	Logger      *zap.Logger
}

func (o WatchOptions) withDefaults() WatchOptions {
	if o.Debounce < 0 {
		o.Debounce = 0
	}
	if o.StormSize <= 0 {
		o.StormSize = 200
	}
	if o.StormDebounce <= 0 {
		o.StormDebounce = 1500 * time.Millisecond
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(15*time.Second, o.MinBackoff)
	}
	if o.MaxSupersede < 0 {
		o.MaxSupersede = 0
	} else if o.MaxSupersede == 0 {
		o.MaxSupersede = 2
	}
	if o.SettingsPoll <= 0 {
		o.SettingsPoll = time.Second
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = 3 * time.Second
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o
}

// DefaultDebounce is a Watch's wait after the last change, on top of the
// index's.
const DefaultDebounce time.Duration = 0

// Watch pushes a workspace's changes as they happen: a reconciler, as
// Tilt's, that owns one goroutine and at most one push in flight. Changes
// mark it dirty; it pushes once they settle. Changes that arrive during a
// push cancel it (it has not confirmed anything: its files stay pending)
// and one push then carries them all; after MaxSupersede cancellations in
// a row, the push is let finish and the changes follow it. A push that
// failed for a reason that may pass is retried with backoff; the changes
// stay pending meanwhile, since only a good push confirms them.
type Watch struct {
	pusher Pusher
	opts   WatchOptions
	log    *zap.Logger
	wake   chan struct{}

	mu       sync.Mutex
	debounce time.Duration
	stop     context.CancelFunc // ends the goroutine; nil before Start
	done     chan struct{}
	// The work to do: want is set by a change, force by a reason to push
	// even when no path is pending (the start, new settings, a new pod, a
	// retry, a push that failed after sending files).
	want, force bool
	changedAt   time.Time
	storm       bool
	// The push in flight.
	pushing    bool
	cancelPush context.CancelFunc
	superseded bool
	supersedes int // pushes cancelled in a row
	// The outcome of the last pushes.
	pushes   int
	goodOnce bool
	failed   bool // the last push failed: the container may hold unconfirmed files
	trouble  bool // failing for a reason that may pass, retried
	backoff  time.Duration
	retryAt  time.Time
	lastErr  string
	// killedBuilds counts the builds killed by SIGKILL in a row.
	killedBuilds int
}

// NewWatch makes a watch; Start starts it.
func NewWatch(p Pusher, opts WatchOptions) *Watch {
	opts = opts.withDefaults()
	return &Watch{pusher: p, opts: opts, log: opts.Logger, wake: make(chan struct{}, 1), debounce: opts.Debounce}
}

// Start starts the watch's goroutine, which pushes at once (what is
// pending, or a resync to a new pod) and then on each change, until Stop
// or ctx ends. Starting a started watch does nothing.
func (w *Watch) Start(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		return
	}
	ctx, w.stop = context.WithCancel(ctx)
	w.done = make(chan struct{})
	w.want, w.force, w.changedAt = true, true, time.Now()
	go w.run(ctx, w.done)
}

// Stop cancels the push in flight, if any, and returns when the
// goroutine has ended. The cancelled push's changes stay pending.
func (w *Watch) Stop() {
	w.mu.Lock()
	stop, done := w.stop, w.done
	w.mu.Unlock()
	if stop == nil {
		return
	}
	stop()
	<-done
}

// Changed marks the watch dirty: n paths changed (one index batch).
func (w *Watch) Changed(n int) {
	w.mu.Lock()
	w.want = true
	w.changedAt = time.Now()
	// A storm's wait lasts until the push: its last, small batch must not
	// cut it short.
	w.storm = w.storm || n >= w.opts.StormSize
	w.supersedeLocked()
	w.mu.Unlock()
	w.signal()
}

// SetDebounce changes the wait after the last change.
func (w *Watch) SetDebounce(d time.Duration) {
	w.mu.Lock()
	w.debounce = max(d, 0)
	w.mu.Unlock()
	w.signal()
}

// Status says what the watch does.
func (w *Watch) Status() protocol.WatchStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := protocol.WatchStatus{
		Active:     w.stop != nil,
		DebounceMs: int(w.debounce / time.Millisecond),
		Pushing:    w.pushing,
		Pushes:     w.pushes,
		Retrying:   w.trouble,
		LastError:  w.lastErr,
	}
	if w.trouble {
		st.RetryInMs = max(time.Until(w.retryAt).Milliseconds(), 0)
	}
	if st.Active {
		select {
		case <-w.done:
			st.Active = false
		default:
		}
	}
	return st
}

// supersedeLocked cancels the push in flight for newer changes, unless
// too many were cancelled in a row.
func (w *Watch) supersedeLocked() {
	if !w.pushing || w.cancelPush == nil || w.superseded || w.supersedes >= w.opts.MaxSupersede {
		return
	}
	w.superseded = true
	w.supersedes++
	w.cancelPush()
}

func (w *Watch) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// mark records a reason to push even when nothing is pending.
func (w *Watch) mark() {
	w.mu.Lock()
	w.want, w.force, w.changedAt = true, true, time.Now()
	w.mu.Unlock()
	w.signal()
}

// due says when the next push may start.
func (w *Watch) due() (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.want {
		return time.Time{}, false
	}
	wait := w.debounce
	if w.storm {
		wait = max(wait, w.opts.StormDebounce)
	}
	at := w.changedAt.Add(wait)
	if w.trouble && w.retryAt.After(at) {
		at = w.retryAt
	}
	return at, true
}

// probeWanted: only a watch at rest after a good push checks its pod.
func (w *Watch) probeWanted() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.goodOnce && !w.want && !w.failed && !w.trouble
}

func (w *Watch) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	var settingsC, probeC <-chan time.Time
	var settings fileStamp
	if w.opts.SettingsFile != "" {
		settings = stampOf(w.opts.SettingsFile)
		t := time.NewTicker(w.opts.SettingsPoll)
		defer t.Stop()
		settingsC = t.C
	}
	if w.opts.Probe != nil {
		t := time.NewTicker(w.opts.ProbeInterval)
		defer t.Stop()
		probeC = t.C
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		if at, ok := w.due(); ok {
			if d := time.Until(at); d <= 0 {
				w.pushOnce(ctx)
				if ctx.Err() != nil {
					return
				}
				continue
			} else {
				timer.Reset(d)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		case <-settingsC:
			if now := stampOf(w.opts.SettingsFile); now != settings {
				settings = now
				w.log.Info("the component's settings changed: pushing them", zap.String("file", w.opts.SettingsFile))
				w.mark()
			}
		case <-probeC:
			if !w.probeWanted() {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			moved, err := w.opts.Probe(pctx)
			cancel()
			if err != nil {
				w.log.Debug("cannot check the component's pod", zap.Error(err))
			} else if moved {
				w.log.Info("the component's pod changed: resyncing it")
				w.mark()
			}
		}
		timer.Stop()
	}
}

// pushOnce runs one push and records its outcome.
func (w *Watch) pushOnce(ctx context.Context) {
	w.mu.Lock()
	force := w.force || w.failed
	w.want, w.force, w.storm = false, false, false
	w.mu.Unlock()
	if !force && w.opts.Pending != nil && w.opts.Pending() == 0 {
		// What changed went with the push that just ended.
		return
	}

	pctx, cancel := context.WithCancel(ctx)
	w.mu.Lock()
	w.pushing, w.cancelPush, w.superseded = true, cancel, false
	w.mu.Unlock()
	res, err := w.pusher.Push(pctx, PushOptions{})
	cancel()

	w.mu.Lock()
	w.pushing, w.cancelPush = false, nil
	superseded := w.superseded && err != nil
	w.pushes++
	var troubleStarts, recovered bool
	var retryIn time.Duration
	switch {
	case ctx.Err() != nil:
		// Stopped: the push was cancelled with the watch.
		w.failed = err != nil
	case superseded:
		// Newer changes cancelled it: they are pushed next, with its own.
		w.failed = true
	case err == nil:
		w.failed, w.supersedes, w.lastErr, w.goodOnce, w.killedBuilds = false, 0, "", true, 0
		recovered = w.trouble
		w.trouble, w.backoff = false, 0
	default:
		w.failed, w.supersedes, w.lastErr = true, 0, Coded(err).Message
		killed := Coded(err).Reason == ReasonBuildKilled
		if killed {
			w.killedBuilds++
		} else {
			w.killedBuilds = 0
		}
		if retryable(err) || killed && w.killedBuilds <= maxKilledBuildRetries {
			troubleStarts = !w.trouble
			w.trouble = true
			if w.backoff == 0 {
				w.backoff = w.opts.MinBackoff
			} else {
				w.backoff = min(2*w.backoff, w.opts.MaxBackoff)
			}
			retryIn = w.backoff
			w.retryAt = time.Now().Add(w.backoff)
			w.want, w.force = true, true
		} else {
			// A failed build, bad settings, a build killed again and
			// again: retrying would fail the same way. The next change
			// pushes again. (Builds that keep being killed have not
			// recovered: the user is told by the failure itself.)
			recovered = w.trouble && !killed
			w.trouble, w.backoff = false, 0
		}
	}
	w.mu.Unlock()

	if ctx.Err() != nil {
		return
	}
	if w.opts.OnResult != nil {
		w.opts.OnResult(res, err, superseded)
	}
	if troubleStarts && w.opts.OnTrouble != nil {
		w.opts.OnTrouble(err, retryIn)
	}
	if recovered && w.opts.OnRecovered != nil {
		w.opts.OnRecovered()
	}
}

// maxKilledBuildRetries bounds the retries of builds killed by SIGKILL in a
// row: once, a kill -9 or a memory spike; every time, a container too small
// for the build, which only the user can change.
const maxKilledBuildRetries = 3

// retryable says whether a push's failure may pass by itself: the cluster
// unreachable, the pod not there yet or gone, the stream into it dropped.
// A failed build or bad settings need the user.
func retryable(err error) bool {
	switch Coded(err).Code {
	case protocol.CodeClusterUnreachable, protocol.CodeContainerNotReady, protocol.CodeSyncFailed,
		protocol.CodeRequestFailed, protocol.CodeRequestCancelled:
		return true
	}
	return false
}

// fileStamp tells whether a file changed without reading it.
type fileStamp struct {
	exists bool
	size   int64
	mtime  time.Time
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{exists: true, size: fi.Size(), mtime: fi.ModTime()}
}

// PodMoved reports whether the component's pod is no longer the one the
// last push went to (deleted, rescheduled, or gone): a Watch's Probe. It
// is false before the first push.
func (c *Component) PodMoved(ctx context.Context) (bool, error) {
	last := c.LastPush()
	if last == nil || last.Pod == "" {
		return false, nil
	}
	cfg, cl, err := c.connected(ctx)
	if err != nil {
		return false, err
	}
	st, err := cl.PodStatus(ctx, ref(cfg))
	if err != nil {
		return false, err
	}
	return st.Pod != last.Pod, nil
}
