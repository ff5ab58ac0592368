package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/daemon"
	"github.com/odod-dev/odod/internal/version"
	"github.com/odod-dev/odod/protocol"
)

// backgroundStartTimeout bounds a background daemon's start: indexing the
// folder, as a push from this process would have done.
const backgroundStartTimeout = 2 * time.Minute

// readyLine is what `odod daemon run` writes on its stdout, once, for the
// terminal that started it.
type readyLine struct {
	Socket string `json:"socket,omitempty"`
	Tag    string `json:"tag,omitempty"`
	Error  string `json:"error,omitempty"`
}

// pushThroughBackground hands the push to the folder's background daemon,
// starting one when there is none. handled is false when the push is this
// process's to do: background daemons are off, the folder is not a
// component (the push from this process says so), or one could not be
// started (said on stderr).
func pushThroughBackground(ctx context.Context, streams stdio, socketDir, dir string, o daemon.TerminalPush) (handled bool, res protocol.PushResult, err error) {
	idle, err := daemon.BackgroundIdle()
	if err != nil {
		fmt.Fprintf(streams.err, "Warning: %v; pushing from this process\n", err)
		return false, res, nil
	}
	if idle == 0 || socketDir == "" {
		return false, res, nil
	}
	tag := daemon.BackgroundTag()
	res, err = daemon.PushThroughBackground(ctx, socketDir, dir, tag, o)
	if !errors.Is(err, daemon.ErrNoDaemon) {
		return true, res, err
	}
	root, rerr := filepath.Abs(dir)
	if rerr != nil || o.DryRun {
		return false, res, nil
	}
	if _, serr := os.Stat(config.Path(root)); serr != nil {
		return false, res, nil
	}
	fmt.Fprintf(streams.err, "Starting odod's background daemon for %s: it watches the folder, and the next pushes are handed to it (it ends after %s without a push; odod daemon stop ends it now)\n", root, idle)
	if err := startBackground(ctx, root, socketDir, tag, idle); err != nil {
		fmt.Fprintf(streams.err, "Warning: %v; pushing from this process\n", err)
		return false, res, nil
	}
	res, err = daemon.PushThroughBackground(ctx, socketDir, dir, tag, o)
	if errors.Is(err, daemon.ErrNoDaemon) {
		fmt.Fprintf(streams.err, "Warning: the background daemon started but does not answer (%v); pushing from this process\n", err)
		return false, res, nil
	}
	return true, res, err
}

// startBackground starts `odod daemon run` for root, detached from this
// terminal, and waits until its socket takes pushes.
func startBackground(ctx context.Context, root, socketDir, tag string, idle time.Duration) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot start a background daemon: %w", err)
	}
	// A test binary would run its tests again, not odod.
	if name := strings.TrimSuffix(filepath.Base(exe), ".exe"); strings.HasSuffix(name, ".test") {
		return errors.New("cannot start a background daemon from a test binary")
	}
	if err := os.MkdirAll(socketDir, 0o700); err != nil {
		return fmt.Errorf("cannot start a background daemon: %w", err)
	}
	logPath, err := daemon.BackgroundLog(socketDir, root)
	if err != nil {
		return fmt.Errorf("cannot start a background daemon: %w", err)
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("cannot start a background daemon: %w", err)
	}
	// The daemon has its own copy.
	defer func() { _ = logFile.Close() }()

	cmd := exec.Command(exe, "daemon", "run", "--context", root, "--socket-dir", socketDir, "--idle", idle.String())
	// Not the folder: a process whose directory it is would keep Windows
	// from deleting it.
	cmd.Dir = os.TempDir()
	cmd.Env = daemon.BackgroundEnv()
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("cannot start a background daemon: %w", err)
	}
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start a background daemon: %w", err)
	}
	lines := make(chan readyLine, 1)
	// Ends with the daemon's first line, or its stdout closing.
	go func() { lines <- readReady(out) }()
	timer := time.NewTimer(backgroundStartTimeout)
	defer timer.Stop()
	var ready readyLine
	select {
	case ready = <-lines:
	case <-ctx.Done():
		ready.Error = ctx.Err().Error()
	case <-timer.C:
		ready.Error = fmt.Sprintf("it did not start within %s", backgroundStartTimeout)
	}
	if ready.Error == "" && ready.Tag != tag {
		ready.Error = "it was started as another odod or with another kubeconfig than this terminal's"
	}
	if ready.Error != "" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("the background daemon did not start: %s (its log: %s)", ready.Error, logPath)
	}
	// It lives on by itself.
	return cmd.Process.Release()
}

// readReady reads the daemon's one line.
func readReady(r io.Reader) readyLine {
	line, err := bufio.NewReader(r).ReadBytes('\n')
	var ready readyLine
	if jerr := json.Unmarshal(line, &ready); jerr != nil {
		if err == nil {
			err = jerr
		}
		return readyLine{Error: fmt.Sprintf("it said no word (%v)", err)}
	}
	return ready
}

func newDaemonCommand(streams stdio) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "The background daemons that odod push starts",
		Long: `In a folder that no editor's odod serve has open, odod push starts a
background daemon for the folder and hands it the push; the next pushes go
to it too. It watches the folder and stays connected to the cluster, so a
push costs the change, not a walk of the whole folder. It ends by itself
after ` + daemon.DefaultBackgroundIdle.String() + ` without a push ($` + daemon.BackgroundIdleEnv + `, a duration; 0 starts
none), when an editor's odod serve opens the folder, when odod or the
kubeconfig changes, or with odod daemon stop. Its log is beside its socket,
in ` + "`$ODOD_SOCKET_DIR`" + ` (default: odod/sockets in the user's cache directory).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newDaemonStopCommand(streams), newDaemonRunCommand(streams))
	return cmd
}

func newDaemonStopCommand(streams stdio) *cobra.Command {
	var (
		dir string
		all bool
	)
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "End the background daemon of the folder (--all: of every folder)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root := dir
			if all {
				root = ""
			}
			sockets, err := daemon.BackgroundSockets(daemon.DefaultSocketDir(), root)
			if err != nil {
				return err
			}
			stopped := 0
			for _, s := range sockets {
				// A daemon whose socket is gone ends at its next look.
				if err := os.Remove(s); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("cannot stop the background daemon of %s: %w", s, err)
				}
				stopped++
			}
			fmt.Fprintf(streams.out, "%s asked to end (each ends within a few seconds)\n", count(stopped, "background daemon", "background daemons"))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "context", ".", "the folder whose background daemon ends")
	cmd.Flags().BoolVar(&all, "all", false, "end the background daemons of every folder")
	return cmd
}

func newDaemonRunCommand(streams stdio) *cobra.Command {
	var (
		dir, socketDir string
		idle           time.Duration
		logs           logFlags
	)
	cmd := &cobra.Command{
		Use:    "run",
		Short:  "Serve one folder's pushes from terminals (what odod push starts)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, level, err := logs.build(streams)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			said := false
			say := func(r readyLine) {
				if said {
					return
				}
				said = true
				_ = json.NewEncoder(streams.out).Encode(r)
				// Nothing else is written there, and the terminal that
				// reads it goes away.
				if c, ok := streams.out.(io.Closer); ok {
					_ = c.Close()
				}
			}
			tag := daemon.BackgroundTag()
			err = daemon.RunBackground(cmd.Context(), daemon.BackgroundOptions{
				Root: dir, SocketDir: socketDir, Tag: tag, CurrentTag: daemon.BackgroundTag, Idle: idle,
				Server: daemon.Options{Logger: log, Level: level, Version: version.String()},
				Ready:  func(socket string) { say(readyLine{Socket: socket, Tag: tag}) },
			})
			if err != nil {
				log.Error("background daemon", zap.Error(err))
				say(readyLine{Error: err.Error()})
			}
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "context", ".", "the folder to serve")
	cmd.Flags().StringVar(&socketDir, "socket-dir", daemon.DefaultSocketDir(), "where the folder's socket goes")
	cmd.Flags().DurationVar(&idle, "idle", daemon.DefaultBackgroundIdle, "end after this long without a push")
	logs.register(cmd)
	return cmd
}
