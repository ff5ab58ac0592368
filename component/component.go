// Package component is odod's inner loop for one workspace's component:
// the push (its phases: objects applied, pod awaited, changes synced
// through the agent, assemble-and-restart streamed, index confirmed), logs,
// URLs, storage, port-forwards, describe and delete. The daemon and the
// CLI both drive it; its boundaries (the cluster's roles in cluster.go,
// Index, the sync transports) are interfaces with fakes in tests.
// Settings, URLs and storage need no index: Settings has them alone.
package component

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/protocol"
	odsync "github.com/odod-dev/odod/sync"
)

// Index is the workspace index as a push uses it; *indexer.Workspace is one.
type Index interface {
	Root() string
	// Flush applies the file events the watcher has queued but not yet
	// coalesced, so that a push sent right after a save sees the save.
	Flush(ctx context.Context) error
	Pending() indexer.ChangeSet
	Confirm(cs indexer.ChangeSet, meta indexer.ConfirmMeta) error
	// MayHold is told of a push that ended unconfirmed once its sync had
	// begun: the container may hold what it added.
	MayHold(cs indexer.ChangeSet)
	MarkAllPending()
	LastPodUID() string
}

// Dialer opens a transport into a pod's container; the default dials the
// agent and falls back to tar.
type Dialer func(ctx context.Context, exec odsync.Executor, target string, log *zap.Logger) (odsync.Transport, error)

// Hooks are how the engine reports; each may be nil.
type Hooks struct {
	State    func(from, to protocol.ComponentState, reason, message string)
	Progress func(protocol.PushProgressParams)
	Log      func(protocol.LogParams)
}

// Options configure a Component.
type Options struct {
	Index     Index
	Connect   Connector
	InitImage string
	// Version is odod's, for labels and the agent handshake.
	Version string
	Logger  *zap.Logger
	Hooks   Hooks
	// Dial opens transports; nil means DialTransport.
	Dial Dialer
	// PodTimeout bounds the wait for the pod (default cluster's 240 s).
	PodTimeout time.Duration
	// CommitImage makes and pushes an image built by odod; nil means
	// cluster.CommitImage (tests replace it).
	CommitImage func(ctx context.Context, o cluster.CommitOptions) (string, error)
}

// Component is one workspace's component. Its methods are safe for
// concurrent use; pushes run one at a time, in arrival order.
type Component struct {
	// Settings are the component's settings, URLs and storage; the push
	// makes its objects from them.
	*Settings
	opts Options

	pushSlot chan struct{} // holds one token: the right to push

	mu              sync.Mutex
	state           protocol.ComponentState
	transport       odsync.Transport
	transportTarget string      // targetID of the container the transport reaches
	transportPod    cluster.Pod // the pod it reaches
	// applied is what the last successful apply of this component made the
	// cluster hold; a push whose desired objects are the same skips the
	// apply, and the pod wait while the transport to its pod is open
	// (releasePod and a failed push forget it).
	applied  appliedObjects
	lastPush *protocol.PushResult
	pushSeq  int
	forwards map[int]forward
	closed   bool
}

// forward is a port-forward kept open by a goroutine; stop ends it and
// waits for the goroutine.
type forward struct {
	result protocol.PortForwardResult
	stop   func()
	// debug is set on the debug session's forward (odod/debug/start).
	debug *protocol.DebugSession
}

// New makes a component for a workspace.
func New(opts Options) *Component {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Dial == nil {
		opts.Dial = DialTransport
	}
	c := &Component{
		Settings: NewSettings(SettingsOptions{Root: opts.Index.Root(), Connect: opts.Connect, InitImage: opts.InitImage, Version: opts.Version, Logger: opts.Logger}),
		opts:     opts,
		pushSlot: make(chan struct{}, 1),
		state:    protocol.StateAbsent,
		forwards: map[int]forward{},
	}
	c.pushSlot <- struct{}{}
	return c
}

// DialTransport starts odod's agent in the container, or falls back to tar
// where the container has no agent (not created by odod).
func DialTransport(ctx context.Context, exec odsync.Executor, target string, log *zap.Logger) (odsync.Transport, error) {
	tr, err := odsync.DialAgent(ctx, exec, target, "odod", log)
	if err == nil {
		return tr, nil
	}
	if !errors.Is(err, odsync.ErrNoAgent) {
		return nil, err
	}
	log.Info("no odod agent in the container; falling back to tar", zap.Error(err))
	return odsync.NewTarTransport(ctx, exec, target)
}

// State is the component's last known state.
func (c *Component) State() protocol.ComponentState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *Component) setState(to protocol.ComponentState, reason, message string) {
	c.mu.Lock()
	from := c.state
	c.state = to
	c.mu.Unlock()
	if (from != to || reason != "") && c.opts.Hooks.State != nil {
		c.opts.Hooks.State(from, to, reason, message)
	}
}

func (c *Component) progress(p protocol.PushProgressParams) {
	if c.opts.Hooks.Progress != nil {
		c.opts.Hooks.Progress(p)
	}
}

// PushOptions tune a push.
type PushOptions struct {
	// Force sends every file and builds even when nothing changed.
	Force bool
	// DryRun plans from the index only and touches nothing.
	DryRun bool
	// OnPushID is called with the push's id as soon as it is known.
	OnPushID func(string)
	// Progress, when set, also receives this push's progress (for the
	// request's $/progress), besides Hooks.Progress.
	Progress func(protocol.PushProgressParams)
}

// Push pushes the workspace into the component, as odo push did, and
// better: only what changed since the last confirmed push is sent (all of
// it, or only what differs, to a new pod), and the index is confirmed only
// when the build succeeded.
func (c *Component) Push(ctx context.Context, opts PushOptions) (protocol.PushResult, error) {
	select {
	case <-c.pushSlot:
	case <-ctx.Done():
		return protocol.PushResult{}, ctx.Err()
	}
	defer func() { c.pushSlot <- struct{}{} }()

	c.mu.Lock()
	c.pushSeq++
	pushID := fmt.Sprintf("push-%d", c.pushSeq)
	c.mu.Unlock()
	if opts.OnPushID != nil {
		opts.OnPushID(pushID)
	}
	start := time.Now()
	res, err := c.push(ctx, pushID, opts)
	res.PushID = pushID
	res.DurationMs = time.Since(start).Milliseconds()
	if err != nil {
		c.forgetApplied()
		coded := Coded(err)
		if coded.Code == protocol.CodeRequestCancelled {
			c.setState(protocol.StateError, "Cancelled", "the push was cancelled; push again to finish it")
		} else {
			c.setState(protocol.StateError, coded.Reason, coded.Message)
		}
		return res, err
	}
	if !opts.DryRun {
		c.mu.Lock()
		last := res
		c.lastPush = &last
		c.mu.Unlock()
	}
	return res, nil
}

// LastPush is the last successful push, if any.
func (c *Component) LastPush() *protocol.PushResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastPush == nil {
		return nil
	}
	lp := *c.lastPush
	return &lp
}

// Close stops port-forwards and closes the transport.
func (c *Component) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.releasePod()
}

// releasePod stops what uses the pod: its port-forwards and the transport
// into its container (the next push dials again).
func (c *Component) releasePod() error {
	c.mu.Lock()
	tr := c.transport
	c.transport, c.transportTarget, c.transportPod = nil, "", cluster.Pod{}
	c.applied = appliedObjects{}
	fws := c.forwards
	c.forwards = map[int]forward{}
	c.mu.Unlock()
	for _, f := range fws {
		f.stop()
	}
	if tr != nil {
		return tr.Close()
	}
	return nil
}

// lineWriter turns output into one Log hook call per line, as it comes.
type lineWriter struct {
	c      *Component
	source protocol.LogSource
	stream string
	pod    string
	pushID string
	buf    []byte
	tail   []string // the last lines, for error messages
}

func (c *Component) lineWriter(source protocol.LogSource, stream, pod, pushID string) *lineWriter {
	return &lineWriter{c: c, source: source, stream: stream, pod: pod, pushID: pushID}
}

const maxLine = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			if len(w.buf) > maxLine {
				w.emit(string(w.buf))
				w.buf = w.buf[:0]
			}
			return len(p), nil
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// Flush emits a last line without a newline.
func (w *lineWriter) Flush() {
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func (w *lineWriter) emit(line string) {
	line = strings.TrimSuffix(line, "\r")
	w.tail = append(w.tail, line)
	if len(w.tail) > 5 {
		w.tail = w.tail[1:]
	}
	if w.c.opts.Hooks.Log != nil {
		w.c.opts.Hooks.Log(protocol.LogParams{Source: w.source, Stream: w.stream, Text: line, Pod: w.pod, PushID: w.pushID})
	}
}

// Tail is ": " and the last lines written, for an error message.
func (w *lineWriter) Tail() string {
	if len(w.tail) == 0 {
		return ""
	}
	return ": " + strings.Join(w.tail, " | ")
}

var _ Index = (*indexer.Workspace)(nil)
