package indexer

import (
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

type evFlags uint8

const (
	evCreate evFlags = 1 << iota
	evWrite
	evRemove
	evRename
	evChmod
	evHint // an editor said so
	evPoll // the poller saw lstat change
)

// contentMayHaveChanged: lstat alone cannot be trusted, hash again.
const contentMayHaveChanged = evWrite | evCreate | evHint

// eventQueue collects paths from the watcher, the poller and editor hints
// until the processor takes them; adding never blocks on processing, so
// the kernel queue is drained while a batch is being handled.
type eventQueue struct {
	mu       sync.Mutex
	paths    map[string]evFlags
	overflow bool
	first    time.Time
	last     time.Time
	wake     chan struct{}
}

func newEventQueue() *eventQueue {
	return &eventQueue{paths: map[string]evFlags{}, wake: make(chan struct{}, 1)}
}

func (q *eventQueue) add(rel string, f evFlags) {
	q.mu.Lock()
	q.touchLocked()
	q.paths[rel] |= f
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) addOverflow() {
	q.mu.Lock()
	q.touchLocked()
	q.overflow = true
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) touchLocked() {
	now := time.Now()
	if len(q.paths) == 0 && !q.overflow {
		q.first = now
	}
	q.last = now
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

type takenEvents struct {
	paths    map[string]evFlags
	overflow bool
}

func (q *eventQueue) take() takenEvents {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := takenEvents{paths: q.paths, overflow: q.overflow}
	q.paths, q.overflow = map[string]evFlags{}, false
	return t
}

// smallBatch is the most paths a batch may hold to be flushed after the
// settle window rather than the quiet window: an editor's save, even an
// atomic one (a temporary file renamed over the target), touches one to
// three.
const smallBatch = 4

// windows are the processor's waits (Options' QuietWindow, SettleWindow
// and MaxDelay).
type windows struct {
	quiet, settle, maxDelay time.Duration
}

// due says when the pending batch may be flushed: after the settle window
// without events while it holds at most smallBatch paths, else after the
// quiet window without events (a storm keeps adding paths faster than
// that), and at most maxDelay after its first event.
func (q *eventQueue) due(w windows) (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.paths) == 0 && !q.overflow {
		return time.Time{}, false
	}
	quiet, maxDelay := w.quiet, w.maxDelay
	if len(q.paths) <= smallBatch && !q.overflow {
		quiet = min(quiet, w.settle)
	}
	at := q.last.Add(quiet)
	if capAt := q.first.Add(maxDelay); capAt.Before(at) {
		at = capAt
	}
	return at, true
}

func flagsOf(op fsnotify.Op) evFlags {
	var f evFlags
	if op.Has(fsnotify.Create) {
		f |= evCreate
	}
	if op.Has(fsnotify.Write) {
		f |= evWrite
	}
	if op.Has(fsnotify.Remove) {
		f |= evRemove
	}
	if op.Has(fsnotify.Rename) {
		f |= evRename
	}
	if op.Has(fsnotify.Chmod) {
		f |= evChmod
	}
	return f
}
