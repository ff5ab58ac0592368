package sync

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/odod-dev/odod/container/agentserver"
)

func TestClosingTheAgentTransportLogsNothing(t *testing.T) {
	core, seen := observer.New(zapcore.DebugLevel)
	target := filepath.Join(t.TempDir(), "src")
	tr, err := DialAgent(context.Background(), &localExecutor{}, target, "test", zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// odod closed the stream itself: nothing to tell anyone.
	for _, e := range seen.AllUntimed() {
		if strings.Contains(e.Message, "exec stream") || e.Level >= zapcore.WarnLevel {
			t.Errorf("closing logged %s %q %v", e.Level, e.Message, e.ContextMap())
		}
	}
	if !tr.Broken() {
		t.Error("a closed transport is not Broken")
	}
}

func TestAgentStreamEndingByItselfIsBrokenAndNoWarning(t *testing.T) {
	core, seen := observer.New(zapcore.DebugLevel)
	podGone := make(chan struct{})
	exec := execFunc(func(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
		serveCtx, stop := context.WithCancel(ctx)
		defer stop()
		served := make(chan error, 1)
		go func() {
			served <- agentserver.Serve(serveCtx, stdin, stdout, agentserver.Options{Root: argv[2], Version: "test"})
		}()
		select {
		case <-podGone:
			stop()
			<-served
			return errors.New("error dialing backend: the pod is gone")
		case err := <-served:
			return err
		}
	})
	tr, err := DialAgent(context.Background(), exec, filepath.Join(t.TempDir(), "src"), "test", zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.Broken() {
		t.Fatal("a fresh transport is Broken")
	}
	close(podGone)
	deadline := time.Now().Add(5 * time.Second)
	for !tr.Broken() {
		if time.Now().After(deadline) {
			t.Fatal("the transport is not Broken 5 s after its stream ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ended := seen.FilterMessageSnippet("exec stream ended").AllUntimed()
	if len(ended) != 1 || ended[0].Level != zapcore.InfoLevel {
		t.Fatalf("want one info line saying the stream ended, got %+v", seen.AllUntimed())
	}
}

func TestCloseOfAHalfOpenAgentStreamIsBounded(t *testing.T) {
	// The connection is half-open: the agent never learns that its stdin
	// ended, and the exec lasts until its context is cancelled.
	exec := execFunc(func(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
		innerR, innerW := io.Pipe()
		go func() { _, _ = io.Copy(innerW, stdin) }() // the end of stdin is lost
		serveCtx, stop := context.WithCancel(context.Background())
		served := make(chan struct{})
		go func() {
			_ = agentserver.Serve(serveCtx, innerR, stdout, agentserver.Options{Root: argv[2], Version: "test"})
			close(served)
		}()
		<-ctx.Done()
		stop()
		<-served
		return ctx.Err()
	})
	core, seen := observer.New(zapcore.DebugLevel)
	tr, err := DialAgent(context.Background(), exec, filepath.Join(t.TempDir(), "src"), "test", zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	start := time.Now()
	go func() { closed <- tr.Close() }()
	select {
	case err := <-closed:
		// odod tore down its own stream: not the caller's problem.
		if err != nil {
			t.Errorf("Close: %v, want nil", err)
		}
	case <-time.After(closeWait + 10*time.Second):
		t.Fatalf("Close of a half-open stream still waiting after %v", time.Since(start))
	}
	if d := time.Since(start); d < closeWait-time.Second {
		t.Fatalf("Close returned after %v, before its %v grace: the test's stream is not half-open", d, closeWait)
	}
	if n := seen.FilterMessageSnippet("torn down").Len(); n != 1 {
		t.Errorf("want one debug line saying the exec was torn down, got %+v", seen.AllUntimed())
	}
	for _, e := range seen.AllUntimed() {
		if e.Level > zapcore.DebugLevel {
			t.Errorf("closing logged %s %q", e.Level, e.Message)
		}
	}
}
