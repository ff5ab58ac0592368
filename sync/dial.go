package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/agent"
	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/internal/lockedbuf"
)

// ErrNoAgent means the container has no odod agent (it was not created by
// odod); the caller falls back to the tar transport.
var ErrNoAgent = errors.New("the container has no odod agent (" + initimage.AgentCommand("")[0] + ")")

// closeWait bounds how long closing waits for the agent's exec to end by
// itself (the agent exits when its stdin ends) before tearing it down.
const closeWait = 5 * time.Second

// The agent stream's keepalive: the agent is pinged whenever nothing was
// sent or nothing received for keepalivePeriod, and a stream that carried
// nothing for keepaliveTimeout is given up, so a half-open connection
// (SPDY has no heartbeat that fails one) fails the push in flight and the
// next push dials again, instead of hanging until it is cancelled. The
// period is well under the 60 s after which client-go's WebSocket executor
// can no longer close an idle stdin (see cluster.Client.Exec). 20 s (it was
// 45) bounds what a dead connection costs an editor's user; the agent
// answers pings while a build runs, so a long silent build does not trip
// it.
const (
	keepalivePeriod  = 5 * time.Second
	keepaliveTimeout = 20 * time.Second
)

// DialAgent starts the agent in the container over one exec stream (stdin
// and stdout carry the framed protocol) and shakes hands. The stream lives
// until the transport is closed, independently of ctx, which bounds the
// dial only.
func DialAgent(ctx context.Context, exec Executor, root, clientName string, log *zap.Logger) (*AgentTransport, error) {
	if log == nil {
		log = zap.NewNop()
	}
	streamCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	// The start of the agent's stderr says why it failed.
	stderr := &lockedbuf.Buffer{Limit: 64 << 10}
	exited := make(chan struct{})
	var execErr error // set before exited is closed
	var closing, tornDown atomic.Bool
	go func() {
		err := exec.Exec(streamCtx, initimage.AgentCommand(root), stdinR, stdoutW, stderr)
		if !closing.Load() {
			// Not closed by odod: the pod went away or the connection
			// broke. The call in flight, if any, fails saying so, and the
			// next push dials again: nothing for the user to do.
			log.Info("the agent's exec stream ended; the next push reconnects", zap.Error(err), zap.String("agentStderr", strings.TrimSpace(stderr.String())))
		}
		if err == nil {
			err = io.EOF
		}
		_ = stdoutW.CloseWithError(err)
		_ = stdinR.CloseWithError(err)
		execErr = err
		close(exited)
	}()
	// closeStream ends the agent's stdin, so the agent exits; an exec that
	// does not end by itself within closeWait (a half-open connection) is
	// torn down.
	closeStream := sync.OnceFunc(func() {
		closing.Store(true)
		_ = stdinW.Close()
		go func() {
			timer := time.NewTimer(closeWait)
			defer timer.Stop()
			select {
			case <-exited:
			case <-timer.C:
				tornDown.Store(true)
				cancel()
			}
		}()
	})
	end := func() error {
		closeStream()
		<-exited
		cancel()
		if tornDown.Load() {
			// Whatever the agent still had to say is of no interest now.
			log.Debug("the agent's exec did not end when its stdin was closed; it was torn down", zap.Duration("after", closeWait), zap.Error(execErr))
			return nil
		}
		if errors.Is(execErr, io.EOF) {
			return nil
		}
		return execErr
	}
	// abort tears the exec down at once: the keepalive found the
	// connection dead, so waiting for the agent to end by itself is time
	// the user waits for nothing.
	abort := func() {
		closing.Store(true)
		_ = stdinW.Close()
		tornDown.Store(true)
		cancel()
	}
	rw := readWriteCloser{Reader: stdoutR, Writer: stdinW, close: func() error { closeStream(); return nil }, abort: abort}
	client, err := agent.NewClient(ctx, rw, agent.ClientOptions{Name: clientName, Logger: log, Keepalive: keepalivePeriod, KeepaliveTimeout: keepaliveTimeout})
	if err != nil {
		execErr := end()
		code, exited := exitStatus(execErr)
		if exited && (code == 126 || code == 127) || strings.Contains(stderr.String(), "no such file") || strings.Contains(fmt.Sprint(execErr), "no such file") {
			return nil, fmt.Errorf("%w: %s", ErrNoAgent, strings.TrimSpace(stderr.String()))
		}
		if errors.Is(err, agent.ErrIncompatibleAgent) {
			return nil, err
		}
		return nil, fmt.Errorf("start the odod agent in the container: %w (exec: %v; stderr: %s)", err, execErr, strings.TrimSpace(stderr.String()))
	}
	return NewAgentTransport(client, end), nil
}

type readWriteCloser struct {
	io.Reader
	io.Writer
	close func() error
	abort func()
}

func (r readWriteCloser) Close() error { return r.close() }

// Abort is agent.Aborter's: the stream is broken, tear it down now.
func (r readWriteCloser) Abort() { r.abort() }
