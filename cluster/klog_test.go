package cluster

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/klog/v2"
)

func TestClientGoLogsGoToOdodsLoggerAtDebug(t *testing.T) {
	// klog's logger is process-wide: this test owns it while it runs.
	logs := &ClientGoLogs{}
	logs.Install()
	t.Cleanup(klog.ClearLogger)

	// Before To: dropped, and nothing reaches stderr either.
	klog.Errorf("Websocket Ping failed: %v", errors.New("before"))

	core, seen := observer.New(zapcore.DebugLevel)
	logs.To(zap.New(core))
	klog.Errorf("Websocket Ping failed: %v", errors.New("i/o timeout"))
	utilruntime.HandleErrorWithContext(context.Background(), errors.New("next reader: i/o timeout"), "stream ended")
	klog.V(5).Info("developer chatter")
	klog.FromContext(context.Background()).V(4).Info("contextual chatter")
	klog.LoggerWithName(klog.LoggerWithValues(klog.Background(), "pod", "web-1"), "exec").Info("named")

	entries := seen.AllUntimed()
	if len(entries) != 3 {
		t.Fatalf("got %d entries, want 3 (the ping failure, the unhandled error, the named line): %+v", len(entries), entries)
	}
	for _, e := range entries {
		if e.Level != zapcore.DebugLevel || e.LoggerName[:9] != "client-go" {
			t.Errorf("entry %q: level %s logger %q, want debug from client-go", e.Message, e.Level, e.LoggerName)
		}
	}
	if got := entries[0].Message; got != "Websocket Ping failed: i/o timeout" {
		t.Errorf("first message %q", got)
	}
	if got := entries[1].ContextMap()["error"]; got != "next reader: i/o timeout" {
		t.Errorf("unhandled error's error field %v, entry %+v", got, entries[1])
	}
	if e := entries[2]; e.LoggerName != "client-go.exec" || e.ContextMap()["pod"] != "web-1" {
		t.Errorf("named entry: logger %q fields %v", e.LoggerName, e.ContextMap())
	}

	// A logger that does not log debug lines gets none.
	quiet, seenQuiet := observer.New(zapcore.InfoLevel)
	logs.To(zap.New(quiet))
	klog.Errorf("Websocket Ping failed: %v", errors.New("again"))
	if n := seenQuiet.Len(); n != 0 {
		t.Fatalf("an info-level logger got %d client-go lines", n)
	}
}
