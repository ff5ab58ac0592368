package indexer

import (
	"testing"
	"unicode/utf8"
)

// JSON merges names that are not valid UTF-8 (a\xffb and a\xfeb both
// become a\uFFFDb): they are left out of the index, with a warning.
func TestNonUTF8NamesAreRefusedWithAWarning(t *testing.T) {
	tr := newTree(t, map[string]string{"ok.txt": "ok", "a\xffb": "1", "a\xfeb": "2", "dir\xff/inner.txt": "3"})
	rec := &recorder{}
	w := open(t, tr.root, testOptions(t, rec))
	check := func() {
		t.Helper()
		for _, e := range w.Snapshot() {
			if !utf8.ValidString(e.Path) {
				t.Fatalf("indexed a name that is not UTF-8: %q", e.Path)
			}
		}
		cs := w.Pending()
		for _, list := range [][]string{cs.Added, cs.Modified} {
			for _, p := range list {
				if !utf8.ValidString(p) {
					t.Fatalf("pending a name that is not UTF-8: %q", p)
				}
			}
		}
	}
	check()
	if _, ok := w.Entry("ok.txt"); !ok {
		t.Fatal("ok.txt not indexed")
	}
	if !rec.warned("not valid UTF-8") {
		t.Fatal("no warning about the names")
	}
	// The same through the watcher.
	tr.write("new\xfex", "4")
	tr.write("new-ok.txt", "5")
	eventually(t, "new-ok.txt indexed", func() bool { _, ok := w.Entry("new-ok.txt"); return ok })
	check()
}
