package indexer

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// storeContents lists the store's paths and sizes.
func storeContents(s *recordStore) map[string]int64 {
	got := map[string]int64{}
	s.each(nil, func(d *dirNode, i int) { got[d.pathOf(i)] = d.recs[i].size })
	return got
}

func TestPersistedLoadAddsEachDirectoryWhole(t *testing.T) {
	// Path order puts a/b-x between a/b and a/b's own entries ('-' < '/'):
	// a directory's entries are not contiguous, its subtree is.
	paths := []string{"a", "a/b", "a/b-x", "a/b/c", "a/b/d/e", "a/b/f", "a/c", "b", "b/a", "c"}
	if !slices.IsSorted(paths) {
		t.Fatal("the fixture must be in path order")
	}
	s := newRecordStore()
	var l persistedLoad
	want := map[string]int64{}
	for i, p := range paths {
		if !l.add(&s, p, fileState(int64(i), uint64(i)), recUnseen) {
			t.Fatalf("add %q refused", p)
		}
		want[p] = int64(i)
	}
	if l.add(&s, "c", fileState(1, 1), recUnseen) {
		t.Error("a duplicate of the open directory's last entry was accepted")
	}
	if l.add(&s, "a/b/c", fileState(1, 1), recUnseen) {
		t.Error("a duplicate in a directory already added was accepted")
	}
	l.closeAll(&s, recUnseen)
	if got := storeContents(&s); !mapsEqual(got, want) {
		t.Errorf("store holds %v, want %v", got, want)
	}
	if s.len() != len(paths) {
		t.Errorf("len %d, want %d", s.len(), len(paths))
	}
	// In path order only the duplicate check's path adds one by one: "a/b/c"
	// went through get, which found it, so nothing was inserted singly.
	if s.scattered != 0 {
		t.Errorf("%d records were inserted one by one; in path order every directory is added whole", s.scattered)
	}
	for _, d := range []string{"", "a", "a/b", "a/b/d", "b"} {
		if s.dirs[d] == nil {
			t.Errorf("directory %q missing", d)
		}
	}
	if r, _, ok := s.get("a/b/d/e"); !ok || r.rec&recUnseen == 0 {
		t.Errorf("a/b/d/e: %+v %v, want an unseen record", r, ok)
	}
}

func TestPersistedLoadTakesAnyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	names := []string{"a", "b", "b-x", "c.js", "d"}
	for round := range 200 {
		want := map[string]int64{}
		var paths []string
		for range 1 + rng.IntN(40) {
			p := names[rng.IntN(len(names))]
			for rng.IntN(3) == 0 {
				p += "/" + names[rng.IntN(len(names))]
			}
			if _, dup := want[p]; !dup {
				want[p] = int64(len(paths))
				paths = append(paths, p)
			}
		}
		if round%2 == 0 {
			slices.Sort(paths)
		}
		s := newRecordStore()
		var l persistedLoad
		for _, p := range paths {
			if !l.add(&s, p, fileState(want[p], 1), recUnseen) {
				t.Fatalf("round %d: %q refused", round, p)
			}
		}
		// Every path again: each is a duplicate now, open or added.
		for _, p := range paths {
			if l.add(&s, p, fileState(0, 1), recUnseen) {
				t.Fatalf("round %d: duplicate %q accepted (input %q)", round, p, paths)
			}
		}
		l.closeAll(&s, recUnseen)
		if got := storeContents(&s); !mapsEqual(got, want) {
			t.Fatalf("round %d: input %q: store holds %v, want %v", round, paths, got, want)
		}
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
