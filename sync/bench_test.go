package sync

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkAgentApply1000Files measures the agent transport's throughput
// for a push of 1,000 small files (2 KiB) through an in-process agent:
// the protocol and the pipelining, without the network (the local disk's
// create+rename cost is included). Every push replaces the files of the
// one before.
func BenchmarkAgentApply1000Files(b *testing.B) {
	benchmarkApply(b, dialLocalAgent, false)
}

// BenchmarkTarApply1000Files is the same push through the tar transport
// (real tar, on the same disk), for comparison.
func BenchmarkTarApply1000Files(b *testing.B) {
	benchmarkApply(b, openLocalTar, false)
}

// BenchmarkAgentFirstPush1000Files is a first push (or a resync to a new
// container): the same 1,000 files into an empty directory each time.
func BenchmarkAgentFirstPush1000Files(b *testing.B) {
	benchmarkApply(b, dialLocalAgent, true)
}

// BenchmarkTarFirstPush1000Files is the first push through tar.
func BenchmarkTarFirstPush1000Files(b *testing.B) {
	benchmarkApply(b, openLocalTar, true)
}

func dialLocalAgent(target string) (Transport, error) {
	return DialAgent(context.Background(), &localExecutor{}, target, "bench", nil)
}

func openLocalTar(target string) (Transport, error) {
	return NewTarTransport(context.Background(), &localExecutor{}, target)
}

func benchmarkApply(b *testing.B, open func(target string) (Transport, error), empty bool) {
	root := b.TempDir()
	content := make([]byte, 2048)
	var changes Changes
	entries := map[string]Entry{}
	for i := 0; i < 1000; i++ {
		rel := fmt.Sprintf("d%02d/f%04d.js", i%20, i)
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			b.Fatal(err)
		}
		entries[rel] = Entry{Path: rel, Size: int64(len(content)), Mode: 0o644}
		changes.Added = append(changes.Added, rel)
	}
	plan := PlanChanges(changes, func(p string) (Entry, bool) { e, ok := entries[p]; return e, ok })
	target := filepath.Join(b.TempDir(), "src")
	tr, err := open(target)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	b.SetBytes(plan.Bytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if empty {
			b.StopTimer()
			entries, err := os.ReadDir(target)
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range entries {
				if err := os.RemoveAll(filepath.Join(target, e.Name())); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		if _, err := tr.Apply(context.Background(), plan, DirSource(root), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	n := 0
	_ = filepath.WalkDir(target, func(_ string, d fs.DirEntry, _ error) error {
		if d != nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if n != 1000 {
		b.Fatalf("%d files in the target, want 1000", n)
	}
}
