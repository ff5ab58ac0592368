package agent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the frame decoder and the payload
// decoders: no panic, no frame above the limit, and every decoded frame
// re-encodes to the same bytes.
func FuzzReadFrame(f *testing.F) {
	f.Add(appendFrames(f, FrameHello, uint32(0), hello()))
	f.Add(appendFrames(f, FramePutBegin, uint32(1), putBegin{Path: "a/b", Mode: 0o644, Size: 3}, FramePutData, uint32(1), []byte("abc"), FramePutEnd, uint32(1), putEnd{Hash: HashBytes([]byte("abc"))}))
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
			for _, v := range []any{&helloRequest{}, &putBegin{}, &putEnd{}, &pathRequest{}, &mkdirRequest{}, &symlinkRequest{}, &listBatch{}, &runRequest{}, &exitReply{}, &errorReply{}} {
				_ = decodeJSON(frame.Payload, v)
			}
			if p, err := CleanPath(string(frame.Payload)); err == nil && (filepath.IsAbs(p) || p == ".." || len(p) >= 3 && p[:3] == "../") {
				t.Fatalf("CleanPath let %q through as %q", frame.Payload, p)
			}
		}
	})
}

// FuzzServe runs the agent on arbitrary input after a valid handshake
// (Run frames are filtered out: the fuzzer must not run programs): it must
// not panic, and nothing may appear outside its root.
func FuzzServe(f *testing.F) {
	f.Add(appendFrames(f, FramePutBegin, uint32(1), putBegin{Path: "a/b", Mode: 0o644, Size: 3}, FramePutData, uint32(1), []byte("abc"), FramePutEnd, uint32(1), putEnd{}))
	f.Add(appendFrames(f, FrameSymlink, uint32(1), symlinkRequest{Path: "l", Target: "../.."}, FramePutBegin, uint32(2), putBegin{Path: "l/x", Size: 1}, FramePutData, uint32(2), []byte("x"), FramePutEnd, uint32(2), putEnd{}))
	f.Add(appendFrames(f, FrameMkdir, uint32(1), mkdirRequest{Path: "../up"}, FrameList, uint32(2), pathRequest{Path: "."}, FrameDelete, uint32(3), pathRequest{Path: "a"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var input []byte
		r := bytes.NewReader(data)
		for {
			frame, err := ReadFrame(r)
			if err != nil {
				break
			}
			if frame.Type == FrameRun {
				continue
			}
			input, _ = AppendFrame(input, frame.Type, frame.ID, frame.Payload)
		}
		rest := data[len(data)-r.Len():] // a trailing partial frame, if any
		base := t.TempDir()
		root := filepath.Join(base, "root")
		stream := append(appendFrames(t, FrameHello, uint32(0), hello()), input...)
		stream = append(stream, rest...)
		_ = Serve(context.Background(), bytes.NewReader(stream), io.Discard, ServerOptions{Root: root})
		entries, err := os.ReadDir(base)
		if err != nil || len(entries) != 1 {
			t.Fatalf("files appeared next to the root: %v", entries)
		}
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && len(d.Name()) > len(tempPrefix) && d.Name()[:len(tempPrefix)] == tempPrefix {
				t.Fatalf("temporary file left: %s", p)
			}
			return nil
		})
	})
}
