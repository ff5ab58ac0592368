package indexer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odod-dev/odod/indexer/relpath"
)

// Atomic-save sequences as editors and tools do them. After each, the only
// pending change is the edited file, as Modified, and no temp file ever
// reaches the index.
func TestEditorSaveSequences(t *testing.T) {
	sequences := []struct {
		name string
		save func(tr *tree)
	}{
		{"in place (VS Code default)", func(tr *tree) {
			f, err := os.OpenFile(tr.abs("main.go"), os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				tr.t.Fatal(err)
			}
			_, _ = f.WriteString("package main // edited\n")
			_ = f.Close()
		}},
		{"vim with backup (writebackup, backupcopy=no)", func(tr *tree) {
			tr.write("4913", "") // vim's probe for directory write access
			tr.remove("4913")
			tr.write(".main.go.swp", "swap")
			tr.rename("main.go", "main.go~")
			tr.write("main.go", "package main // edited\n")
			tr.remove("main.go~")
			tr.remove(".main.go.swp")
		}},
		{"JetBrains safe write", func(tr *tree) {
			tr.write("main.go___jb_tmp___", "package main // edited\n")
			tr.rename("main.go", "main.go___jb_old___")
			tr.rename("main.go___jb_tmp___", "main.go")
			tr.remove("main.go___jb_old___")
		}},
		{"sed -i", func(tr *tree) {
			tr.write("sedAb12Cd", "package main // edited\n")
			tr.rename("sedAb12Cd", "main.go")
		}},
		{"emacs (lock link, backup rename)", func(tr *tree) {
			tr.symlink("user@host.1234:1700000000", ".#main.go")
			tr.write("#main.go#", "autosave")
			tr.rename("main.go", "main.go~")
			tr.write("main.go", "package main // edited\n")
			tr.remove("#main.go#")
			tr.remove(".#main.go")
		}},
	}
	for _, seq := range sequences {
		t.Run(seq.name, func(t *testing.T) {
			tr := newTree(t, map[string]string{"main.go": "package main\n", "other.go": "package main\n"})
			rec := &recorder{}
			opts := testOptions(t, rec)
			opts.QuietWindow = 100 * time.Millisecond
			w := open(t, tr.root, opts)
			confirmAll(t, w, "p")
			seq.save(tr)
			waitPending(t, w, csView{Modified: []string{"main.go"}})
			settle(t, rec)
			if got := view(w.Pending()); !got.equal(csView{Modified: []string{"main.go"}}) {
				t.Fatalf("pending after the save settled: %+v", got)
			}
			for _, c := range rec.changes() {
				if c.Path != "main.go" {
					t.Errorf("a temp file reached the index: %v", c)
				}
			}
			// The leftover editor files (emacs' backup main.go~ stays) are ignored.
			for _, e := range w.Snapshot() {
				if e.Path != "main.go" && e.Path != "other.go" {
					t.Errorf("unexpected entry %q", e.Path)
				}
			}
		})
	}
}

func TestSymlinks(t *testing.T) {
	outside := t.TempDir()
	tr := newTree(t, map[string]string{"a.txt": "a", "dir/b.txt": "b"})
	if err := os.WriteFile(outside+"/secret", []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr.symlink("a.txt", "to-file")
	tr.symlink("dir", "to-dir")
	tr.symlink("../a.txt", "dir/up")
	tr.symlink("../../etc/passwd", "dir/escape")
	tr.symlink(outside, "abs")
	tr.symlink("missing", "dangling")
	tr.symlink("loop", "loop")
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))

	want := map[string]struct {
		target  string
		outside bool
	}{
		"to-file":    {"a.txt", false},
		"to-dir":     {"dir", false},
		"dir/up":     {"../a.txt", false},
		"dir/escape": {"../../etc/passwd", true},
		"abs":        {outside, true},
		"dangling":   {"missing", false},
		"loop":       {"loop", false},
	}
	for p, wt := range want {
		e, ok := w.Entry(p)
		if !ok || !e.IsSymlink() || e.LinkTarget != wt.target || e.OutsideWorkspace != wt.outside || e.Hashed {
			t.Errorf("%s: entry %+v, want link to %q outside=%v", p, e, wt.target, wt.outside)
		}
	}
	for _, e := range w.Snapshot() {
		if strings.HasPrefix(e.Path, "to-dir/") || strings.HasPrefix(e.Path, "abs/") {
			t.Errorf("followed a symlink: %q", e.Path)
		}
	}
	confirmAll(t, w, "p")

	// Retargeting a link is a modification; replacing a file by a link is
	// a kind change: the file is deleted, the link added.
	tr.remove("to-file")
	tr.symlink("dir/b.txt", "to-file")
	tr.remove("a.txt")
	tr.symlink("dir/b.txt", "a.txt")
	waitPending(t, w, csView{Added: []string{"a.txt"}, Modified: []string{"to-file"}, Deleted: []string{"a.txt"}})
	if e, _ := w.Entry("a.txt"); !e.IsSymlink() {
		t.Errorf("a.txt should now be a link: %+v", e)
	}
	if cs := w.Pending(); !slices.Equal(cs.KindChanged, []string{"a.txt"}) {
		t.Errorf("KindChanged = %q, want [a.txt]", cs.KindChanged)
	}
	// Writing through a link to a directory is seen under the real path.
	tr.write("to-dir/c.txt", "c")
	waitPending(t, w, csView{Added: []string{"a.txt", "dir/c.txt"}, Modified: []string{"to-file"}, Deleted: []string{"a.txt"}})
}

func TestDeleteWholeDirectory(t *testing.T) {
	files := map[string]string{"keep.txt": "k"}
	for i := range 50 {
		files[fmt.Sprintf("gone/sub%d/f%d.txt", i%5, i)] = "x"
	}
	tr := newTree(t, files)
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	confirmAll(t, w, "p")

	tr.remove("gone")
	eventually(t, "the directory deletion", func() bool { _, ok := w.Entry("gone"); return !ok })
	settle(t, rec)
	cs := w.Pending()
	if len(cs.Deleted) != 56 || len(cs.Added)+len(cs.Modified) != 0 {
		t.Fatalf("pending %d deleted (want 50 files + 5 dirs + gone = 56), %d other", len(cs.Deleted), len(cs.Added)+len(cs.Modified))
	}
	if roots := cs.DeletedRoots(); !slices.Equal(roots, []string{"gone"}) {
		t.Errorf("DeletedRoots = %v, want [gone]", roots)
	}
	if e, ok := cs.Entry("gone"); !ok || !e.IsDir() {
		t.Errorf("the deleted entry of gone should say directory: %+v", e)
	}
	w.watch.mu.Lock()
	for p := range w.watch.watched {
		if relpath.Under(p, "gone") {
			t.Errorf("watch on %q kept after deletion", p)
		}
	}
	w.watch.mu.Unlock()
	if st := w.Stats(); st.Files != 1 || st.Dirs != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestRenameDirectoryKeepsWatchingUnderTheNewName(t *testing.T) {
	tr := newTree(t, map[string]string{"a/sub/x.txt": "x", "a/y.txt": "y"})
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	confirmAll(t, w, "p")

	tr.rename("a", "b")
	waitPending(t, w, csView{
		Added:   []string{"b", "b/sub", "b/sub/x.txt", "b/y.txt"},
		Deleted: []string{"a", "a/sub", "a/sub/x.txt", "a/y.txt"},
	})
	confirmAll(t, w, "p")
	// Events from the moved subdirectory must carry the new path.
	tr.write("b/sub/x.txt", "changed")
	tr.write("b/sub/new.txt", "n")
	waitPending(t, w, csView{Added: []string{"b/sub/new.txt"}, Modified: []string{"b/sub/x.txt"}})

	// Moving a directory in from outside the workspace, and out again.
	outside := t.TempDir()
	if err := os.WriteFile(outside+"/in.txt", []byte("i"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(outside, tr.abs("moved-in")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tr.abs("b/sub"), t.TempDir()+"/out"); err != nil {
		t.Fatal(err)
	}
	waitPending(t, w, csView{
		Added:   []string{"moved-in", "moved-in/in.txt"},
		Deleted: []string{"b/sub", "b/sub/x.txt"},
	})
}

func TestNewNestedDirectoriesAreIndexedAndWatched(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "a"})
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	confirmAll(t, w, "p")
	tr.write("x/y/z/deep.txt", "d") // mkdir -p then write, faster than watches can follow
	waitPending(t, w, csView{Added: []string{"x", "x/y", "x/y/z", "x/y/z/deep.txt"}})
	confirmAll(t, w, "p")
	tr.write("x/y/z/later.txt", "l")
	waitPending(t, w, csView{Added: []string{"x/y/z/later.txt"}})
}

func TestEditingIgnoreFileTakesEffectAtOnce(t *testing.T) {
	tr := newTree(t, map[string]string{
		"app.js":        "a",
		"debug.log":     "l",
		"build/out.js":  "o",
		"sub/trace.log": "t",
	})
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	confirmAll(t, w, "p")

	tr.write(".gitignore", "*.log\nbuild/\n")
	waitPending(t, w, csView{
		Added:   []string{".gitignore"},
		Deleted: []string{"build", "build/out.js", "debug.log", "sub/trace.log"},
	})
	if st := w.Stats(); st.Ignored != 4 {
		t.Errorf("ignored %d, want 4 (.odo, debug.log, build, sub/trace.log)", st.Ignored)
	}
	watchingBuild := w.watch.isWatched("build")
	if watchingBuild {
		t.Error("build/ is ignored but still watched")
	}
	// Events in ignored places do nothing.
	tr.write("build/more.js", "m")
	tr.write("new.log", "n")

	// An .odoignore now takes over from .gitignore in the root (odo's rule).
	tr.write(".odoignore", "build/\n")
	waitPending(t, w, csView{
		Added:   []string{".gitignore", ".odoignore", "new.log"},
		Deleted: []string{"build", "build/out.js"},
	})
	// Un-ignoring brings files back, and the directory is watched again.
	tr.write(".odoignore", "# nothing\n")
	waitPending(t, w, csView{Added: []string{".gitignore", ".odoignore", "build/more.js", "new.log"}})
	tr.write("build/again.js", "g")
	waitPending(t, w, csView{Added: []string{".gitignore", ".odoignore", "build/again.js", "build/more.js", "new.log"}})

	// A nested ignore file.
	confirmAll(t, w, "p")
	tr.write("sub/.gitignore", "trace.log\n")
	waitPending(t, w, csView{Added: []string{"sub/.gitignore"}, Deleted: []string{"sub/trace.log"}})
	tr.remove("sub/.gitignore")
	waitPending(t, w, csView{})
}

func TestCorruptOrForeignIndexIsRebuilt(t *testing.T) {
	valid := `{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":1,"podUID":"p"},"Files":{"a.txt":{"Size":1,"LastModifiedDate":"2020-01-01T00:00:00Z","Mode":33188}}}`
	cases := []struct {
		name, content string
		want          IndexFileState
	}{
		{"garbage", "\x00\xffnot json", IndexCorrupt},
		{"truncated", valid[:len(valid)/2], IndexCorrupt},
		{"empty", "", IndexCorrupt},
		{"wrong types", `{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":1},"Files":{"a.txt":{"Size":"big"}}}`, IndexCorrupt},
		{"odo's own", `{"kind":"FileIndex","apiVersion":"v1","Files":{"a.txt":{"Size":1,"LastModifiedDate":"2020-01-01T00:00:00Z"}}}`, IndexForeign},
		{"other kind", `{"kind":"Pod","apiVersion":"v1"}`, IndexForeign},
		{"future schema", `{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":99},"Files":{}}`, IndexForeign},
		{"array", `[1,2,3]`, IndexCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t, map[string]string{"a.txt": "a", ".odo/odo-file-index.json": tc.content})
			w := open(t, tr.root, Options{NoWatch: true, PersistDelay: time.Millisecond})
			if got := w.IndexFileState(); got != tc.want {
				t.Errorf("state %v, want %v", got, tc.want)
			}
			waitPending(t, w, csView{Added: []string{"a.txt"}})
			confirmAll(t, w, "new-pod")
			if p := readIndexFile(tr.root); p.state != IndexLoaded || p.podUID != "new-pod" || len(p.files) != 1 {
				t.Errorf("rewritten index: %v pod %q files %d", p.state, p.podUID, len(p.files))
			}
		})
	}
	t.Run("invalid entries are dropped, valid ones kept", func(t *testing.T) {
		content := `{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":1,"podUID":"p"},"Files":{
			"../escape":{"Size":1,"LastModifiedDate":"2020-01-01T00:00:00Z","Mode":33188},
			"/abs":{"Size":1,"LastModifiedDate":"2020-01-01T00:00:00Z","Mode":33188},
			"bad-date":{"Size":1,"LastModifiedDate":"yesterday","Mode":33188},
			"bad-mode":{"Size":1,"LastModifiedDate":"2020-01-01T00:00:00Z","Mode":8192},
			"gone.txt":{"Size":1,"LastModifiedDate":"2020-01-01T00:00:00Z","Mode":33188}}}`
		tr := newTree(t, map[string]string{"a.txt": "a", ".odo/odo-file-index.json": content})
		w := open(t, tr.root, Options{NoWatch: true})
		waitPending(t, w, csView{Added: []string{"a.txt"}, Deleted: []string{"gone.txt"}})
	})
}

// A burst like `git checkout` touching thousands of files ends as one
// ChangeSet holding exactly those files, in few batches.
func TestBurstBecomesOneChangeSet(t *testing.T) {
	const existing, created = 2000, 3000
	files := map[string]string{}
	for i := range existing {
		files[fmt.Sprintf("src/m%d/f%d.js", i%20, i)] = "v1"
	}
	tr := newTree(t, files)
	rec := &recorder{}
	opts := testOptions(t, rec)
	opts.QuietWindow = 50 * time.Millisecond
	opts.MaxDelay = time.Second
	w := open(t, tr.root, opts)
	confirmAll(t, w, "p")

	for i := range existing {
		tr.write(fmt.Sprintf("src/m%d/f%d.js", i%20, i), "v2")
	}
	for i := range created {
		tr.write(fmt.Sprintf("src/m%d/new%d.js", i%20, i), "n")
	}
	eventually(t, "the burst to be indexed", func() bool {
		cs := w.Pending()
		return len(cs.Modified) == existing && len(cs.Added) == created
	})
	settle(t, rec)
	cs := w.Pending()
	if len(cs.Modified) != existing || len(cs.Added) != created || len(cs.Deleted) != 0 {
		t.Fatalf("pending %d modified, %d added, %d deleted", len(cs.Modified), len(cs.Added), len(cs.Deleted))
	}
	// When the cap splits the burst, a file may be seen half-written (added
	// empty, then modified), but never added twice or modified after being
	// reported deleted.
	seen := map[string]ChangeKind{}
	for _, c := range rec.changes() {
		prev, ok := seen[c.Path]
		if ok && (c.Kind == Added && prev != Deleted || c.Kind != Added && prev == Deleted) {
			t.Errorf("%s reported %v after %v", c.Path, c.Kind, prev)
		}
		seen[c.Path] = c.Kind
	}
	if len(seen) != existing+created {
		t.Errorf("batches reported %d paths, want %d", len(seen), existing+created)
	}
	t.Logf("%d files changed in %d batches", existing+created, rec.batchCount())
	if rec.batchCount() > 10 {
		t.Errorf("the burst was split into %d batches", rec.batchCount())
	}
}

func TestOverflowRescansAndWarns(t *testing.T) {
	tr := newTree(t, map[string]string{"a/x.txt": "x", "b/y.txt": "y"})
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	confirmAll(t, w, "p")
	// Lose the events of a/ (as an overflow would), change things, then
	// report the overflow.
	w.watch.unwatchDir("a")
	tr.write("a/x.txt", "changed")
	tr.write("a/new.txt", "n")
	time.Sleep(100 * time.Millisecond)
	if cs := w.Pending(); !cs.Empty() {
		t.Fatalf("changes seen without a watch: %+v", view(cs))
	}
	w.queue.addOverflow()
	waitPending(t, w, csView{Added: []string{"a/new.txt"}, Modified: []string{"a/x.txt"}})
	eventually(t, "an overflow batch", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, b := range rec.batches {
			if b.Overflow {
				return true
			}
		}
		return false
	})
	if !rec.warned("max_queued_events") {
		t.Errorf("no warning with the fix; warnings: %q", rec.warnings)
	}
	// The fresh watcher sees later changes, in a/ too.
	confirmAll(t, w, "p")
	tr.write("a/later.txt", "l")
	waitPending(t, w, csView{Added: []string{"a/later.txt"}})
}

func TestWatchLimitFallsBackToPollingAndWarns(t *testing.T) {
	tr := newTree(t, map[string]string{"a/x.txt": "x", "b/y.txt": "y", "c/d/z.txt": "z"})
	rec := &recorder{}
	opts := testOptions(t, rec)
	opts.watchLimit = 2 // root and one more
	w := open(t, tr.root, opts)
	if !rec.warned("fs.inotify.max_user_watches") {
		t.Fatalf("no warning with the fix; warnings: %q", rec.warnings)
	}
	watched, polled := w.watch.counts()
	if watched != 2 || polled != 3 {
		t.Errorf("watched %d, polled %d; want 2 and 3", watched, polled)
	}
	confirmAll(t, w, "p")
	tr.write("c/d/z.txt", "changed")
	tr.write("b/new.txt", "n")
	tr.remove("a/x.txt")
	waitPending(t, w, csView{Added: []string{"b/new.txt"}, Deleted: []string{"a/x.txt"}, Modified: []string{"c/d/z.txt"}})
}

// The race detector's test: readers, confirmers and writers at once.
func TestConcurrentUse(t *testing.T) {
	tr := newTree(t, map[string]string{"seed.txt": "s"})
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(4)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			tr.write(fmt.Sprintf("d%d/f%d.txt", i%7, i%50), fmt.Sprint(i))
			if i%13 == 0 {
				tr.remove(fmt.Sprintf("d%d", i%7))
			}
			time.Sleep(time.Millisecond)
		}
	}()
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if err := w.Confirm(w.Pending(), ConfirmMeta{PodUID: "p"}); err != nil && err != ErrStaleChangeSet {
				t.Error(err)
			}
			time.Sleep(3 * time.Millisecond)
		}
	}()
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			_ = w.Stats()
			_ = w.Snapshot()
			w.Hint([]string{"d1/f1.txt"})
			if err := w.WaitPersisted(ctx); err != nil && ctx.Err() == nil {
				t.Error(err)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			w.MarkAllPending()
			time.Sleep(50 * time.Millisecond)
		}
	}()
	wg.Wait()
	// Once quiet, the index must agree with the disk exactly.
	settle(t, rec)
	var live []string
	for _, e := range w.Snapshot() {
		live = append(live, e.Path)
	}
	fresh, err := Open(context.Background(), tr.root, Options{NoWatch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	var want []string
	for _, e := range fresh.Snapshot() {
		want = append(want, e.Path)
	}
	if !slices.Equal(live, want) {
		t.Errorf("live index differs from a fresh walk:\n live  %q\n fresh %q", live, want)
	}
}

// TestKindChangesOnDisk replaces a path by each other kind with the
// watcher running: the ChangeSet deletes the old entry and adds the new.
func TestKindChangesOnDisk(t *testing.T) {
	makers := map[string]func(tr *tree, p string){
		"file":    func(tr *tree, p string) { tr.write(p, "content") },
		"dir":     func(tr *tree, p string) { tr.write(p+"/inside.txt", "i") },
		"symlink": func(tr *tree, p string) { tr.symlink("target.txt", p) },
	}
	for _, from := range []string{"file", "dir", "symlink"} {
		for _, to := range []string{"file", "dir", "symlink"} {
			if from == to {
				continue
			}
			t.Run(from+" to "+to, func(t *testing.T) {
				tr := newTree(t, map[string]string{"target.txt": "t"})
				makers[from](tr, "p")
				rec := &recorder{}
				w := open(t, tr.root, testOptions(t, rec))
				confirmAll(t, w, "pod")
				tr.remove("p")
				makers[to](tr, "p")
				want := csView{Added: []string{"p"}, Deleted: []string{"p"}}
				if from == "dir" {
					want.Deleted = append(want.Deleted, "p/inside.txt")
				}
				if to == "dir" {
					want.Added = append(want.Added, "p/inside.txt")
				}
				waitPending(t, w, want)
				cs := w.Pending()
				if !slices.Equal(cs.KindChanged, []string{"p"}) {
					t.Errorf("KindChanged %q, want [p]", cs.KindChanged)
				}
				if e, _ := cs.DeletedEntry("p"); kindName(e) != from {
					t.Errorf("old entry %+v, want a %s", e, from)
				}
				if e, _ := cs.Entry("p"); kindName(e) != to {
					t.Errorf("new entry %+v, want a %s", e, to)
				}
				confirmAll(t, w, "pod")
			})
		}
	}
}

func kindName(e Entry) string {
	switch {
	case e.IsDir():
		return "dir"
	case e.IsSymlink():
		return "symlink"
	case e.IsRegular():
		return "file"
	}
	return "none"
}

// A save followed at once by a Flush is in the ChangeSet even when the
// watcher's reader runs late (the scheduler on a loaded machine): Flush
// waits for its own cookie's event, which comes after the save's. With
// only the wait for an empty event channel, this failed every time.
func TestFlushWaitsForALateWatcher(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "a"})
	opts := testOptions(t, &recorder{})
	opts.QuietWindow, opts.SettleWindow, opts.MaxDelay = time.Hour, time.Hour, time.Hour
	opts.eventDelay = 30 * time.Millisecond
	w := open(t, tr.root, opts)
	confirmAll(t, w, "pod")
	for i := range 3 {
		tr.write("a.txt", fmt.Sprintf("saved %d", i))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := w.Flush(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Flush: %v", err)
		}
		if got, want := view(w.Pending()), (csView{Modified: []string{"a.txt"}}); !got.equal(want) {
			t.Fatalf("round %d: pending right after Flush %+v, want %+v", i, got, want)
		}
		confirmAll(t, w, "pod")
	}
	// The cookies are gone, and were never indexed.
	entries, err := os.ReadDir(tr.root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), cookiePrefix) {
			t.Errorf("cookie %s left in the workspace", e.Name())
		}
	}
	if st := w.Stats(); st.Files != 1 {
		t.Errorf("index holds %d files, want a.txt only", st.Files)
	}
}

// TestFlushAppliesSavesWithoutTheQuietWindow: with a quiet window far
// longer than the test, a save is in the ChangeSet right after Flush.
func TestFlushAppliesSavesWithoutTheQuietWindow(t *testing.T) {
	tr := newTree(t, map[string]string{"a.txt": "a"})
	rec := &recorder{}
	opts := testOptions(t, rec)
	opts.QuietWindow = time.Hour
	opts.SettleWindow = time.Hour
	opts.MaxDelay = time.Hour
	w := open(t, tr.root, opts)
	confirmAll(t, w, "pod")
	for i := range 3 {
		tr.write("a.txt", fmt.Sprintf("saved %d", i))
		tr.write(fmt.Sprintf("new-%d.txt", i), "n")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := w.Flush(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Flush: %v", err)
		}
		var added []string
		for j := 0; j <= i; j++ {
			added = append(added, fmt.Sprintf("new-%d.txt", j))
		}
		if got, want := view(w.Pending()), (csView{Added: added, Modified: []string{"a.txt"}}); !got.equal(want) {
			t.Fatalf("round %d: pending right after Flush %+v, want %+v", i, got, want)
		}
	}
	if rec.batchCount() == 0 {
		t.Error("the flushed batch was not reported to OnChange")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v, want ErrClosed", err)
	}
}
