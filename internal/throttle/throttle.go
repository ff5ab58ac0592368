// Package throttle lets a stream of reports through at most once per
// interval: an editor repaints on each $/progress, a terminal redraws its
// bar, and a fast upload would otherwise send thousands.
package throttle

import (
	"sync"
	"time"
)

// Throttle is safe for concurrent use; the zero value lets everything
// through.
type Throttle struct {
	interval time.Duration
	now      func() time.Time // time.Now; a test's clock

	mu   sync.Mutex
	last time.Time
}

// New makes a throttle that lets one report through per interval.
func New(interval time.Duration) *Throttle {
	return &Throttle{interval: interval, now: time.Now}
}

// Allow reports whether a report may go out now: the first always, then
// one per interval; a forced one (a phase change, the last of a phase)
// always goes out and starts a new interval.
func (t *Throttle) Allow(force bool) bool {
	now := time.Now
	if t.now != nil {
		now = t.now
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	at := now()
	if !force && !t.last.IsZero() && at.Sub(t.last) < t.interval {
		return false
	}
	t.last = at
	return true
}
