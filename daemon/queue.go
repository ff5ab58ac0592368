package daemon

import (
	"context"
	"sync"

	"github.com/sourcegraph/jsonrpc2"
)

// queuedRequest is a message waiting its turn.
type queuedRequest struct {
	ctx    context.Context
	cancel context.CancelFunc
	conn   *jsonrpc2.Conn
	req    *jsonrpc2.Request
}

// requestQueue runs messages in arrival order, as gopls does: each one runs
// alone until it finishes or calls release(ctx), after which the next one
// starts while it goes on. jsonrpc2's read loop only appends here, so a
// slow request never stops $/cancelRequest from being read.
type requestQueue struct {
	mu     sync.Mutex
	items  []queuedRequest
	closed bool
	signal chan struct{}
	// stopped is closed when run returns.
	stopped chan struct{}
}

func newRequestQueue() *requestQueue {
	return &requestQueue{signal: make(chan struct{}, 1), stopped: make(chan struct{})}
}

func (q *requestQueue) push(r queuedRequest) {
	q.mu.Lock()
	q.items = append(q.items, r)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// close makes run return once the messages already queued have been
// dispatched: after the client's input ends, the shutdown and exit it
// sent just before still count.
func (q *requestQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *requestQueue) pop() (queuedRequest, bool, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return queuedRequest{}, false, q.closed
	}
	r := q.items[0]
	q.items[0] = queuedRequest{}
	q.items = q.items[1:]
	return r, true, false
}

// run dispatches queued messages until ctx ends. Every dispatch goroutine
// is counted in s.goroutines, so Serve waits for all of them.
func (q *requestQueue) run(ctx context.Context, s *Server) {
	defer close(q.stopped)
	for {
		r, ok, closed := q.pop()
		if closed {
			return
		}
		if !ok {
			select {
			case <-ctx.Done():
				q.drain()
				return
			case <-q.signal:
				continue
			}
		}
		released := make(chan struct{})
		var once sync.Once
		releaseFn := func() { once.Do(func() { close(released) }) }
		done := make(chan struct{})
		s.goroutines.Add(1)
		go func() {
			defer s.goroutines.Done()
			defer close(done)
			defer r.cancel()
			s.dispatch(context.WithValue(r.ctx, releaseKey{}, releaseFn), r.conn, r.req)
		}()
		select {
		case <-done:
		case <-released:
		case <-ctx.Done():
		}
	}
}

func (q *requestQueue) drain() {
	for {
		r, ok, _ := q.pop()
		if !ok {
			return
		}
		r.cancel()
	}
}

type releaseKey struct{}

// release lets the next queued message start while this one goes on. Call
// it once the request no longer depends on running alone.
func release(ctx context.Context) {
	if f, ok := ctx.Value(releaseKey{}).(func()); ok {
		f()
	}
}
