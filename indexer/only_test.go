package indexer

import "testing"

// A binary component's push takes only its artifact (and the new
// directory above it); the rest stays pending after Confirm.
func TestOnlyLeavesTheRestPending(t *testing.T) {
	tr := newTree(t, map[string]string{"src/Main.java": "class Main {}", "target/app.jar": "jar1", "README": "r"})
	w := open(t, tr.root, testOptions(t, &recorder{}))
	cs := w.Pending().Only("target/app.jar")
	if got, want := view(cs), (csView{Added: []string{"target", "target/app.jar"}}); !got.equal(want) {
		t.Fatalf("Only = %+v, want %+v", got, want)
	}
	if e, ok := cs.Entry("target/app.jar"); !ok || e.Size != 4 {
		t.Fatalf("Only's entry of the artifact = %+v, %v", e, ok)
	}
	if _, ok := cs.Entry("README"); ok {
		t.Fatal("Only kept the entry of another file")
	}
	if err := w.Confirm(cs, ConfirmMeta{PodUID: "p"}); err != nil {
		t.Fatal(err)
	}
	waitPending(t, w, csView{Added: []string{"README", "src", "src/Main.java"}})

	// A new artifact is a change; an edit elsewhere is not the artifact's.
	tr.write("target/app.jar", "jar2")
	tr.write("README", "r2")
	eventually(t, "the watcher to see the new jar", func() bool {
		e, ok := w.Entry("target/app.jar")
		return ok && e.Size == 4 && len(w.Pending().Only("target/app.jar").Modified) == 1
	})
	if got := view(w.Pending().Only("target/app.jar")); !got.equal(csView{Modified: []string{"target/app.jar"}}) {
		t.Fatalf("Only after a new jar = %+v", got)
	}
}
