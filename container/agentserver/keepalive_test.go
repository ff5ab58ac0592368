//go:build linux

package agentserver

import (
	"bytes"
	"context"
	"errors"
	"github.com/odod-dev/odod/agent"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// writeCounter counts the client's writes to the stream.
type writeCounter struct {
	pipeConn
	writes atomic.Int64
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes.Add(1)
	return w.pipeConn.Write(p)
}

// keepaliveAgent runs Serve in-process and connects a client with a fast
// keepalive.
func keepaliveAgent(t *testing.T, period, timeout time.Duration) (*agent.Client, *writeCounter) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "src")
	toAgentR, toAgentW := io.Pipe()
	toClientR, toClientW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		err := Serve(ctx, toAgentR, toClientW, Options{Root: root, Version: "test-agent"})
		_ = toClientW.CloseWithError(io.EOF)
		served <- err
	}()
	conn := &writeCounter{pipeConn: pipeConn{r: toClientR, w: toAgentW}}
	c, err := agent.NewClient(context.Background(), conn,
		agent.ClientOptions{Name: "test", Keepalive: period, KeepaliveTimeout: timeout})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not end within 10 s of the client closing")
		}
	})
	return c, conn
}

func TestKeepaliveKeepsAQuietHealthyStream(t *testing.T) {
	c, _ := keepaliveAgent(t, 20*time.Millisecond, 500*time.Millisecond)
	// Silent for four keepalive timeouts: only the pings' answers cross.
	var out bytes.Buffer
	code, err := c.Run(context.Background(), []string{"sh", "-c", "sleep 2; echo done"}, nil, &out, nil)
	if err != nil || code != 0 || out.String() != "done\n" {
		t.Fatalf("Run: code %d err %v output %q", code, err, out.String())
	}
	if err := c.Err(); err != nil {
		t.Fatalf("the stream was given up: %v", err)
	}
}

func TestKeepaliveWritesWhileACommandOnlyPrints(t *testing.T) {
	c, conn := keepaliveAgent(t, 50*time.Millisecond, time.Second)
	// The agent talks all the time and the client has nothing to say: the
	// keepalive still writes every period (client-go's WebSocket stdin
	// close relies on a recent write; see keepalive).
	before := conn.writes.Load()
	var printed countingWriter
	code, err := c.Run(context.Background(), []string{"timeout", "2", "sh", "-c", "while :; do echo tick; done"}, nil, &printed, nil)
	if err != nil || code != 124 || printed.n.Load() < 1000 {
		t.Fatalf("Run: code %d (want 124, timeout's) err %v, %d bytes of output", code, err, printed.n.Load())
	}
	// The Run request itself is one write; 2 s of output at 50 ms periods
	// is 20 or more pings.
	if n := conn.writes.Load() - before; n < 10 {
		t.Fatalf("%d writes while the command printed for 2 s, want a ping every 50 ms", n)
	}
}

type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// stallingWriter blocks its first write for a while: a caller that reads a
// command's output slowly.
type stallingWriter struct {
	stall   time.Duration
	stalled bool
	buf     bytes.Buffer
}

func (w *stallingWriter) Write(p []byte) (int, error) {
	if !w.stalled {
		w.stalled = true
		time.Sleep(w.stall)
	}
	return w.buf.Write(p)
}

func TestKeepaliveForgivesASlowCaller(t *testing.T) {
	c, _ := keepaliveAgent(t, 20*time.Millisecond, 500*time.Millisecond)
	// The caller takes four timeouts over the first chunk while the agent
	// has more to send: the stream waits for us, it is not dead.
	out := &stallingWriter{stall: 2 * time.Second}
	// More output than the client buffers for a caller (64 frames).
	code, err := c.Run(context.Background(), []string{"head", "-c", "8000000", "/dev/zero"}, nil, out, nil)
	if err != nil || code != 0 {
		t.Fatalf("Run: code %d err %v", code, err)
	}
	if n := out.buf.Len(); n != 8000000 {
		t.Fatalf("got %d bytes, want 8000000", n)
	}
}

// silentConn is an agent that shakes hands and then neither reads nor
// answers: a half-open connection.
type silentConn struct {
	toClient *io.PipeReader
	fromUs   *io.PipeWriter
	closed   chan struct{}
}

func newSilentConn(t *testing.T) *silentConn {
	t.Helper()
	toClientR, toClientW := io.Pipe()
	fromUsR, fromUsW := io.Pipe()
	s := &silentConn{toClient: toClientR, fromUs: fromUsW, closed: make(chan struct{})}
	go func() {
		f, err := agent.ReadFrame(fromUsR)
		if err != nil || f.Type != agent.FrameHello {
			_ = toClientW.CloseWithError(errors.New("no hello"))
			return
		}
		reply, _ := agent.AppendFrame(nil, agent.FrameHelloReply, f.ID, agent.MustJSON(agent.HelloReply{Magic: agent.HelloMagic, Protocol: agent.MaxProtocol, AgentVersion: "silent", Root: "/tmp/src"}))
		_, _ = toClientW.Write(reply)
		// From now on nothing is read or written until the client closes.
		<-s.closed
		_ = toClientW.CloseWithError(io.ErrClosedPipe)
		_ = fromUsR.CloseWithError(io.ErrClosedPipe)
	}()
	return s
}

func (s *silentConn) Read(p []byte) (int, error)  { return s.toClient.Read(p) }
func (s *silentConn) Write(p []byte) (int, error) { return s.fromUs.Write(p) }
func (s *silentConn) Close() error {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	return nil
}

func TestKeepaliveGivesUpAHalfOpenStream(t *testing.T) {
	conn := newSilentConn(t)
	c, err := agent.NewClient(context.Background(), conn, agent.ClientOptions{Name: "test", Keepalive: 20 * time.Millisecond, KeepaliveTimeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })

	// A call waiting on its context alone would hang for a minute.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	_, err = c.List(ctx, ".")
	if err == nil || !strings.Contains(err.Error(), "nothing came through it") {
		t.Fatalf("List on a half-open stream: %v, want the keepalive's error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the keepalive took %v to give up, want about 150 ms", d)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the keepalive gave up")
	}
	if err := c.Ping(ctx); err == nil || !strings.Contains(err.Error(), "nothing came through it") {
		t.Fatalf("a later call: %v, want the keepalive's error", err)
	}
}

func TestNoKeepaliveByDefault(t *testing.T) {
	conn := newSilentConn(t)
	c, err := agent.NewClient(context.Background(), conn, agent.ClientOptions{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	time.Sleep(200 * time.Millisecond)
	if err := c.Err(); err != nil {
		t.Fatalf("without Keepalive the stream was given up: %v", err)
	}
}

// abortableConn is a silent connection that can be torn down at once.
type abortableConn struct {
	*silentConn
	aborted chan struct{}
}

func (a abortableConn) Abort() {
	close(a.aborted)
	_ = a.silentConn.Close()
}

// A stream the keepalive gives up is aborted, not closed: an orderly close
// waits for the other end, which a dead connection never answers.
func TestKeepaliveAbortsAStreamItGivesUp(t *testing.T) {
	conn := abortableConn{silentConn: newSilentConn(t), aborted: make(chan struct{})}
	c, err := agent.NewClient(context.Background(), conn, agent.ClientOptions{Name: "test", Keepalive: 20 * time.Millisecond, KeepaliveTimeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	select {
	case <-conn.aborted:
	case <-time.After(5 * time.Second):
		t.Fatal("the keepalive did not abort the half-open stream")
	}
}
