package component

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/protocol"
	odsync "github.com/odod-dev/odod/sync"
)

// A push runs five phases, each a method taking what the one before
// produced and the cluster role it needs:
//
//	objects  settings → desired objects applied, S2I paths   (Resolver, Applier)
//	pod      → the component's running pod                   (PodWaiter)
//	sync     pod → the pending changes in its container      (Execer, through a transport)
//	build    → assemble-and-restart's exit status            (the transport)
//	confirm  → the index records what the container holds
//
// A failed phase ends the push. Only confirm writes the index, so what was
// not confirmed is sent again by the next push.
func (c *Component) push(ctx context.Context, pushID string, opts PushOptions) (protocol.PushResult, error) {
	var res protocol.PushResult
	cfg, err := c.load()
	if err != nil {
		return res, err
	}
	// Before connecting: a bad name or port must be reported as itself,
	// not as whatever reaching the cluster fails with first.
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	run := pushRun{c: c, id: pushID, progress: opts.Progress}
	if cfg.ComponentSettings.SourceType == config.Git {
		return c.pushGit(ctx, cfg, run, opts)
	}
	if opts.DryRun {
		return c.dryRun(ctx, opts)
	}

	run.report(protocol.PhaseApply, odsync.Progress{})
	timings := &protocol.PushTimings{}
	res.Timings = timings
	lap := stopwatch()
	cl, err := c.connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		return res, err
	}
	objs, err := c.applyObjects(ctx, cl, cfg, opts.Force)
	timings.ObjectsMs = lap()
	if err != nil {
		return res, err
	}

	pod, known := c.knownPod(objs)
	if !known {
		pod, err = c.awaitPod(ctx, cl, cfg, objs.changed, run)
	}
	timings.PodMs = lap()
	if err != nil {
		return res, err
	}
	res.Pod = pod.Name

	synced, err := c.syncFiles(ctx, cl, pod, objs.paths, opts.Force, run)
	timings.SyncMs = lap()
	synced.addTo(&res)
	// From here on the container may hold what the push added, whether or
	// not it gets to confirm: a push that ends otherwise says so to the
	// index, or a file deleted before the next confirmed push would stay
	// in the container for good (found by hack/chaos's load run).
	unconfirmed := func() { c.opts.Index.MayHold(synced.changes) }
	if err != nil && known && ctx.Err() == nil {
		// The pod this daemon knew may be gone (deleted, rescheduled, its
		// container restarted): ask the cluster, once.
		c.log.Debug("sync to the known pod failed; applying and waiting for the pod again", zap.Error(err))
		unconfirmed()
		c.releaseKnownPod()
		return c.push(ctx, pushID, opts)
	}
	if err != nil {
		unconfirmed()
		return res, err
	}

	if synced.plan.Empty() && !synced.full && !opts.Force && !objs.changed {
		// odo: "No file changes detected, skipping build".
		err := c.confirm(synced, "no file changes: build skipped", run)
		if err != nil {
			unconfirmed()
		}
		timings.ConfirmMs = lap()
		return res, err
	}
	res.BuildExitCode, err = c.build(ctx, synced, objs.ports, pod.Name, run)
	timings.BuildMs = lap()
	if err != nil {
		unconfirmed()
		return res, c.podGoneDuringBuild(ctx, cl, cfg, pod, err)
	}
	if err = c.confirm(synced, "", run); err != nil {
		unconfirmed()
	}
	timings.ConfirmMs = lap()
	return res, err
}

// stopwatch returns a function that gives the milliseconds since it was
// last called (or made).
func stopwatch() func() int64 {
	last := time.Now()
	return func() int64 {
		now := time.Now()
		d := now.Sub(last)
		last = now
		return d.Milliseconds()
	}
}

// pushRun reports one push's progress: to the Progress hook and to the
// request that asked for the push.
type pushRun struct {
	c        *Component
	id       string
	progress func(protocol.PushProgressParams)
}

func (r pushRun) report(phase protocol.PushPhase, p odsync.Progress) {
	pp := protocol.PushProgressParams{PushID: r.id, Phase: phase, FilesDone: p.FilesDone, FilesTotal: p.FilesTotal, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal, Path: p.Path}
	r.c.progress(pp)
	if r.progress != nil {
		r.progress(pp)
	}
}

// objectsApplied is what the objects phase did.
type objectsApplied struct {
	// changed is true when the cluster's objects changed: the pod may be
	// new, and the build runs even without file changes.
	changed bool
	// paths are the builder image's S2I directories.
	paths cluster.S2IPaths
	// ports are the app's TCP ports: the build waits until it serves again.
	ports []int
	// unchanged is true when the apply was skipped: the desired objects
	// are those this daemon last applied successfully.
	unchanged bool
}

// applyObjects is the objects phase: it resolves the builder, makes the
// desired objects of the settings and applies them.
func (c *Component) applyObjects(ctx context.Context, cl objectsCluster, cfg *config.LocalConfig, force bool) (objectsApplied, error) {
	spec, paths, err := c.spec(ctx, cl, cfg)
	if err != nil {
		return objectsApplied{}, err
	}
	objs, err := cluster.Desired(spec)
	if err != nil {
		return objectsApplied{}, err
	}
	done := objectsApplied{paths: paths, ports: tcpPorts(spec)}
	key, err := desiredKey(objs)
	if err != nil {
		return objectsApplied{}, err
	}
	if !force && c.appliedAlready(cl, key) {
		done.unchanged = true
		return done, nil
	}
	applied, err := cl.Apply(ctx, objs, cluster.ApplyOptions{Force: force})
	if err != nil {
		return objectsApplied{}, err
	}
	c.recordApplied(cl, key)
	done.changed = applied.Changed()
	return done, nil
}

// awaitPod is the pod phase: it waits for the component's pod to run,
// reporting why it is not running yet.
func (c *Component) awaitPod(ctx context.Context, w PodWaiter, cfg *config.LocalConfig, objectsChanged bool, run pushRun) (cluster.Pod, error) {
	if objectsChanged || c.State() != protocol.StateRunning {
		c.setState(protocol.StateStarting, "", "waiting for the component's pod")
	}
	run.report(protocol.PhaseWait, odsync.Progress{})
	return w.WaitForPod(ctx, ref(cfg), cluster.WaitOptions{
		Timeout: c.opts.PodTimeout,
		OnState: func(ps cluster.PodStatus) {
			if ps.State == cluster.StateStarting && ps.Reason != "" {
				c.setState(protocol.StateStarting, ps.Reason, ps.Message)
			}
		},
	})
}

// synced is what the sync phase did, as far as it went.
type synced struct {
	transport odsync.Transport
	// target is the container the changes went to, as the index records
	// it (targetID).
	target  string
	changes indexer.ChangeSet
	full    bool
	plan    odsync.Plan
	applied odsync.Result
}

// addTo records the sync in a push's result.
func (s synced) addTo(res *protocol.PushResult) {
	if s.transport != nil {
		res.Transport = s.transport.Name()
	}
	res.Full, res.Skipped = s.full, s.plan.Skipped
	res.FilesCopied, res.FilesDeleted, res.Bytes = s.applied.FilesCopied, s.applied.FilesDeleted, s.applied.Bytes
}

// done is the progress of a sync that went through.
func (s synced) done() odsync.Progress {
	files := s.plan.Files + s.plan.Deletes
	return odsync.Progress{FilesDone: files, FilesTotal: files, BytesDone: s.applied.Bytes, BytesTotal: s.plan.Bytes}
}

// syncFiles is the sync phase: it plans the index's pending changes
// against the container and carries them out through the transport.
func (c *Component) syncFiles(ctx context.Context, ex Execer, pod cluster.Pod, paths cluster.S2IPaths, force bool, run pushRun) (synced, error) {
	var s synced
	tr, err := c.transportFor(ctx, ex, pod, path.Join(paths.SrcOrBinPath, "src"))
	if err != nil {
		return s, syncFailed(err)
	}
	s.transport = tr

	// What the container holds is known only while it is the same
	// container: a new pod, or a restart of the container in the same pod
	// (its /tmp/src is its own), means a resync.
	idx := c.opts.Index
	s.target = targetID(pod)
	full := force || idx.LastPodUID() != s.target
	if err := idx.Flush(ctx); err != nil {
		return s, fmt.Errorf("take the workspace's latest changes: %w", err)
	}
	if full {
		idx.MarkAllPending()
	}
	if s.changes, err = c.pushable(idx.Pending()); err != nil {
		return s, err
	}
	plan, err := c.plan(ctx, s.changes, full, tr)
	if err != nil {
		return s, syncFailed(err)
	}
	s.full, s.plan = full, plan

	if !plan.Empty() {
		c.setState(protocol.StateSyncing, "", fmt.Sprintf("%d files, %d deletions", plan.Files, plan.Deletes))
	}
	run.report(protocol.PhaseUpload, odsync.Progress{FilesTotal: plan.Files + plan.Deletes, BytesTotal: plan.Bytes})
	src, err := odsync.OpenRootSource(c.root)
	if err != nil {
		return s, syncFailed(err)
	}
	s.applied, err = tr.Apply(ctx, plan, src, func(p odsync.Progress) { run.report(protocol.PhaseUpload, p) })
	_ = src.Close()
	if err != nil {
		c.dropTransport(tr)
		return s, syncFailed(err)
	}
	if err := c.propagateDeletes(ctx, tr, plan, paths); err != nil {
		return s, syncFailed(err)
	}
	return s, nil
}

// build is the build phase: assemble-and-restart in the container, its
// output streamed to the Log hook. The exit status is nil when the
// command could not be run.
func (c *Component) build(ctx context.Context, s synced, ports []int, pod string, run pushRun) (*int, error) {
	c.setState(protocol.StateBuilding, "", "running assemble-and-restart")
	run.report(protocol.PhaseBuild, s.done())
	stdout := c.lineWriter(protocol.LogBuild, "stdout", pod, run.id)
	stderr := c.lineWriter(protocol.LogBuild, "stderr", pod, run.id)
	code, err := s.transport.Run(ctx, initimage.AssembleAndRestartCommand(), buildEnv(s.plan, s.full, ports), stdout, stderr)
	stdout.Flush()
	stderr.Flush()
	if err != nil {
		c.dropTransport(s.transport)
		return nil, syncFailed(fmt.Errorf("run assemble-and-restart: %w", err))
	}
	if code == exitKilled {
		return &code, &Error{Code: protocol.CodeBuildFailed, Reason: ReasonBuildKilled,
			Message:    fmt.Sprintf("assemble-and-restart was killed (SIGKILL, exit status %d: the kernel's out-of-memory killer, or a kill -9)%s", code, stderr.Tail()),
			Suggestion: "nothing points at the sources: the watch builds again by itself, a few times; if the build keeps being killed, give the container more memory (odod config set MaxMemory 1Gi) and push again"}
	}
	if code != 0 {
		return &code, &Error{Code: protocol.CodeBuildFailed, Reason: "BuildFailed",
			Message:    fmt.Sprintf("assemble-and-restart exited with status %d%s", code, stderr.Tail()),
			Suggestion: "read the build output (odod/log, source build), fix the sources and push again; the files are sent again"}
	}
	return &code, nil
}

// exitKilled is the exit status of a command killed by SIGKILL, in the
// shell's convention (128+9) that the agent reports signals in.
const exitKilled = 137

// ReasonBuildKilled is the Reason of a build killed by SIGKILL: the sources
// may be fine (the out-of-memory killer, a kill -9), so the watch retries it
// a few times.
const ReasonBuildKilled = "BuildKilled"

// podGoneDuringBuild turns a failed build into an error the watch retries
// when the pod it ran in is no longer the component's running pod
// (deleted, evicted, replaced): the build failed because the pod went
// away ("run: ERROR (context canceled)"), which says nothing of the
// sources. Any other error is returned as it is.
func (c *Component) podGoneDuringBuild(ctx context.Context, cl PortForwarder, cfg *config.LocalConfig, pod cluster.Pod, buildErr error) error {
	if Coded(buildErr).Code != protocol.CodeBuildFailed {
		return buildErr
	}
	st, err := cl.PodStatus(ctx, ref(cfg))
	// A status with no state says nothing either way.
	if err != nil || st.State == "" || st.Pod == pod.Name && st.State == cluster.StateRunning {
		return buildErr
	}
	now := string(st.State)
	if st.Pod != "" {
		now = st.Pod + " " + now
	}
	return &Error{Code: protocol.CodeContainerNotReady, Reason: "PodGone",
		Message:    fmt.Sprintf("the build failed as its pod %s went away (the component's pod now: %s): %v", pod.Name, now, buildErr),
		Suggestion: "nothing to fix in the sources: the next push goes to the new pod (the watch retries by itself)", Err: buildErr}
}

// confirm is the last phase: only now is the container known to hold the
// synced changes, and the index records it.
func (c *Component) confirm(s synced, message string, run pushRun) error {
	if err := c.opts.Index.Confirm(s.changes, indexer.ConfirmMeta{PodUID: s.target}); err != nil {
		return err
	}
	c.setState(protocol.StateRunning, "", message)
	run.report(protocol.PhaseDone, s.done())
	return nil
}

func targetID(pod cluster.Pod) string {
	if pod.ContainerID == "" {
		return string(pod.UID)
	}
	return string(pod.UID) + "/" + pod.ContainerID
}

// spec resolves the builder and makes the desired objects' input.

// transportFor returns the open transport to pod, or dials a new one.
func (c *Component) transportFor(ctx context.Context, ex Execer, pod cluster.Pod, target string) (odsync.Transport, error) {
	c.mu.Lock()
	tr, current := c.transport, c.transportTarget
	c.mu.Unlock()
	if tr != nil && current == targetID(pod) && !broken(tr) {
		return tr, nil
	}
	if tr != nil {
		c.dropTransport(tr)
	}
	exec := odsync.ContainerExecutor{Execer: ex, Pod: pod.Name, Container: pod.Container}
	tr, err := c.opts.Dial(ctx, exec, target, c.log)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.transport, c.transportTarget, c.transportPod = tr, targetID(pod), pod
	c.mu.Unlock()
	return tr, nil
}

// dropTransport closes a transport that failed, so the next push dials
// again.
func (c *Component) dropTransport(tr odsync.Transport) {
	c.mu.Lock()
	if c.transport == tr {
		c.transport, c.transportTarget, c.transportPod = nil, "", cluster.Pod{}
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
func (c *Component) dryRun(ctx context.Context, opts PushOptions) (protocol.PushResult, error) {
	idx := c.opts.Index
	_ = idx.Flush(ctx) // a dry run shows what it can; a closed index has nothing pending
	cs, err := c.pushable(idx.Pending())
	if err != nil {
		return protocol.PushResult{}, err
	}
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
	return res, nil
}
