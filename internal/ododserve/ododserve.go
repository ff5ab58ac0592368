// Package ododserve starts `odod serve` as a child process and talks to it
// over its stdin and stdout as an editor does (JSON-RPC 2.0 with LSP
// framing): the client of the benchmark programs.
package ododserve

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/protocol"
)

// Process is a running `odod serve` and the connection to it.
type Process struct {
	Cmd  *exec.Cmd
	Conn *jsonrpc2.Conn
}

// Options say how to start it.
type Options struct {
	// Args follow `serve`, e.g. --log-level=warn.
	Args []string
	// Env is the process's environment (nil: this process's).
	Env []string
	// Stderr receives odod's log (nil: discarded).
	Stderr io.Writer
	// Notify receives the server's notifications, one at a time in
	// order; requests from the server (window/workDoneProgress/create)
	// are answered with null.
	Notify func(method string, params []byte)
}

// Start starts bin serve and connects to it.
func Start(ctx context.Context, bin string, opts Options) (*Process, error) {
	cmd := exec.Command(bin, append([]string{"serve"}, opts.Args...)...)
	cmd.Env, cmd.Stderr = opts.Env, opts.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve (build it: make build): %w", bin, err)
	}
	handler := jsonrpc2.HandlerWithError(func(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
		if req.Notif && opts.Notify != nil && req.Params != nil {
			opts.Notify(req.Method, *req.Params)
		}
		return nil, nil
	})
	conn := jsonrpc2.NewConn(ctx, jsonrpc2.NewBufferedStream(stdioPipes{stdout, stdin}, jsonrpc2.VSCodeObjectCodec{}), handler)
	return &Process{Cmd: cmd, Conn: conn}, nil
}

// Close asks the server to shut down and exit, and kills it when it has
// not within 10 s.
func (p *Process) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = p.Conn.Call(ctx, protocol.MethodShutdown, nil, nil)
	_ = p.Conn.Notify(ctx, protocol.MethodExit, nil)
	_ = p.Conn.Close()
	done := make(chan error, 1)
	go func() { done <- p.Cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = p.Cmd.Process.Kill()
		return <-done
	}
}

// stdioPipes joins the child's stdout and stdin into one stream.
type stdioPipes struct {
	io.Reader
	w io.WriteCloser
}

func (p stdioPipes) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p stdioPipes) Close() error                { return p.w.Close() }
