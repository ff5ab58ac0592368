package indexer

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
)

// tree is a scratch workspace on disk.
type tree struct {
	t    *testing.T
	root string
}

func newTree(t *testing.T, files map[string]string) *tree {
	t.Helper()
	tr := &tree{t: t, root: t.TempDir()}
	for p, content := range files {
		if strings.HasSuffix(p, "/") {
			tr.mkdir(p)
			continue
		}
		tr.write(p, content)
	}
	return tr
}

func (tr *tree) abs(p string) string { return filepath.Join(tr.root, filepath.FromSlash(p)) }

func (tr *tree) write(p, content string) {
	tr.t.Helper()
	if err := os.MkdirAll(filepath.Dir(tr.abs(p)), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(tr.abs(p), []byte(content), 0o644); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) mkdir(p string) {
	tr.t.Helper()
	if err := os.MkdirAll(tr.abs(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) remove(p string) {
	tr.t.Helper()
	if err := os.RemoveAll(tr.abs(p)); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) rename(from, to string) {
	tr.t.Helper()
	if err := os.Rename(tr.abs(from), tr.abs(to)); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) symlink(target, p string) {
	tr.t.Helper()
	if err := os.Symlink(target, tr.abs(p)); err != nil {
		tr.t.Fatal(err)
	}
}

// recorder collects what a Workspace reports.
type recorder struct {
	mu       sync.Mutex
	batches  []Batch
	warnings []string
}

func (r *recorder) onChange(b Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, b)
}

func (r *recorder) onWarning(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warnings = append(r.warnings, msg)
}

func (r *recorder) changes() []Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Change
	for _, b := range r.batches {
		out = append(out, b.Changes...)
	}
	return out
}

func (r *recorder) batchCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.batches)
}

func (r *recorder) warned(substr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.warnings {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}

func testOptions(t *testing.T, rec *recorder) Options {
	return Options{
		Logger:       zaptest.NewLogger(t),
		QuietWindow:  20 * time.Millisecond,
		MaxDelay:     500 * time.Millisecond,
		PollInterval: 50 * time.Millisecond,
		PersistDelay: time.Millisecond,
		OnChange:     rec.onChange,
		OnWarning:    rec.onWarning,
	}
}

func open(t *testing.T, root string, opts Options) *Workspace {
	t.Helper()
	w, err := Open(context.Background(), root, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// eventually waits for cond; events take a coalescing window to arrive.
// The deadline is generous: it bounds a hang, it does not measure speed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits until the watcher has been quiet for a while, so that a
// check for "nothing more happened" is meaningful.
func settle(t *testing.T, rec *recorder) {
	t.Helper()
	last := -1
	for i := 0; i < 1000; i++ {
		n := rec.batchCount()
		if n == last {
			return
		}
		last = n
		time.Sleep(150 * time.Millisecond)
	}
	t.Fatal("the watcher never went quiet")
}

type csView struct{ Added, Modified, Deleted []string }

func view(cs ChangeSet) csView {
	norm := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	}
	return csView{norm(cs.Added), norm(cs.Modified), norm(cs.Deleted)}
}

func (v csView) equal(o csView) bool {
	return slices.Equal(v.Added, o.Added) && slices.Equal(v.Modified, o.Modified) && slices.Equal(v.Deleted, o.Deleted)
}

func waitPending(t *testing.T, w *Workspace, want csView) {
	t.Helper()
	var got csView
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = view(w.Pending())
		if got.equal(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending changes:\n got  %+v\n want %+v", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// confirmAll pushes (pretends to) everything pending and waits for the write.
func confirmAll(t *testing.T, w *Workspace, pod string) {
	t.Helper()
	if err := w.Confirm(w.Pending(), ConfirmMeta{PodUID: pod}); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	if err := w.WaitPersisted(context.Background()); err != nil {
		t.Fatalf("WaitPersisted: %v", err)
	}
	if cs := w.Pending(); !cs.Empty() {
		t.Fatalf("still pending after confirming everything: %+v", view(cs))
	}
}
