package indexer

import (
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHostModeGivesWindowsFilesTheExecuteBit(t *testing.T) {
	cases := []struct {
		goos string
		in   fs.FileMode
		want fs.FileMode
	}{
		{"windows", 0o666, 0o755},                                   // a script from Windows keeps +x
		{"windows", 0o444, 0o755},                                   // a read-only file stays writable by the build
		{"windows", fs.ModeDir | 0o777, fs.ModeDir | 0o755},         // directories alike
		{"windows", fs.ModeSymlink | 0o666, fs.ModeSymlink | 0o666}, // links keep theirs
		{"linux", 0o644, 0o644},
		{"linux", 0o4755, 0o4755},
		{"darwin", 0o600, 0o600},
	}
	for _, c := range cases {
		if got := hostMode(c.goos, c.in); got != c.want {
			t.Errorf("hostMode(%s, %v) = %v, want %v", c.goos, c.in, got, c.want)
		}
	}
}

func TestWatchLimitPerPlatform(t *testing.T) {
	for _, err := range []error{syscall.ENOSPC, syscall.EMFILE, fmt.Errorf("add watch: %w", syscall.EMFILE)} {
		if !watchLimitReached(err) {
			t.Errorf("%v is a watch limit (inotify's on Linux, open files with kqueue on macOS)", err)
		}
	}
	if watchLimitReached(syscall.EACCES) {
		t.Error("EACCES is not a watch limit")
	}
	advice := map[string]string{
		"linux":   "fs.inotify.max_user_watches",
		"darwin":  "ulimit -n",
		"windows": ".odoignore",
	}
	for goos, fix := range advice {
		msg := watchLimitAdvice(goos, 12, "/ws", "fs.inotify.max_user_watches = 8192", 2*time.Second)
		if !strings.Contains(msg, fix) || !strings.Contains(msg, "12 directories") || !strings.Contains(msg, "every 2s") {
			t.Errorf("%s: %q does not name the fix %q, the count and the poll interval", goos, msg, fix)
		}
		if goos != "linux" && strings.Contains(msg, "inotify") {
			t.Errorf("%s: %q speaks of inotify", goos, msg)
		}
	}
}
