package relpath

import "testing"

func TestUnder(t *testing.T) {
	for _, tc := range []struct {
		p, dir string
		want   bool
	}{
		{"a/b", "", true},
		{"", "", true},
		{"a", "a", true},
		{"a/b", "a", true},
		{"ab", "a", false},
		{"a", "a/b", false},
		{"a/bc/d", "a/b", false},
		{"a/b/c", "a/b", true},
	} {
		if got := Under(tc.p, tc.dir); got != tc.want {
			t.Errorf("Under(%q, %q) = %v, want %v", tc.p, tc.dir, got, tc.want)
		}
	}
}

func TestUnderAny(t *testing.T) {
	dirs := map[string]bool{"x/y": true, "lib": true}
	for _, tc := range []struct {
		p    string
		want bool
	}{
		{"x/y", true},
		{"x/y/z", true},
		{"x/yz", false},
		{"x", false},
		{"lib/a/b.js", true},
		{"library", false},
		{"", false},
	} {
		if got := UnderAny(tc.p, dirs); got != tc.want {
			t.Errorf("UnderAny(%q) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if !UnderAny("any/path", map[string]struct{}{"": {}}) {
		t.Error(`every path is under the root ""`)
	}
	if UnderAny("a", map[string]struct{}{}) {
		t.Error("nothing is under an empty set")
	}
}

func TestParent(t *testing.T) {
	for p, want := range map[string]string{"a": "", "a/b": "a", "a/b/c": "a/b", "": ""} {
		if got := Parent(p); got != want {
			t.Errorf("Parent(%q) = %q, want %q", p, got, want)
		}
	}
}
