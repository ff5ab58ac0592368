package indexer

import (
	"context"
	"sync"
	"time"
)

// persister writes the index file in the background after confirms,
// coalescing those that come within delay of each other; its goroutine
// (run) writes once more when it is stopped. write takes the snapshot and
// writes it; it is only ever called from run.
type persister struct {
	write func() error
	delay time.Duration
	kick  chan struct{} // a confirm happened
	now   chan struct{} // a waiter wants the write now

	mu        sync.Mutex
	confirmed uint64 // confirms so far
	written   uint64 // confirms covered by the last write
	err       error  // the last write's
	wrote     chan struct{}
	done      chan struct{} // run returned
}

func newPersister(delay time.Duration, write func() error) *persister {
	return &persister{
		write: write,
		delay: delay,
		kick:  make(chan struct{}, 1),
		now:   make(chan struct{}, 1),
		wrote: make(chan struct{}),
		done:  make(chan struct{}),
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// confirmedOne counts a change to what the container is known to hold,
// already applied to the index (a Confirm, or a MayHold): the next write
// covers it.
func (p *persister) confirmedOne() {
	p.mu.Lock()
	p.confirmed++
	p.mu.Unlock()
	signal(p.kick)
}

func (p *persister) run(ctx context.Context) {
	defer close(p.done)
	for {
		select {
		case <-ctx.Done():
			p.writeIfConfirmed()
			return
		case <-p.kick:
		}
		timer := time.NewTimer(p.delay)
		select {
		case <-timer.C:
		case <-p.now:
		case <-ctx.Done():
		}
		timer.Stop()
		p.writeIfConfirmed()
	}
}

// writeIfConfirmed writes if a confirm happened since the last write. The
// count is read before the snapshot is taken, so the snapshot holds at
// least every confirm counted.
func (p *persister) writeIfConfirmed() {
	p.mu.Lock()
	gen := p.confirmed
	if gen == p.written {
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	err := p.write()
	p.mu.Lock()
	p.written, p.err = gen, err
	close(p.wrote)
	p.wrote = make(chan struct{})
	p.mu.Unlock()
}

// wait returns once everything confirmed so far is written, with the
// error of that write.
func (p *persister) wait(ctx context.Context) error {
	p.mu.Lock()
	target := p.confirmed
	for p.written < target {
		wrote := p.wrote
		p.mu.Unlock()
		signal(p.now)
		signal(p.kick)
		select {
		case <-wrote:
		case <-p.done:
			p.mu.Lock()
			if p.written < target {
				p.mu.Unlock()
				return ErrClosed
			}
			p.mu.Unlock()
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
	err := p.err
	p.mu.Unlock()
	return err
}

// result is the outcome once run has returned: ErrClosed if a confirm was
// never written, else the last write's error.
func (p *persister) result() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.written < p.confirmed {
		return ErrClosed
	}
	return p.err
}
