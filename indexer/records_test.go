package indexer

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRecordStoreKeepsEachDirectorySorted(t *testing.T) {
	s := newRecordStore()
	paths := []string{"d/m", "d/a", "d/zz", "top", "d/b-x", "d/b", "e/f/g"}
	for i, p := range paths {
		s.put(p, state{size: int64(i), flags: flagExists}, 0)
	}
	s.put("d/l", state{mode: fs.ModeSymlink, flags: flagExists, target: "m"}, recPending)
	if s.len() != len(paths)+1 {
		t.Fatalf("len %d", s.len())
	}
	var names []string
	for i := range s.dirs["d"].recs {
		names = append(names, string(s.dirs["d"].name(i)))
	}
	if want := []string{"a", "b", "b-x", "l", "m", "zz"}; !slices.Equal(names, want) {
		t.Errorf("names of d %q, want %q", names, want)
	}
	for i, p := range paths {
		if _, st, ok := s.get(p); !ok || st.size != int64(i) {
			t.Errorf("%s: %+v %v", p, st, ok)
		}
	}
	if r, st, ok := s.get("d/l"); !ok || st.target != "m" || r.rec != recPending {
		t.Errorf("link: %+v %+v %v", r, st, ok)
	}
	if _, _, ok := s.get("d/c"); ok {
		t.Error("found a path never stored")
	}
	s.put("d/m", state{size: 99, flags: flagExists}, 0) // update in place
	s.drop("d/b")
	s.drop("d/l")
	s.drop("top")
	s.drop("never/there")
	if _, st, _ := s.get("d/m"); st.size != 99 {
		t.Errorf("update lost: %+v", st)
	}
	for _, p := range []string{"d/b", "d/l", "top"} {
		if _, _, ok := s.get(p); ok {
			t.Errorf("%s still there after drop", p)
		}
	}
	if _, ok := s.dirs[""]; ok {
		t.Error("the root's node stayed after its last entry went")
	}
	if len(s.links) != 0 {
		t.Errorf("link target kept: %v", s.links)
	}
	var all []string
	s.each(nil, func(d *dirNode, i int) { all = append(all, d.pathOf(i)) })
	slices.Sort(all)
	if want := []string{"d/a", "d/b-x", "d/m", "d/zz", "e/f/g"}; !slices.Equal(all, want) || s.len() != len(want) {
		t.Errorf("all %q (len %d), want %q", all, s.len(), want)
	}
}

// The store agrees with a map under random puts and drops.
func TestRecordStoreAgreesWithAMap(t *testing.T) {
	s := newRecordStore()
	model := map[string]int64{}
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 20000 {
		p := fmt.Sprintf("d%d/f%d", rng.IntN(4), rng.IntN(30))
		if rng.IntN(3) == 0 {
			p = fmt.Sprintf("f%d", rng.IntN(10))
		}
		if rng.IntN(2) == 0 {
			s.put(p, state{size: int64(step), flags: flagExists}, 0)
			model[p] = int64(step)
		} else {
			s.drop(p)
			delete(model, p)
		}
		if step%500 == 0 {
			s.compact()
		}
	}
	if s.len() != len(model) {
		t.Fatalf("len %d, model %d", s.len(), len(model))
	}
	s.each(nil, func(d *dirNode, i int) {
		p := d.pathOf(i)
		if want, ok := model[p]; !ok || d.recs[i].size != want {
			t.Errorf("%s: size %d, model %d (%v)", p, d.recs[i].size, want, ok)
		}
	})
	for p, want := range model {
		if _, st, ok := s.get(p); !ok || st.size != want {
			t.Errorf("get %s: %+v %v, want size %d", p, st, ok, want)
		}
	}
}
