// Package lockedbuf is a bytes.Buffer that several goroutines may write to
// while another reads it: the output of a command or a stream, collected.
package lockedbuf

import (
	"bytes"
	"sync"
)

// Buffer collects writes. With Limit > 0 it keeps only the first Limit
// bytes (the start of an error output says why) and drops the rest; writes
// never fail.
type Buffer struct {
	Limit int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Limit > 0 {
		if room := l.Limit - l.b.Len(); room < len(p) {
			if room > 0 {
				l.b.Write(p[:room])
			}
			return len(p), nil
		}
	}
	return l.b.Write(p)
}

// String returns what was written.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Bytes returns a copy of what was written.
func (l *Buffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}
