package daemon

import "testing"

// A reused request id: cancelling reaches both requests, and the first one
// ending leaves the second cancellable.
func TestCancelSetKeepsDuplicateKeysApart(t *testing.T) {
	cs := newCancelSet()
	var first, second int
	h1 := cs.add("7", func() { first++ })
	cs.add("7", func() { second++ })
	for _, c := range cs.get("7") {
		c()
	}
	if first != 1 || second != 1 {
		t.Fatalf("cancel of id 7 reached first %d, second %d times; want both once", first, second)
	}
	cs.remove("7", h1)
	for _, c := range cs.get("7") {
		c()
	}
	if first != 1 || second != 2 {
		t.Fatalf("after the first ended: first %d, second %d; want 1, 2", first, second)
	}
	if n := len(cs.all()); n != 1 {
		t.Fatalf("all() = %d functions, want 1", n)
	}
}
