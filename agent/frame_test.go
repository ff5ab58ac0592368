package agent

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

func TestReadFrameErrors(t *testing.T) {
	good, _ := AppendFrame(nil, FramePing, 9, []byte("abc"))
	f, err := ReadFrame(bytes.NewReader(good))
	if err != nil || f.Type != FramePing || f.ID != 9 || string(f.Payload) != "abc" {
		t.Fatalf("ReadFrame = %+v, %v", f, err)
	}
	for i := 1; i < len(good); i++ {
		if _, err := ReadFrame(bytes.NewReader(good[:i])); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("truncated at %d: %v", i, err)
		}
	}
	if _, err := ReadFrame(bytes.NewReader(nil)); !errors.Is(err, io.EOF) {
		t.Errorf("empty: %v", err)
	}
	huge := []byte{0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0}
	if _, err := ReadFrame(bytes.NewReader(huge)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("huge length: %v", err)
	}
	if _, err := AppendFrame(nil, FramePutData, 1, make([]byte, MaxPayloadSize+1)); err == nil {
		t.Error("AppendFrame accepted an oversized payload")
	}
}

func TestHashStreamingMatchesOneShot(t *testing.T) {
	for _, n := range []int{0, 1, 16, 17, 128, 129, 240, 241, 1024, 100_000} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + i/13)
		}
		h := NewHasher()
		for chunk := range slices.Chunk(data, 77) {
			_, _ = h.Write(chunk)
		}
		if got, want := h.HashSum(), HashBytes(data); got != want || len(got) != 16 {
			t.Errorf("n=%d: streaming %s, one-shot %s", n, got, want)
		}
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{"a": "a", "a/./b": "a/b", "a//b/": "a/b", ".": ".", "./x": "x", "..a/b..": "..a/b.."} {
		if got, err := CleanPath(in); err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/a", "..", "a/..", "../a", "a/../b", "a\x00"} {
		if got, err := CleanPath(in); err == nil {
			t.Errorf("CleanPath(%q) = %q, want an error", in, got)
		}
	}
}
