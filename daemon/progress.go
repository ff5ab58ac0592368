package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/internal/throttle"
	"github.com/odod-dev/odod/protocol"
)

// Progress reports one operation's $/progress. A nil *Progress is valid and
// reports nothing (the client gave no token and cannot create one).
type Progress struct {
	s     *Server
	conn  *jsonrpc2.Conn
	token json.RawMessage

	throttle *throttle.Throttle

	mu    sync.Mutex
	ended bool
}

// minReportInterval throttles reports: an editor repaints on each, and a
// fast walk would otherwise send thousands.
const minReportInterval = 100 * time.Millisecond

// pushProgressGate throttles one receiver's odod/push/progress: at most one
// every minReportInterval, but never a phase change or an upload's last
// file.
func pushProgressGate() func(protocol.PushProgressParams) bool {
	t := throttle.New(minReportInterval)
	return func(p protocol.PushProgressParams) bool {
		return t.Allow(p.Phase != protocol.PhaseUpload || p.FilesDone == p.FilesTotal)
	}
}

// startProgress begins a progress report for the request whose context is
// ctx. It uses the client's workDoneToken when given; otherwise it asks
// the client to create a token (window/workDoneProgress/create) when the
// client supports it, and waits for the answer before sending anything on
// it. window/workDoneProgress/cancel on the token cancels the returned
// context.
func (s *Server) startProgress(ctx context.Context, conn *jsonrpc2.Conn, clientToken json.RawMessage, title string, cancellable bool) (context.Context, *Progress) {
	token := clientToken
	if len(token) == 0 || string(token) == "null" {
		s.mu.Lock()
		supported := s.clientProgr
		s.progressSeq++
		seq := s.progressSeq
		s.mu.Unlock()
		if !supported {
			return ctx, nil
		}
		token = json.RawMessage(fmt.Sprintf(`"odod-%d"`, seq))
		if err := conn.Call(ctx, protocol.MethodWorkDoneProgressCreate, protocol.WorkDoneProgressCreateParams{Token: token}, nil); err != nil {
			s.log.Debug("client refused a progress token", zap.Error(err))
			return ctx, nil
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	key := string(token)
	s.mu.Lock()
	handle := s.progress.add(key, cancel)
	s.mu.Unlock()
	p := &Progress{s: s, conn: conn, token: token, throttle: throttle.New(minReportInterval)}
	p.send(protocol.WorkDoneProgressBegin{Kind: "begin", Title: title, Cancellable: cancellable})
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.progress.remove(key, handle)
		s.mu.Unlock()
	})
	return ctx, p
}

// Report sends a report, at most every 100 ms unless force is set.
func (p *Progress) Report(message string, percentage int, force bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.ended || !p.throttle.Allow(force) {
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	v := protocol.WorkDoneProgressReport{Kind: "report", Message: message}
	if percentage >= 0 {
		pc := min(percentage, 100)
		v.Percentage = &pc
	}
	p.send(v)
}

// End ends the report; later calls do nothing.
func (p *Progress) End(message string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		return
	}
	p.ended = true
	p.mu.Unlock()
	p.send(protocol.WorkDoneProgressEnd{Kind: "end", Message: message})
}

func (p *Progress) send(value any) {
	// Through the connection's writer: in order with the request's
	// other notifications, and out even when the request was cancelled.
	p.s.notes.send(protocol.MethodProgress, protocol.ProgressParams{Token: p.token, Value: value})
}
