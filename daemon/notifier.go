package daemon

import (
	"context"
	"errors"
	"sync"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
)

// notifier is the one writer of a connection's notifications. Senders
// only append to its queue, so a session may order its events under its
// lock without ever writing to the editor under it; the writer goroutine
// sends them in that order. A reply waits (flush) for the notifications
// queued before it, so an editor sees a push's events before its result.
type notifier struct {
	log  *zap.Logger
	conn *jsonrpc2.Conn // set before run starts

	mu      sync.Mutex
	pending []note
	wake    chan struct{}
	// stopped is closed when run returns; later sends are dropped.
	stopped chan struct{}
}

// note is a notification, or a flush marker when flushed is set.
type note struct {
	method  string
	params  any
	flushed chan struct{}
}

func newNotifier(log *zap.Logger) *notifier {
	return &notifier{log: log, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// send queues a notification; it never blocks.
func (n *notifier) send(method string, params any) {
	n.push(note{method: method, params: params})
}

// flush returns once every notification queued before it is written, or
// the writer has stopped.
func (n *notifier) flush() {
	done := make(chan struct{})
	n.push(note{flushed: done})
	select {
	case <-done:
	case <-n.stopped:
	}
}

func (n *notifier) push(x note) {
	n.mu.Lock()
	n.pending = append(n.pending, x)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// run writes queued notifications until ctx ends.
func (n *notifier) run(ctx context.Context) {
	defer close(n.stopped)
	for {
		n.mu.Lock()
		batch := n.pending
		n.pending = nil
		n.mu.Unlock()
		for _, x := range batch {
			if x.flushed != nil {
				close(x.flushed)
				continue
			}
			if err := n.conn.Notify(ctx, x.method, x.params); err != nil && !errors.Is(err, jsonrpc2.ErrClosed) && ctx.Err() == nil {
				n.log.Debug("cannot send a notification", zap.String("method", x.method), zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		}
	}
}
