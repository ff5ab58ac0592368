// Package engine is odod's inner loop for one workspace's component: the
// push (desired objects applied, pod awaited, changes synced through the
// agent, assemble-and-restart streamed, index confirmed), logs, URLs,
// storage, port-forwards, describe and delete. The daemon and the CLI both
// drive it; its boundaries (Cluster, Index, the sync transports) are
// interfaces with fakes in tests.
package component

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/protocol"
	odsync "github.com/odod-dev/odod/sync"
)

// Cluster is what the engine needs of a cluster; *cluster.Client is one.
type Cluster interface {
	Namespace() string
	Platform() cluster.Platform
	Catalog(ctx context.Context) ([]cluster.CatalogEntry, error)
	ResolveType(ctx context.Context, typ string) (cluster.Builder, error)
	InspectImage(ctx context.Context, ref string) (cluster.ImageInfo, error)
	Apply(ctx context.Context, objs cluster.Objects, opts cluster.ApplyOptions) (cluster.ApplyResult, error)
	WaitForPod(ctx context.Context, ref cluster.ComponentRef, opts cluster.WaitOptions) (cluster.Pod, error)
	PodStatus(ctx context.Context, ref cluster.ComponentRef) (cluster.PodStatus, error)
	FollowLogs(ctx context.Context, ref cluster.ComponentRef, opts cluster.LogOptions, emit func(cluster.LogLine)) error
	PortForward(ctx context.Context, pod string, localPort, remotePort int) (*cluster.PortForward, error)
	Describe(ctx context.Context, ref cluster.ComponentRef) (cluster.Description, error)
	ListURLs(ctx context.Context, ref cluster.ComponentRef) ([]cluster.URL, error)
	ListStorage(ctx context.Context, ref cluster.ComponentRef) ([]cluster.Storage, error)
	Delete(ctx context.Context, ref cluster.ComponentRef, opts cluster.DeleteOptions) ([]cluster.ObjectRef, error)
	cluster.Execer
}

// Connector reaches the cluster for a namespace ("" = the kubeconfig's).
type Connector func(ctx context.Context, namespace string) (Cluster, error)

// Index is the workspace index as a push uses it; *indexer.Workspace is one.
type Index interface {
	Root() string
	Pending() indexer.ChangeSet
	Confirm(cs indexer.ChangeSet, meta indexer.ConfirmMeta) error
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
}

// Component is one workspace's component. Its methods are safe for
// concurrent use; pushes run one at a time, in arrival order.
type Component struct {
	opts Options
	root string
	log  *zap.Logger

	pushSlot chan struct{} // holds one token: the right to push

	mu              sync.Mutex
	state           protocol.ComponentState
	transport       odsync.Transport
	transportTarget string // targetID of the container the transport reaches
	lastPush        *protocol.PushResult
	pushSeq         int
	forwards        map[int]forward
	closed          bool
}

// forward is a port-forward kept open by a goroutine; stop ends it and
// waits for the goroutine.
type forward struct {
	result protocol.PortForwardResult
	stop   func()
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
		opts:     opts,
		root:     opts.Index.Root(),
		log:      opts.Logger,
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

// settings loads .odo/config.yaml.
func (c *Component) settings() (*config.LocalConfig, error) {
	return config.Load(c.root)
}

func ref(cfg *config.LocalConfig) cluster.ComponentRef {
	return cluster.ComponentRef{Name: cfg.ComponentSettings.Name, App: cfg.ComponentSettings.App()}
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

func (c *Component) push(ctx context.Context, pushID string, opts PushOptions) (protocol.PushResult, error) {
	res := protocol.PushResult{}
	cfg, err := c.settings()
	if err != nil {
		return res, err
	}
	idx := c.opts.Index
	if opts.DryRun {
		return c.dryRun(cfg, opts), nil
	}

	report := func(phase protocol.PushPhase, p odsync.Progress) {
		pp := protocol.PushProgressParams{PushID: pushID, Phase: phase, FilesDone: p.FilesDone, FilesTotal: p.FilesTotal, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal, Path: p.Path}
		c.progress(pp)
		if opts.Progress != nil {
			opts.Progress(pp)
		}
	}
	report(protocol.PhaseApply, odsync.Progress{})
	cl, err := c.opts.Connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		return res, err
	}
	spec, paths, err := c.spec(ctx, cl, cfg)
	if err != nil {
		return res, err
	}
	objs, err := cluster.Desired(spec)
	if err != nil {
		return res, err
	}
	applied, err := cl.Apply(ctx, objs, cluster.ApplyOptions{Force: opts.Force})
	if err != nil {
		return res, err
	}
	if applied.Changed() || c.State() != protocol.StateRunning {
		c.setState(protocol.StateStarting, "", "waiting for the component's pod")
	}

	report(protocol.PhaseWait, odsync.Progress{})
	pod, err := cl.WaitForPod(ctx, ref(cfg), cluster.WaitOptions{
		Timeout: c.opts.PodTimeout,
		OnState: func(ps cluster.PodStatus) {
			if ps.State == cluster.StateStarting && ps.Reason != "" {
				c.setState(protocol.StateStarting, ps.Reason, ps.Message)
			}
		},
	})
	if err != nil {
		return res, err
	}
	res.Pod = pod.Name

	tr, err := c.transportFor(ctx, cl, pod, path.Join(paths.SrcOrBinPath, "src"))
	if err != nil {
		return res, syncFailed(err)
	}
	res.Transport = tr.Name()

	// What the container holds is known only while it is the same
	// container: a new pod, or a restart of the container in the same pod
	// (its /tmp/src is its own), means a resync.
	target := targetID(pod)
	full := opts.Force || idx.LastPodUID() != target
	if full {
		idx.MarkAllPending()
	}
	cs := idx.Pending()
	plan, err := c.plan(ctx, cs, full, tr)
	if err != nil {
		return res, syncFailed(err)
	}
	res.Full = full
	res.Skipped = plan.Skipped

	if !plan.Empty() {
		c.setState(protocol.StateSyncing, "", fmt.Sprintf("%d files, %d deletions", plan.Files, plan.Deletes))
	}
	report(protocol.PhaseUpload, odsync.Progress{FilesTotal: plan.Files + plan.Deletes, BytesTotal: plan.Bytes})
	applyRes, err := tr.Apply(ctx, plan, odsync.DirSource(c.root), func(p odsync.Progress) { report(protocol.PhaseUpload, p) })
	res.FilesCopied, res.FilesDeleted, res.Bytes = applyRes.FilesCopied, applyRes.FilesDeleted, applyRes.Bytes
	if err != nil {
		c.dropTransport(tr)
		return res, syncFailed(err)
	}
	if err := c.propagateDeletes(ctx, tr, plan, paths); err != nil {
		return res, syncFailed(err)
	}

	if plan.Empty() && !full && !opts.Force && !applied.Changed() {
		// odo: "No file changes detected, skipping build".
		if err := idx.Confirm(cs, indexer.ConfirmMeta{PodUID: target}); err != nil {
			return res, err
		}
		c.setState(protocol.StateRunning, "", "no file changes: build skipped")
		report(protocol.PhaseDone, odsync.Progress{})
		return res, nil
	}

	c.setState(protocol.StateBuilding, "", "running assemble-and-restart")
	report(protocol.PhaseBuild, odsync.Progress{FilesDone: plan.Files + plan.Deletes, FilesTotal: plan.Files + plan.Deletes, BytesDone: res.Bytes, BytesTotal: plan.Bytes})
	stdout := c.lineWriter(protocol.LogBuild, "stdout", pod.Name, pushID)
	stderr := c.lineWriter(protocol.LogBuild, "stderr", pod.Name, pushID)
	code, err := tr.Run(ctx, initimage.AssembleAndRestartCommand(), buildEnv(plan, full, spec), stdout, stderr)
	stdout.Flush()
	stderr.Flush()
	if err != nil {
		c.dropTransport(tr)
		return res, syncFailed(fmt.Errorf("run assemble-and-restart: %w", err))
	}
	res.BuildExitCode = &code
	if code != 0 {
		return res, &Error{Code: protocol.CodeBuildFailed, Reason: "BuildFailed",
			Message:    fmt.Sprintf("assemble-and-restart exited with status %d%s", code, stderr.Tail()),
			Suggestion: "read the build output (odod/log, source build), fix the sources and push again; the files are sent again"}
	}
	// Only now is the container known to hold these files.
	if err := idx.Confirm(cs, indexer.ConfirmMeta{PodUID: target}); err != nil {
		return res, err
	}
	c.setState(protocol.StateRunning, "", "")
	report(protocol.PhaseDone, odsync.Progress{FilesDone: plan.Files + plan.Deletes, FilesTotal: plan.Files + plan.Deletes, BytesDone: res.Bytes, BytesTotal: plan.Bytes})
	return res, nil
}

// targetID names the container a push went to, as the index records it:
// the pod's UID and the container's runtime id.
func targetID(pod cluster.Pod) string {
	if pod.ContainerID == "" {
		return string(pod.UID)
	}
	return string(pod.UID) + "/" + pod.ContainerID
}

// spec resolves the builder and makes the desired objects' input.
func (c *Component) spec(ctx context.Context, cl Cluster, cfg *config.LocalConfig) (cluster.ComponentSpec, cluster.S2IPaths, error) {
	builder, err := cl.ResolveType(ctx, cfg.ComponentSettings.Type)
	if err != nil {
		return cluster.ComponentSpec{}, cluster.S2IPaths{}, err
	}
	info, err := cl.InspectImage(ctx, builder.Image)
	if err != nil {
		return cluster.ComponentSpec{}, cluster.S2IPaths{}, err
	}
	paths, err := cluster.S2IPathsFromImage(info)
	if err != nil {
		return cluster.ComponentSpec{}, cluster.S2IPaths{}, err
	}
	workload := cluster.WorkloadDeployment
	if cfg.ComponentSettings.Workload == string(cluster.WorkloadDeploymentConfig) {
		workload = cluster.WorkloadDeploymentConfig
	}
	spec := cluster.ComponentSpec{
		Namespace:        cl.Namespace(),
		Settings:         cfg.ComponentSettings,
		Builder:          builder,
		Image:            info,
		InitImage:        c.opts.InitImage,
		Workload:         workload,
		RoutesServed:     cl.Platform().Route,
		ManagedByVersion: c.opts.Version,
	}
	if paths.SrcOrBinPath == "" {
		paths.SrcOrBinPath = "/tmp"
	}
	return spec, paths, nil
}

// transportFor returns the open transport to pod, or dials a new one.
func (c *Component) transportFor(ctx context.Context, cl Cluster, pod cluster.Pod, target string) (odsync.Transport, error) {
	c.mu.Lock()
	tr, current := c.transport, c.transportTarget
	c.mu.Unlock()
	if tr != nil && current == targetID(pod) {
		if at, ok := tr.(*odsync.AgentTransport); !ok || !at.Broken() {
			return tr, nil
		}
	}
	if tr != nil {
		c.dropTransport(tr)
	}
	exec := odsync.ContainerExecutor{Execer: cl, Pod: pod.Name, Container: pod.Container}
	tr, err := c.opts.Dial(ctx, exec, target, c.log)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.transport, c.transportTarget = tr, targetID(pod)
	c.mu.Unlock()
	return tr, nil
}

// dropTransport closes a transport that failed, so the next push dials
// again.
func (c *Component) dropTransport(tr odsync.Transport) {
	c.mu.Lock()
	if c.transport == tr {
		c.transport, c.transportTarget = nil, ""
	}
	c.mu.Unlock()
	if err := tr.Close(); err != nil {
		c.log.Debug("closing transport", zap.Error(err))
	}
}

// plan turns the index's pending changes into operations. A full push
// with a transport that can list the container sends only what differs.
func (c *Component) plan(ctx context.Context, cs indexer.ChangeSet, full bool, tr odsync.Transport) (odsync.Plan, error) {
	if !full {
		return odsync.PlanChanges(odsync.Changes{Added: cs.Added, Modified: cs.Modified, Deleted: cs.Deleted}, lookupIn(cs)), nil
	}
	local := localEntries(cs)
	var remote []odsync.Entry
	if lister, ok := tr.(odsync.Lister); ok {
		var err error
		if remote, err = lister.List(ctx); err != nil {
			return odsync.Plan{}, fmt.Errorf("list the container's files: %w", err)
		}
	}
	return odsync.PlanFull(local, remote), nil
}

// localEntries are the entries a full push considers: everything pending
// after MarkAllPending.
func localEntries(cs indexer.ChangeSet) []odsync.Entry {
	local := make([]odsync.Entry, 0, len(cs.Added)+len(cs.Modified))
	for _, list := range [][]string{cs.Added, cs.Modified} {
		for _, p := range list {
			if e, ok := cs.Entry(p); ok {
				local = append(local, toSyncEntry(e))
			}
		}
	}
	return local
}

func lookupIn(cs indexer.ChangeSet) func(string) (odsync.Entry, bool) {
	return func(p string) (odsync.Entry, bool) {
		e, ok := cs.Entry(p)
		if !ok {
			return odsync.Entry{}, false
		}
		return toSyncEntry(e), true
	}
}

func toSyncEntry(e indexer.Entry) odsync.Entry {
	out := odsync.Entry{Path: e.Path, Size: e.Size, Mode: e.Mode, LinkTarget: e.LinkTarget, OutsideLink: e.OutsideWorkspace}
	if e.Hashed {
		out.Hash = odsync.HashString(e.Hash)
	}
	return out
}

// propagateDeletes removes deleted paths from the other S2I directories
// too (the working directory the build copied them to, its backup), as
// odo's PropagateDeletes did: otherwise a deleted file lives on in the app.
func (c *Component) propagateDeletes(ctx context.Context, tr odsync.Transport, plan odsync.Plan, paths cluster.S2IPaths) error {
	var deleted []string
	for _, op := range plan.Ops {
		if op.Kind == odsync.OpDelete {
			deleted = append(deleted, op.Path)
		}
	}
	if len(deleted) == 0 {
		return nil
	}
	target := path.Join(paths.SrcOrBinPath, "src")
	seen := map[string]bool{target: true}
	argv := []string{"rm", "-rf", "--"}
	for _, base := range []string{paths.DeploymentDir, paths.WorkingDir, paths.SrcBackupDir} {
		if base == "" {
			continue
		}
		if path.Base(base) != "src" {
			base = path.Join(base, "src")
		}
		if seen[base] {
			continue
		}
		seen[base] = true
		for _, d := range deleted {
			argv = append(argv, path.Join(base, d))
		}
	}
	if len(argv) == 3 {
		return nil
	}
	var stderr strings.Builder
	code, err := tr.Run(ctx, argv, nil, io.Discard, &stderr)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("remove deleted files from the S2I directories: rm exited %d: %s", code, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// dryRun plans from the index alone.
func (c *Component) dryRun(cfg *config.LocalConfig, opts PushOptions) protocol.PushResult {
	idx := c.opts.Index
	cs := idx.Pending()
	var plan odsync.Plan
	full := opts.Force || idx.LastPodUID() == ""
	if full {
		// Without touching the cluster, a full push may send everything.
		plan = odsync.PlanFull(localEntries(cs), nil)
	} else {
		plan = odsync.PlanChanges(odsync.Changes{Added: cs.Added, Modified: cs.Modified, Deleted: cs.Deleted}, lookupIn(cs))
	}
	res := protocol.PushResult{Full: full, Skipped: plan.Skipped, Operations: []protocol.Operation{}}
	for _, op := range plan.Ops {
		o := protocol.Operation{Op: op.Kind.String(), Path: op.Path}
		if op.Kind == odsync.OpPut {
			o.Bytes = op.Entry.Size
		}
		res.Operations = append(res.Operations, o)
	}
	res.FilesCopied, res.FilesDeleted, res.Bytes = plan.Files, plan.Deletes, plan.Bytes
	return res
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
	c.transport, c.transportTarget = nil, ""
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

var (
	_ Cluster = (*cluster.Client)(nil)
	_ Index   = (*indexer.Workspace)(nil)
)
