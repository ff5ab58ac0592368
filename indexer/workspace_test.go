package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/xxh3"
)

func TestOpenIndexesTreeAndRespectsRules(t *testing.T) {
	tr := newTree(t, map[string]string{
		".gitignore":              "node_modules/\n*.log\n",
		"src/app.js":              "console.log(1)\n",
		"src/app.log":             "noise",
		"node_modules/x/index.js": "module.exports = 1",
		".git/HEAD":               "ref: refs/heads/main\n",
		".odo/config.yaml":        "kind: LocalConfig\n",
		"empty/":                  "",
		"sub/.odoignore":          "*.tmp\n",
		"sub/.gitignore":          "*.keep\n", // .odoignore wins in sub
		"sub/a.tmp":               "t",
		"sub/a.keep":              "k",
		"sub/.main.go.swp":        "vim swap",
	})
	rec := &recorder{}
	var progress []int
	opts := testOptions(t, rec)
	opts.OnProgress = func(n int) { progress = append(progress, n) }
	w := open(t, tr.root, opts)

	want := []string{".gitignore", "empty", "src", "src/app.js", "sub", "sub/.gitignore", "sub/.odoignore", "sub/a.keep"}
	var got []string
	for _, e := range w.Snapshot() {
		got = append(got, e.Path)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("indexed paths:\n got  %q\n want %q", got, want)
	}
	st := w.Stats()
	if st.Files != 5 || st.Dirs != 3 {
		t.Errorf("stats %+v: want 5 files, 3 dirs", st)
	}
	// .git, .odo, node_modules, src/app.log, sub/a.tmp, sub/.main.go.swp
	if st.Ignored != 6 {
		t.Errorf("ignored = %d, want 6", st.Ignored)
	}
	wantBytes := int64(len("node_modules/\n*.log\n") + len("console.log(1)\n") + len("*.tmp\n") + len("*.keep\n") + 1)
	if st.Bytes != wantBytes {
		t.Errorf("bytes = %d, want %d", st.Bytes, wantBytes)
	}
	if len(progress) == 0 || progress[len(progress)-1] < 8 {
		t.Errorf("progress reports %v, want a final count of at least the 8 indexed entries", progress)
	}
	watchedIgnored, watchedSrc := w.watch.isWatched("node_modules"), w.watch.isWatched("src")
	if watchedIgnored || !watchedSrc {
		t.Errorf("watches: node_modules=%v (want false), src=%v (want true)", watchedIgnored, watchedSrc)
	}
	e, ok := w.Entry("src/app.js")
	if !ok || !e.Hashed || e.Hash != xxh3.HashString("console.log(1)\n") || e.Size != 15 || !e.IsRegular() {
		t.Errorf("entry of src/app.js = %+v", e)
	}
	if cs := w.Pending(); !slices.Equal(cs.Added, want) || len(cs.Modified)+len(cs.Deleted) != 0 {
		t.Errorf("first open: pending %+v, want everything added", view(cs))
	}
	if _, err := os.Stat(tr.abs(IndexFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the index file must not be written before a confirmed push (err=%v)", err)
	}
}

func TestHashOfLargeFileMatchesOneShotHash(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 100_000) // 1.6 MB, above the read buffer
	tr := newTree(t, map[string]string{"big.bin": big})
	w := open(t, tr.root, Options{NoWatch: true})
	e, _ := w.Entry("big.bin")
	if !e.Hashed || e.Hash != xxh3.HashString(big) {
		t.Fatalf("streamed hash %x, want %x", e.Hash, xxh3.HashString(big))
	}
}

func TestConfirmPersistsInOdoSchemaAndWarmStartSeesOfflineChanges(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "a", "b.txt": "b", "dir/c.txt": "c"})
	tr.symlink("a.txt", "link")
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	confirmAll(t, w, "pod-1")

	fi, err := os.Stat(tr.abs(IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("index file mode %v, want 0600", fi.Mode().Perm())
	}
	leftovers, _ := filepath.Glob(tr.abs(".odo/*.tmp"))
	if len(leftovers) > 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
	// odo's reader: TypeMeta plus Files{Size, LastModifiedDate time.Time}.
	var odo struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Files      map[string]struct {
			Size             int64
			LastModifiedDate time.Time
		}
	}
	data, _ := os.ReadFile(tr.abs(IndexFile))
	if err := json.Unmarshal(data, &odo); err != nil {
		t.Fatalf("odo cannot read the index: %v", err)
	}
	if odo.Kind != "FileIndex" || odo.APIVersion != "v1" || len(odo.Files) != 5 {
		t.Fatalf("odo sees kind=%q apiVersion=%q %d files", odo.Kind, odo.APIVersion, len(odo.Files))
	}
	afi, _ := os.Lstat(tr.abs("a.txt"))
	if got := odo.Files["a.txt"]; got.Size != 1 || !got.LastModifiedDate.Equal(afi.ModTime()) {
		t.Errorf("odo's view of a.txt = %+v, want size 1, mtime %v", got, afi.ModTime())
	}
	if strings.Contains(string(data), ".odo/") {
		t.Error("the index lists .odo")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// Offline changes, then a warm start.
	tr.write("b.txt", "bb")
	tr.remove("dir/c.txt")
	tr.write("new.txt", "n")
	w2 := open(t, tr.root, Options{NoWatch: true})
	if w2.IndexFileState() != IndexLoaded || w2.LastPodUID() != "pod-1" {
		t.Fatalf("state %v pod %q", w2.IndexFileState(), w2.LastPodUID())
	}
	waitPending(t, w2, csView{Added: []string{"new.txt"}, Modified: []string{"b.txt"}, Deleted: []string{"dir/c.txt"}})
	l, _ := w2.Entry("link")
	if !l.IsSymlink() || l.LinkTarget != "a.txt" || l.OutsideWorkspace {
		t.Errorf("link entry %+v", l)
	}
}

func TestWarmStartReusesHashesWithoutReading(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "old!"})
	w := open(t, tr.root, Options{NoWatch: true, PersistDelay: time.Millisecond})
	confirmAll(t, w, "p")
	_ = w.Close()
	// Rewrite it offline with the same size and mtime: a stat-only warm
	// start cannot tell, so it must keep the persisted hash, not read.
	fi, _ := os.Stat(tr.abs("a.txt"))
	tr.write("a.txt", "new!")
	if err := os.Chtimes(tr.abs("a.txt"), fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	w2 := open(t, tr.root, Options{NoWatch: true})
	e, _ := w2.Entry("a.txt")
	if !e.Hashed || e.Hash != xxh3.HashString("old!") {
		t.Errorf("warm start read the file (hash %x, persisted %x)", e.Hash, xxh3.HashString("old!"))
	}
}

func TestConfirmKeepsChangesMadeAfterTheChangeSet(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "a", "b.txt": "b"})
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	cs := w.Pending()
	// While "pushing", a.txt changes again and c.txt appears.
	tr.write("a.txt", "a2")
	tr.write("c.txt", "c")
	eventually(t, "the watcher to see a.txt and c.txt", func() bool {
		e, ok := w.Entry("a.txt")
		_, okc := w.Entry("c.txt")
		return ok && e.Size == 2 && okc
	})
	if err := w.Confirm(cs, ConfirmMeta{PodUID: "p"}); err != nil {
		t.Fatal(err)
	}
	waitPending(t, w, csView{Added: []string{"c.txt"}, Modified: []string{"a.txt"}})
	e, _ := cs.Entry("a.txt")
	if e.Size != 1 {
		t.Errorf("the ChangeSet's entry changed under it: %+v", e)
	}
}

func TestWatcherSeesCreateModifyDelete(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "a", "keep.txt": "k"})
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	confirmAll(t, w, "p")

	tr.write("b.txt", "b")
	waitPending(t, w, csView{Added: []string{"b.txt"}})
	tr.write("a.txt", "changed")
	waitPending(t, w, csView{Added: []string{"b.txt"}, Modified: []string{"a.txt"}})
	tr.remove("keep.txt")
	waitPending(t, w, csView{Added: []string{"b.txt"}, Modified: []string{"a.txt"}, Deleted: []string{"keep.txt"}})
	// Added then deleted before a push: nothing to do.
	tr.remove("b.txt")
	waitPending(t, w, csView{Modified: []string{"a.txt"}, Deleted: []string{"keep.txt"}})

	got := rec.changes()
	want := []Change{{"b.txt", Added}, {"a.txt", Modified}, {"keep.txt", Deleted}, {"b.txt", Deleted}}
	if !slices.Equal(got, want) {
		t.Errorf("batches %v, want %v", got, want)
	}
	if st := w.Stats(); st.Files != 1 || st.Bytes != 7 {
		t.Errorf("stats %+v after the changes", st)
	}
}

func TestSameSizeEditWithinTheSameMtimeIsSeen(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "aaaa"})
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	confirmAll(t, w, "p")
	fi, _ := os.Stat(tr.abs("a.txt"))
	tr.write("a.txt", "bbbb")
	// Put the old mtime back: lstat now sees no change at all.
	if err := os.Chtimes(tr.abs("a.txt"), fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	waitPending(t, w, csView{Modified: []string{"a.txt"}})
}

func TestTouchAndSameContentRewriteAreNotChanges(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "same"})
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	confirmAll(t, w, "p")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(tr.abs("a.txt"), later, later); err != nil {
		t.Fatal(err)
	}
	tr.write("a.txt", "same")
	eventually(t, "the new mtime to be indexed", func() bool {
		e, _ := w.Entry("a.txt")
		return !e.ModTime.Equal(later) && e.ModTime.After(time.Now().Add(-time.Minute))
	})
	settle(t, rec)
	if cs := w.Pending(); !cs.Empty() {
		t.Errorf("same content pending as %+v", view(cs))
	}

	// With hashing off, mtime is all there is (odo's semantics).
	tr2 := newTree(t, map[string]string{"a.txt": "same"})
	rec2 := &recorder{}
	opts := testOptions(t, rec2)
	opts.Hashing = HashOff
	w2 := open(t, tr2.root, opts)
	confirmAll(t, w2, "p")
	if err := os.Chtimes(tr2.abs("a.txt"), later, later); err != nil {
		t.Fatal(err)
	}
	waitPending(t, w2, csView{Modified: []string{"a.txt"}})
	if e, _ := w2.Entry("a.txt"); e.Hashed {
		t.Error("HashOff hashed a file")
	}
}

func TestChmodIsAChange(t *testing.T) {
	tr := newTree(t, map[string]string{"run.sh": "#!/bin/sh\n"})
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	confirmAll(t, w, "p")
	if err := os.Chmod(tr.abs("run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	waitPending(t, w, csView{Modified: []string{"run.sh"}})
	cs := w.Pending()
	if e, _ := cs.Entry("run.sh"); e.Mode.Perm() != 0o755 {
		t.Errorf("mode %v", e.Mode)
	}
}

func TestMarkAllPendingAndStaleConfirm(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "a", "d/b.txt": "b"})
	w := open(t, tr.root, Options{NoWatch: true, PersistDelay: time.Millisecond})
	confirmAll(t, w, "pod-1")
	old := w.Pending()
	w.MarkAllPending()
	if w.LastPodUID() != "" {
		t.Error("pod UID kept after MarkAllPending")
	}
	if err := w.Confirm(old, ConfirmMeta{PodUID: "pod-1"}); !errors.Is(err, ErrStaleChangeSet) {
		t.Errorf("confirming a change set from before the reset: err=%v, want ErrStaleChangeSet", err)
	}
	waitPending(t, w, csView{Added: []string{"a.txt", "d", "d/b.txt"}})
	confirmAll(t, w, "pod-2")
	if w.LastPodUID() != "pod-2" {
		t.Errorf("pod %q", w.LastPodUID())
	}
}

func TestCloseStopsAndRejectsConfirm(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "a"})
	rec := &recorder{}
	w, err := Open(context.Background(), tr.root, testOptions(t, rec))
	if err != nil {
		t.Fatal(err)
	}
	cs := w.Pending()
	if err := w.Confirm(cs, ConfirmMeta{PodUID: "p"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close wrote what was confirmed.
	if p := readIndexFile(tr.root); p.state != IndexLoaded || len(p.files) != 1 {
		t.Errorf("after Close the index is %v with %d files", p.state, len(p.files))
	}
	if err := w.Confirm(cs, ConfirmMeta{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Confirm after Close: %v", err)
	}
	n := rec.batchCount()
	tr.write("b.txt", "b")
	time.Sleep(100 * time.Millisecond)
	if rec.batchCount() != n {
		t.Error("a batch arrived after Close")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCompareIsReadOnly(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "a", "b.txt": "b"})
	w := open(t, tr.root, Options{NoWatch: true, PersistDelay: time.Millisecond})
	confirmAll(t, w, "pod-9")
	_ = w.Close()
	before, _ := os.ReadFile(tr.abs(IndexFile))
	tr.write("a.txt", "changed")
	tr.write("c.txt", "c")
	r, err := Compare(context.Background(), tr.root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !view(r.Changes).equal(csView{Added: []string{"c.txt"}, Modified: []string{"a.txt"}}) {
		t.Errorf("compare: %+v", view(r.Changes))
	}
	if r.PodUID != "pod-9" || r.IndexState != IndexLoaded || r.Stats.Files != 3 {
		t.Errorf("report %+v", r)
	}
	after, _ := os.ReadFile(tr.abs(IndexFile))
	if string(before) != string(after) {
		t.Error("Compare changed the index file")
	}
}

func TestHintWithoutWatcher(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "a"})
	rec := &recorder{}
	opts := testOptions(t, rec)
	opts.NoWatch = true
	w := open(t, tr.root, opts)
	confirmAll(t, w, "p")
	tr.write("a.txt", "edited")
	tr.write("b.txt", "b")
	w.Hint([]string{tr.abs("a.txt"), "b.txt", "/somewhere/else.txt", "../escape"})
	waitPending(t, w, csView{Added: []string{"b.txt"}, Modified: []string{"a.txt"}})
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "missing"), Options{}); err == nil {
		t.Error("Open of a missing directory succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	_ = os.WriteFile(f, nil, 0o644)
	if _, err := Open(context.Background(), f, Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open of a file: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Open(ctx, t.TempDir(), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v", err)
	}
}
