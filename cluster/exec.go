package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
)

// Execer runs a command in a container of a pod in the client's
// namespace. stdin may be nil (no stdin stream); stdout and stderr may be
// nil (discarded by the server) or the same writer. A non-zero exit is an
// *ExitError. *Client implements it; so does FakeExecer.
type Execer interface {
	Exec(ctx context.Context, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// ExitError is a command that ran and exited non-zero.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return fmt.Sprintf("command exited with code %d", e.Code) }

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the command's exit status; consumers such as sync match
// errors on this method, not on the type.
func (e *ExitError) ExitCode() int { return e.Code }

// Exec runs argv in the container through client-go's remotecommand:
// WebSocket (v5 protocol) first, SPDY when the server cannot upgrade to
// WebSocket, as kubectl does. The sync engine keeps one such stream open
// with stdin as a pipe for its agent.
//
// Two traits of client-go (v0.34) matter to such a long-lived stream.
// Over WebSocket, the end of stdin is sent with a write that reuses the
// deadline of the last stdin write, 60 s after it: when stdin was idle
// longer, that write fails at once and the failure is permanent for the
// connection (every heartbeat ping then fails, and the stream dies a
// minute later with "next reader: i/o timeout"), so the command never sees
// its stdin end. Over SPDY, nothing notices a half-open connection. A
// caller that keeps stdin open must write to it regularly and watch for
// answers; the agent client's keepalive does both.
func (c *Client) Exec(ctx context.Context, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return c.execer.Exec(ctx, pod, container, argv, stdin, stdout, stderr)
}

type remoteExecer struct {
	kube      kubernetes.Interface
	rest      *rest.Config
	namespace func() string
}

func (r *remoteExecer) Exec(ctx context.Context, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if r.rest == nil || r.kube == nil {
		return errors.New("exec needs a REST config: make the client with Connect, or with New and WithRESTConfig")
	}
	if len(argv) == 0 {
		return errors.New("exec: empty command")
	}
	req := r.kube.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(r.namespace()).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container,
			Command:   argv,
			Stdin:     stdin != nil,
			Stdout:    stdout != nil,
			Stderr:    stderr != nil,
		}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(r.rest, "GET", req.URL().String())
	if err != nil {
		return fmt.Errorf("exec in %s/%s: websocket executor: %w", pod, container, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(r.rest, "POST", req.URL())
	if err != nil {
		return fmt.Errorf("exec in %s/%s: spdy executor: %w", pod, container, err)
	}
	exec, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return fmt.Errorf("exec in %s/%s: %w", pod, container, err)
	}
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Stderr: stderr})
	return execError(ctx, err, pod, container, argv)
}

func execError(ctx context.Context, err error, pod, container string, argv []string) error {
	if err == nil {
		return nil
	}
	var code utilexec.CodeExitError
	if errors.As(err, &code) {
		return &ExitError{Code: code.Code, Err: err}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("exec %s in %s/%s: %w", argv[0], pod, container, ctx.Err())
	}
	what := fmt.Sprintf("exec %s in %s/%s", argv[0], pod, container)
	if apierrors.IsBadRequest(err) || strings.Contains(err.Error(), "container not found") || strings.Contains(err.Error(), "is not valid for pod") {
		return &Error{Kind: KindPodNotReady, Message: what + ": the container is not running", Err: err,
			Suggestion: "wait for the component's pod to be Running (component/describe) and push again"}
	}
	return classify(err, what)
}

// ExecCall is one call a FakeExecer received.
type ExecCall struct {
	Pod, Container string
	Argv           []string
	Stdin          []byte // what the handler read, when it read
}

// FakeExecer answers Exec with Handler; with no Handler every command
// succeeds and prints nothing.
type FakeExecer struct {
	Handler func(ctx context.Context, call ExecCall, stdin io.Reader, stdout, stderr io.Writer) error
	mu      sync.Mutex
	calls   []ExecCall
}

// Exec records the call and runs Handler.
func (f *FakeExecer) Exec(ctx context.Context, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	call := ExecCall{Pod: pod, Container: container, Argv: append([]string(nil), argv...)}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	if f.Handler == nil {
		return nil
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	return f.Handler(ctx, call, stdin, stdout, stderr)
}

// Calls returns the calls so far.
func (f *FakeExecer) Calls() []ExecCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ExecCall(nil), f.calls...)
}
