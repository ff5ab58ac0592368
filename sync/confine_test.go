package sync

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A link the container still holds from an earlier push (or that something
// else made there) where the workspace now has a directory must not be
// extracted through: the tar fallback would write outside the sync root.
func TestTransportsNeverWriteThroughAContainerLink(t *testing.T) {
	for name, open := range transports(t) {
		t.Run(name, func(t *testing.T) {
			tr, target := open()
			outside := filepath.Dir(target)
			if err := os.Symlink("..", filepath.Join(target, "x")); err != nil {
				t.Fatal(err)
			}
			// A link where the workspace now has a file: writing the file
			// must replace the link, never write through it.
			if err := os.Symlink("../victim", filepath.Join(target, "f")); err != nil {
				t.Fatal(err)
			}
			root, entries := workspace(t, map[string]string{"x/evil": "pwned", "x/y/evil": "pwned", "f": "file"})
			lookup := func(p string) (Entry, bool) { e, ok := entries[p]; return e, ok }
			// x was pushed as a directory before: only the files are new.
			plan := PlanChanges(Changes{Added: []string{"f", "x/evil", "x/y", "x/y/evil"}}, lookup)
			_, err := tr.Apply(context.Background(), plan, DirSource(root), nil)
			for _, p := range []string{filepath.Join(outside, "evil"), filepath.Join(outside, "y", "evil"), filepath.Join(outside, "victim")} {
				if _, err := os.Lstat(p); err == nil {
					t.Fatalf("%s was written outside the sync root %s", p, target)
				}
			}
			if err != nil {
				t.Logf("apply refused: %v", err)
				return
			}
			if got := readTree(t, target); got["x/evil"] != "pwned" || got["x/y/evil"] != "pwned" || got["f"] != "file" || strings.HasPrefix(got["x"], "->") {
				t.Fatalf("container tree = %v, want x a directory holding evil and y/evil", got)
			}
		})
	}
}

// A path swapped for a symlink after it was indexed must not be read: the
// push would upload whatever the link points at (a private key).
func TestDirSourceNeverFollowsASwappedLink(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "id_rsa")
	if err := os.WriteFile(secret, []byte("PRIVATE KEY"), 0o600); err != nil {
		t.Fatal(err)
	}
	root, _ := workspace(t, map[string]string{"a.txt": "a", "inner.txt": "i", "lib/b.txt": "b"})
	// a.txt becomes a link out, lib a link to a directory outside, and
	// inner.txt a link inside (still not the regular file indexed).
	for _, swap := range []struct{ path, target string }{
		{"a.txt", secret}, {"lib", filepath.Dir(secret)}, {"inner.txt", "a.txt"},
	} {
		p := filepath.Join(root, swap.path)
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(swap.target, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(secret, filepath.Join(root, "lib2")); err != nil {
		t.Fatal(err)
	}
	rs, err := OpenRootSource(root)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for _, rel := range []string{"a.txt", "lib/id_rsa", "inner.txt", "lib2"} {
		for name, src := range map[string]Source{"DirSource": DirSource(root), "RootSource": rs} {
			if f, err := src.Open(rel); err == nil {
				_ = f.Close()
				t.Errorf("%s.Open(%q) followed a symlink", name, rel)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(root, "ok.txt"), []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]Source{"DirSource": DirSource(root), "RootSource": rs} {
		f, err := src.Open("ok.txt")
		if err != nil {
			t.Fatalf("%s: a regular file: %v", name, err)
		}
		_ = f.Close()
	}
}
