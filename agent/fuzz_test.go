package agent

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the frame decoder and the payload
// decoders: no panic, no frame above the limit, and every decoded frame
// re-encodes to the same bytes.
func FuzzReadFrame(f *testing.F) {
	seed := func(frames ...Frame) []byte {
		var b []byte
		for _, fr := range frames {
			b, _ = AppendFrame(b, fr.Type, fr.ID, fr.Payload)
		}
		return b
	}
	f.Add(seed(Frame{Type: FrameHello, Payload: MustJSON(NewHello(""))}))
	f.Add(seed(Frame{FramePutBegin, 1, MustJSON(PutBegin{Path: "a/b", Mode: 0o644, Size: 3})}, Frame{FramePutData, 1, []byte("abc")},
		Frame{FramePutEnd, 1, MustJSON(PutEnd{Hash: HashBytes([]byte("abc"))})}))
	f.Add([]byte{0, 0, 0, 5, 3, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 4, 3})
	f.Add([]byte("OCI runtime exec failed"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		consumed := 0
		for {
			frame, err := ReadFrame(r)
			if err != nil {
				if errors.Is(err, io.EOF) && consumed != len(data) {
					t.Fatalf("clean EOF after %d of %d bytes", consumed, len(data))
				}
				return
			}
			if len(frame.Payload) > MaxPayloadSize {
				t.Fatalf("payload of %d bytes passed the limit", len(frame.Payload))
			}
			again, err := AppendFrame(nil, frame.Type, frame.ID, frame.Payload)
			if err != nil || !bytes.Equal(again, data[consumed:consumed+len(again)]) {
				t.Fatalf("frame does not re-encode to its input: %v", err)
			}
			consumed += len(again)
			for _, v := range []any{&Hello{}, &PutBegin{}, &PutEnd{}, &PathRequest{}, &MkdirRequest{}, &SymlinkRequest{}, &ListBatch{}, &RunRequest{}, &ExitReply{}, &ErrorReply{}} {
				_ = DecodeJSON(frame.Payload, v)
			}
			if p, err := CleanPath(string(frame.Payload)); err == nil && (filepath.IsAbs(p) || p == ".." || len(p) >= 3 && p[:3] == "../") {
				t.Fatalf("CleanPath let %q through as %q", frame.Payload, p)
			}
		}
	})
}
