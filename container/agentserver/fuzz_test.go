//go:build linux

package agentserver

import (
	"bytes"
	"context"
	"github.com/odod-dev/odod/agent"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzServe runs the agent on arbitrary input after a valid handshake
// (Run frames are filtered out: the fuzzer must not run programs): it must
// not panic, and nothing may appear outside its root.
func FuzzServe(f *testing.F) {
	f.Add(appendFrames(f, agent.FramePutBegin, uint32(1), agent.PutBegin{Path: "a/b", Mode: 0o644, Size: 3}, agent.FramePutData, uint32(1), []byte("abc"), agent.FramePutEnd, uint32(1), agent.PutEnd{}))
	f.Add(appendFrames(f, agent.FrameSymlink, uint32(1), agent.SymlinkRequest{Path: "l", Target: "../.."}, agent.FramePutBegin, uint32(2), agent.PutBegin{Path: "l/x", Size: 1}, agent.FramePutData, uint32(2), []byte("x"), agent.FramePutEnd, uint32(2), agent.PutEnd{}))
	f.Add(appendFrames(f, agent.FrameMkdir, uint32(1), agent.MkdirRequest{Path: "../up"}, agent.FrameList, uint32(2), agent.PathRequest{Path: "."}, agent.FrameDelete, uint32(3), agent.PathRequest{Path: "a"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var input []byte
		r := bytes.NewReader(data)
		for {
			frame, err := agent.ReadFrame(r)
			if err != nil {
				break
			}
			if frame.Type == agent.FrameRun {
				continue
			}
			input, _ = agent.AppendFrame(input, frame.Type, frame.ID, frame.Payload)
		}
		rest := data[len(data)-r.Len():] // a trailing partial frame, if any
		base := t.TempDir()
		root := filepath.Join(base, "root")
		stream := append(appendFrames(t, agent.FrameHello, uint32(0), hello()), input...)
		stream = append(stream, rest...)
		_ = Serve(context.Background(), bytes.NewReader(stream), io.Discard, Options{Root: root})
		entries, err := os.ReadDir(base)
		if err != nil || len(entries) != 1 {
			t.Fatalf("files appeared next to the root: %v", entries)
		}
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && len(d.Name()) > len(agent.TempPrefix) && d.Name()[:len(agent.TempPrefix)] == agent.TempPrefix {
				t.Fatalf("temporary file left: %s", p)
			}
			return nil
		})
	})
}
