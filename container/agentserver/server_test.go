//go:build linux

package agentserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/odod-dev/odod/agent"
	"github.com/odod-dev/odod/internal/proctest"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// pipeConn joins two io.Pipes into the client's ReadWriteCloser.
type pipeConn struct {
	r *io.PipeReader
	w *io.PipeWriter
}

func (p pipeConn) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p pipeConn) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p pipeConn) Close() error {
	_ = p.w.Close()
	return p.r.Close()
}

type harness struct {
	root   string
	client *agent.Client
	// endedMidFrame tells the cleanup that Serve's unexpected EOF was
	// expected: the test cut the stream inside a frame.
	endedMidFrame bool
	// served is closed when Serve has returned serveErr.
	served   chan struct{}
	serveErr error
}

// serveTimeout bounds every wait for Serve to return, so that a test that
// fails cannot hang the package until its timeout.
const serveTimeout = 10 * time.Second

// waitServe waits, boundedly, for Serve to return and gives its error.
func (h *harness) waitServe(t *testing.T) error {
	t.Helper()
	select {
	case <-h.served:
		return h.serveErr
	case <-time.After(serveTimeout):
		return fmt.Errorf("Serve did not return within %v", serveTimeout)
	}
}

// startAgent runs Serve in-process on a fresh root and connects a client.
func startAgent(t *testing.T) *harness {
	t.Helper()
	return startAgentAt(t, filepath.Join(t.TempDir(), "src"))
}

// startAgentAt is startAgent on a given root, which may hold files.
func startAgentAt(t *testing.T, root string) *harness {
	t.Helper()
	toAgentR, toAgentW := io.Pipe()
	toClientR, toClientW := io.Pipe()
	h := &harness{root: root, served: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		h.serveErr = Serve(ctx, toAgentR, toClientW, Options{Root: root, Version: "test-agent"})
		_ = toClientW.CloseWithError(io.EOF)
		close(h.served)
	}()
	t.Cleanup(func() {
		cancel()
		_ = toAgentW.CloseWithError(io.EOF)
		if err := h.waitServe(t); err != nil && !h.endedMidFrame {
			t.Errorf("Serve: %v", err)
		}
	})
	c, err := agent.NewClient(context.Background(), pipeConn{r: toClientR, w: toAgentW}, agent.ClientOptions{Name: "test"})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	h.client = c
	// Registered after the one above, so it runs first: the client's
	// Close ends the stream, then Serve is waited for.
	t.Cleanup(func() { _ = c.Close() })
	return h
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), agent.TempPrefix) {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func TestHandshakeAndPing(t *testing.T) {
	h := startAgent(t)
	info := h.client.Info()
	if info.Protocol != agent.MaxProtocol || info.AgentVersion != "test-agent" || info.Root != h.root {
		t.Fatalf("Info = %+v", info)
	}
	if err := h.client.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestPutFile(t *testing.T) {
	h := startAgent(t)
	ctx := context.Background()
	small := []byte("console.log('hi')\n")
	if err := h.client.PutFile(ctx, "server.js", 0o644, bytes.NewReader(small), int64(len(small))); err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	big := randomBytes(t, 3*agent.ChunkSize+123) // several chunks, last one partial
	if err := h.client.PutFile(ctx, "deep/er/bin/tool", 0o755, bytes.NewReader(big), int64(len(big))); err != nil {
		t.Fatalf("PutFile big: %v", err)
	}
	if err := h.client.PutFile(ctx, "empty", 0o600, bytes.NewReader(nil), 0); err != nil {
		t.Fatalf("PutFile empty: %v", err)
	}
	for name, want := range map[string]struct {
		data []byte
		mode fs.FileMode
	}{"server.js": {small, 0o644}, "deep/er/bin/tool": {big, 0o755}, "empty": {nil, 0o600}} {
		got, err := os.ReadFile(filepath.Join(h.root, name))
		if err != nil || !bytes.Equal(got, want.data) {
			t.Errorf("%s: content differs (err %v, %d bytes, want %d)", name, err, len(got), len(want.data))
		}
		info, err := os.Stat(filepath.Join(h.root, name))
		if err != nil || info.Mode().Perm() != want.mode {
			t.Errorf("%s: mode %v, want %v (err %v)", name, info.Mode().Perm(), want.mode, err)
		}
	}
	// Overwrite replaces the content atomically.
	if err := h.client.PutFile(ctx, "server.js", 0o644, strings.NewReader("v2"), 2); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(h.root, "server.js")); string(got) != "v2" {
		t.Errorf("after overwrite: %q", got)
	}
	assertNoTempFiles(t, h.root)
}

func TestPutFileSourceMismatch(t *testing.T) {
	h := startAgent(t)
	ctx := context.Background()
	// The file grew between stat and read: the put must fail, nothing written.
	err := h.client.PutFile(ctx, "grew.txt", 0o644, strings.NewReader("0123456789"), 4)
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("PutFile of a grown source: %v", err)
	}
	err = h.client.PutFile(ctx, "shrank.txt", 0o644, strings.NewReader("01"), 10)
	if err == nil || !strings.Contains(err.Error(), "announced") {
		t.Fatalf("PutFile of a shrunk source: %v", err)
	}
	if err := h.client.Ping(ctx); err != nil {
		t.Fatalf("stream unusable after aborted puts: %v", err)
	}
	for _, name := range []string{"grew.txt", "shrank.txt"} {
		if _, err := os.Lstat(filepath.Join(h.root, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists after an aborted put", name)
		}
	}
	assertNoTempFiles(t, h.root)
}

func TestPipelinedPuts(t *testing.T) {
	h := startAgent(t)
	ctx := context.Background()
	const n = 500
	pending := make([]*agent.PendingPut, n)
	for i := range n {
		body := fmt.Sprintf("file %d\n", i)
		pending[i] = h.client.StartPut(ctx, fmt.Sprintf("d%d/f%d.txt", i%7, i), 0o644, strings.NewReader(body), int64(len(body)))
	}
	for i, p := range pending {
		if err := p.Wait(ctx); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	for i := range n {
		got, err := os.ReadFile(filepath.Join(h.root, fmt.Sprintf("d%d/f%d.txt", i%7, i)))
		if err != nil || string(got) != fmt.Sprintf("file %d\n", i) {
			t.Fatalf("file %d: %q, %v", i, got, err)
		}
	}
	// Concurrent callers share the stream too.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				body := randomBytes(t, 1000+i)
				if err := h.client.PutFile(ctx, fmt.Sprintf("g%d/%d", g, i), 0o644, bytes.NewReader(body), int64(len(body))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestDeleteMkdirSymlinkList(t *testing.T) {
	h := startAgent(t)
	ctx := context.Background()
	c := h.client
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Mkdir(ctx, "a/b/c", 0o750))
	must(c.PutFile(ctx, "a/b/file.txt", 0o644, strings.NewReader("hello"), 5))
	must(c.PutFile(ctx, "top.txt", 0o600, strings.NewReader("x"), 1))
	must(c.Symlink(ctx, "a/link", "b/file.txt"))
	// A symlink replaces an existing file.
	must(c.Symlink(ctx, "top.txt", "a/b/file.txt"))
	if target, err := os.Readlink(filepath.Join(h.root, "top.txt")); err != nil || target != "a/b/file.txt" {
		t.Fatalf("top.txt link: %q, %v", target, err)
	}
	if info, err := os.Stat(filepath.Join(h.root, "a/b/c")); err != nil || !info.IsDir() || info.Mode().Perm() != 0o750 {
		t.Fatalf("mkdir: %v %v", info, err)
	}
	entries, err := c.List(ctx, ".")
	must(err)
	byPath := map[string]agent.Entry{}
	for _, e := range entries {
		byPath[e.Path] = e
	}
	wantPaths := []string{"a", "a/b", "a/b/c", "a/b/file.txt", "a/link", "top.txt"}
	var gotPaths []string
	for p := range byPath {
		gotPaths = append(gotPaths, p)
	}
	slices.Sort(gotPaths)
	if !slices.Equal(gotPaths, wantPaths) {
		t.Fatalf("List paths = %v, want %v", gotPaths, wantPaths)
	}
	if e := byPath["a/b/file.txt"]; e.Size != 5 || e.Hash != agent.HashBytes([]byte("hello")) || !e.Mode.IsRegular() || e.Mode.Perm() != 0o644 {
		t.Errorf("file entry %+v", e)
	}
	if e := byPath["a/link"]; e.LinkTarget != "b/file.txt" || e.Mode&fs.ModeSymlink == 0 || e.Hash != "" {
		t.Errorf("link entry %+v", e)
	}
	if e := byPath["a/b/c"]; !e.Mode.IsDir() {
		t.Errorf("dir entry %+v", e)
	}
	sub, err := c.List(ctx, "a/b")
	must(err)
	if len(sub) != 2 || sub[0].Path != "a/b/c" || sub[1].Path != "a/b/file.txt" {
		t.Errorf("List(a/b) = %+v", sub)
	}
	if _, err := c.List(ctx, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("List(missing) = %v, want ErrNotExist", err)
	}

	must(c.Delete(ctx, "a"))
	must(c.Delete(ctx, "a")) // idempotent
	if _, err := os.Lstat(filepath.Join(h.root, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a still exists: %v", err)
	}
	var remote *agent.RemoteError
	if err := c.Delete(ctx, "."); !errors.As(err, &remote) || remote.Code != agent.CodeInvalid {
		t.Errorf("Delete(.) = %v, want invalid", err)
	}
}

func TestListManyEntriesInBatches(t *testing.T) {
	h := startAgent(t)
	for i := range 3*listBatchSize + 5 {
		if err := os.WriteFile(filepath.Join(h.root, fmt.Sprintf("f%05d", i)), []byte{byte(i)}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := h.client.List(context.Background(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3*listBatchSize+5 {
		t.Fatalf("got %d entries", len(entries))
	}
	if entries[7].Hash != agent.HashBytes([]byte{7}) {
		t.Errorf("entry 7 hash %s", entries[7].Hash)
	}
}

func TestRun(t *testing.T) {
	h := startAgent(t)
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	code, err := h.client.Run(ctx, []string{"sh", "-c", `echo out:$GREETING; pwd; echo err >&2; exit 3`}, []string{"GREETING=hi"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if code != 3 || stdout.String() != "out:hi\n"+h.root+"\n" || stderr.String() != "err\n" {
		t.Fatalf("code %d stdout %q stderr %q", code, stdout.String(), stderr.String())
	}
	if err := os.MkdirAll(filepath.Join(h.root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code, err := h.client.RunIn(ctx, "sub", []string{"pwd"}, nil, &stdout, nil); err != nil || code != 0 || strings.TrimSpace(stdout.String()) != filepath.Join(h.root, "sub") {
		t.Fatalf("RunIn: %d %v %q", code, err, stdout.String())
	}
	// Large output arrives complete and in order.
	stdout.Reset()
	if code, err := h.client.Run(ctx, []string{"sh", "-c", "seq 1 200000"}, nil, &stdout, io.Discard); err != nil || code != 0 {
		t.Fatalf("seq: %d %v", code, err)
	}
	if lines := strings.Split(strings.TrimSpace(stdout.String()), "\n"); len(lines) != 200000 || lines[199999] != "200000" {
		t.Fatalf("seq output: %d lines", len(lines))
	}
	// A missing program is an error, not an exit code.
	if _, err := h.client.Run(ctx, []string{"/no/such/program"}, nil, nil, nil); err == nil {
		t.Fatal("running a missing program succeeded")
	}
}

func TestRunCancelKillsProcessGroup(t *testing.T) {
	h := startAgent(t)
	pidFile := filepath.Join(h.root, "child.pid")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.client.Run(ctx, []string{"sh", "-c", "sleep 60 & echo $! > child.pid; wait"}, nil, nil, nil)
		done <- err
	}()
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(pidFile)
		_, _ = fmt.Sscan(string(b), &pid)
	}
	if pid == 0 {
		t.Fatal("the command never started")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(serveTimeout):
		t.Fatal("Run did not return after its context was cancelled")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if !proctest.Alive(pid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d survived the cancel", pid)
		}
	}
	if err := h.client.Ping(context.Background()); err != nil {
		t.Fatalf("stream unusable after cancel: %v", err)
	}
}

func TestPathConfinement(t *testing.T) {
	h := startAgent(t)
	ctx := context.Background()
	c := h.client
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	relOutside, err := filepath.Rel(h.root, outside)
	if err != nil {
		t.Fatal(err)
	}
	// The client cannot make a link that leads out of the root, directly,
	// absolutely or through a chain of links that each look inside: tar
	// or the scripts in the container would follow it out.
	var remote *agent.RemoteError
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Mkdir(ctx, "sub", 0o755))
	must(c.Symlink(ctx, "sub/up", ".."))
	must(c.Symlink(ctx, "inside", "sub/up/sub"))
	for link, target := range map[string]string{
		"rel-escape": relOutside, "abs": outside, "chain": "sub/up/..", "chain2": "inside/../..", "sub/deeper": "up/../..",
	} {
		if err := c.Symlink(ctx, link, target); !errors.As(err, &remote) || remote.Code != agent.CodeEscapesRoot {
			t.Errorf("Symlink(%q -> %q): %v, want code %s", link, target, err, agent.CodeEscapesRoot)
		}
		if _, err := os.Lstat(filepath.Join(h.root, link)); err == nil {
			t.Errorf("escaping link %s was created", link)
		}
	}
	// Links planted by someone else in the container.
	must(os.Symlink(relOutside, filepath.Join(h.root, "rel-escape")))
	must(os.Symlink(outside, filepath.Join(h.root, "abs-escape")))
	must(os.Symlink(filepath.Join(relOutside, "victim"), filepath.Join(h.root, "victim-link")))

	for _, p := range []string{"../x", "a/../../x", "/etc/passwd", "", "a/\x00b", "..", "rel-escape/victim", "abs-escape/victim", "rel-escape/new/deep"} {
		if err := c.PutFile(ctx, p, 0o644, strings.NewReader("pwned"), 5); err == nil {
			t.Errorf("PutFile(%q) succeeded", p)
		}
		if err := c.Mkdir(ctx, p+"/d", 0o755); err == nil {
			t.Errorf("Mkdir(%q/d) succeeded", p)
		}
		if err := c.Symlink(ctx, p, "target"); err == nil {
			t.Errorf("Symlink(%q) succeeded", p)
		}
		if p != "" && !strings.HasSuffix(p, "/new/deep") {
			if err := c.Delete(ctx, p); err == nil && strings.Contains(p, "victim") {
				// Deleting through a link must not reach the victim; an
				// error is the expected answer, checked below either way.
				t.Logf("Delete(%q) returned nil", p)
			}
		}
	}
	err = c.PutFile(ctx, "rel-escape/victim", 0o644, strings.NewReader("pwned"), 5)
	if !errors.As(err, &remote) || remote.Code != agent.CodeEscapesRoot {
		t.Errorf("write through escaping link: %v, want code %s", err, agent.CodeEscapesRoot)
	}
	if _, err := c.List(ctx, "rel-escape"); err == nil {
		t.Error("List through an escaping link succeeded")
	}
	if _, err := c.RunIn(ctx, "abs-escape", []string{"true"}, nil, nil, nil); err == nil {
		t.Error("RunIn through an escaping link succeeded")
	}
	// Writing a file named like a link replaces the link, never the target.
	if err := c.PutFile(ctx, "victim-link", 0o644, strings.NewReader("mine"), 4); err != nil {
		t.Fatalf("PutFile over a link: %v", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "original" {
		t.Fatalf("victim outside the root was changed: %q", got)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Fatalf("files appeared outside the root: %v", entries)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("stream unusable after refused requests: %v", err)
	}
	assertNoTempFiles(t, h.root)
}

// rawSession drives Serve with hand-made frames.
func rawSession(t *testing.T, frames []byte) (root string, out []byte, err error) {
	t.Helper()
	root = filepath.Join(t.TempDir(), "src")
	var buf bytes.Buffer
	err = Serve(context.Background(), bytes.NewReader(frames), &buf, Options{Root: root, Version: "raw"})
	return root, buf.Bytes(), err
}

func appendFrames(t testing.TB, parts ...any) []byte {
	var b []byte
	for i := 0; i < len(parts); i += 3 {
		var payload []byte
		switch p := parts[i+2].(type) {
		case []byte:
			payload = p
		case nil:
		default:
			payload = agent.MustJSON(p)
		}
		var err error
		b, err = agent.AppendFrame(b, parts[i].(agent.FrameType), parts[i+1].(uint32), payload)
		if err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func hello() agent.Hello { return agent.NewHello("") }

func readAll(t *testing.T, out []byte) []agent.Frame {
	t.Helper()
	var frames []agent.Frame
	r := bytes.NewReader(out)
	for {
		f, err := agent.ReadFrame(r)
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatalf("agent wrote a bad frame: %v", err)
		}
		frames = append(frames, f)
	}
}

func TestPeerVanishesMidFile(t *testing.T) {
	content := randomBytes(t, 2*agent.ChunkSize)
	stream := appendFrames(t,
		agent.FrameHello, uint32(0), hello(),
		agent.FramePutBegin, uint32(1), agent.PutBegin{Path: "dir/big.bin", Mode: 0o644, Size: 10 << 20},
		agent.FramePutData, uint32(1), content[:agent.ChunkSize],
		agent.FramePutData, uint32(1), content[agent.ChunkSize:],
	)
	// Case 1: the stream ends cleanly between frames.
	root, _, err := rawSession(t, stream)
	if err != nil {
		t.Fatalf("Serve on a clean end: %v", err)
	}
	assertEmptyTree(t, root)
	// Case 2: the stream ends inside a frame.
	truncated := appendFrames(t, agent.FramePutData, uint32(1), content[:1000])
	root, _, err = rawSession(t, append(stream, truncated[:500]...))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Serve on a truncated frame: %v, want ErrUnexpectedEOF", err)
	}
	assertEmptyTree(t, root)
	// Case 3: through the client, which closes while a file is streaming.
	h := startAgent(t)
	r, w := io.Pipe()
	go func() {
		_, _ = w.Write(content) // then the source stalls
	}()
	putDone := make(chan *agent.PendingPut, 1)
	go func() { putDone <- h.client.StartPut(context.Background(), "stalled.bin", 0o644, r, 10<<20) }()
	for deadline := time.Now().Add(10 * time.Second); !hasTempFile(h.root); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the agent never started the temporary file")
		}
	}
	_ = h.client.Close()
	_ = r.CloseWithError(errors.New("source gone"))
	var pending *agent.PendingPut
	select {
	case pending = <-putDone:
	case <-time.After(serveTimeout):
		t.Fatal("StartPut did not return after Close")
	}
	waitCtx, cancel := context.WithTimeout(context.Background(), serveTimeout)
	defer cancel()
	if err := pending.Wait(waitCtx); err == nil {
		t.Fatal("put succeeded on a closed client")
	}
	// Close may cut the stream between frames (a clean end) or inside
	// the frame being written (the truncated frame of case 2): both are
	// a peer vanishing, and neither may leave a file behind.
	err = h.waitServe(t)
	h.endedMidFrame = errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !h.endedMidFrame {
		t.Fatalf("Serve: %v", err)
	}
	assertEmptyTree(t, h.root)
}

func hasTempFile(root string) bool {
	found := false
	_ = filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), agent.TempPrefix) {
			found = true
		}
		return nil
	})
	return found
}

// assertEmptyTree checks that no file exists under root (directories may).
func assertEmptyTree(t *testing.T, root string) {
	t.Helper()
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("file left behind: %s", p)
		}
		return nil
	})
}

func TestChecksumMismatchDiscardsFile(t *testing.T) {
	stream := appendFrames(t,
		agent.FrameHello, uint32(0), hello(),
		agent.FramePutBegin, uint32(1), agent.PutBegin{Path: "f", Mode: 0o644, Size: 3},
		agent.FramePutData, uint32(1), []byte("abc"),
		agent.FramePutEnd, uint32(1), agent.PutEnd{Hash: agent.HashBytes([]byte("abd"))},
		agent.FramePutBegin, uint32(2), agent.PutBegin{Path: "g", Mode: 0o644, Size: 3},
		agent.FramePutData, uint32(2), []byte("ab"),
		agent.FramePutEnd, uint32(2), agent.PutEnd{Hash: agent.HashBytes([]byte("ab"))},
		agent.FramePutBegin, uint32(3), agent.PutBegin{Path: "h", Mode: 0o644, Size: 1},
		agent.FramePutData, uint32(3), []byte("xyz"),
		agent.FramePutEnd, uint32(3), agent.PutEnd{},
	)
	root, out, err := rawSession(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	frames := readAll(t, out)
	if len(frames) != 4 {
		t.Fatalf("got %d reply frames, want hello + 3", len(frames))
	}
	for _, f := range frames[1:] {
		var reply agent.ErrorReply
		if f.Type != agent.FrameError || agent.DecodeJSON(f.Payload, &reply) != nil || reply.Code != agent.CodeChecksum {
			t.Errorf("request %d: %s %s, want checksum error", f.ID, f.Type, f.Payload)
		}
	}
	assertEmptyTree(t, root)
}

func TestHandshakeFailures(t *testing.T) {
	// An agent that cannot serve the client's range refuses.
	_, out, err := rawSession(t, appendFrames(t, agent.FrameHello, uint32(0), agent.Hello{Magic: agent.HelloMagic, MinProtocol: agent.MaxProtocol + 1, MaxProtocol: agent.MaxProtocol + 5}))
	if err == nil {
		t.Fatal("Serve accepted an incompatible client")
	}
	frames := readAll(t, out)
	var reply agent.ErrorReply
	if len(frames) != 1 || frames[0].Type != agent.FrameError || agent.DecodeJSON(frames[0].Payload, &reply) != nil || reply.Code != agent.CodeIncompatible {
		t.Fatalf("reply to incompatible hello: %+v", frames)
	}
	// A client facing an incompatible agent gets ErrIncompatibleAgent.
	fake := appendFrames(t, agent.FrameError, uint32(0), agent.ErrorReply{Code: agent.CodeIncompatible, Message: "agent speaks 7..9"})
	_, err = agent.NewClient(context.Background(), fakeConn(fake), agent.ClientOptions{})
	if !errors.Is(err, agent.ErrIncompatibleAgent) || !strings.Contains(err.Error(), "re-create the pod") {
		t.Fatalf("NewClient against an old agent: %v", err)
	}
	// A newer agent that picked a protocol this client does not know.
	fake = appendFrames(t, agent.FrameHelloReply, uint32(0), agent.HelloReply{Magic: agent.HelloMagic, Protocol: agent.MaxProtocol + 1, AgentVersion: "future"})
	if _, err := agent.NewClient(context.Background(), fakeConn(fake), agent.ClientOptions{}); !errors.Is(err, agent.ErrIncompatibleAgent) {
		t.Fatalf("NewClient against a confused agent: %v", err)
	}
	// Something that is not the agent at all: the error shows what it said.
	_, err = agent.NewClient(context.Background(), fakeConn([]byte("OCI runtime exec failed: exec: \"/opt/odo/bin/agent\": no such file")), agent.ClientOptions{})
	if err == nil || !strings.Contains(err.Error(), `"OCI `) {
		t.Fatalf("NewClient against a non-agent: %v", err)
	}
	// A first frame that is not Hello is refused.
	if _, _, err := rawSession(t, appendFrames(t, agent.FramePing, uint32(1), nil)); err == nil {
		t.Fatal("Serve accepted a session without agent.Hello")
	}
}

type fakeConnT struct {
	io.Reader
	io.Writer
}

func (fakeConnT) Close() error { return nil }

func fakeConn(reply []byte) io.ReadWriteCloser {
	return fakeConnT{Reader: bytes.NewReader(reply), Writer: io.Discard}
}

func TestUnknownFrameTypeKeepsSession(t *testing.T) {
	root, out, err := rawSession(t, appendFrames(t,
		agent.FrameHello, uint32(0), hello(),
		agent.FrameType(200), uint32(5), []byte("future stuff"),
		agent.FramePing, uint32(6), nil,
		agent.FrameDelete, uint32(7), []byte("{not json"),
	))
	if err != nil {
		t.Fatal(err)
	}
	_ = root
	frames := readAll(t, out)
	if len(frames) != 4 || frames[1].Type != agent.FrameError || frames[2].Type != agent.FramePong || frames[3].Type != agent.FrameError {
		t.Fatalf("frames %+v", frames)
	}
	var reply agent.ErrorReply
	if agent.DecodeJSON(frames[1].Payload, &reply) != nil || reply.Code != agent.CodeUnsupported {
		t.Errorf("unknown frame reply %s", frames[1].Payload)
	}
}

func BenchmarkPutSmallFiles(b *testing.B) {
	root := filepath.Join(b.TempDir(), "src")
	toAgentR, toAgentW := io.Pipe()
	toClientR, toClientW := io.Pipe()
	go func() {
		_ = Serve(context.Background(), toAgentR, toClientW, Options{Root: root})
		_ = toClientW.Close()
	}()
	c, err := agent.NewClient(context.Background(), pipeConn{r: toClientR, w: toAgentW}, agent.ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	body := bytes.Repeat([]byte("x"), 2048)
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	pending := make([]*agent.PendingPut, 0, 256)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pending = append(pending, c.StartPut(ctx, fmt.Sprintf("d%d/f%d", i%16, i%4096), 0o644, bytes.NewReader(body), int64(len(body))))
		if len(pending) == cap(pending) || i == b.N-1 {
			for _, p := range pending {
				if err := p.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
			pending = pending[:0]
		}
	}
}

// rawAgent runs Serve on pipes the test writes frames to directly.
func rawAgent(t *testing.T) (root string, w *agent.FrameWriter, replies io.Reader) {
	t.Helper()
	root = filepath.Join(t.TempDir(), "src")
	toAgentR, toAgentW := io.Pipe()
	toClientR, toClientW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Serve(context.Background(), toAgentR, toClientW, Options{Root: root, Version: "test"})
		_ = toClientW.CloseWithError(io.EOF)
		done <- err
	}()
	t.Cleanup(func() {
		_ = toAgentW.Close()
		go func() { _, _ = io.Copy(io.Discard, toClientR) }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Serve did not end with the stream")
		}
	})
	w = agent.NewFrameWriter(toAgentW)
	if err := w.WriteFrame(agent.FrameHello, 0, agent.MustJSON(agent.NewHello("raw")), true); err != nil {
		t.Fatal(err)
	}
	if f, err := agent.ReadFrame(toClientR); err != nil || f.Type != agent.FrameHelloReply {
		t.Fatalf("handshake: %+v %v", f, err)
	}
	return root, w, toClientR
}

// readReplies reads n terminal replies (with a deadline: a deadlock fails
// the test instead of hanging it) and returns them by request id.
func readReplies(t *testing.T, r io.Reader, n int) map[uint32]agent.Frame {
	t.Helper()
	got := map[uint32]agent.Frame{}
	done := make(chan error, 1)
	go func() {
		for len(got) < n {
			f, err := agent.ReadFrame(r)
			if err != nil {
				done <- err
				return
			}
			got[f.ID] = f
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("only %d of %d replies came: the agent is stuck", len(got), n)
	}
	return got
}

func TestInterleavedPutsMoreThanTheConcurrencyBound(t *testing.T) {
	root, w, replies := rawAgent(t)
	const n = 3 * maxConcurrentPuts
	body := func(i int) []byte { return []byte(fmt.Sprintf("content %d", i)) }
	// Every PutBegin first, then every PutData, then every PutEnd: no put
	// is complete until all have begun.
	for i := 1; i <= n; i++ {
		_ = w.WriteFrame(agent.FramePutBegin, uint32(i), agent.MustJSON(agent.PutBegin{Path: fmt.Sprintf("d/f%d", i), Mode: 0o644, Size: int64(len(body(i)))}), false)
	}
	for i := 1; i <= n; i++ {
		_ = w.WriteFrame(agent.FramePutData, uint32(i), body(i), false)
	}
	for i := 1; i <= n; i++ {
		_ = w.WriteFrame(agent.FramePutEnd, uint32(i), agent.MustJSON(agent.PutEnd{Hash: agent.HashBytes(body(i))}), false)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for id, f := range readReplies(t, replies, n) {
		if f.Type != agent.FrameOK {
			t.Errorf("put %d: %s %s", id, f.Type, f.Payload)
		}
	}
	for i := 1; i <= n; i++ {
		if b, err := os.ReadFile(filepath.Join(root, "d", fmt.Sprintf("f%d", i))); err != nil || !bytes.Equal(b, body(i)) {
			t.Errorf("f%d = %q, %v", i, b, err)
		}
	}
}

func TestPutsApplyInOrder(t *testing.T) {
	root, w, replies := rawAgent(t)
	put := func(id uint32, path, content string) {
		_ = w.WriteFrame(agent.FramePutBegin, id, agent.MustJSON(agent.PutBegin{Path: path, Mode: 0o644, Size: int64(len(content))}), false)
		_ = w.WriteFrame(agent.FramePutData, id, []byte(content), false)
		_ = w.WriteFrame(agent.FramePutEnd, id, agent.MustJSON(agent.PutEnd{Hash: agent.HashBytes([]byte(content))}), false)
	}
	// Many puts to one path: the last one sent is what stays. A delete
	// after a put removes what the put wrote; a put after a delete stays.
	for i := 1; i <= 40; i++ {
		put(uint32(i), "same.txt", strings.Repeat("x", i))
	}
	put(41, "gone.txt", "soon deleted")
	_ = w.WriteFrame(agent.FrameDelete, 42, agent.MustJSON(agent.PathRequest{Path: "gone.txt"}), false)
	_ = w.WriteFrame(agent.FrameDelete, 43, agent.MustJSON(agent.PathRequest{Path: "back.txt"}), false)
	put(44, "back.txt", "here")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for id, f := range readReplies(t, replies, 44) {
		if f.Type != agent.FrameOK {
			t.Errorf("request %d: %s %s", id, f.Type, f.Payload)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "same.txt")); string(b) != strings.Repeat("x", 40) {
		t.Errorf("same.txt = %q: an earlier put overtook the last", b)
	}
	if _, err := os.Stat(filepath.Join(root, "gone.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("gone.txt after put then delete: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "back.txt")); string(b) != "here" {
		t.Errorf("back.txt = %q", b)
	}
	assertNoTempFiles(t, root)
}

func TestPutIntoDirectoryRemovedDuringTheBurst(t *testing.T) {
	h := startAgent(t)
	ctx := context.Background()
	if err := h.client.PutFile(ctx, "d/x", 0o644, strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	// Another process removes the directory the agent has open.
	if err := os.RemoveAll(filepath.Join(h.root, "d")); err != nil {
		t.Fatal(err)
	}
	if err := h.client.PutFile(ctx, "d/y", 0o644, strings.NewReader("y"), 1); err != nil {
		t.Fatalf("put after the directory was removed: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(h.root, "d", "y")); err != nil || string(b) != "y" {
		t.Fatalf("d/y = %q, %v", b, err)
	}
}

func TestPutModes(t *testing.T) {
	h := startAgent(t)
	ctx := context.Background()
	for _, mode := range []fs.FileMode{0o644, 0o755, 0o600, 0o444, 0o666, 0o777} {
		name := fmt.Sprintf("m/%o", mode)
		if err := h.client.PutFile(ctx, name, mode, strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(h.root, name))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != mode {
			t.Errorf("put with mode %o: file has %o", mode, info.Mode().Perm())
		}
	}
}
