package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/daemon"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/internal/throttle"
	"github.com/odod-dev/odod/internal/version"
	"github.com/odod-dev/odod/protocol"
)

// componentFlags are shared by the commands that act on a workspace's
// component from a terminal.
type componentFlags struct {
	cluster   clusterFlags
	dir       string
	initImage string
	out       outputFlag
	logs      logFlags
}

func (f *componentFlags) register(cmd *cobra.Command) {
	f.cluster.register(cmd)
	cmd.Flags().StringVar(&f.dir, "context", ".", "the component's workspace directory")
	cmd.Flags().StringVar(&f.initImage, "init-image", "", "odod's init image (default $ODOD_INIT_IMAGE, else "+initimage.DefaultReference+")")
	f.out.register(cmd)
	cmd.Flags().StringVar(&f.logs.level, "log-level", "warn", "log level on stderr: debug, info, warn or error")
	f.logs.format = "console"
}

// terminalComponent is a workspace's index and component, for one command.
type terminalComponent struct {
	idx  *indexer.Workspace
	comp *component.Component
	log  *zap.Logger
}

// root is the workspace's directory, absolute.
func (f *componentFlags) root() (string, error) {
	root, err := filepath.Abs(f.dir)
	if err != nil {
		return "", fmt.Errorf("--context %s: %w", f.dir, err)
	}
	return root, nil
}

func (f *componentFlags) initImageRef() string {
	if f.initImage != "" {
		return f.initImage
	}
	return initimage.DefaultRef()
}

func (f *componentFlags) connector() component.Connector {
	return func(ctx context.Context, ns string) (component.Cluster, error) { return f.cluster.connect(ctx, ns) }
}

// settings makes the workspace's settings, for the commands that read or
// edit only .odo/config.yaml and the cluster: no index, no walk of the
// workspace.
func (f *componentFlags) settings(streams stdio) (*component.Settings, *zap.Logger, error) {
	if err := f.out.validate(); err != nil {
		return nil, nil, err
	}
	log, _, err := f.logs.build(streams)
	if err != nil {
		return nil, nil, err
	}
	root, err := f.root()
	if err != nil {
		return nil, nil, err
	}
	return component.NewSettings(component.SettingsOptions{
		Root: root, Connect: f.connector(), InitImage: f.initImageRef(), Version: version.String(), Logger: log,
	}), log, nil
}

// open indexes the workspace (against its persisted index: what the last
// push confirmed) and makes its component; watch keeps the watcher on.
func (f *componentFlags) open(ctx context.Context, streams stdio, watch bool, hooks component.Hooks, onBatch func(indexer.Batch)) (*terminalComponent, error) {
	if err := f.out.validate(); err != nil {
		return nil, err
	}
	log, _, err := f.logs.build(streams)
	if err != nil {
		return nil, err
	}
	root, err := f.root()
	if err != nil {
		return nil, err
	}
	idx, err := indexer.Open(ctx, root, indexer.Options{
		Logger:    log,
		NoWatch:   !watch,
		OnChange:  onBatch,
		OnWarning: func(msg string) { fmt.Fprintln(streams.err, "Warning:", msg) },
	})
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", root, err)
	}
	comp := component.New(component.Options{
		Index:     idx,
		Connect:   f.connector(),
		InitImage: f.initImageRef(),
		Version:   version.String(),
		Logger:    log,
		Hooks:     hooks,
	})
	return &terminalComponent{idx: idx, comp: comp, log: log}, nil
}

// close writes the index (what was confirmed) and stops everything.
func (t *terminalComponent) close() error {
	cerr := t.comp.Close()
	ierr := t.idx.Close()
	_ = t.log.Sync()
	return errors.Join(cerr, ierr)
}

// cliError prints an engine error with its suggestion.
func cliError(err error) error {
	if err == nil {
		return nil
	}
	e := component.Coded(err)
	if e.Suggestion != "" && !strings.Contains(e.Message, e.Suggestion) {
		return fmt.Errorf("%s\n  → %s", e.Message, e.Suggestion)
	}
	return errors.New(e.Message)
}

// progressBar draws push progress on stderr: a bar redrawn in place on a
// terminal, a line per phase otherwise.
type progressBar struct {
	streams stdio
	tty     bool
	redraw  *throttle.Throttle
	mu      sync.Mutex
	phase   protocol.PushPhase
}

// barRedrawInterval bounds how often the bar is redrawn.
const barRedrawInterval = 50 * time.Millisecond

func newProgressBar(streams stdio) *progressBar {
	tty := false
	if f, ok := streams.err.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressBar{streams: streams, tty: tty, redraw: throttle.New(barRedrawInterval)}
}

func (b *progressBar) update(p protocol.PushProgressParams) {
	b.mu.Lock()
	defer b.mu.Unlock()
	newPhase := p.Phase != b.phase
	if newPhase && b.tty && b.phase == protocol.PhaseUpload {
		fmt.Fprintln(b.streams.err)
	}
	b.phase = p.Phase
	switch p.Phase {
	case protocol.PhaseUpload:
		if !b.tty {
			if newPhase {
				fmt.Fprintf(b.streams.err, "Syncing %s (%s)\n", count(p.FilesTotal, "file", "files"), humanBytes(p.BytesTotal))
			}
			return
		}
		if !b.redraw.Allow(newPhase || p.FilesDone == p.FilesTotal) {
			return
		}
		const width = 30
		filled := width
		if p.FilesTotal > 0 {
			filled = width * p.FilesDone / p.FilesTotal
		}
		fmt.Fprintf(b.streams.err, "\r [%s%s] %d/%s, %s/%s ", strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
			p.FilesDone, count(p.FilesTotal, "file", "files"), humanBytes(p.BytesDone), humanBytes(p.BytesTotal))
	default:
		if newPhase {
			label := map[protocol.PushPhase]string{
				protocol.PhaseApply: "Applying the component's objects",
				protocol.PhaseWait:  "Waiting for the component's pod",
				protocol.PhaseBuild: "Building (assemble-and-restart)",
			}[p.Phase]
			if label != "" {
				fmt.Fprintln(b.streams.err, label)
			}
		}
	}
}

// count says how many things there are in English: "1 file", "0 files",
// "3 files".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// pushHooks print build output and state changes.
func pushHooks(streams stdio, bar *progressBar, quiet bool) component.Hooks {
	return component.Hooks{
		Progress: func(p protocol.PushProgressParams) {
			if !quiet {
				bar.update(p)
			}
		},
		Log: func(p protocol.LogParams) {
			if p.Source == protocol.LogBuild && quiet {
				fmt.Fprintln(streams.err, p.Text)
				return
			}
			w := streams.out
			if quiet {
				w = streams.err
			}
			fmt.Fprintln(w, p.Text)
		},
		State: func(from, to protocol.ComponentState, reason, message string) {
			// Syncing and Building have their own progress lines; an Error
			// is the command's error, printed once at the end.
			if quiet || to == protocol.StateSyncing || to == protocol.StateBuilding || to == protocol.StateError {
				return
			}
			if reason != "" {
				fmt.Fprintln(streams.err, strings.TrimSpace(fmt.Sprintf("%s: %s %s", to, reason, message)))
			}
		},
	}
}

// printPushResult prints what a push did; by says who pushed, if not this
// process.
func printPushResult(streams stdio, res protocol.PushResult, by string) {
	if res.Operations != nil {
		for _, op := range res.Operations {
			fmt.Fprintf(streams.out, "%-7s %s\n", op.Op, op.Path)
		}
		fmt.Fprintf(streams.out, "Dry run: %s (%s) to copy, %d to delete\n", count(res.FilesCopied, "file", "files"), humanBytes(res.Bytes), res.FilesDeleted)
		return
	}
	if res.BuildExitCode == nil {
		fmt.Fprintf(streams.out, "No file changes detected, build skipped (pushed to %s in %d ms%s). Use --force to push and build anyway.\n", res.Pod, res.DurationMs, by)
		return
	}
	fmt.Fprintf(streams.out, "Pushed %s (%s), deleted %d, to %s via %s in %d ms%s\n",
		count(res.FilesCopied, "file", "files"), humanBytes(res.Bytes), res.FilesDeleted, res.Pod, res.Transport, res.DurationMs, by)
}

func newPushCommand(streams stdio) *cobra.Command {
	var (
		f                       componentFlags
		force, dryRun, noDaemon bool
	)
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Push the workspace's changes into its component and build",
		Long: `Push creates or updates the component on the cluster from .odo/config.yaml,
waits for its pod, sends the files changed since the last confirmed push
into the container (through odod's agent, or tar where there is none),
and runs assemble-and-restart there, printing its output as it comes.
The index (.odo/odo-file-index.json) is saved only when the build
succeeded, so a failed or interrupted push is sent again next time.

When an odod serve (an editor's) has the workspace open, the push is
handed to it: it already knows what changed and is connected, and one
engine, not two, pushes into the container. When none has, the first push
starts a background daemon for the folder and hands the push to it, and
so do the next ones (see odod daemon). --no-daemon, or any of
--kubeconfig, --kube-context and --init-image, pushes from this process.`,
		Example: "  odod push\n  odod push --context ~/src/web --force\n  odod push --dry-run -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.out.validate(); err != nil {
				return err
			}
			bar := newProgressBar(streams)
			hooks := pushHooks(streams, bar, f.out.json())
			if !noDaemon && !cmd.Flags().Changed("kubeconfig") && !cmd.Flags().Changed("kube-context") && !cmd.Flags().Changed("init-image") {
				handoff := daemon.TerminalPush{Force: force, DryRun: dryRun, Progress: hooks.Progress, Log: hooks.Log}
				sockets := daemon.DefaultSocketDir()
				res, err := daemon.PushThroughDaemon(cmd.Context(), sockets, f.dir, handoff)
				if !errors.Is(err, daemon.ErrNoDaemon) {
					return printPush(streams, f.out.json(), res, err, " (through odod serve)")
				}
				if handled, res, err := pushThroughBackground(cmd.Context(), streams, sockets, f.dir, handoff); handled {
					return printPush(streams, f.out.json(), res, err, " (through odod's background daemon)")
				}
			}
			tc, err := f.open(cmd.Context(), streams, false, hooks, nil)
			if err != nil {
				return err
			}
			res, err := tc.comp.Push(cmd.Context(), component.PushOptions{Force: force, DryRun: dryRun})
			if cerr := tc.close(); err == nil && cerr != nil {
				err = cerr
			}
			return printPush(streams, f.out.json(), res, err, "")
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "send every file and build even when nothing changed")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be sent and deleted, touching nothing")
	cmd.Flags().BoolVar(&noDaemon, "no-daemon", false, "push from this process: hand the push to no odod serve, start no background daemon")
	f.register(cmd)
	return cmd
}

// printPush prints a push's result, or its error with what to do (the
// engine's, or odod serve's when the push was handed to it).
func printPush(streams stdio, asJSON bool, res protocol.PushResult, err error, by string) error {
	switch {
	case err != nil:
		return rpcError(err)
	case asJSON:
		return printJSON(streams, res)
	}
	printPushResult(streams, res, by)
	return nil
}

func newLogsCommand(streams stdio) *cobra.Command {
	var (
		f      componentFlags
		follow bool
		tail   int64
	)
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Print the application's output (go-init, supervisord and run)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			settings, log, err := f.settings(streams)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			ctx := cmd.Context()
			if !follow {
				// Without -f: what is there now, then stop.
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 3*time.Second)
				defer cancel()
			}
			err = settings.FollowLogsTo(ctx, "terminal", tail, func(p protocol.LogParams) { fmt.Fprintln(streams.out, p.Text) })
			if err != nil && ctx.Err() == nil {
				return cliError(err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new output, across restarts of the app")
	cmd.Flags().Int64Var(&tail, "tail", 0, "start with that many earlier lines (0: all)")
	f.register(cmd)
	return cmd
}

func newDescribeCommand(streams stdio) *cobra.Command {
	var (
		f            componentFlags
		project, app string
	)
	cmd := &cobra.Command{
		Use:               "describe [NAME]",
		Short:             "Describe the component: its objects, pod, URLs and storage (NAME: any component of the project, from the cluster)",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeComponents(&f.cluster, &project, &app),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if err := f.out.validate(); err != nil {
					return err
				}
				return describeByName(cmd, streams, &f.cluster, project, app, args[0], f.out.json())
			}
			settings, log, err := f.settings(streams)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			d, err := settings.Describe(cmd.Context())
			if err != nil {
				return cliError(err)
			}
			if f.out.json() {
				return printJSON(streams, d)
			}
			w := tabwriter.NewWriter(streams.out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "Component:\t%s (type %s, application %s, namespace %s)\n", d.Name, d.Type, d.App, d.Namespace)
			fmt.Fprintf(w, "State:\t%s %s\n", d.State, d.Reason)
			if d.Pod != "" {
				fmt.Fprintf(w, "Pod:\t%s\n", d.Pod)
			}
			for _, o := range d.Objects {
				fmt.Fprintf(w, "Object:\t%s/%s\n", o.Kind, o.Name)
			}
			for _, u := range d.URLs {
				fmt.Fprintf(w, "URL:\t%s port %d %s %s\n", u.Name, u.Port, u.URL, u.State)
			}
			for _, s := range d.Storage {
				fmt.Fprintf(w, "Storage:\t%s %s at %s, %s\n", s.Name, s.Size, s.Path, s.State)
			}
			for _, l := range d.Links {
				fmt.Fprintf(w, "Link:\t%s %s port %d: %s\n", l.Kind, l.Name, l.Port, strings.Join(l.Env, ", "))
			}
			return w.Flush()
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&project, "project", "", "with NAME: the project to look in (default: the kubeconfig's)")
	cmd.Flags().StringVar(&app, "app", "", "with NAME: the component's app, when several have a component of that name")
	_ = cmd.RegisterFlagCompletionFunc("project", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return projectNames(cmd, &f.cluster, toComplete)
	})
	return cmd
}

func newDeleteCommand(streams stdio) *cobra.Command {
	var (
		f      componentFlags
		noWait bool
	)
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete the component from the cluster (its settings stay)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tc, err := f.open(cmd.Context(), streams, false, component.Hooks{}, nil)
			if err != nil {
				return err
			}
			deleted, err := tc.comp.Delete(cmd.Context(), !noWait)
			if cerr := tc.close(); err == nil && cerr != nil {
				err = cerr
			}
			if err != nil {
				return cliError(err)
			}
			if f.out.json() {
				return printJSON(streams, protocol.ComponentDeleteResult{Deleted: deleted})
			}
			for _, o := range deleted {
				fmt.Fprintf(streams.out, "Deleted %s/%s\n", o.Kind, o.Name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return without waiting until everything is gone")
	f.register(cmd)
	return cmd
}
