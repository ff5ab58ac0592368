package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odod-dev/odod/daemon"
)

func TestMain(m *testing.M) {
	// A push in these tests is this process's own: the background daemon
	// is odod's binary, not this test binary (startBackground refuses it
	// anyway), and is tested end to end in test/e2e.
	if err := os.Setenv(daemon.BackgroundIdleEnv, "0"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// odod daemon stop removes the folder's background sockets (a daemon ends
// when its socket is gone), and only that folder's unless --all.
func TestDaemonStopRemovesTheFolderSockets(t *testing.T) {
	sockets := t.TempDir()
	t.Setenv(daemon.SocketDirEnv, sockets)
	here, there := t.TempDir(), t.TempDir()
	touchSocket := func(root, tag string) string {
		t.Helper()
		log, err := daemon.BackgroundLog(sockets, root)
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimSuffix(log, "-bg.log") + "-" + tag + ".sock"
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	mine := touchSocket(here, "bg-0011223344")
	other := touchSocket(there, "bg-0011223344")
	editors := filepath.Join(sockets, "ws-000000000000.sock")
	if err := os.WriteFile(editors, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stop := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), append([]string{"daemon", "stop"}, args...), stdio{out: &out, err: &errOut}); code != 0 {
			t.Fatalf("odod daemon stop %v: exit %d, %s", args, code, errOut.String())
		}
		return out.String()
	}
	if out := stop("--context", here); out != "1 background daemon asked to end (each ends within a few seconds)\n" {
		t.Fatalf("stop: %q", out)
	}
	if _, err := os.Stat(mine); !os.IsNotExist(err) {
		t.Fatalf("the folder's socket is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("another folder's socket was removed: %v", err)
	}
	if out := stop("--all"); !strings.HasPrefix(out, "1 background daemon asked") {
		t.Fatalf("stop --all: %q", out)
	}
	if _, err := os.Stat(editors); err != nil {
		t.Fatalf("an editor's socket was removed: %v", err)
	}
	if out := stop("--all"); !strings.HasPrefix(out, "0 background daemons asked") {
		t.Fatalf("stop --all with none: %q", out)
	}
}

// A test binary is not odod: it must not be started as a daemon.
func TestNoBackgroundDaemonFromATestBinary(t *testing.T) {
	err := startBackground(context.Background(), t.TempDir(), t.TempDir(), "bg-0011223344", 0)
	if err == nil || !strings.Contains(err.Error(), "test binary") {
		t.Fatalf("startBackground from a test binary: %v", err)
	}
}

// The terminal reads the daemon's one line, or says it said none.
func TestReadReady(t *testing.T) {
	if r := readReady(strings.NewReader(`{"socket":"/s","tag":"bg-1"}` + "\n")); r.Socket != "/s" || r.Tag != "bg-1" || r.Error != "" {
		t.Fatalf("ready line: %+v", r)
	}
	if r := readReady(strings.NewReader("")); !strings.Contains(r.Error, "said no word") {
		t.Fatalf("no line: %+v", r)
	}
	if r := readReady(strings.NewReader(`{"error":"cannot index"}` + "\n")); r.Error != "cannot index" {
		t.Fatalf("error line: %+v", r)
	}
}
