package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/odod-dev/odod/indexer"
)

func TestOpeningIndexIsTheIndexOnceOpen(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.js"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := openIndexInBackground(context.Background(), root, indexer.Options{NoWatch: true})
	if err != nil {
		t.Fatal(err)
	}
	resolved, _, _ := indexer.ResolveRoot(root)
	if o.Root() != resolved {
		t.Errorf("Root() = %s, want %s before the open ends", o.Root(), resolved)
	}
	if err := o.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cs := o.Pending(); cs.Len() != 1 {
		t.Errorf("pending = %d paths, want a.js", cs.Len())
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
}

// An open that fails fails the push at Flush, its sync phase, before
// anything is taken from an index that does not exist.
func TestOpeningIndexThatFailsFailsFlush(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o, err := openIndexInBackground(ctx, t.TempDir(), indexer.Options{NoWatch: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Flush(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush after a failed open: %v, want the open's error", err)
	}
	if o.LastPodUID() != "" || o.Pending().Len() != 0 {
		t.Error("a failed open has state")
	}
	if err := o.Close(); err != nil {
		t.Fatalf("Close after a failed open: %v", err)
	}
	if _, err := openIndexInBackground(context.Background(), filepath.Join(t.TempDir(), "missing"), indexer.Options{}); err == nil {
		t.Fatal("a missing root is not refused at once")
	}
}
