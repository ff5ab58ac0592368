package throttle

import (
	"sync"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newAt(interval time.Duration) (*Throttle, *clock) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := New(interval)
	th.now = c.now
	return th, c
}

func TestAllowOncePerInterval(t *testing.T) {
	th, c := newAt(100 * time.Millisecond)
	steps := []struct {
		advance time.Duration
		force   bool
		want    bool
	}{
		{0, false, true},                      // the first report goes out
		{10 * time.Millisecond, false, false}, // too soon
		{80 * time.Millisecond, false, false}, // 90 ms after the first
		{10 * time.Millisecond, false, true},  // 100 ms: a new interval
		{1 * time.Millisecond, true, true},    // forced: always
		{50 * time.Millisecond, false, false}, // the forced one restarted the interval
		{50 * time.Millisecond, false, true},
	}
	for i, s := range steps {
		c.advance(s.advance)
		if got := th.Allow(s.force); got != s.want {
			t.Fatalf("step %d (advance %v, force %v): Allow = %v, want %v", i, s.advance, s.force, got, s.want)
		}
	}
}

func TestZeroValueLetsEverythingThrough(t *testing.T) {
	var th Throttle
	for i := 0; i < 3; i++ {
		if !th.Allow(false) {
			t.Fatalf("report %d held back by a zero Throttle", i)
		}
	}
}

func TestConcurrentReportsLetOneThrough(t *testing.T) {
	th, _ := newAt(time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if th.Allow(false) {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 1 {
		t.Fatalf("%d of 16 concurrent reports went out in one interval, want 1", allowed)
	}
}
