package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/protocol"
)

// maxDebugSleep bounds odod/debug/sleep.
const maxDebugSleep = 10 * time.Minute

// debugSleep waits for p.DurationMs, reporting progress every 100 ms, and
// stops early when cancelled ($/cancelRequest or the progress token's
// window/workDoneProgress/cancel).
func (s *Server) debugSleep(ctx context.Context, conn *jsonrpc2.Conn, p protocol.DebugSleepParams) (any, error) {
	d := time.Duration(p.DurationMs) * time.Millisecond
	if p.DurationMs < 0 || d > maxDebugSleep {
		return nil, invalidParams("durationMs", fmt.Sprintf("must be between 0 and %d", maxDebugSleep.Milliseconds()), "Pass a duration in milliseconds.")
	}
	ctx, progress := s.startProgress(ctx, conn, p.WorkDoneToken, "Sleeping", true)
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			progress.End("cancelled")
			return nil, ctx.Err()
		case <-deadline.C:
			progress.End("done")
			return protocol.DebugSleepResult{SleptMs: int(time.Since(start).Milliseconds())}, nil
		case <-tick.C:
			elapsed := time.Since(start)
			progress.Report(fmt.Sprintf("%d ms", elapsed.Milliseconds()), int(100*elapsed/max(d, 1)), true)
		}
	}
}
