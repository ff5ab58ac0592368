//go:build linux

package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// State is a program's state, named as supervisord names them.
type State string

// Program states (supervisord's process state machine).
const (
	Stopped  State = "STOPPED"
	Starting State = "STARTING"
	Running  State = "RUNNING"
	Backoff  State = "BACKOFF"
	Stopping State = "STOPPING"
	Exited   State = "EXITED"
	Fatal    State = "FATAL"
)

// Options configure a Supervisor.
type Options struct {
	Logger *zap.Logger
	// Stdout and Stderr receive the output of programs logging to
	// /dev/stdout and /dev/stderr (default: the process's own).
	Stdout, Stderr io.Writer
	// BackoffUnit: after the n-th failed start the program waits n units
	// before trying again (supervisord: one second).
	BackoffUnit time.Duration
	// NoStandby turns off the standby process of programs configured with
	// standby=true (odod-init sets it when ODOD_STANDBY=false).
	NoStandby bool
}

// Status is one program's state as `supervisord ctl status` shows it.
type Status struct {
	Name     string    `json:"name"`
	State    State     `json:"state"`
	PID      int       `json:"pid,omitempty"`
	Since    time.Time `json:"since"`              // when the state was entered
	ExitCode int       `json:"exitCode,omitempty"` // of the last exit
	Message  string    `json:"message,omitempty"`  // why it is FATAL/BACKOFF/EXITED
	Restarts int       `json:"restarts"`           // automatic restarts since the supervisor started
	// StandbyPID is the process waiting to take over at the next restart
	// (standby=true), 0 when there is none.
	StandbyPID int `json:"standbyPid,omitempty"`
}

// Supervisor runs the programs of one configuration.
type Supervisor struct {
	cfg      *Config
	opts     Options
	log      *zap.Logger
	programs map[string]*program
	order    []string
}

// New prepares a supervisor; Run starts it.
func New(cfg *Config, opts Options) *Supervisor {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.BackoffUnit <= 0 {
		opts.BackoffUnit = time.Second
	}
	s := &Supervisor{cfg: cfg, opts: opts, log: opts.Logger, programs: map[string]*program{}}
	for _, pc := range cfg.Programs {
		s.programs[pc.Name] = &program{
			cfg: pc, sup: s, state: Stopped, since: time.Now(),
			changed: make(chan struct{}), cmds: make(chan command), exits: make(chan exitEvent, 1),
			prepare: make(chan struct{}, 1),
		}
		s.order = append(s.order, pc.Name)
	}
	return s
}

// Run starts the autostart programs, serves the control socket, and keeps
// everything running until ctx is done; then it stops every program
// (stopsignal, then SIGKILL after stopwaitsecs) and returns.
func (s *Supervisor) Run(ctx context.Context) error {
	listener, err := listenControl(s.cfg.SocketPath)
	if err != nil {
		return err
	}
	loopCtx, stopLoops := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	for _, name := range s.order {
		loops.Add(1)
		go func() {
			defer loops.Done()
			s.programs[name].loop(loopCtx)
		}()
	}
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		s.serveControl(ctx, listener)
	}()
	for _, name := range s.order {
		if s.programs[name].cfg.AutoStart {
			if err := s.programs[name].send(ctx, cmdStart); err != nil {
				s.log.Warn("autostart", zap.String("program", name), zap.Error(err))
			}
		}
	}
	<-ctx.Done()
	_ = listener.Close()
	<-serveDone
	// Stop programs with a fresh context: shutdown is not cancellable.
	var stops sync.WaitGroup
	for _, name := range s.order {
		stops.Add(1)
		go func() {
			defer stops.Done()
			_ = s.Stop(context.Background(), name)
		}()
	}
	stops.Wait()
	stopLoops()
	loops.Wait()
	_ = os.Remove(s.cfg.SocketPath)
	return nil
}

// ErrNoSuchProgram is returned for a name the configuration does not have.
var ErrNoSuchProgram = errors.New("no such program")

func (s *Supervisor) program(name string) (*program, error) {
	p, ok := s.programs[name]
	if !ok {
		return nil, fmt.Errorf("%w %q; the configuration has %v", ErrNoSuchProgram, name, s.order)
	}
	return p, nil
}

// Start starts a stopped program and waits until it is RUNNING (it stayed
// up startsecs) or has given up (FATAL). Starting a running program
// succeeds at once.
func (s *Supervisor) Start(ctx context.Context, name string) error {
	p, err := s.program(name)
	if err != nil {
		return err
	}
	if err := p.send(ctx, cmdStart); err != nil {
		return err
	}
	st, err := p.waitFor(ctx, Running, Fatal, Stopped, Exited)
	if err != nil {
		return err
	}
	if st.State != Running {
		return fmt.Errorf("%s did not start: %s (%s); see its output in the container log", name, st.State, st.Message)
	}
	return nil
}

// Stop stops a program and waits until it has exited. Stopping a program
// that is not running succeeds. Its standby process, if any, goes too.
func (s *Supervisor) Stop(ctx context.Context, name string) error {
	return s.stop(ctx, name, cmdStop)
}

func (s *Supervisor) stop(ctx context.Context, name string, kind commandKind) error {
	p, err := s.program(name)
	if err != nil {
		return err
	}
	if err := p.send(ctx, kind); err != nil {
		return err
	}
	_, err = p.waitFor(ctx, Stopped, Exited, Fatal)
	return err
}

// RestartOptions tune Restart.
type RestartOptions struct {
	// Fresh starts a new process even when a standby is waiting (and
	// drops the standby): what the standby was started with, such as the
	// command its run script chose, may have changed.
	Fresh bool
}

// Restart stops (if needed) and starts a program, and returns as soon as
// the new process has been spawned: unlike Start it does not wait
// startsecs, because what a push waits for is the app serving again
// (WaitListening), which tells more and sooner than a fixed wait. A
// program that could not be spawned at all is an error.
//
// A program with standby=true hands over to its standby process: spawned
// ahead of time, it waits for the go signal (see startStandby) and gets
// it only once the old process and its process group are gone, so the
// new one never races the old for its ports.
func (s *Supervisor) Restart(ctx context.Context, name string, opts RestartOptions) error {
	if err := s.stop(ctx, name, cmdStopForRestart); err != nil {
		return err
	}
	p, err := s.program(name)
	if err != nil {
		return err
	}
	kind := cmdStartFromStandby
	if opts.Fresh {
		kind = cmdStart
	}
	// The loop has spawned the process (or failed to) when send returns.
	if err := p.send(ctx, kind); err != nil {
		return err
	}
	if st := p.status(); st.State != Starting && st.State != Running {
		return fmt.Errorf("%s did not start: %s (%s); see its output in the container log", name, st.State, st.Message)
	}
	return nil
}

// readyPollInterval is how often WaitListening tries the ports: a refused
// connection on the loopback costs microseconds, and a push waits for this.
const readyPollInterval = 5 * time.Millisecond

// WaitListening waits until a TCP connection to one of ports on the
// loopback interface is accepted while the program runs: the app is
// serving again. It fails at once when the program gave up (FATAL) or was
// stopped, and after timeout with what was tried.
func (s *Supervisor) WaitListening(ctx context.Context, name string, ports []int, timeout time.Duration) error {
	p, err := s.program(name)
	if err != nil {
		return err
	}
	if len(ports) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var dialer net.Dialer
	for {
		st := p.status()
		switch st.State {
		case Fatal, Stopped, Exited:
			return fmt.Errorf("%s exited before it accepted connections on port %s: %s (%s); see its output in the container log", name, portList(ports), st.State, st.Message)
		case Running, Starting:
			for _, port := range ports {
				dialCtx, cancelDial := context.WithTimeout(ctx, time.Second)
				conn, err := dialer.DialContext(dialCtx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
				cancelDial()
				if err == nil {
					_ = conn.Close()
					p.prepareStandby()
					return nil
				}
			}
		}
		// Backoff: a retry is coming; keep waiting for it.
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				st = p.status()
				return fmt.Errorf("%s (%s) did not accept connections on port %s within %s; it is still starting or listens elsewhere: see its output in the container log", name, st.State, portList(ports), timeout)
			}
			return ctx.Err()
		case <-time.After(readyPollInterval):
		}
	}
}

func portList(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, " or ")
}

// Status reports one program, or all of them when name is "".
func (s *Supervisor) Status(name string) ([]Status, error) {
	names := s.order
	if name != "" {
		if _, err := s.program(name); err != nil {
			return nil, err
		}
		names = []string{name}
	}
	out := make([]Status, 0, len(names))
	for _, n := range names {
		out = append(out, s.programs[n].status())
	}
	return out, nil
}

type commandKind int

const (
	cmdStart            commandKind = iota // spawn a new process
	cmdStartFromStandby                    // hand over to the standby if there is one, else spawn
	cmdStop                                // stop the process and drop the standby
	cmdStopForRestart                      // stop the process, keep the standby
)

type command struct {
	kind  commandKind
	reply chan struct{}
}

type exitEvent struct {
	generation int
	err        error
}

// program is one supervised program. Its loop goroutine owns the process;
// the fields under mu are what Status and waitFor read.
type program struct {
	cfg   ProgramConfig
	sup   *Supervisor
	cmds  chan command
	exits chan exitEvent
	// prepare asks the loop for a standby process (the app is up).
	prepare chan struct{}

	mu       sync.Mutex
	state    State
	since    time.Time
	pid      int
	exitCode int
	message  string
	restarts int
	standby  int           // the standby's pid
	changed  chan struct{} // closed and replaced on every state change
}

func (p *program) status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Status{Name: p.cfg.Name, State: p.state, PID: p.pid, Since: p.since, ExitCode: p.exitCode, Message: p.message,
		Restarts: p.restarts, StandbyPID: p.standby}
}

// prepareStandby tells the loop the app is up: time to start the standby.
// It never blocks.
func (p *program) prepareStandby() {
	select {
	case p.prepare <- struct{}{}:
	default:
	}
}

func (p *program) standbyEnabled() bool {
	return p.cfg.Standby && !p.sup.opts.NoStandby
}

func (p *program) setState(state State, message string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != state {
		p.sup.log.Info("state", zap.String("program", p.cfg.Name), zap.String("from", string(p.state)), zap.String("to", string(state)), zap.String("message", message))
	}
	p.state, p.message, p.since = state, message, time.Now()
	close(p.changed)
	p.changed = make(chan struct{})
}

// send hands a command to the loop and waits until the loop has acted on
// it (so the state already reflects it).
func (p *program) send(ctx context.Context, kind commandKind) error {
	c := command{kind: kind, reply: make(chan struct{})}
	select {
	case p.cmds <- c:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-c.reply:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *program) waitFor(ctx context.Context, states ...State) (Status, error) {
	for {
		p.mu.Lock()
		changed := p.changed
		p.mu.Unlock()
		st := p.status()
		if slices.Contains(states, st.State) {
			return st, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return st, fmt.Errorf("waiting for %s (now %s): %w", p.cfg.Name, st.State, ctx.Err())
		}
	}
}

// StandbyFDEnv names the environment variable a standby process finds its
// go pipe in (always descriptor 3): it must do nothing that claims the
// app's resources (ports, the debugger's port) until it reads the line
// "go" there, and exit when it reads end of file instead (the supervisor
// dropped it). odod's run script and the Node.js preload
// (container/scripts) follow this.
const StandbyFDEnv = "ODOD_STANDBY_FD"

// groupGoneWait bounds how long a start waits for the process group of
// the process it replaces to be gone (it was killed with SIGKILL).
const groupGoneWait = 2 * time.Second

// proc is one spawned process: the program's current one, or its standby.
type proc struct {
	cmd  *exec.Cmd
	logs []io.Closer
	gen  int
	goW  *os.File // a standby's go pipe
}

func (pr *proc) pid() int { return pr.cmd.Process.Pid }

func (pr *proc) closeLogs() {
	for _, c := range pr.logs {
		_ = c.Close()
	}
	pr.logs = nil
}

// loop is the program's state machine. It owns the program's process and
// its standby.
func (p *program) loop(ctx context.Context) {
	var (
		cur      *proc // the program's process; nil when none runs
		standby  *proc // started ahead of the next restart (standby=true)
		lastGen  int
		retries  int
		timer    = time.NewTimer(0)
		timerFor State // the state the pending timer belongs to
		// lastGroup is the process group of the last process to exit when
		// it was killed as a group: the next start waits until it is gone.
		lastGroup int
	)
	<-timer.C
	defer timer.Stop()
	setTimer := func(d time.Duration, forState State) {
		timer.Stop()
		select {
		case <-timer.C:
		default:
		}
		timer.Reset(d)
		timerFor = forState
	}
	startProc := func(asStandby bool) (*proc, error) {
		lastGen++
		cmd, logs, err := p.command()
		pr := &proc{cmd: cmd, logs: logs, gen: lastGen}
		if err != nil {
			pr.closeLogs()
			return nil, err
		}
		var goR *os.File
		if asStandby {
			if goR, pr.goW, err = os.Pipe(); err != nil {
				pr.closeLogs()
				return nil, fmt.Errorf("standby pipe: %w", err)
			}
			cmd.ExtraFiles = []*os.File{goR}
			cmd.Env = append(cmd.Env, StandbyFDEnv+"=3")
		}
		err = cmd.Start()
		if goR != nil {
			_ = goR.Close()
		}
		if err != nil {
			pr.closeLogs()
			if pr.goW != nil {
				_ = pr.goW.Close()
			}
			return nil, err
		}
		gen := pr.gen
		go func() {
			err := cmd.Wait()
			select {
			case p.exits <- exitEvent{generation: gen, err: err}:
			case <-ctx.Done():
			}
		}()
		return pr, nil
	}
	setStandby := func(pr *proc) {
		standby = pr
		p.mu.Lock()
		p.standby = 0
		if pr != nil {
			p.standby = pr.pid()
		}
		p.mu.Unlock()
	}
	dropStandby := func() {
		if standby == nil {
			return
		}
		// End of file on its pipe makes it exit; the kill makes sure.
		_ = standby.goW.Close()
		_ = syscall.Kill(-standby.pid(), syscall.SIGKILL)
		standby.closeLogs()
		setStandby(nil)
	}
	defer dropStandby()
	defer func() {
		if cur != nil {
			cur.closeLogs()
		}
	}()
	prepare := func() {
		if !p.standbyEnabled() || standby != nil || cur == nil {
			return
		}
		if st := p.status().State; st != Running && st != Starting {
			return
		}
		pr, err := startProc(true)
		if err != nil {
			p.sup.log.Warn("standby not started", zap.String("program", p.cfg.Name), zap.Error(err))
			return
		}
		setStandby(pr)
	}
	// settle waits until the process group of the process being replaced
	// is gone, so that the new process finds its ports free.
	settle := func() {
		if lastGroup == 0 {
			return
		}
		deadline := time.Now().Add(groupGoneWait)
		for syscall.Kill(-lastGroup, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		lastGroup = 0
	}
	activate := func(pr *proc) {
		cur = pr
		p.mu.Lock()
		p.pid = pr.pid()
		p.mu.Unlock()
		if p.cfg.MinUptime == 0 {
			p.setState(Running, "")
			prepare()
			return
		}
		p.setState(Starting, "")
		setTimer(p.cfg.MinUptime, Starting)
	}
	var handleExit func(err error)
	spawn := func() {
		settle()
		pr, err := startProc(false)
		if err != nil {
			// A spawn error counts as a start that failed at once.
			cur = nil
			p.sup.log.Warn("spawn failed", zap.String("program", p.cfg.Name), zap.Error(err))
			p.setState(Starting, "")
			handleExit(fmt.Errorf("spawn error: %w", err))
			return
		}
		activate(pr)
	}
	// handover starts the app in the standby; false when there is none
	// (or it is gone).
	handover := func() bool {
		if standby == nil {
			return false
		}
		sb := standby
		setStandby(nil)
		settle()
		_, err := sb.goW.Write([]byte("go\n"))
		_ = sb.goW.Close()
		if err != nil { // it exited; its exit event is ignored
			p.sup.log.Warn("standby gone, starting a new process", zap.String("program", p.cfg.Name), zap.Error(err))
			_ = syscall.Kill(-sb.pid(), syscall.SIGKILL)
			sb.closeLogs()
			return false
		}
		activate(sb)
		return true
	}
	handleExit = func(err error) {
		if cur != nil && p.cfg.KillAsGroup {
			// What the program left running in its group (a shell's or
			// npm's children) would hold its ports and files and make the
			// restart fail; killasgroup cleans it up on any exit, not only
			// on a stop as supervisord does.
			_ = syscall.Kill(-cur.pid(), syscall.SIGKILL)
			lastGroup = cur.pid()
		}
		if cur != nil {
			cur.closeLogs()
		}
		cur = nil
		code, signaled, message := exitStatus(err)
		p.mu.Lock()
		p.pid, p.exitCode = 0, code
		p.mu.Unlock()
		switch state := p.status().State; state {
		case Stopping:
			p.setState(Stopped, "stopped")
		case Starting:
			retries++
			if retries > p.cfg.StartRetries {
				dropStandby()
				p.setState(Fatal, fmt.Sprintf("exited too quickly (%s) %d times; fix the program and run `supervisord ctl start %s`", message, retries, p.cfg.Name))
				return
			}
			p.setState(Backoff, fmt.Sprintf("exited too quickly (%s)", message))
			setTimer(time.Duration(retries)*p.sup.opts.BackoffUnit, Backoff)
		case Running:
			expected := !signaled && slices.Contains(p.cfg.ExitCodes, code)
			restart := p.cfg.AutoRestart == RestartAlways || p.cfg.AutoRestart == RestartUnexpected && !expected
			p.setState(Exited, message)
			if restart {
				// supervisord restarts a program that was RUNNING at once;
				// back-off applies to starts that fail within startsecs.
				p.mu.Lock()
				p.restarts++
				p.mu.Unlock()
				retries = 0
				if !handover() {
					spawn()
				}
			} else {
				dropStandby()
			}
		}
	}
	signal := func(sig syscall.Signal, group bool) {
		if cur == nil {
			return
		}
		if group {
			_ = syscall.Kill(-cur.pid(), sig)
		} else {
			_ = cur.cmd.Process.Signal(sig)
		}
	}
	for {
		select {
		case <-ctx.Done():
			if cur != nil {
				signal(syscall.SIGKILL, true)
			}
			return
		case c := <-p.cmds:
			state := p.status().State
			switch c.kind {
			case cmdStart, cmdStartFromStandby:
				if state == Stopped || state == Exited || state == Fatal || state == Backoff {
					retries = 0
					if c.kind == cmdStart {
						dropStandby()
					}
					if c.kind == cmdStart || !handover() {
						spawn()
					}
				}
			case cmdStop, cmdStopForRestart:
				if c.kind == cmdStop {
					dropStandby()
				}
				switch state {
				case Starting, Running:
					if cur == nil { // a spawn error waiting to be processed
						p.setState(Stopped, "stopped")
						break
					}
					p.setState(Stopping, "")
					signal(p.cfg.StopSignal, p.cfg.StopAsGroup)
					setTimer(p.cfg.StopWait, Stopping)
				case Backoff:
					p.setState(Stopped, "stopped while backing off")
				}
			}
			close(c.reply)
		case <-p.prepare:
			prepare()
		case <-timer.C:
			switch state := p.status().State; {
			case state == Starting && timerFor == Starting:
				retries = 0
				p.setState(Running, "")
				prepare()
			case state == Backoff && timerFor == Backoff:
				spawn()
			case state == Stopping && timerFor == Stopping:
				p.sup.log.Warn("did not stop in time, killing", zap.String("program", p.cfg.Name), zap.Duration("stopwaitsecs", p.cfg.StopWait))
				signal(syscall.SIGKILL, p.cfg.KillAsGroup || p.cfg.StopAsGroup)
			}
		case ev := <-p.exits:
			switch {
			case cur != nil && ev.generation == cur.gen:
				handleExit(ev.err)
			case standby != nil && ev.generation == standby.gen:
				// It ended before it was needed: the next restart spawns
				// a new process, and a new standby follows once that is up.
				p.sup.log.Warn("standby exited", zap.String("program", p.cfg.Name), zap.Error(ev.err))
				_ = standby.goW.Close()
				standby.closeLogs()
				setStandby(nil)
			} // else: a process from before a restart, or a dropped standby
		}
	}
}

// exitStatus describes how a process ended; a signal counts as 128+n.
func exitStatus(err error) (code int, signaled bool, message string) {
	if err == nil || errors.Is(err, exec.ErrWaitDelay) {
		return 0, false, "exit status 0"
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), true, "killed by " + ws.Signal().String()
		}
		return exitErr.ExitCode(), false, exitErr.Error()
	}
	return -1, false, err.Error()
}

// command builds the exec.Cmd with its own process group and log targets.
func (p *program) command() (*exec.Cmd, []io.Closer, error) {
	cmd := exec.Command(p.cfg.Command[0], p.cfg.Command[1:]...)
	cmd.Dir = p.cfg.Directory
	cmd.Env = append(os.Environ(), p.cfg.Environment...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A grandchild that keeps a log pipe open must not hold Wait forever.
	cmd.WaitDelay = 2 * time.Second
	var closers []io.Closer
	open := func(target string) (io.Writer, error) {
		switch target {
		case "/dev/stdout":
			return p.sup.opts.Stdout, nil
		case "/dev/stderr":
			return p.sup.opts.Stderr, nil
		case "NONE", "none", "/dev/null":
			return nil, nil
		}
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open log file for %s: %w", p.cfg.Name, err)
		}
		closers = append(closers, f)
		return f, nil
	}
	var err error
	if cmd.Stdout, err = open(p.cfg.StdoutLogfile); err != nil {
		return nil, closers, err
	}
	if p.cfg.RedirectStderr {
		cmd.Stderr = cmd.Stdout
	} else if cmd.Stderr, err = open(p.cfg.StderrLogfile); err != nil {
		return nil, closers, err
	}
	return cmd, closers, nil
}
