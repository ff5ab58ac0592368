//go:build linux

package supervisor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/odod-dev/odod/internal/lockedbuf"
	"github.com/odod-dev/odod/internal/proctest"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const odoConf = `; odo-init-image's supervisor.conf (1.0.2+), with odod's socket
[supervisord]
nodaemon=true

[unix_http_server]
file=%(here)s/supervisord.sock

[inet_http_server]
port=localhost:9001

[program:run]
command=/opt/odo/bin/run
autostart=false
stdout_logfile=/dev/stdout
stdout_events_enabled=true
stderr_logfile=/dev/stderr
stderr_events_enabled=true
stopasgroup=true
killasgroup=true
`

func TestParseOdoConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(odoConf), "/opt/app-root/conf", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SocketPath != "/opt/app-root/conf/supervisord.sock" || len(cfg.Programs) != 1 || len(cfg.Warnings) != 0 {
		t.Fatalf("cfg = %+v", cfg)
	}
	p := cfg.Programs[0]
	if p.Name != "run" || len(p.Command) != 1 || p.Command[0] != "/opt/odo/bin/run" || p.AutoStart ||
		p.AutoRestart != RestartUnexpected || p.MinUptime != time.Second || p.StartRetries != 3 ||
		!p.StopAsGroup || !p.KillAsGroup || p.StdoutLogfile != "/dev/stdout" || p.StderrLogfile != "/dev/stderr" ||
		p.StopSignal != syscall.SIGTERM || len(p.ExitCodes) != 1 || p.ExitCodes[0] != 0 {
		t.Fatalf("program = %+v", p)
	}
}

func TestParseConfigValues(t *testing.T) {
	env := map[string]string{"HOME": "/home/dev", "PORT": "8080"}
	conf := `[program:web]
command=/bin/sh -c "echo 'a b' \"c\"" %(ENV_PORT)s ; comment
directory=%(ENV_HOME)s/app
environment=A="1,2",B=two, C='%(program_name)s'
autorestart=true
startsecs=0.25
startretries=0
exitcodes=0,2
stopsignal=INT
stopwaitsecs=3
redirect_stderr=yes
user=nobody
[eventlistener:x]
command=true
`
	cfg, err := ParseConfig([]byte(conf), "/etc", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Programs[0]
	wantCmd := []string{"/bin/sh", "-c", `echo 'a b' "c"`, "8080"}
	if fmt.Sprint(p.Command) != fmt.Sprint(wantCmd) {
		t.Errorf("command %q, want %q", p.Command, wantCmd)
	}
	if p.Directory != "/home/dev/app" || fmt.Sprint(p.Environment) != "[A=1,2 B=two C=web]" || p.AutoRestart != RestartAlways ||
		p.MinUptime != 250*time.Millisecond || p.StartRetries != 0 || fmt.Sprint(p.ExitCodes) != "[0 2]" ||
		p.StopSignal != syscall.SIGINT || p.StopWait != 3*time.Second || !p.RedirectStderr {
		t.Errorf("program = %+v", p)
	}
	if len(cfg.Warnings) != 2 || !strings.Contains(strings.Join(cfg.Warnings, "|"), "user") {
		t.Errorf("warnings = %q", cfg.Warnings)
	}
}

func TestParseConfigErrors(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	for name, conf := range map[string]string{
		"missing command":  "[program:a]\nautostart=true\n",
		"bad bool":         "[program:a]\ncommand=x\nautostart=maybe\n",
		"bad autorestart":  "[program:a]\ncommand=x\nautorestart=sometimes\n",
		"open quote":       "[program:a]\ncommand=sh -c \"echo\n",
		"unknown env":      "[program:a]\ncommand=%(ENV_NOPE_X)s\n",
		"bad startsecs":    "[program:a]\ncommand=x\nstartsecs=-1\n",
		"bad exitcodes":    "[program:a]\ncommand=x\nexitcodes=0,x\n",
		"bad signal":       "[program:a]\ncommand=x\nstopsignal=BOGUS\n",
		"bad environment":  "[program:a]\ncommand=x\nenvironment=novalue\n",
		"duplicate":        "[program:a]\ncommand=x\n[program:a]\ncommand=y\n",
		"bad program name": "[program:]\ncommand=x\n",
		"not ini":          "[program:a\ncommand=x\n",
	} {
		if _, err := ParseConfig([]byte(conf), "/", noEnv); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add(odoConf)
	f.Add("[program:a]\ncommand=sh -c 'x \\\"y'\nenvironment=A=\"1\",B='2'\n")
	f.Fuzz(func(t *testing.T, conf string) {
		cfg, err := ParseConfig([]byte(conf), "/", func(string) (string, bool) { return "v", true })
		if err != nil {
			return
		}
		for _, p := range cfg.Programs {
			if len(p.Command) == 0 || p.Name == "" {
				t.Fatalf("accepted program without command or name: %+v", p)
			}
		}
	})
}

type running struct {
	sup    *Supervisor
	dir    string
	socket string
	out    *lockedbuf.Buffer
}

// startSupervisor runs a supervisor on conf (with %(here)s = a temp dir
// that the programs also use as their directory).
func startSupervisor(t *testing.T, conf string) *running {
	t.Helper()
	return startSupervisorWith(t, conf, Options{})
}

// startSupervisorWith is startSupervisor with options (output and back-off
// are the test's).
func startSupervisorWith(t *testing.T, conf string, opts Options) *running {
	t.Helper()
	dir := t.TempDir()
	socket := filepath.Join(dir, "s.sock")
	conf = "[unix_http_server]\nfile=" + socket + "\n" + conf
	cfg, err := ParseConfig([]byte(conf), dir, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	out := &lockedbuf.Buffer{}
	opts.Stdout, opts.Stderr, opts.BackoffUnit = out, out, 100*time.Millisecond
	sup := New(cfg, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("supervisor did not shut down")
		}
	})
	// Wait for the socket.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := Ctl(context.Background(), socket, ControlRequest{Op: "status"}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("control socket never came up")
		}
	}
	return &running{sup: sup, dir: dir, socket: socket, out: out}
}

func (r *running) waitState(t *testing.T, name string, want State) Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := r.sup.programs[name].waitFor(ctx, want)
	if err != nil {
		t.Fatalf("%s never reached %s: %v (output %q)", name, want, err, r.out.String())
	}
	return st
}

func (r *running) eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; output %q", what, r.out.String())
		}
	}
}

func readLines(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func TestRestartOnCrash(t *testing.T) {
	r := startSupervisor(t, `[program:app]
command=sh -c "echo started $$; exec sleep 60"
directory=%(here)s
startsecs=0.2
autorestart=true
`)
	first := r.waitState(t, "app", Running)
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, _ := r.sup.Status("app")
		if st[0].State == Running && st[0].PID != first.PID && st[0].PID != 0 {
			if st[0].Restarts != 1 {
				t.Errorf("restarts = %d, want 1", st[0].Restarts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not restarted: %+v", st)
		}
	}
	if got := strings.Count(r.out.String(), "started "); got != 2 {
		t.Errorf("program output shows %d starts, want 2: %q", got, r.out.String())
	}
}

func TestStartRetriesWithBackoffThenFatal(t *testing.T) {
	r := startSupervisor(t, `[program:broken]
command=sh -c "date +%%s.%%N >> attempts; exit 1"
directory=%(here)s
startsecs=1
startretries=2
`)
	st := r.waitState(t, "broken", Fatal)
	if !strings.Contains(st.Message, "exited too quickly") || st.ExitCode != 1 {
		t.Errorf("fatal status %+v", st)
	}
	attempts := readLines(t, filepath.Join(r.dir, "attempts"))
	if len(attempts) != 3 { // the first try and startretries=2 more
		t.Fatalf("%d attempts, want 3", len(attempts))
	}
	// The n-th retry waits at least n back-off units (100 ms here).
	for i := 1; i < len(attempts); i++ {
		prev, _ := strconv.ParseFloat(attempts[i-1], 64)
		cur, _ := strconv.ParseFloat(attempts[i], 64)
		if gap := time.Duration((cur - prev) * float64(time.Second)); gap < time.Duration(i)*100*time.Millisecond {
			t.Errorf("retry %d came %v after the previous attempt, want at least %v", i, gap, time.Duration(i)*100*time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(readLines(t, filepath.Join(r.dir, "attempts"))); n != 3 {
		t.Errorf("a FATAL program was started again (%d attempts)", n)
	}
	// ctl start tries again from scratch, and reports the failure.
	reply, err := Ctl(context.Background(), r.socket, ControlRequest{Op: "start", Name: "broken"})
	if err != nil || reply.Error == "" || !strings.Contains(reply.Error, "FATAL") {
		t.Errorf("ctl start of a broken program: %+v, %v", reply, err)
	}
	if n := len(readLines(t, filepath.Join(r.dir, "attempts"))); n != 6 {
		t.Errorf("after ctl start: %d attempts, want 6", n)
	}
}

func TestSpawnErrorIsFatalAfterRetries(t *testing.T) {
	r := startSupervisor(t, "[program:ghost]\ncommand=/no/such/binary\nstartretries=1\n")
	st := r.waitState(t, "ghost", Fatal)
	if !strings.Contains(st.Message, "spawn error") {
		t.Errorf("status %+v", st)
	}
}

func TestAutostartFalseUntilStarted(t *testing.T) {
	r := startSupervisor(t, `[program:run]
command=sh -c "echo $$ > pid; exec sleep 60"
directory=%(here)s
autostart=false
startsecs=0.1
stopasgroup=true
killasgroup=true
`)
	time.Sleep(300 * time.Millisecond)
	if st, _ := r.sup.Status("run"); st[0].State != Stopped {
		t.Fatalf("autostart=false program is %s", st[0].State)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "pid")); err == nil {
		t.Fatal("autostart=false program ran")
	}
	ctx := context.Background()
	reply, err := Ctl(ctx, r.socket, ControlRequest{Op: "start", Name: "run"})
	if err != nil || reply.Error != "" || len(reply.Status) != 1 || reply.Status[0].State != Running {
		t.Fatalf("ctl start: %+v, %v", reply, err)
	}
	pid := reply.Status[0].PID
	reply, err = Ctl(ctx, r.socket, ControlRequest{Op: "restart", Name: "run"})
	// Restart answers at spawn, before startsecs.
	if err != nil || reply.Error != "" || reply.Status[0].State != Starting || reply.Status[0].PID == pid {
		t.Fatalf("ctl restart: %+v, %v", reply, err)
	}
	if proctest.Alive(pid) {
		t.Errorf("old process %d survived the restart", pid)
	}
	reply, err = Ctl(ctx, r.socket, ControlRequest{Op: "stop", Name: "run"})
	if err != nil || reply.Error != "" || reply.Status[0].State != Stopped {
		t.Fatalf("ctl stop: %+v, %v", reply, err)
	}
	reply, err = Ctl(ctx, r.socket, ControlRequest{Op: "stop", Name: "run"})
	if err != nil || reply.Error != "" {
		t.Fatalf("stopping a stopped program: %+v, %v", reply, err)
	}
	reply, _ = Ctl(ctx, r.socket, ControlRequest{Op: "status", Name: "nope"})
	if !strings.Contains(reply.Error, "no such program") {
		t.Errorf("status of unknown program: %+v", reply)
	}
	reply, _ = Ctl(ctx, r.socket, ControlRequest{Op: "explode", Name: "run"})
	if !strings.Contains(reply.Error, "unknown operation") {
		t.Errorf("unknown op: %+v", reply)
	}
	if s := FormatStatus(reply.Status, time.Now()); !strings.HasPrefix(s, "run ") || !strings.Contains(s, "STOPPED") {
		t.Errorf("FormatStatus = %q", s)
	}
}

func TestAutorestartUnexpected(t *testing.T) {
	r := startSupervisor(t, `[program:clean]
command=sh -c "echo x >> runs; sleep 0.3; exit 0"
directory=%(here)s
startsecs=0.1
[program:crashy]
command=sh -c "echo x >> crashes; sleep 0.3; exit 3"
directory=%(here)s
startsecs=0.1
`)
	r.waitState(t, "clean", Exited)
	for deadline := time.Now().Add(20 * time.Second); len(readLines(t, filepath.Join(r.dir, "crashes"))) < 3; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("crashing program was not restarted")
		}
	}
	if n := len(readLines(t, filepath.Join(r.dir, "runs"))); n != 1 {
		t.Errorf("a program exiting 0 was restarted (%d runs)", n)
	}
}

func TestStopKillsGroupAndEscalates(t *testing.T) {
	r := startSupervisor(t, `[program:stubborn]
command=sh -c "trap '' TERM; sleep 60 & echo $! > child; wait; wait"
directory=%(here)s
startsecs=0.1
stopwaitsecs=0.3
stopasgroup=true
killasgroup=true
`)
	st := r.waitState(t, "stubborn", Running)
	var child int
	for deadline := time.Now().Add(10 * time.Second); child == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if lines := readLines(t, filepath.Join(r.dir, "child")); len(lines) == 1 {
			child, _ = strconv.Atoi(lines[0])
		}
	}
	if err := r.sup.Stop(context.Background(), "stubborn"); err != nil {
		t.Fatal(err)
	}
	if proctest.Alive(st.PID) {
		t.Errorf("the program %d survived stop", st.PID)
	}
	// SIGKILL to the group is delivered at once, but a member may take a
	// moment to finish exiting.
	r.eventually(t, "the child in the program's group to die", func() bool { return child == 0 || !proctest.Alive(child) })
}

func TestShutdownStopsPrograms(t *testing.T) {
	dir := t.TempDir()
	cfg, err := ParseConfig([]byte("[unix_http_server]\nfile="+dir+"/s.sock\n[program:p]\ncommand=sleep 60\nstartsecs=0\n"), dir, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	sup := New(cfg, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	st, err := sup.programs["p"].waitFor(context.Background(), Running)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if proctest.Alive(st.PID) {
		t.Error("program survived supervisor shutdown")
	}
	if _, err := os.Lstat(dir + "/s.sock"); !errors.Is(err, os.ErrNotExist) {
		t.Error("control socket left behind")
	}
}

func TestKillAsGroupCleansUpAfterCrash(t *testing.T) {
	r := startSupervisor(t, `[program:npmlike]
command=sh -c "sleep 60 & echo $! >> children; sleep 0.4; exit 1"
directory=%(here)s
startsecs=0.1
autorestart=true
killasgroup=true
`)
	var first int
	r.eventually(t, "the first child", func() bool {
		lines := readLines(t, filepath.Join(r.dir, "children"))
		if len(lines) >= 2 { // the program has crashed and been restarted once
			first, _ = strconv.Atoi(lines[0])
			return true
		}
		return false
	})
	if proctest.Alive(first) {
		t.Fatalf("the crashed program's child %d survived; it would keep the app's port", first)
	}
}

// listenHelperEnv makes the test binary a small server for the readiness
// tests: it waits the given delay, listens on the port, and serves until
// killed.
const listenHelperEnv = "SUPERVISOR_TEST_LISTEN"

func TestMain(m *testing.M) {
	if spec := os.Getenv(listenHelperEnv); spec != "" {
		if os.Getenv(StandbyFDEnv) == "3" {
			// A standby: claim nothing until the supervisor says go.
			line, err := bufio.NewReader(os.NewFile(3, "go")).ReadString('\n')
			if err != nil || line != "go\n" {
				os.Exit(0)
			}
		}
		port, delay, _ := strings.Cut(spec, ",")
		d, _ := time.ParseDuration(delay)
		time.Sleep(d)
		l, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			fmt.Fprintln(os.Stderr, "listen helper:", err)
			os.Exit(1)
		}
		for {
			conn, err := l.Accept()
			if err != nil {
				os.Exit(1)
			}
			_ = conn.Close()
		}
	}
	os.Exit(m.Run())
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestRestartReturnsWhenSpawnedNotAfterStartsecs(t *testing.T) {
	r := startSupervisor(t, `[program:app]
command=sleep 60
startsecs=5
autostart=false
`)
	ctx := context.Background()
	start := time.Now()
	reply := r.sup.Control(ctx, ControlRequest{Op: "restart", Name: "app"})
	took := time.Since(start)
	if reply.Error != "" {
		t.Fatalf("restart: %s", reply.Error)
	}
	if took > 2*time.Second {
		t.Errorf("restart took %s: it waited for startsecs (5s) instead of returning at spawn", took)
	}
	if len(reply.Status) != 1 || reply.Status[0].State != Starting || reply.Status[0].PID == 0 {
		t.Fatalf("status after restart = %+v, want STARTING with a pid", reply.Status)
	}
	if !proctest.Alive(reply.Status[0].PID) {
		t.Errorf("pid %d reported but not running", reply.Status[0].PID)
	}
	// A second restart replaces the process, again without the wait.
	first := reply.Status[0].PID
	start = time.Now()
	reply = r.sup.Control(ctx, ControlRequest{Op: "restart", Name: "app"})
	if reply.Error != "" || reply.Status[0].PID == first || reply.Status[0].PID == 0 {
		t.Fatalf("second restart: %+v", reply)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("second restart took %s", took)
	}
	// Start keeps supervisord's meaning: RUNNING after startsecs.
	if err := r.sup.Stop(ctx, "app"); err != nil {
		t.Fatal(err)
	}
}

func TestRestartReportsSpawnFailure(t *testing.T) {
	r := startSupervisor(t, `[program:app]
command=/nonexistent/odod-test-program
startretries=0
autostart=false
`)
	reply := r.sup.Control(context.Background(), ControlRequest{Op: "restart", Name: "app"})
	if reply.Error == "" || !strings.Contains(reply.Error, "did not start") {
		t.Fatalf("restart of a program that cannot be spawned: %+v", reply)
	}
}

func TestRestartWaitsUntilTheAppAcceptsConnections(t *testing.T) {
	port := freeTCPPort(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := startSupervisor(t, fmt.Sprintf(`[program:app]
command=%s
environment=%s="%d,400ms"
startsecs=10
autostart=false
`, self, listenHelperEnv, port))
	start := time.Now()
	reply := r.sup.Control(context.Background(), ControlRequest{Op: "restart", Name: "app", WaitPorts: []int{port}, WaitTimeoutMs: 20000})
	took := time.Since(start)
	if reply.Error != "" {
		t.Fatalf("restart with wait: %s (output %q)", reply.Error, r.out.String())
	}
	if took < 400*time.Millisecond {
		t.Errorf("restart returned after %s, before the app listened (400ms)", took)
	}
	if took > 5*time.Second {
		t.Errorf("restart returned after %s: not when the app listened", took)
	}
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		t.Fatalf("the app does not accept connections after the restart returned: %v", err)
	}
	_ = conn.Close()
}

func TestWaitListeningFailsClearly(t *testing.T) {
	port := freeTCPPort(t)
	r := startSupervisor(t, `[program:crash]
command=sh -c "exit 3"
startsecs=0.1
startretries=0
autostart=false
[program:silent]
command=sleep 60
startsecs=0
autostart=false
`)
	ctx := context.Background()
	reply := r.sup.Control(ctx, ControlRequest{Op: "restart", Name: "crash", WaitPorts: []int{port}, WaitTimeoutMs: 20000})
	// Whichever notices first, the port wait or the supervisor's own start
	// check (startsecs), the error says the app exited.
	if !strings.Contains(reply.Error, "exited before it accepted connections on port "+strconv.Itoa(port)) &&
		!strings.Contains(reply.Error, "crash did not start: FATAL (exited too quickly (exit status 3)") {
		t.Errorf("a crashing app: error %q", reply.Error)
	}
	start := time.Now()
	reply = r.sup.Control(ctx, ControlRequest{Op: "restart", Name: "silent", WaitPorts: []int{port}, WaitTimeoutMs: 300})
	if !strings.Contains(reply.Error, "did not accept connections on port "+strconv.Itoa(port)+" within 300ms") {
		t.Errorf("an app that never listens: error %q", reply.Error)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the 300ms wait took %s", took)
	}
}

// standbyConf is a program that listens on port once started: a standby
// that listened before its go would find the port taken and exit 1.
func standbyConf(t *testing.T, port int, extra string) string {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`[program:app]
command=%s
environment=%s="%d,0s"
startsecs=0.2
autostart=false
stopasgroup=true
killasgroup=true
standby=true
%s`, self, listenHelperEnv, port, extra)
}

func (r *running) restart(t *testing.T, port int, fresh bool) Status {
	t.Helper()
	reply := r.sup.Control(context.Background(), ControlRequest{Op: "restart", Name: "app", WaitPorts: []int{port}, WaitTimeoutMs: 20000, Fresh: fresh})
	if reply.Error != "" {
		t.Fatalf("restart: %s (output %q)", reply.Error, r.out.String())
	}
	return reply.Status[0]
}

func (r *running) standbyPID(t *testing.T) int {
	t.Helper()
	var pid int
	r.eventually(t, "a standby process", func() bool {
		st, _ := r.sup.Status("app")
		pid = st[0].StandbyPID
		return pid != 0 && proctest.Alive(pid)
	})
	return pid
}

func TestRestartHandsOverToTheStandby(t *testing.T) {
	port := freeTCPPort(t)
	r := startSupervisor(t, standbyConf(t, port, ""))
	first := r.restart(t, port, false)
	standby := r.standbyPID(t)
	if standby == first.PID {
		t.Fatalf("standby pid %d is the running process", standby)
	}
	for i := range 3 {
		st := r.restart(t, port, false)
		if st.PID != standby {
			t.Fatalf("restart %d: the program runs pid %d, not the standby %d (output %q)", i, st.PID, standby, r.out.String())
		}
		if proctest.Alive(first.PID) {
			t.Errorf("restart %d: the old process %d still runs", i, first.PID)
		}
		first = st
		standby = r.standbyPID(t)
	}
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		t.Fatalf("the app does not accept connections after the handover: %v", err)
	}
	_ = conn.Close()
	if err := r.sup.Stop(context.Background(), "app"); err != nil {
		t.Fatal(err)
	}
	st, _ := r.sup.Status("app")
	if st[0].StandbyPID != 0 {
		t.Errorf("after stop: standby pid %d still recorded", st[0].StandbyPID)
	}
	r.eventually(t, "the standby gone after stop", func() bool { return !proctest.Alive(standby) })
}

func TestFreshRestartDropsTheStandby(t *testing.T) {
	port := freeTCPPort(t)
	r := startSupervisor(t, standbyConf(t, port, ""))
	r.restart(t, port, false)
	standby := r.standbyPID(t)
	st := r.restart(t, port, true)
	if st.PID == standby {
		t.Fatalf("a fresh restart ran the standby %d", standby)
	}
	r.eventually(t, "the dropped standby gone", func() bool { return !proctest.Alive(standby) })
	if next := r.standbyPID(t); next == standby {
		t.Errorf("no new standby after the fresh restart")
	}
}

func TestStandbyThatDiedIsReplacedByASpawn(t *testing.T) {
	port := freeTCPPort(t)
	r := startSupervisor(t, standbyConf(t, port, ""))
	first := r.restart(t, port, false)
	standby := r.standbyPID(t)
	if err := syscall.Kill(standby, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st := r.restart(t, port, false)
	if st.PID == first.PID || st.PID == standby || st.State == Fatal {
		t.Fatalf("after the standby died, restart gave %+v", st)
	}
}

func TestNoStandbyOption(t *testing.T) {
	port := freeTCPPort(t)
	r := startSupervisorWith(t, standbyConf(t, port, ""), Options{NoStandby: true})
	r.restart(t, port, false)
	r.waitState(t, "app", Running)
	// The loop starts a standby as it enters RUNNING; a command sent
	// through the loop after that (start of a running program: nothing to
	// do) returns once it has.
	if err := r.sup.Start(context.Background(), "app"); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.sup.Status("app"); st[0].StandbyPID != 0 {
		t.Fatalf("NoStandby: a standby %d was started", st[0].StandbyPID)
	}
}
