package daemon

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/odod-dev/odod/protocol"
)

// $/cancelRequest sent as a request (with an id) must be answered, or the
// client waits for ever.
func TestCancelRequestSentAsARequestIsAnswered(t *testing.T) {
	c := startServer(t, Options{})
	c.initialize(&protocol.InitializationOptions{DebugMethods: true}, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleep, err := c.conn.DispatchCall(ctx, protocol.MethodDebugSleep, protocol.DebugSleepParams{DurationMs: 60000})
	if err != nil {
		t.Fatal(err)
	}
	callCtx, callCancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer callCancel()
	if err := c.conn.Call(callCtx, protocol.MethodCancelRequest, map[string]any{"id": 1}, nil); err != nil {
		t.Fatalf("$/cancelRequest as a request: %v", err)
	}
	if err := c.conn.Call(callCtx, protocol.MethodWorkDoneProgressCancel, protocol.WorkDoneProgressCancelParams{Token: json.RawMessage(`"none"`)}, nil); err != nil {
		t.Fatalf("window/workDoneProgress/cancel as a request: %v", err)
	}
	if got := rpcCode(t, sleep.Wait(callCtx, nil)); got != protocol.CodeRequestCancelled {
		t.Fatalf("cancelled request: code %d, want -32800", got)
	}
}

// Two requests given the same progress token both stop when it is
// cancelled: the second must not overwrite the first's cancel function.
func TestDuplicateProgressTokensBothCancel(t *testing.T) {
	c := startServer(t, Options{})
	c.initialize(&protocol.InitializationOptions{DebugMethods: true}, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	token := json.RawMessage(`"dup"`)
	p := protocol.DebugSleepParams{DurationMs: 60000, WorkDoneProgressParams: protocol.WorkDoneProgressParams{WorkDoneToken: token}}
	first, err := c.conn.DispatchCall(ctx, protocol.MethodDebugSleep, p)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.conn.DispatchCall(ctx, protocol.MethodDebugSleep, p)
	if err != nil {
		t.Fatal(err)
	}
	// Both have begun (two begins on the token) before the cancel.
	deadline := time.Now().Add(10 * time.Second)
	for len(c.progressKindsNow(string(token))) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the two requests never began their progress")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := c.conn.Notify(context.Background(), protocol.MethodWorkDoneProgressCancel, protocol.WorkDoneProgressCancelParams{Token: token}); err != nil {
		t.Fatal(err)
	}
	waitCtx, waitCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer waitCancel()
	for i, w := range []interface {
		Wait(context.Context, any) error
	}{first, second} {
		if got := rpcCode(t, w.Wait(waitCtx, nil)); got != protocol.CodeRequestCancelled {
			t.Fatalf("request %d: code %d, want -32800", i+1, got)
		}
	}
}

// progressKindsNow returns the begin kinds seen so far on token.
func (c *client) progressKindsNow(token string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var kinds []string
	for _, n := range c.notifications {
		if n.Method != protocol.MethodProgress || n.Params == nil {
			continue
		}
		var p struct {
			Token json.RawMessage `json:"token"`
			Value struct{ Kind string }
		}
		_ = json.Unmarshal(*n.Params, &p)
		if string(p.Token) == token && p.Value.Kind == "begin" {
			kinds = append(kinds, p.Value.Kind)
		}
	}
	return kinds
}
