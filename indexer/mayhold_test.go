package indexer

import "testing"

// TestUnconfirmedPushThenDeleteIsPushed: a push wrote a new file and was
// then cancelled (newer changes) or failed; the workspace deletes the file
// before any push is confirmed. Found by hack/chaos's load run: such files
// stayed in the container for good, with nothing pending.
func TestUnconfirmedPushThenDeleteIsPushed(t *testing.T) {
	x := synced(t, map[string]state{"keep.js": fileState(1, 1)})
	x.set("new.js", fileState(2, 2))
	x.set("dir", dirState())
	cs := x.pending()
	if got := view(cs); !got.equal(csView{Added: []string{"dir", "new.js"}}) {
		t.Fatalf("pending %+v", got)
	}
	// The push sends them, then ends unconfirmed; then the workspace
	// deletes them.
	x.mayHold(cs)
	x.set("new.js", state{})
	x.set("dir", state{})
	if got := view(x.pending()); !got.equal(csView{Deleted: []string{"dir", "new.js"}}) {
		t.Fatalf("after deleting what an unconfirmed push may have written: pending %+v, want both deleted", got)
	}
	if err := x.confirm(x.pending(), ConfirmMeta{}); err != nil {
		t.Fatal(err)
	}
	if cs := x.pending(); !cs.Empty() {
		t.Fatalf("after the deletion was pushed: %+v", view(cs))
	}
}

func TestUnconfirmedPushOfAFileKeptIsSentAgain(t *testing.T) {
	x := synced(t, nil)
	x.set("a.js", fileState(3, 3))
	x.mayHold(x.pending())
	cs := x.pending()
	if got := view(cs); !got.equal(csView{Modified: []string{"a.js"}}) {
		t.Fatalf("pending %+v, want a.js sent again", got)
	}
	if err := x.confirm(cs, ConfirmMeta{}); err != nil {
		t.Fatal(err)
	}
	if !x.pending().Empty() {
		t.Fatal("a confirmed push leaves a.js pending")
	}
	// Confirmed state is never marked unsure again by an older set.
	x.mayHold(cs)
	if !x.pending().Empty() {
		t.Fatalf("mayHold of a confirmed set: %+v", view(x.pending()))
	}
}

func TestMayHoldAfterMarkAllPendingDoesNothing(t *testing.T) {
	x := synced(t, nil)
	x.set("a.js", fileState(3, 3))
	cs := x.pending()
	x.markAllPending()
	x.mayHold(cs)
	if got := view(x.pending()); !got.equal(csView{Added: []string{"a.js"}}) {
		t.Fatalf("pending %+v", got)
	}
}
