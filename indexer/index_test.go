package indexer

import (
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"testing"
)

// Unit tests of the record state machine: no file system, no goroutines.

func fileState(size int64, hash uint64) state {
	return state{size: size, mtime: 1, mode: 0o644, hash: hash, flags: flagExists | flagHashed}
}

func dirState() state { return state{mode: fs.ModeDir | 0o755, mtime: 1, flags: flagExists} }

func linkState(target string) state {
	return state{mode: fs.ModeSymlink | 0o777, mtime: 1, flags: flagExists, target: target}
}

// synced builds an index whose container holds exactly these paths.
func synced(t *testing.T, paths map[string]state) *index {
	t.Helper()
	x := newIndex()
	for p, st := range paths {
		x.see(p, st)
	}
	x.finishLoad()
	if err := x.confirm(x.pending(), ConfirmMeta{PodUID: "pod"}); err != nil {
		t.Fatal(err)
	}
	if cs := x.pending(); !cs.Empty() {
		t.Fatalf("pending after confirming everything: %+v", view(cs))
	}
	return x
}

func TestIndexSetReportsKindsAndTracksPending(t *testing.T) {
	x := synced(t, map[string]state{"a": fileState(1, 1), "d": dirState()})
	if k := x.set("b", fileState(2, 2)); k != Added {
		t.Errorf("new path: %v, want added", k)
	}
	if k := x.set("a", fileState(1, 9)); k != Modified {
		t.Errorf("new content: %v, want modified", k)
	}
	if k := x.set("a", fileState(1, 9)); k != 0 {
		t.Errorf("same state again: %v, want no change", k)
	}
	if k := x.set("d", state{}); k != Deleted {
		t.Errorf("removed dir: %v, want deleted", k)
	}
	if k := x.set("never", state{}); k != 0 {
		t.Errorf("deleting an unknown path: %v, want no change", k)
	}
	got := view(x.pending())
	want := csView{Added: []string{"b"}, Modified: []string{"a"}, Deleted: []string{"d"}}
	if !got.equal(want) {
		t.Fatalf("pending %+v, want %+v", got, want)
	}
	if s := x.statsNow(); s.Files != 2 || s.Dirs != 0 || s.Bytes != 3 {
		t.Errorf("stats %+v", s)
	}
	// Back to what was pushed: nothing is pending, and the record is one
	// state again.
	x.set("a", fileState(1, 1))
	x.set("b", state{})
	x.set("d", dirState())
	if cs := x.pending(); !cs.Empty() {
		t.Errorf("pending after undoing every change: %+v", view(cs))
	}
	if len(x.remote) != 0 {
		t.Errorf("remote states kept for synced records: %v", x.remote)
	}
}

func TestIndexTouchIsNotAChangeButContentIs(t *testing.T) {
	x := synced(t, map[string]state{"a": fileState(5, 7)})
	touched := fileState(5, 7)
	touched.mtime = 2
	x.set("a", touched)
	if cs := x.pending(); !cs.Empty() {
		t.Errorf("a touch is pending: %+v", view(cs))
	}
	if st := x.current("a"); st.mtime != 2 {
		t.Errorf("the record did not take the new mtime: %+v", st)
	}
}

func TestIndexConfirmKeepsLaterChangesAndRejectsStaleSets(t *testing.T) {
	x := synced(t, map[string]state{"a": fileState(1, 1)})
	x.set("a", fileState(2, 2))
	cs := x.pending()
	x.set("a", fileState(3, 3)) // after the ChangeSet was taken
	if err := x.confirm(cs, ConfirmMeta{PodUID: "p2"}); err != nil {
		t.Fatal(err)
	}
	if got := view(x.pending()); !got.equal(csView{Modified: []string{"a"}}) {
		t.Errorf("pending after confirm %+v, want a still modified", got)
	}
	if r := x.remote["a"]; r.hash != 2 {
		t.Errorf("the container should hold the confirmed state: %+v", r)
	}
	if x.podUID != "p2" {
		t.Errorf("podUID %q", x.podUID)
	}
	old := x.pending()
	x.markAllPending()
	if err := x.confirm(old, ConfirmMeta{}); !errors.Is(err, ErrStaleChangeSet) {
		t.Errorf("confirming a set from before MarkAllPending: %v", err)
	}
	if got := view(x.pending()); !got.equal(csView{Added: []string{"a"}}) || x.podUID != "" {
		t.Errorf("after MarkAllPending: %+v, pod %q", got, x.podUID)
	}
}

func TestIndexLoadComparesWithPersisted(t *testing.T) {
	x := newIndex()
	x.loadPersisted("same", fileState(1, 1))
	x.loadPersisted("changed", fileState(1, 1))
	x.loadPersisted("gone", fileState(1, 1))
	if x.loadPersisted("same", fileState(1, 1)) {
		t.Error("a duplicate persisted path was accepted")
	}
	x.endPersisted()
	if st, ok := x.persistedUnseen("changed"); !ok || st.hash != 1 {
		t.Errorf("persistedUnseen: %+v %v", st, ok)
	}
	x.see("same", fileState(1, 1))
	x.see("changed", fileState(2, 2))
	x.see("new", fileState(3, 3))
	x.finishLoad()
	if _, ok := x.persistedUnseen("gone"); ok {
		t.Error("still unseen after the load")
	}
	got := view(x.pending())
	want := csView{Added: []string{"new"}, Modified: []string{"changed"}, Deleted: []string{"gone"}}
	if !got.equal(want) {
		t.Errorf("pending %+v, want %+v", got, want)
	}
	persisted := x.pushed()
	var paths []string
	for _, e := range persisted {
		paths = append(paths, e.path)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"changed", "gone", "same"}) {
		t.Errorf("what the container holds: %q", paths)
	}
}

func TestIndexKindChangeIsDeleteThenAdd(t *testing.T) {
	kinds := map[string]state{"file": fileState(4, 4), "dir": dirState(), "symlink": linkState("t")}
	for from, fromSt := range kinds {
		for to, toSt := range kinds {
			if from == to {
				continue
			}
			t.Run(from+" to "+to, func(t *testing.T) {
				x := synced(t, map[string]state{"p": fromSt})
				if k := x.set("p", toSt); k != Modified {
					t.Errorf("batch change %v, want modified", k)
				}
				cs := x.pending()
				want := csView{Added: []string{"p"}, Deleted: []string{"p"}}
				if !view(cs).equal(want) || !slices.Equal(cs.KindChanged, []string{"p"}) || cs.Len() != 1 {
					t.Fatalf("pending %+v kind changed %q len %d, want %+v, [p], 1", view(cs), cs.KindChanged, cs.Len(), want)
				}
				if e, ok := cs.Entry("p"); !ok || e.Mode.Type() != toSt.mode.Type() {
					t.Errorf("Entry: %+v, want the new %s", e, to)
				}
				if e, ok := cs.DeletedEntry("p"); !ok || e.Mode.Type() != fromSt.mode.Type() {
					t.Errorf("DeletedEntry: %+v, want the old %s", e, from)
				}
				if roots := cs.DeletedRoots(); !slices.Equal(roots, []string{"p"}) {
					t.Errorf("DeletedRoots %q", roots)
				}
				if err := x.confirm(cs, ConfirmMeta{}); err != nil {
					t.Fatal(err)
				}
				if after := x.pending(); !after.Empty() {
					t.Errorf("pending after confirming the kind change: %+v", view(after))
				}
				if st := x.current("p"); st.mode.Type() != toSt.mode.Type() {
					t.Errorf("current %+v", st)
				}
			})
		}
	}
}

func TestIndexApplyDropsWhatAVanishedDirectoryHeld(t *testing.T) {
	x := synced(t, map[string]state{"d": dirState(), "d/a": fileState(1, 1), "d/sub": dirState(), "d/sub/b": fileState(1, 2), "e": fileState(1, 3)})
	x.ignored["d/sub/x.log"] = struct{}{}
	changes, dropped := x.apply(update{
		singles: []scanned{{path: "d", st: state{}}},
		stale:   map[string]struct{}{"d": {}},
	})
	var got []string
	for _, c := range changes {
		if c.Kind != Deleted {
			t.Errorf("%s: %v, want deleted", c.Path, c.Kind)
		}
		got = append(got, c.Path)
	}
	if !slices.Equal(got, []string{"d", "d/a", "d/sub", "d/sub/b"}) {
		t.Errorf("changes %q", got)
	}
	if !slices.Contains(dropped, "d") || !slices.Contains(dropped, "d/sub") {
		t.Errorf("dropped dirs %q", dropped)
	}
	if len(x.ignored) != 0 {
		t.Errorf("ignored paths of a vanished directory kept: %v", x.ignored)
	}
	if x.current("e").hash != 3 {
		t.Error("a path outside the directory was touched")
	}
}

func TestIndexRewalkKeepsWhatItFindsAgain(t *testing.T) {
	x := synced(t, map[string]state{"d": dirState(), "d/a": fileState(1, 1), "d/b": fileState(1, 2)})
	changes, _ := x.apply(update{
		walks:     []walkOutcome{{root: "d", entries: []scanned{{path: "d/a", st: fileState(1, 1)}, {path: "d/c", st: fileState(1, 4)}}, ignored: []string{"d/x.log"}}},
		rescanned: map[string]struct{}{"d": {}},
	})
	want := []Change{{Path: "d/b", Kind: Deleted}, {Path: "d/c", Kind: Added}}
	if !slices.Equal(changes, want) {
		t.Errorf("changes %v, want %v", changes, want)
	}
	if _, ok := x.ignored["d/x.log"]; !ok {
		t.Error("the walk's ignored path was not recorded")
	}
}

func TestIndexManyPendingThenFew(t *testing.T) {
	x := newIndex()
	n := dirtyCap + 10
	for i := range n {
		x.set(joinRel("d", strconv.Itoa(i)), fileState(1, uint64(i)))
	}
	if !x.dirtyAll {
		t.Fatal("the dirty set was not given up beyond its cap")
	}
	cs := x.pending()
	if len(cs.Added) != n {
		t.Fatalf("pending %d added, want %d", len(cs.Added), n)
	}
	if err := x.confirm(cs, ConfirmMeta{}); err != nil {
		t.Fatal(err)
	}
	x.set("late", fileState(1, 1))
	if got := view(x.pending()); !got.equal(csView{Added: []string{"late"}}) {
		t.Errorf("pending %+v", got)
	}
	if x.dirtyAll || len(x.dirty) != 1 {
		t.Errorf("the dirty set is not tracked one by one again: all=%v len=%d", x.dirtyAll, len(x.dirty))
	}
}
