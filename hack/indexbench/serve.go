//go:build unix

package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/odod-dev/odod/internal/ododserve"
	"github.com/odod-dev/odod/protocol"
)

// serveRSS starts `odod serve` (bin), opens dir as a workspace the way an
// editor does, waits for the process to settle, and prints the RSS and
// peak RSS of the daemon watching that tree.
func serveRSS(ctx context.Context, bin, dir string) error {
	srv, err := ododserve.Start(ctx, bin, ododserve.Options{Args: []string{"--log-level=warn"}, Stderr: os.Stderr})
	if err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()
	conn, cmd := srv.Conn, srv.Cmd
	if err := conn.Call(ctx, protocol.MethodInitialize, protocol.InitializeParams{}, nil); err != nil {
		return err
	}
	start := time.Now()
	var res protocol.WorkspaceOpenResult
	if err := conn.Call(ctx, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: dir}).String()}, &res); err != nil {
		return err
	}
	opened := time.Since(start)
	time.Sleep(5 * time.Second) // let the GC and the scavenger settle
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return err
	}
	field := func(name string) float64 {
		for _, line := range strings.Split(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, name+":"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
				return kb / 1024
			}
		}
		return 0
	}
	fmt.Printf("odod serve watching %d files, %d dirs (workspace/open took %s): RSS %.1f MiB (anonymous %.1f, file-backed %.1f: the binary's pages), peak %.1f MiB\n",
		res.Index.Files, res.Index.Dirs, opened.Round(time.Millisecond), field("VmRSS"), field("RssAnon"), field("RssFile"), field("VmHWM"))
	// Idle: nothing changes in the tree; the daemon should do nothing.
	before, err := processCPUTime(cmd.Process.Pid)
	if err != nil {
		return err
	}
	const idle = 30 * time.Second
	time.Sleep(idle)
	after, err := processCPUTime(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("odod serve idle-watching it for %s: %s of CPU (%.3f%% of one core)\n", idle, after-before, 100*float64(after-before)/float64(idle))
	return nil
}

// processCPUTime is the user and system CPU time of process pid so far, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func processCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields count from after it.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unreadable CPU times", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
