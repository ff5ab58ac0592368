//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/protocol"
)

// serveRSS starts `odod serve` (bin), opens dir as a workspace the way an
// editor does, waits for the process to settle, and prints the RSS and
// peak RSS of the daemon watching that tree.
func serveRSS(ctx context.Context, bin, dir string) error {
	cmd := exec.CommandContext(ctx, bin, "serve", "--log-level=warn")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s (run make build): %w", bin, err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	conn := jsonrpc2.NewConn(ctx, jsonrpc2.NewBufferedStream(stdioPipes{stdout, stdin}, jsonrpc2.VSCodeObjectCodec{}), jsonrpc2.HandlerWithError(func(context.Context, *jsonrpc2.Conn, *jsonrpc2.Request) (any, error) { return nil, nil }))
	defer conn.Close()
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
	_ = conn.Call(ctx, protocol.MethodShutdown, nil, nil)
	_ = conn.Notify(ctx, protocol.MethodExit, nil)
	return nil
}

// stdioPipes joins the child's stdout and stdin into one stream.
type stdioPipes struct {
	io.Reader
	w io.WriteCloser
}

func (p stdioPipes) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p stdioPipes) Close() error                { return p.w.Close() }
