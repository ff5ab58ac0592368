package indexer

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"time"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC).UnixNano()
	in := []persistEntry{
		{"dir", state{mode: fs.ModeDir | 0o755, mtime: mtime, size: 4096, flags: flagExists}},
		{"dir/a.js", state{mode: 0o644, mtime: mtime, size: 12, hash: 0xdeadbeef00c0ffee, flags: flagExists | flagHashed}},
		{"run.sh", state{mode: 0o755 | fs.ModeSetuid, mtime: mtime, size: 3, flags: flagExists}},
		{"link", state{mode: fs.ModeSymlink | 0o777, mtime: mtime, size: 3, target: "../out", flags: flagExists | flagOutside}},
		{`we"ird\name ü`, state{mode: 0o600, mtime: mtime, flags: flagExists | flagHashed}},
		{"bad\xffutf8", state{mode: 0o600, mtime: mtime, flags: flagExists}},
	}
	var buf bytes.Buffer
	if err := encodeIndex(&buf, "uid-1", append([]persistEntry(nil), in...)); err != nil {
		t.Fatal(err)
	}
	p := decodeIndex(buf.Bytes())
	if p.state != IndexLoaded || p.podUID != "uid-1" || p.skipped != 0 {
		t.Fatalf("decoded %v pod %q skipped %d: %v", p.state, p.podUID, p.skipped, p.reason)
	}
	if len(p.files) != len(in)-1 {
		t.Errorf("%d files back, want %d (invalid UTF-8 is not persisted)", len(p.files), len(in)-1)
	}
	for _, e := range in[:len(in)-1] {
		if got := p.files[e.path]; got != e.st {
			t.Errorf("%q: got %+v, want %+v", e.path, got, e.st)
		}
	}
}

func FuzzDecodeIndex(f *testing.F) {
	var buf bytes.Buffer
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC).UnixNano()
	_ = encodeIndex(&buf, "uid", []persistEntry{
		{"a", state{mode: fs.ModeDir | 0o755, mtime: mtime, flags: flagExists}},
		{"a/b.txt", state{mode: 0o644, mtime: mtime, size: 3, hash: 42, flags: flagExists | flagHashed}},
		{"l", state{mode: fs.ModeSymlink | 0o777, mtime: mtime, target: "a", flags: flagExists}},
	})
	f.Add(buf.Bytes())
	f.Add([]byte(`{"kind":"FileIndex","apiVersion":"v1","Files":{"x":{"Size":1,"LastModifiedDate":"2020-01-01T00:00:00+02:00"}}}`))
	f.Add([]byte(`{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":1},"Files":{"../x":{"Size":-1,"Mode":4294967295,"Hash":"zz"}}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := decodeIndex(data)
		if p.state == IndexLoaded {
			for k, st := range p.files {
				if !validRelPath(k) || !st.exists() || !indexable(st.mode) || st.size < 0 {
					t.Fatalf("accepted invalid entry %q %+v", k, st)
				}
			}
			// What was accepted survives a round trip.
			var out bytes.Buffer
			var entries []persistEntry
			for k, st := range p.files {
				entries = append(entries, persistEntry{k, st})
			}
			if err := encodeIndex(&out, p.podUID, entries); err != nil {
				t.Fatal(err)
			}
			again := decodeIndex(out.Bytes())
			if again.state != IndexLoaded || again.podUID != p.podUID {
				t.Fatalf("re-encoded index reads as %v: %v", again.state, again.reason)
			}
			for k, st := range p.files {
				if !strings.ContainsRune(k, 0xFFFD) && again.files[k] != st {
					t.Fatalf("%q changed in a round trip: %+v -> %+v", k, st, again.files[k])
				}
			}
		} else if p.reason == nil && p.state != IndexMissing {
			t.Fatalf("state %v without a reason", p.state)
		}
	})
}

// The fast reader must agree with encoding/json whenever it answers.
func FuzzDecodeIndexFastAgrees(f *testing.F) {
	var buf bytes.Buffer
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 5, time.UTC).UnixNano()
	_ = encodeIndex(&buf, "uid", []persistEntry{
		{"a", state{mode: fs.ModeDir | 0o755, mtime: mtime, flags: flagExists}},
		{"a/b.txt", state{mode: 0o644, mtime: mtime, size: 3, hash: 42, flags: flagExists | flagHashed}},
		{"l", state{mode: fs.ModeSymlink | 0o777, mtime: mtime, target: "../x", flags: flagExists}},
	})
	f.Add(buf.Bytes())
	f.Add([]byte(`{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":1,"podUID":""},"Files":{
"x":{"Size":01,"LastModifiedDate":"2020-01-01T00:00:00Z","Mode":33188},
"x":{"Size":1,"LastModifiedDate":"2020-01-01T00:00:00Z","Mode":33188}
}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := decodeIndexFast(data)
		if !ok {
			return
		}
		slow := decodeIndexJSON(data)
		if slow.state != fast.state || slow.podUID != fast.podUID || slow.skipped != fast.skipped || len(slow.files) != len(fast.files) {
			t.Fatalf("fast %v/%q/%d/%d, encoding/json %v/%q/%d/%d (%v)", fast.state, fast.podUID, fast.skipped, len(fast.files),
				slow.state, slow.podUID, slow.skipped, len(slow.files), slow.reason)
		}
		for k, st := range slow.files {
			if fast.files[k] != st {
				t.Fatalf("%q: fast %+v, encoding/json %+v", k, fast.files[k], st)
			}
		}
	})
}

func TestFastDecoderTakesOurOwnOutput(t *testing.T) {
	var buf bytes.Buffer
	if err := encodeIndex(&buf, "uid", syntheticEntries(1000)); err != nil {
		t.Fatal(err)
	}
	if _, ok := decodeIndexFast(buf.Bytes()); !ok {
		t.Fatal("the fast reader rejected encodeIndex's output")
	}
}

// An index written by an earlier odod (schema 1: odod's fields in each
// entry) is still read, by both readers.
func TestSchema1IndexIsStillRead(t *testing.T) {
	data := []byte(`{"kind":"FileIndex","apiVersion":"v1","odod":{"schema":1,"podUID":"u"},"Files":{
"a":{"Size":4096,"LastModifiedDate":"2024-05-06T07:08:09.5Z","Mode":16877},
"a/b.txt":{"Size":3,"LastModifiedDate":"2024-05-06T07:08:09Z","Mode":33188,"Hash":"000000000000002a"},
"l":{"Size":1,"LastModifiedDate":"2024-05-06T07:08:09Z","Mode":41471,"Link":"a"}
}}
`)
	fast, ok := decodeIndexFast(data)
	if !ok {
		t.Fatal("the fast reader rejected a schema 1 index")
	}
	for name, p := range map[string]persistedIndex{"fast": fast, "encoding/json": decodeIndexJSON(data)} {
		if p.state != IndexLoaded || p.podUID != "u" || len(p.files) != 3 {
			t.Fatalf("%s: %v %q %d files: %v", name, p.state, p.podUID, len(p.files), p.reason)
		}
		if st := p.files["a/b.txt"]; !st.hashed() || st.hash != 42 || !st.isRegular() {
			t.Errorf("%s: a/b.txt %+v", name, st)
		}
		if st := p.files["l"]; st.target != "a" || st.mode&fs.ModeSymlink == 0 {
			t.Errorf("%s: l %+v", name, st)
		}
	}
}

// odo reads the file with its own FileIndex type: every entry has its
// size and mtime, and odod's fields do not get in the way.
func TestIndexFileReadsAsOdosFileIndex(t *testing.T) {
	entries := syntheticEntries(50)
	entries = append(entries, persistEntry{"l", state{mode: fs.ModeSymlink | 0o777, mtime: 5, size: 2, target: "x", flags: flagExists}})
	var buf bytes.Buffer
	if err := encodeIndex(&buf, "uid", append([]persistEntry(nil), entries...)); err != nil {
		t.Fatal(err)
	}
	var odo struct {
		Kind, APIVersion string
		Files            map[string]struct {
			Size             int64
			LastModifiedDate time.Time
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &odo); err != nil {
		t.Fatalf("odo's type cannot read it: %v", err)
	}
	if odo.Kind != "FileIndex" || odo.APIVersion != "v1" || len(odo.Files) != len(entries) {
		t.Fatalf("odo reads kind %q version %q, %d files", odo.Kind, odo.APIVersion, len(odo.Files))
	}
	for _, e := range entries {
		f := odo.Files[e.path]
		if f.Size != e.st.size || !f.LastModifiedDate.Equal(time.Unix(0, e.st.mtime)) {
			t.Errorf("%s: odo reads %+v, want size %d mtime %v", e.path, f, e.st.size, time.Unix(0, e.st.mtime))
		}
	}
}

// Fields that do not match the entries make the file corrupt, in both
// readers: a hash too few, or a run too long.
func TestCompactFieldsMismatchIsCorrupt(t *testing.T) {
	var buf bytes.Buffer
	if err := encodeIndex(&buf, "uid", syntheticEntries(3)); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	for name, bad := range map[string]string{
		"one entry too many": strings.Replace(good, `"runs":[3,1]`, `"runs":[4,1]`, 1),
		"one entry too few":  strings.Replace(good, `"runs":[3,1]`, `"runs":[2,1]`, 1),
		"unknown mode":       strings.Replace(good, `"runs":[3,1]`, `"runs":[3,3]`, 1),
	} {
		if bad == good {
			t.Fatalf("%s: the test did not change the file:\n%s", name, good)
		}
		if _, ok := decodeIndexFast([]byte(bad)); ok {
			t.Errorf("%s: the fast reader accepted it", name)
		}
		if p := decodeIndex([]byte(bad)); p.state != IndexCorrupt {
			t.Errorf("%s: %v, want corrupt", name, p.state)
		}
	}
}
