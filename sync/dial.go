package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
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

// closeWait bounds how long Close waits for the agent's exec to end.
const closeWait = 5 * time.Second

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
	done := make(chan error, 1)
	var closing atomic.Bool
	go func() {
		err := exec.Exec(streamCtx, initimage.AgentCommand(root), stdinR, stdoutW, stderr)
		if !closing.Load() {
			// Not closed by us: say why the stream ended.
			log.Warn("the agent's exec stream ended", zap.Error(err), zap.String("agentStderr", strings.TrimSpace(stderr.String())))
		}
		if err == nil {
			err = io.EOF
		}
		_ = stdoutW.CloseWithError(err)
		_ = stdinR.CloseWithError(err)
		done <- err
	}()
	end := func() error {
		closing.Store(true)
		_ = stdinW.Close()
		select {
		case err := <-done:
			cancel()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		case <-time.After(closeWait):
			cancel()
			return <-done
		}
	}
	client, err := agent.NewClient(ctx, readWriteCloser{Reader: stdoutR, Writer: stdinW, close: func() error { return stdinW.Close() }}, agent.ClientOptions{Name: clientName, Logger: log})
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
}

func (r readWriteCloser) Close() error { return r.close() }
