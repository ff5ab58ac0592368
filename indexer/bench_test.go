package indexer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// syntheticIndex fills w with n synced records shaped like a node_modules
// tree; no file exists on disk for them.
func syntheticIndex(w *Workspace, n int) {
	now := time.Now().UnixNano()
	for i := range n {
		p := fmt.Sprintf("node_modules/pkg-%d/lib/sub-%d/file-%d.js", i/170, i%7, i)
		st := state{size: 4096, mtime: now, mode: 0o644, hash: uint64(i), flags: flagExists | flagHashed}
		w.idx.x.store(p, st, st)
		w.idx.x.stats.add(st, 1)
	}
}

func syntheticEntries(n int) []persistEntry {
	now := time.Now().UnixNano()
	out := make([]persistEntry, n)
	for i := range out {
		out[i] = persistEntry{
			path: fmt.Sprintf("node_modules/pkg-%d/lib/sub-%d/file-%d.js", i/170, i%7, i),
			st:   state{size: 4096, mtime: now, mode: 0o644, hash: uint64(i) * 0x9e3779b97f4a7c15, flags: flagExists | flagHashed},
		}
	}
	return out
}

// BenchmarkPendingOneChange: the cost of "what changed since the last
// push" with one change in a 100k-file index.
func BenchmarkPendingOneChange(b *testing.B) {
	w, err := newWorkspace(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	syntheticIndex(w, 100_000)
	w.idx.with(func(x *index) { x.set("src/app.js", state{size: 10, mtime: 1, mode: 0o644, flags: flagExists}) })
	b.ReportAllocs()
	for b.Loop() {
		if cs := w.Pending(); cs.Len() != 1 {
			b.Fatal(cs.Len())
		}
	}
}

// BenchmarkApplyOneChange: the work from one write event to the updated
// index (lstat, hash, update) with 100k files indexed; the coalescing
// window is not included.
func BenchmarkApplyOneChange(b *testing.B) {
	root := b.TempDir()
	w, err := newWorkspace(root, Options{})
	if err != nil {
		b.Fatal(err)
	}
	syntheticIndex(w, 100_000)
	file := filepath.Join(root, "app.js")
	content := bytes.Repeat([]byte("x"), 4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		content[0] = byte(i)
		if err := os.WriteFile(file, content[:1000+i%3000], 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		batch, err := w.proc.apply(context.Background(), takenEvents{paths: map[string]evFlags{"app.js": evWrite}})
		if err != nil || len(batch.Changes) != 1 {
			b.Fatal(err, batch.Changes)
		}
	}
}

func BenchmarkEncodeIndex100k(b *testing.B) {
	entries := syntheticEntries(100_000)
	var size int
	for b.Loop() {
		var cw countingWriter
		if err := encodeIndex(&cw, "uid", entries); err != nil {
			b.Fatal(err)
		}
		size = int(cw)
	}
	b.ReportMetric(float64(size)/100_000, "bytes/file")
}

func BenchmarkDecodeIndex100k(b *testing.B) {
	var buf bytes.Buffer
	if err := encodeIndex(&buf, "uid", syntheticEntries(100_000)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if p := decodeIndex(buf.Bytes()); p.state != IndexLoaded || len(p.files) != 100_000 {
			b.Fatal(p.state, p.reason)
		}
	}
}

// BenchmarkColdIndex walks and hashes a 5k-file tree (page cache warm).
func BenchmarkColdIndex(b *testing.B) {
	root := b.TempDir()
	content := bytes.Repeat([]byte("abcdefgh"), 512)
	for i := range 5000 {
		p := filepath.Join(root, fmt.Sprintf("pkg-%d/lib/f-%d.js", i/50, i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, content[:i%4096], 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		w, err := Open(context.Background(), root, Options{NoWatch: true})
		if err != nil {
			b.Fatal(err)
		}
		if w.Stats().Files != 5000 {
			b.Fatal(w.Stats())
		}
		_ = w.Close()
	}
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)
