package indexer

import (
	"bytes"
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
