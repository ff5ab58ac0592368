package daemon

import "context"

// cancelSet holds the cancel functions of in-flight requests or progress
// reports by key (a request id, a progress token). Two registrations under
// one key (a client reusing an id or a token) both stay cancellable, and
// ending one does not drop the other. The caller guards it (Server.mu).
type cancelSet struct {
	byKey map[string]map[uint64]context.CancelFunc
	next  uint64
}

func newCancelSet() *cancelSet {
	return &cancelSet{byKey: map[string]map[uint64]context.CancelFunc{}}
}

// add registers cancel under key and returns the handle to remove it.
func (c *cancelSet) add(key string, cancel context.CancelFunc) uint64 {
	c.next++
	m := c.byKey[key]
	if m == nil {
		m = map[uint64]context.CancelFunc{}
		c.byKey[key] = m
	}
	m[c.next] = cancel
	return c.next
}

// remove drops one registration.
func (c *cancelSet) remove(key string, handle uint64) {
	m := c.byKey[key]
	delete(m, handle)
	if len(m) == 0 {
		delete(c.byKey, key)
	}
}

// get returns every cancel function registered under key; the caller calls
// them after releasing its lock.
func (c *cancelSet) get(key string) []context.CancelFunc {
	out := make([]context.CancelFunc, 0, len(c.byKey[key]))
	for _, f := range c.byKey[key] {
		out = append(out, f)
	}
	return out
}

// all returns every registered cancel function.
func (c *cancelSet) all() []context.CancelFunc {
	var out []context.CancelFunc
	for _, m := range c.byKey {
		for _, f := range m {
			out = append(out, f)
		}
	}
	return out
}

// inflightKey is the context key of a request's handle in Server.inflight.
type inflightKey struct{}
