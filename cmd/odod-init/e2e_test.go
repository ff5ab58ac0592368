//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/odod-dev/odod/agent"
)

var binDir string // set by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "odod-init-test")
	if err != nil {
		panic(err)
	}
	binDir = filepath.Join(dir, "bin")
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary builds odod-init once (static, as the image ships it) with
// its role links.
func buildBinary(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(binDir, "odod-init")); err == nil {
		return binDir
	}
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(binDir, "odod-init"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, link := range []string{"go-init", "supervisord", "agent", "getlanguage"} {
		if err := os.Symlink("odod-init", filepath.Join(binDir, link)); err != nil {
			t.Fatal(err)
		}
	}
	return binDir
}

func ctl(t *testing.T, bin, socket string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "supervisord"), append([]string{"ctl", "-s", socket}, args...)...)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func readPID(path string) int {
	b, _ := os.ReadFile(path)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// waitForApp waits until an app other than the one of pid before has
// started and printed its line: its shell has become sleep (it execs sleep
// after the echo). It returns the app's pid.
func waitForApp(t *testing.T, pidFile string, before int, logs *bytes.Buffer) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if pid := readPID(pidFile); pid != 0 && pid != before {
			if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(comm)) == "sleep" {
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("app not (re)started after pid %d; logs:\n%s", before, logs.String())
		}
	}
}

func TestBinaryGoInitSupervisorCtl(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	socket := filepath.Join(dir, "supervisord.sock")
	pidFile := filepath.Join(dir, "run.pid")
	conf := filepath.Join(dir, "supervisor.conf")
	if err := os.WriteFile(conf, []byte(`[unix_http_server]
file=`+socket+`
[program:run]
command=sh -c "echo $$ > `+pidFile+`; echo app-started; exec sleep 60"
autostart=false
startsecs=0.2
stopasgroup=true
killasgroup=true
stdout_logfile=/dev/stdout
stderr_logfile=/dev/stderr
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	init := exec.Command(filepath.Join(bin, "go-init"), "-main", filepath.Join(bin, "supervisord")+" -c "+conf)
	init.Stdout, init.Stderr = &logs, &logs
	if err := init.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- init.Wait() }()
	defer func() {
		_ = init.Process.Kill()
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, _ := ctl(t, bin, socket, "status"); code == 3 {
			break // up, and run is not running: autostart=false
		}
		if time.Now().After(deadline) {
			t.Fatalf("supervisor never answered; logs:\n%s", logs.String())
		}
	}
	if _, err := os.Stat(pidFile); err == nil {
		t.Fatal("run started despite autostart=false")
	}
	if code, out := ctl(t, bin, socket, "start", "run"); code != 0 || out != "run: started\n" {
		t.Fatalf("ctl start: %d %q", code, out)
	}
	first := readPID(pidFile)
	if code, out := ctl(t, bin, socket, "status", "run"); code != 0 || !strings.Contains(out, "RUNNING") || !strings.Contains(out, "pid "+strconv.Itoa(first)) {
		t.Fatalf("ctl status: %d %q", code, out)
	}
	// Kill the app: the supervisor starts it again.
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := waitForApp(t, pidFile, first, &logs)
	if code, out := ctl(t, bin, socket, "restart", "run"); code != 0 || !strings.Contains(out, "run: started") {
		t.Fatalf("ctl restart: %d %q", code, out)
	}
	// "started" means spawned: the third app has printed its line only
	// once it is sleep. Only then may SIGTERM stop it.
	waitForApp(t, pidFile, second, &logs)
	if code, out := ctl(t, bin, socket, "start"); code != 2 || !strings.Contains(out, "name the program") {
		t.Errorf("ctl start without a name: %d %q", code, out)
	}
	// SIGTERM to PID 1 stops everything; go-init exits with supervisord's status.
	if err := init.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("go-init exited with %v; logs:\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("go-init did not exit after SIGTERM")
	}
	if n := strings.Count(logs.String(), "app-started"); n != 3 {
		t.Errorf("app output reached the container log %d times, want 3:\n%s", n, logs.String())
	}
}

type cmdConn struct {
	io.Reader
	io.WriteCloser
}

func TestBinaryAgent(t *testing.T) {
	bin := buildBinary(t)
	root := filepath.Join(t.TempDir(), "src")
	cmd := exec.Command(filepath.Join(bin, "agent"), "--root", root)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := agent.NewClient(ctx, cmdConn{Reader: stdout, WriteCloser: stdin}, agent.ClientOptions{Name: "e2e"})
	if err != nil {
		t.Fatalf("handshake with the real agent: %v (stderr %s)", err, stderr.String())
	}
	if info := c.Info(); info.Root != root || info.AgentVersion == "" {
		t.Errorf("info %+v", info)
	}
	if err := c.PutFile(ctx, "package.json", 0o644, strings.NewReader("{}"), 2); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code, err := c.Run(ctx, []string{"cat", "package.json"}, nil, &out, nil); err != nil || code != 0 || out.String() != "{}" {
		t.Fatalf("run: %d %v %q", code, err, out.String())
	}
	if err := c.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("agent exited with %v after the client closed (stderr %s)", err, stderr.String())
	}
}
