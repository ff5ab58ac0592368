//go:build linux

// Package goinit is the container's PID 1, compatible with the go-init
// odo's init image ships (pablo-ruth/go-init): it runs an optional -pre
// command, then the -main command in its own process group, forwards every
// signal it receives to that group, reaps every zombie (orphans are
// re-parented to PID 1), runs an optional -post command, and exits with
// the main command's status.
package goinit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Options are go-init's flags.
type Options struct {
	Pre, Main, Post string   // command lines, split on whitespace (no shell), as go-init does
	Stdout, Stderr  *os.File // the commands' output (default: go-init's own)
}

// Main parses go-init's command line (-pre, -main, -post, -version) and
// runs; it returns the process exit code.
func Main(args []string, version string, stdout, stderr *os.File) int {
	fs := flag.NewFlagSet("go-init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts Options
	fs.StringVar(&opts.Pre, "pre", "", "command to run before the main command; its failure stops go-init")
	fs.StringVar(&opts.Main, "main", "", "the main command (required)")
	fs.StringVar(&opts.Post, "post", "", "command to run after the main command exits")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "go-init (odod-init)", version)
		return 0
	}
	opts.Stdout, opts.Stderr = stdout, stderr
	return Run(context.Background(), opts)
}

// Run is go-init. Canceling ctx is treated as a SIGTERM to the main
// command. It returns the main command's exit status (128+n when a signal
// n killed it), 1 when -pre fails, 2 when the command line is unusable.
func Run(ctx context.Context, opts Options) int {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	logf := func(format string, args ...any) { fmt.Fprintf(opts.Stderr, "go-init: "+format+"\n", args...) }
	mainArgv := strings.Fields(opts.Main)
	if len(mainArgv) == 0 {
		logf("no main command; use -main \"/path/to/program args\"")
		return 2
	}
	// When not PID 1 (tests, or a shell in front), orphans of the app
	// still come to us to be reaped.
	if os.Getpid() != 1 {
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}

	signals := make(chan os.Signal, 32)
	signal.Notify(signals)
	defer signal.Stop(signals)

	r := &reaper{waiters: map[int]chan syscall.WaitStatus{}}
	reapCtx, stopReaping := context.WithCancel(context.Background())
	reaperDone := make(chan struct{})
	forward := make(chan os.Signal, 32)
	go func() {
		defer close(reaperDone)
		r.loop(reapCtx, signals, forward)
	}()
	defer func() {
		stopReaping()
		<-reaperDone
	}()

	run := func(name string, argv []string) (int, error) {
		pid, done, err := r.start(argv, opts.Stdout, opts.Stderr)
		if err != nil {
			return 0, fmt.Errorf("start %s command %q: %w", name, argv[0], err)
		}
		for {
			select {
			case ws := <-done:
				return exitCode(ws), nil
			case sig := <-forward:
				// Forward to the whole group: a shell's children get it too.
				_ = syscall.Kill(-pid, sig.(syscall.Signal))
			case <-ctx.Done():
				_ = syscall.Kill(-pid, syscall.SIGTERM)
				ctx = context.Background() // once
			}
		}
	}

	if pre := strings.Fields(opts.Pre); len(pre) > 0 {
		code, err := run("pre", pre)
		if err != nil || code != 0 {
			if err == nil {
				err = fmt.Errorf("exit status %d", code)
			}
			logf("pre command %q failed: %v", opts.Pre, err)
			return 1
		}
	}
	code, err := run("main", mainArgv)
	if err != nil {
		logf("%v", err)
		code = 127
	}
	if post := strings.Fields(opts.Post); len(post) > 0 {
		if pcode, err := run("post", post); err != nil || pcode != 0 {
			logf("post command %q failed: %v (exit status %d)", opts.Post, err, pcode)
		}
	}
	return code
}

func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// reaper owns wait4(-1): it collects every child that exits, hands the
// status of the ones go-init started to their waiters and drops orphans.
// Nothing else in the process may wait for children, or statuses would be
// stolen from it.
type reaper struct {
	mu      sync.Mutex
	waiters map[int]chan syscall.WaitStatus
}

// start starts argv in a new process group and registers it before the
// reaper can see it exit (the lock is held across the start).
func (r *reaper) start(argv []string, stdout, stderr *os.File) (int, <-chan syscall.WaitStatus, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return 0, nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{
		Files: []*os.File{os.Stdin, stdout, stderr},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		return 0, nil, err
	}
	pid := proc.Pid
	_ = proc.Release() // the reaper waits for it by pid
	ch := make(chan syscall.WaitStatus, 1)
	r.waiters[pid] = ch
	return pid, ch, nil
}

// loop reaps on SIGCHLD (and every second, as go-init does, in case a
// signal was coalesced) and passes every other signal on to forward.
func (r *reaper) loop(ctx context.Context, signals <-chan os.Signal, forward chan<- os.Signal) {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			r.reap()
			return
		case <-ticker.C:
			r.reap()
		case sig := <-signals:
			switch sig {
			case syscall.SIGCHLD:
				r.reap()
			case syscall.SIGURG:
				// The Go runtime's preemption signal: not from anyone.
			default:
				select {
				case forward <- sig:
				default: // nobody running to forward to, or a burst: drop
				}
			}
		}
	}
}

func (r *reaper) reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		r.mu.Lock()
		ch := r.waiters[pid]
		delete(r.waiters, pid)
		r.mu.Unlock()
		if ch != nil {
			ch <- ws
		}
	}
}
