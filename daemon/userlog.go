package daemon

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/odod-dev/odod/protocol"
)

// userLogSink is a zap core that mirrors odod's log entries to the editor
// as window/logMessage, so a user sees in the editor's output panel what
// odod writes to stderr. Entries are queued and sent by forward; when the
// client reads too slowly, entries are dropped and counted rather than
// blocking the code that logged.
type userLogSink struct {
	level   zapcore.LevelEnabler
	fields  []zapcore.Field
	out     chan protocol.LogMessageParams
	dropped *atomic.Int64
	// started is closed by initialize: nothing is sent before the
	// client has spoken.
	started chan struct{}
}

func newUserLogSink(level zapcore.LevelEnabler) *userLogSink {
	return &userLogSink{level: level, out: make(chan protocol.LogMessageParams, 256), dropped: new(atomic.Int64), started: make(chan struct{})}
}

func (u *userLogSink) Enabled(l zapcore.Level) bool { return u.level.Enabled(l) }

func (u *userLogSink) With(fields []zapcore.Field) zapcore.Core {
	c := *u
	c.fields = append(append([]zapcore.Field{}, u.fields...), fields...)
	return &c
}

func (u *userLogSink) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if u.Enabled(e.Level) {
		return ce.AddCore(e, u)
	}
	return ce
}

func (u *userLogSink) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range u.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for k, v := range enc.Fields {
		b.WriteString(" ")
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(fmt.Sprint(v))
	}
	msg := protocol.LogMessageParams{Type: messageType(e.Level), Message: b.String()}
	select {
	case u.out <- msg:
	default:
		u.dropped.Add(1)
	}
	return nil
}

func (u *userLogSink) Sync() error { return nil }

// forward sends queued entries to the client until ctx ends.
func (u *userLogSink) forward(ctx context.Context, conn *jsonrpc2.Conn) {
	select {
	case <-ctx.Done():
		return
	case <-u.started:
	}
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-u.out:
			if n := u.dropped.Swap(0); n > 0 {
				_ = conn.Notify(ctx, protocol.MethodLogMessage, protocol.LogMessageParams{
					Type: protocol.MessageWarning, Message: "odod: " + strconv.FormatInt(n, 10) + " log messages dropped because the editor read them too slowly",
				})
			}
			if err := conn.Notify(ctx, protocol.MethodLogMessage, m); err != nil {
				return
			}
		}
	}
}

func messageType(l zapcore.Level) protocol.MessageType {
	switch {
	case l >= zap.ErrorLevel:
		return protocol.MessageError
	case l == zap.WarnLevel:
		return protocol.MessageWarning
	case l == zap.InfoLevel:
		return protocol.MessageInfo
	}
	return protocol.MessageLog
}
