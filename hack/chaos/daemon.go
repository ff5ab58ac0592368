//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/protocol"
)

// daemon is one odod serve process and the campaign's JSON-RPC connection
// to it, as an editor holds it. Everything it logs and notifies is kept in
// files under the rig's log directory, for the scan.
type daemon struct {
	cmd    *exec.Cmd
	conn   *jsonrpc2.Conn
	logf   *os.File
	notesf *os.File
	exited chan struct{}

	mu    sync.Mutex
	notes []*jsonrpc2.Request
	wake  chan struct{}
}

type stdio struct {
	io.ReadCloser
	io.WriteCloser
}

func (s stdio) Close() error {
	werr := s.WriteCloser.Close()
	rerr := s.ReadCloser.Close()
	return errors.Join(werr, rerr)
}

// daemonOptions change how odod serve is started.
type daemonOptions struct {
	// wrap runs odod serve through another command (unshare ...); the
	// command must exec its last arguments.
	wrap []string
	// kubeconfig overrides the rig's (the proxy's) kubeconfig.
	kubeconfig string
}

// startDaemon starts odod serve and initializes it for the namespace.
func (r *rig) startDaemon(ctx context.Context, o daemonOptions) (*daemon, error) {
	kubeconfig := r.proxyKubeconfig
	if o.kubeconfig != "" {
		kubeconfig = o.kubeconfig
	}
	r.mu.Lock()
	r.daemons++
	n := r.daemons
	r.mu.Unlock()
	argv := append(append([]string(nil), o.wrap...), r.ododBin, "serve", "--log-level=debug")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	if r.initImage != "" {
		cmd.Env = append(cmd.Env, "ODOD_INIT_IMAGE="+r.initImage)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(r.logDir, fmt.Sprintf("odod-%03d.log", n)))
	if err != nil {
		return nil, err
	}
	notesf, err := os.Create(filepath.Join(r.logDir, fmt.Sprintf("odod-%03d.notifications.jsonl", n)))
	if err != nil {
		_ = logf.Close()
		return nil, err
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		_ = notesf.Close()
		return nil, fmt.Errorf("start %s: %w", r.ododBin, err)
	}
	d := &daemon{cmd: cmd, logf: logf, notesf: notesf, exited: make(chan struct{}), wake: make(chan struct{}, 1)}
	go func() {
		_ = cmd.Wait()
		close(d.exited)
	}()
	notesw := bufio.NewWriter(notesf)
	d.conn = jsonrpc2.NewConn(context.Background(), jsonrpc2.NewBufferedStream(stdio{stdout, stdin}, jsonrpc2.VSCodeObjectCodec{}),
		jsonrpc2.HandlerWithError(func(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
			if !req.Notif {
				return nil, nil // window/workDoneProgress/create
			}
			d.mu.Lock()
			d.notes = append(d.notes, req)
			if b, err := json.Marshal(req); err == nil {
				_, _ = notesw.Write(append(b, '\n'))
				_ = notesw.Flush()
			}
			d.mu.Unlock()
			select {
			case d.wake <- struct{}{}:
			default:
			}
			return nil, nil
		}))
	err = d.call(ctx, 30*time.Second, protocol.MethodInitialize, protocol.InitializeParams{
		Capabilities:          protocol.ClientCapabilities{Window: &protocol.WindowClientCapabilities{WorkDoneProgress: true}},
		InitializationOptions: &protocol.InitializationOptions{Namespace: r.ns, LogLevel: "debug"},
	}, nil)
	if err != nil {
		d.kill()
		return nil, err
	}
	_ = d.conn.Notify(ctx, protocol.MethodInitialized, struct{}{})
	return d, nil
}

func (d *daemon) call(ctx context.Context, timeout time.Duration, method string, params, result any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := d.conn.Call(ctx, method, params, result); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	return nil
}

// open opens the workspace at root and returns its id.
func (d *daemon) open(ctx context.Context, root string) (string, error) {
	var res protocol.WorkspaceOpenResult
	err := d.call(ctx, 2*time.Minute, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: root}).String()}, &res)
	return res.WorkspaceID, err
}

// watch is the workspace's watch as odod/status tells it.
func (d *daemon) watch(ctx context.Context, wsID string) (protocol.WatchStatus, error) {
	var st protocol.StatusResult
	if err := d.call(ctx, 30*time.Second, protocol.MethodStatus, nil, &st); err != nil {
		return protocol.WatchStatus{}, err
	}
	for _, w := range st.Workspaces {
		if w.WorkspaceID == wsID {
			return w.Watch, nil
		}
	}
	return protocol.WatchStatus{}, fmt.Errorf("odod/status does not list workspace %s", wsID)
}

func (d *daemon) mark() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.notes)
}

// waitNote waits until a notification of method received after mark
// satisfies pred, and returns it.
func (d *daemon) waitNote(ctx context.Context, mark int, method string, pred func(json.RawMessage) bool) (json.RawMessage, error) {
	raw, _, err := d.nextNote(ctx, mark, method, pred)
	return raw, err
}

// nextNote is waitNote that also returns the mark just after the
// notification it found.
func (d *daemon) nextNote(ctx context.Context, mark int, method string, pred func(json.RawMessage) bool) (json.RawMessage, int, error) {
	for {
		d.mu.Lock()
		notes := d.notes[mark:]
		d.mu.Unlock()
		for i, n := range notes {
			if n.Method == method && n.Params != nil && pred(*n.Params) {
				return *n.Params, mark + i + 1, nil
			}
		}
		mark += len(notes)
		select {
		case <-d.wake:
		case <-time.After(50 * time.Millisecond):
		case <-d.exited:
			return nil, mark, fmt.Errorf("odod exited while waiting for %s", method)
		case <-ctx.Done():
			return nil, mark, fmt.Errorf("waiting for %s: %w", method, ctx.Err())
		}
	}
}

// waitPhase waits for a odod/push/progress after mark that pred accepts.
func (d *daemon) waitPhase(ctx context.Context, mark int, pred func(protocol.PushProgressParams) bool) (protocol.PushProgressParams, error) {
	var got protocol.PushProgressParams
	_, err := d.waitNote(ctx, mark, protocol.MethodPushProgress, func(raw json.RawMessage) bool {
		var p protocol.PushProgressParams
		if json.Unmarshal(raw, &p) != nil || !pred(p) {
			return false
		}
		got = p
		return true
	})
	return got, err
}

// kill ends the process group with SIGKILL and waits for it.
func (d *daemon) kill() {
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
	}
	d.close()
}

// stop asks odod to shut down and exit, and kills it after 10 s.
func (d *daemon) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if d.call(ctx, 10*time.Second, protocol.MethodShutdown, nil, nil) == nil {
		_ = d.conn.Notify(ctx, protocol.MethodExit, nil)
	}
	select {
	case <-d.exited:
		d.close()
	case <-ctx.Done():
		d.kill()
	}
}

func (d *daemon) close() {
	_ = d.conn.Close()
	d.mu.Lock()
	_ = d.notesf.Close()
	d.mu.Unlock()
	_ = d.logf.Close()
}
