//go:build linux

package goinit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/odod-dev/odod/internal/proctest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests run go-init in a child process (it installs signal handlers and
// waits for any child, which must not happen inside the test binary).
const childEnv = "GOINIT_TEST_ARGS"

func TestMain(m *testing.M) {
	if raw := os.Getenv(childEnv); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(99)
		}
		os.Exit(Main(args, "test", os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func goInit(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	raw, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	cmd.Dir = t.TempDir()
	return cmd
}

func exitCodeOf(t *testing.T, err error) int {
	t.Helper()
	var exitErr *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &exitErr) {
		t.Fatalf("go-init did not run: %v", err)
	}
	return exitErr.ExitCode()
}

func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		main string
		want int
	}{{"true", 0}, {"false", 1}, {"/no/such/program", 127}} {
		cmd := goInit(t, "-main", tc.main)
		out, err := cmd.CombinedOutput()
		if got := exitCodeOf(t, err); got != tc.want {
			t.Errorf("-main %q: exit %d, want %d (%s)", tc.main, got, tc.want, out)
		}
	}
	// Arguments are split on whitespace (no shell), so scripts carry the rest.
	cmd := goInit(t)
	exit7 := script(t, cmd.Dir, "exit7", "exit 7")
	killed := script(t, cmd.Dir, "killed", "kill -9 $$")
	for main, want := range map[string]int{exit7: 7, killed: 137} {
		out, err := goInit(t, "-main", main).CombinedOutput()
		if got := exitCodeOf(t, err); got != want {
			t.Errorf("-main %s: exit %d, want %d (%s)", filepath.Base(main), got, want, out)
		}
	}
}

func TestPreMainPost(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	step := func(name, extra string) string {
		return script(t, dir, name, "echo "+name+" >> "+log+"\n"+extra)
	}
	pre, main, post := step("pre", ""), step("main", "exit 3"), step("post", "")
	out, err := goInit(t, "-pre", pre, "-main", main, "-post", post).CombinedOutput()
	if got := exitCodeOf(t, err); got != 3 {
		t.Fatalf("exit %d, want main's 3 (%s)", got, out)
	}
	if b, _ := os.ReadFile(log); string(b) != "pre\nmain\npost\n" {
		t.Fatalf("order %q", b)
	}
	_ = os.Remove(log)
	badPre := step("badpre", "exit 5")
	out, err = goInit(t, "-pre", badPre, "-main", main).CombinedOutput()
	if got := exitCodeOf(t, err); got != 1 {
		t.Fatalf("failing pre: exit %d, want 1 (%s)", got, out)
	}
	if b, _ := os.ReadFile(log); string(b) != "badpre\n" {
		t.Fatalf("main ran after a failing pre: %q", b)
	}
	if !strings.Contains(string(out), "pre command") {
		t.Errorf("no explanation of the failure: %s", out)
	}
	out, err = goInit(t).CombinedOutput()
	if got := exitCodeOf(t, err); got != 2 || !strings.Contains(string(out), "-main") {
		t.Errorf("without -main: exit %d, %s", got, out)
	}
}

func TestForwardsSignalsToMainGroup(t *testing.T) {
	cmd := goInit(t)
	child := filepath.Join(cmd.Dir, "child.pid")
	main := script(t, cmd.Dir, "main", `
trap 'echo got-TERM; exit 42' TERM
trap 'echo got-USR1' USR1
sleep 60 & echo $! > `+child+`
echo ready
while :; do sleep 0.05; done`)
	cmd = goInit(t, "-main", main)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	expect := func(want string) {
		t.Helper()
		for lines.Scan() {
			if lines.Text() == want {
				return
			}
		}
		t.Fatalf("never saw %q", want)
	}
	expect("ready")
	b, _ := os.ReadFile(child)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// Wait until the background child has become sleep: a shell that was
	// signalled between fork and exec would drop the signal.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); string(comm) == "sleep\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background sleep never started")
		}
	}
	_ = cmd.Process.Signal(syscall.SIGUSR1)
	expect("got-USR1")
	_ = cmd.Process.Signal(syscall.SIGTERM)
	expect("got-TERM")
	err = cmd.Wait()
	if got := exitCodeOf(t, err); got != 42 {
		t.Fatalf("exit %d, want 42 (the main command's)", got)
	}
	// The background sleep is in the main command's group: it got the signals too.
	for deadline := time.Now().Add(5 * time.Second); pid > 0 && proctest.Alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			t.Fatalf("process %d in the main group did not get the signal: %s\n%s", pid, stat, status)
		}
	}
}

func TestReapsOrphans(t *testing.T) {
	cmd := goInit(t)
	main := script(t, cmd.Dir, "main", `
for i in 1 2 3 4 5; do (sleep 0.3 &); done
echo spawned
sleep 3`)
	cmd = goInit(t, "-main", main)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "spawned\n" {
		t.Fatalf("got %q", line)
	}
	initPID := cmd.Process.Pid
	// The orphaned sleeps were re-parented to go-init...
	if n := len(children(initPID, "")); n < 5 {
		t.Fatalf("go-init has %d children right after the orphans were made, want at least 5", n)
	}
	// ...and once they exit, none is left a zombie.
	for deadline := time.Now().Add(2500 * time.Millisecond); ; time.Sleep(50 * time.Millisecond) {
		zombies := children(initPID, "Z")
		if len(zombies) == 0 && len(children(initPID, "")) == 1 { // only the main script remains
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("zombies %v remain under go-init", zombies)
		}
	}
}

// children lists the pids whose parent is ppid (in the given state, or any).
func children(ppid int, state string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) < 2 {
			continue
		}
		if p, _ := strconv.Atoi(fields[1]); p == ppid && (state == "" || fields[0] == state) {
			out = append(out, pid)
		}
	}
	return out
}
