// Package agentserver is the in-container end of the sync agent's protocol
// (package agent): `odod-init agent --root /tmp/src` serves it on the exec
// stream the daemon opens, confining every path to the root.
//
// The agent runs in the (Linux) container, but the package builds on every
// OS: the daemon's tests run it in process as a fake container. Only
// putting commands in their own process group is Unix-only
// (procgroup_unix.go).
package agentserver

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/agent"
)

// Options configure Serve.
type Options struct {
	// Root is the directory every path is confined to; it is created when
	// missing.
	Root string
	// Version is the agent's own version, reported in the handshake.
	Version string
	// Logger receives diagnostics (never the protocol stream). Nil: no logs.
	Logger *zap.Logger
}

// Serve runs the agent's side of the protocol: it reads requests from r and
// writes replies to w until r ends or ctx is done. Requests are applied in
// the order they arrive, except Run, which runs concurrently. When the
// stream ends, unfinished puts are discarded (their temporary files
// removed) and running commands are killed. It returns nil on a clean end
// of stream.
func Serve(ctx context.Context, r io.Reader, w io.Writer, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if opts.Root == "" {
		return errors.New("agent: no root directory given; pass --root DIR")
	}
	if err := os.MkdirAll(opts.Root, 0o755); err != nil {
		return fmt.Errorf("agent: create root %s: %w", opts.Root, err)
	}
	root, err := os.OpenRoot(opts.Root)
	if err != nil {
		return fmt.Errorf("agent: open root %s: %w", opts.Root, err)
	}
	defer root.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cleaned := make(chan struct{})
	go func() { defer close(cleaned); removeStaleTemps(ctx, root, log) }()
	defer func() { cancel(); <-cleaned }()
	s := &server{
		ctx:      ctx,
		root:     root,
		rootDir:  opts.Root,
		version:  opts.Version,
		log:      log,
		br:       bufio.NewReaderSize(r, 256<<10),
		w:        agent.NewFrameWriter(w),
		jobs:     map[uint32]*putJob{},
		pathJobs: map[string]*putJob{},
		putSlots: make(chan struct{}, maxConcurrentPuts),
		dirs:     map[string]*dirHandle{},
		umask:    currentUmask(),
		flushReq: make(chan struct{}, 1),
		runs:     map[uint32]context.CancelFunc{},
	}
	// Closing the input is how a canceled context stops a blocked read.
	if rc, ok := r.(io.Closer); ok {
		stop := context.AfterFunc(ctx, func() { _ = rc.Close() })
		defer stop()
	}
	flusherDone := make(chan struct{})
	go s.flusher(flusherDone)
	defer func() {
		close(s.flushReq)
		<-flusherDone
	}()
	defer s.shutdown()
	return s.loop()
}

// maxConcurrentPuts bounds the puts being written at once. File creation
// and rename wait on the file system more than they use the CPU: a few in
// parallel keep the disk busy.
const maxConcurrentPuts = 8

// flusher sends buffered replies when a put goroutine asks: replies are
// written without flushing, and many share one write.
func (s *server) flusher(done chan<- struct{}) {
	defer close(done)
	for range s.flushReq {
		_ = s.w.Flush()
	}
}

func (s *server) requestFlush() {
	select {
	case s.flushReq <- struct{}{}:
	default: // a flush is already pending; it will carry this reply too
	}
}

type server struct {
	ctx      context.Context
	root     *os.Root
	rootDir  string
	version  string
	log      *zap.Logger
	br       *bufio.Reader
	w        *agent.FrameWriter
	protocol int

	// Puts run concurrently, each in a goroutine of its own fed by the
	// loop, so that file system latency (create, write, rename) overlaps.
	// The maps are touched only by the loop goroutine.
	jobs     map[uint32]*putJob // by request id, until PutEnd is handed over
	pathJobs map[string]*putJob // the latest put to each path
	putSlots chan struct{}      // bounds the puts in progress
	// incomplete counts the puts still waiting for frames (no PutEnd yet).
	incomplete int
	putsWG     sync.WaitGroup
	// dirs are the parent directories of this burst of puts, opened once
	// (made when missing): a put is then one create and one rename in
	// its directory, not a walk from the root for each. They are closed
	// at the next barrier. A directory moved away during the burst takes
	// the writes with it; only someone who could write there anyway can
	// move it.
	dirsMu sync.Mutex
	dirs   map[string]*dirHandle
	stale  []*dirHandle // forgotten while in use; closed at the barrier
	umask  fs.FileMode
	// flushReq asks the flusher to send the replies buffered so far.
	flushReq chan struct{}

	runsMu sync.Mutex
	runs   map[uint32]context.CancelFunc
	runWG  sync.WaitGroup
}

type pendingPut struct {
	file    putFile    // the temporary file; noPutFile when closed or none
	dir     *dirHandle // the target's directory
	tmp     string     // temporary name in dir (one path component)
	base    string     // target name in dir (one path component)
	final   string     // target name, relative to the root (for messages)
	mode    fs.FileMode
	size    int64
	written int64
	hasher  *agent.Hasher
	failed  *agent.ErrorReply // set once a write failed; later chunks are dropped
}

func (s *server) loop() error {
	first, err := agent.ReadFrame(s.br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("agent: read handshake: %w", err)
	}
	if err := s.handshake(first); err != nil {
		return err
	}
	for {
		if s.br.Buffered() == 0 {
			// About to block on input: let replies so far reach the client.
			if err := s.w.Flush(); err != nil {
				return fmt.Errorf("agent: write replies: %w", err)
			}
		}
		f, err := agent.ReadFrame(s.br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if s.ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("agent: read request: %w", err)
		}
		if err := s.handle(f); err != nil {
			return err
		}
	}
}

func (s *server) handshake(f agent.Frame) error {
	var hello agent.Hello
	if f.Type != agent.FrameHello || agent.DecodeJSON(f.Payload, &hello) != nil || hello.Magic != agent.HelloMagic {
		_ = s.w.WriteFrame(agent.FrameError, f.ID, agent.MustJSON(agent.ErrorReply{Code: agent.CodeInvalid, Message: "expected a agent.Hello frame first"}), true)
		return fmt.Errorf("agent: the first frame is %s, not a agent.Hello from odod", f.Type)
	}
	chosen := min(hello.MaxProtocol, agent.MaxProtocol)
	if chosen < hello.MinProtocol || chosen < agent.MinProtocol {
		msg := fmt.Sprintf("agent %s speaks protocol %d..%d, the client %d..%d", s.version, agent.MinProtocol, agent.MaxProtocol, hello.MinProtocol, hello.MaxProtocol)
		_ = s.w.WriteFrame(agent.FrameError, f.ID, agent.MustJSON(agent.ErrorReply{Code: agent.CodeIncompatible, Message: msg}), true)
		return fmt.Errorf("agent: %s", msg)
	}
	s.protocol = chosen
	s.log.Debug("handshake", zap.String("client", hello.Client), zap.Int("protocol", chosen))
	return s.w.WriteFrame(agent.FrameHelloReply, f.ID, agent.MustJSON(agent.HelloReply{
		Magic: agent.HelloMagic, Protocol: chosen, AgentVersion: s.version, Root: s.rootDir,
	}), true)
}

// handle applies one request. It returns an error only when the stream
// itself is broken; request failures become Error frames.
func (s *server) handle(f agent.Frame) error {
	switch f.Type {
	case agent.FramePutBegin:
		// A put is answered once, at PutEnd, even when PutBegin fails.
		s.beginPut(f)
		return nil
	case agent.FramePutData:
		s.putData(f)
		return nil // data frames are acknowledged by agent.PutEnd's reply
	case agent.FramePutEnd:
		return s.endPut(f)
	case agent.FrameCancel:
		s.cancelRun(f.ID)
		return nil
	}
	// Every other request sees the puts before it applied, as if they had
	// run one by one.
	s.putBarrier()
	var reply *agent.ErrorReply
	switch f.Type {
	case agent.FramePing:
		return s.w.WriteFrame(agent.FramePong, f.ID, nil, false)
	case agent.FrameDelete:
		reply = s.delete(f)
	case agent.FrameMkdir:
		reply = s.mkdir(f)
	case agent.FrameSymlink:
		reply = s.symlink(f)
	case agent.FrameList:
		reply = s.list(f)
	case agent.FrameRun:
		reply = s.startRun(f)
		if reply == nil {
			return nil // Exit comes from the command's goroutine
		}
	default:
		reply = &agent.ErrorReply{Code: agent.CodeUnsupported, Message: fmt.Sprintf("this agent (%s) does not support %s frames; re-create the pod to get a newer agent", s.version, f.Type)}
	}
	if reply != nil {
		return s.w.WriteFrame(agent.FrameError, f.ID, agent.MustJSON(reply), false)
	}
	return s.w.WriteFrame(agent.FrameOK, f.ID, nil, false)
}

func invalid(err error) *agent.ErrorReply {
	return &agent.ErrorReply{Code: agent.CodeInvalid, Message: err.Error()}
}

// fsError turns a file system error into a reply, telling confinement
// violations apart from plain failures.
func fsError(op, name string, err error) *agent.ErrorReply {
	code := agent.CodeIO
	switch {
	case errors.Is(err, fs.ErrNotExist):
		code = agent.CodeNotExist
	case strings.Contains(err.Error(), "escapes from parent") || strings.Contains(err.Error(), "path escapes"):
		code = agent.CodeEscapesRoot
	}
	return &agent.ErrorReply{Code: code, Message: fmt.Sprintf("%s %s: %v", op, name, err)}
}

// putJob is one put in progress: the loop hands its frames to the
// goroutine writing it.
type putJob struct {
	frames chan agent.Frame // PutData…, then PutEnd; closed early when the stream ends
	done   chan struct{}    // closed when the put is finished or discarded
}

// putBarrier waits until every put handed over so far is finished. The
// directory cache ends with it: other requests (Delete, Run) may remove
// directories.
func (s *server) putBarrier() {
	s.putsWG.Wait()
	clear(s.pathJobs)
	s.closeDirs()
}

func (s *server) closeDirs() {
	s.dirsMu.Lock()
	defer s.dirsMu.Unlock()
	for name, d := range s.dirs {
		d.close()
		delete(s.dirs, name)
	}
	for _, d := range s.stale {
		d.close()
	}
	s.stale = nil
}

func (s *server) beginPut(f agent.Frame) {
	if old, dup := s.jobs[f.ID]; dup {
		// The old put fails; the new PutBegin's frames are dropped with it.
		old.frames <- agent.Frame{Type: agent.FramePutBegin, ID: f.ID}
		return
	}
	var req agent.PutBegin
	var failed *agent.ErrorReply
	name := ""
	if err := agent.DecodeJSON(f.Payload, &req); err != nil {
		failed = invalid(err)
	} else if name, err = agent.CleanPath(req.Path); err == nil && name == "." {
		failed = invalid(errors.New("cannot put a file at the root itself"))
	} else if err != nil {
		failed = invalid(err)
	} else if req.Size < 0 {
		failed = invalid(fmt.Errorf("negative size %d", req.Size))
	}
	if failed == nil {
		// Two puts to one path apply in order: the later one waits.
		if prev := s.pathJobs[name]; prev != nil {
			<-prev.done
		}
	}
	// The number of puts writing at once is bounded by waiting for a
	// slot, but only while every put begun so far has all its frames:
	// those finish without the stream. A client interleaving the frames
	// of several puts gets them all running, or waiting for a slot would
	// wait for frames behind this one.
	slot := false
	if s.incomplete == 0 {
		s.putSlots <- struct{}{}
		slot = true
	} else {
		select {
		case s.putSlots <- struct{}{}:
			slot = true
		default:
		}
	}
	job := &putJob{frames: make(chan agent.Frame, 4), done: make(chan struct{})}
	s.jobs[f.ID] = job
	s.incomplete++
	if failed == nil {
		s.pathJobs[name] = job
	}
	s.putsWG.Add(1)
	go func() {
		defer s.putsWG.Done()
		if slot {
			defer func() { <-s.putSlots }()
		}
		defer close(job.done)
		s.runPut(f.ID, job, req, name, failed)
	}()
}

func (s *server) putData(f agent.Frame) {
	if job, ok := s.jobs[f.ID]; ok {
		job.frames <- f
	} // else: an unknown put; its PutEnd reports it
}

func (s *server) endPut(f agent.Frame) error {
	job, ok := s.jobs[f.ID]
	if !ok {
		return s.w.WriteFrame(agent.FrameError, f.ID, agent.MustJSON(invalid(fmt.Errorf("PutEnd for request id %d without PutBegin", f.ID))), false)
	}
	delete(s.jobs, f.ID)
	s.incomplete--
	job.frames <- f
	close(job.frames)
	return nil
}

// runPut writes one put: a temporary file next to the target, renamed into
// place when the content checks out. The reply goes out when PutEnd is
// processed; a stream that ends first leaves nothing behind.
func (s *server) runPut(id uint32, job *putJob, req agent.PutBegin, name string, failed *agent.ErrorReply) {
	var p *pendingPut
	if failed == nil {
		p, failed = s.openPut(name, req)
	}
	if failed != nil {
		p = &pendingPut{file: noPutFile, failed: failed}
	}
	for f := range job.frames {
		switch f.Type {
		case agent.FramePutBegin: // a duplicate id
			p.fail(invalid(fmt.Errorf("request id %d already has a put in progress", id)), s.root)
		case agent.FramePutData:
			s.writePutData(p, f.Payload)
		case agent.FramePutEnd:
			reply := s.finishPut(p, f)
			var err error
			if reply != nil {
				err = s.w.WriteFrame(agent.FrameError, id, agent.MustJSON(reply), false)
			} else {
				err = s.w.WriteFrame(agent.FrameOK, id, nil, false)
			}
			if err == nil {
				s.requestFlush()
			}
			return
		}
	}
	p.discard(s.root) // the stream ended mid-put
}

func (s *server) openPut(name string, req agent.PutBegin) (*pendingPut, *agent.ErrorReply) {
	dirName, base := path.Split(name)
	dirName = strings.TrimSuffix(dirName, "/")
	tmp := tempName(base)
	mode := fs.FileMode(req.Mode).Perm()
	create := func(d *dirHandle) (putFile, error) { return d.create(tmp, mode|0o600) }
	dir, err := s.parent(dirName)
	file := noPutFile
	if err == nil {
		file, err = create(dir)
		if errors.Is(err, fs.ErrNotExist) && dirName != "" {
			// The directory went away since it was opened: again.
			s.forgetDir(dirName)
			if dir, err = s.parent(dirName); err == nil {
				file, err = create(dir)
			}
		}
	}
	if err != nil {
		return nil, fsError("create temporary file for", name, err)
	}
	return &pendingPut{
		file: file, dir: dir, tmp: tmp, base: base, final: name, mode: mode,
		size: req.Size, hasher: agent.NewHasher(),
	}, nil
}

// parent returns the directory dir (relative to the root; "" is the root),
// made when missing, from this burst's open directories when it is there.
func (s *server) parent(dir string) (*dirHandle, error) {
	key := dir
	if dir == "" {
		dir = "."
	}
	s.dirsMu.Lock()
	d := s.dirs[key]
	s.dirsMu.Unlock()
	if d != nil {
		return d, nil
	}
	if dir != "." {
		if err := s.root.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	d, err := openDirHandle(s.root, dir)
	if err != nil {
		return nil, err
	}
	s.dirsMu.Lock()
	defer s.dirsMu.Unlock()
	if other := s.dirs[key]; other != nil {
		d.close() // another put opened it meanwhile
		return other, nil
	}
	s.dirs[key] = d
	return d, nil
}

// forgetDir drops a directory that went away. Puts using it fail or retry
// themselves; it is closed with the others at the barrier.
func (s *server) forgetDir(dir string) {
	s.dirsMu.Lock()
	if d := s.dirs[dir]; d != nil {
		delete(s.dirs, dir)
		s.stale = append(s.stale, d)
	}
	s.dirsMu.Unlock()
}

// currentUmask is the process's umask, from /proc (syscall.Umask would
// have to change it to read it): a file created with the right mode needs
// no chmod unless the umask took bits. Unknown, it takes them all, and
// every put chmods.
func currentUmask() fs.FileMode {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0o777
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
				return fs.FileMode(m).Perm()
			}
		}
	}
	return 0o777
}

func tempName(base string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	if len(base) > 200 {
		base = base[:200] // stay under NAME_MAX with the prefix and suffix
	}
	return agent.TempPrefix + base + "." + hex.EncodeToString(b[:])
}

func (s *server) writePutData(p *pendingPut, data []byte) {
	if p.failed != nil {
		return // the error is reported at PutEnd
	}
	if p.written+int64(len(data)) > p.size {
		p.fail(&agent.ErrorReply{Code: agent.CodeChecksum, Message: fmt.Sprintf("put %s: more content than the announced %d bytes", p.final, p.size)}, s.root)
		return
	}
	if err := p.file.write(data); err != nil {
		p.fail(fsError("write", p.final, err), s.root)
		return
	}
	_, _ = p.hasher.Write(data)
	p.written += int64(len(data))
}

// fail discards the temporary file and remembers the error for PutEnd.
func (p *pendingPut) fail(reply *agent.ErrorReply, root *os.Root) {
	p.failed = reply
	p.discard(root)
}

func (p *pendingPut) discard(*os.Root) {
	if p.file.open() {
		_ = p.file.close()
		p.dir.unlink(p.tmp)
		p.file = noPutFile
	}
}

func (s *server) finishPut(p *pendingPut, f agent.Frame) *agent.ErrorReply {
	if p.failed != nil {
		return p.failed
	}
	var end agent.PutEnd
	if err := agent.DecodeJSON(f.Payload, &end); err != nil {
		p.discard(s.root)
		return invalid(err)
	}
	if end.Abort {
		p.discard(s.root)
		return &agent.ErrorReply{Code: agent.CodeCanceled, Message: "put " + p.final + " aborted by the client"}
	}
	if p.written != p.size {
		p.discard(s.root)
		return &agent.ErrorReply{Code: agent.CodeChecksum, Message: fmt.Sprintf("put %s: received %d bytes, announced %d", p.final, p.written, p.size)}
	}
	if got := p.hasher.HashSum(); end.Hash != "" && got != end.Hash {
		p.discard(s.root)
		return &agent.ErrorReply{Code: agent.CodeChecksum, Message: fmt.Sprintf("put %s: content hash %s, client sent %s", p.final, got, end.Hash)}
	}
	if created := (p.mode | 0o600) &^ s.umask; created != p.mode {
		if err := p.file.chmod(p.mode); err != nil {
			p.discard(s.root)
			return fsError("chmod", p.final, err)
		}
	}
	err := p.file.close()
	p.file = noPutFile
	if err != nil {
		p.dir.unlink(p.tmp)
		return fsError("close", p.final, err)
	}
	// Both names are single components in the same directory: the rename
	// replaces whatever is at base (a symlink too) and follows nothing.
	if err := p.dir.rename(p.tmp, p.base); err != nil {
		p.dir.unlink(p.tmp)
		return fsError("rename into place", p.final, err)
	}
	return nil
}

func (s *server) delete(f agent.Frame) *agent.ErrorReply {
	var req agent.PathRequest
	if err := agent.DecodeJSON(f.Payload, &req); err != nil {
		return invalid(err)
	}
	name, err := agent.CleanPath(req.Path)
	if err == nil && name == "." {
		err = errors.New("refusing to delete the root itself")
	}
	if err != nil {
		return invalid(err)
	}
	if err := s.root.RemoveAll(name); err != nil {
		return fsError("delete", name, err)
	}
	return nil
}

func (s *server) mkdir(f agent.Frame) *agent.ErrorReply {
	var req agent.MkdirRequest
	if err := agent.DecodeJSON(f.Payload, &req); err != nil {
		return invalid(err)
	}
	name, err := agent.CleanPath(req.Path)
	if err != nil {
		return invalid(err)
	}
	mode := fs.FileMode(req.Mode).Perm()
	if mode == 0 {
		mode = 0o755
	}
	if err := s.root.MkdirAll(name, mode); err != nil {
		return fsError("mkdir", name, err)
	}
	return nil
}

func (s *server) symlink(f agent.Frame) *agent.ErrorReply {
	var req agent.SymlinkRequest
	if err := agent.DecodeJSON(f.Payload, &req); err != nil {
		return invalid(err)
	}
	name, err := agent.CleanPath(req.Path)
	if err == nil && name == "." {
		err = errors.New("cannot replace the root with a symlink")
	}
	if err == nil && (req.Target == "" || strings.ContainsRune(req.Target, 0)) {
		err = errors.New("symlink target is empty or contains a NUL byte")
	}
	if err != nil {
		return invalid(err)
	}
	if linkLeavesRoot(s.root, name, req.Target) {
		return escapingLink(name, req.Target)
	}
	dir, base := path.Split(name)
	if dir != "" {
		if err := s.root.MkdirAll(strings.TrimSuffix(dir, "/"), 0o755); err != nil {
			return fsError("create parent directory of", name, err)
		}
	}
	// A symlink is created under a temporary name and renamed over the
	// target, so it replaces a file or link atomically.
	tmp := dir + tempName(base)
	if err := s.root.Symlink(req.Target, tmp); err != nil {
		return fsError("symlink", name, err)
	}
	if err := s.root.Rename(tmp, name); err != nil {
		_ = s.root.Remove(tmp)
		return fsError("symlink", name, err)
	}
	return nil
}

const listBatchSize = 512

func (s *server) list(f agent.Frame) *agent.ErrorReply {
	var req agent.PathRequest
	if err := agent.DecodeJSON(f.Payload, &req); err != nil {
		return invalid(err)
	}
	start, err := agent.CleanPath(req.Path)
	if err != nil {
		return invalid(err)
	}
	if _, err := s.root.Lstat(start); err != nil {
		return fsError("list", start, err)
	}
	batch := make([]agent.Entry, 0, listBatchSize)
	var sendErr error
	walkErr := fs.WalkDir(s.root.FS(), start, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if s.ctx.Err() != nil {
			return s.ctx.Err()
		}
		if isAgentTemp(d.Name()) {
			return nil
		}
		if name == start {
			return nil // the directory itself is not listed
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		e := agent.Entry{Path: name, Mode: info.Mode()}
		switch {
		case info.Mode().IsRegular():
			e.Size = info.Size()
			e.Hash, err = s.hashFile(name)
			if err != nil {
				return err
			}
		case info.Mode()&fs.ModeSymlink != 0:
			e.LinkTarget, err = s.root.Readlink(name)
			if err != nil {
				return err
			}
		}
		batch = append(batch, e)
		if len(batch) == listBatchSize {
			sendErr = s.w.WriteFrame(agent.FrameListBatch, f.ID, agent.MustJSON(agent.ListBatch{Entries: batch}), false)
			batch = batch[:0]
			return sendErr
		}
		return nil
	})
	if sendErr != nil {
		return &agent.ErrorReply{Code: agent.CodeIO, Message: "send list: " + sendErr.Error()}
	}
	if walkErr != nil {
		return fsError("list", start, walkErr)
	}
	if len(batch) > 0 {
		if err := s.w.WriteFrame(agent.FrameListBatch, f.ID, agent.MustJSON(agent.ListBatch{Entries: batch}), false); err != nil {
			return &agent.ErrorReply{Code: agent.CodeIO, Message: "send list: " + err.Error()}
		}
	}
	return nil
}

func (s *server) hashFile(name string) (string, error) {
	file, err := s.root.Open(name)
	if err != nil {
		return "", err
	}
	defer file.Close()
	h := agent.NewHasher()
	if _, err := io.Copy(h, file); err != nil {
		return "", err
	}
	return h.HashSum(), nil
}

func (s *server) startRun(f agent.Frame) *agent.ErrorReply {
	var req agent.RunRequest
	if err := agent.DecodeJSON(f.Payload, &req); err != nil {
		return invalid(err)
	}
	if len(req.Argv) == 0 || req.Argv[0] == "" {
		return invalid(errors.New("run: empty command"))
	}
	dir := s.rootDir
	if req.Dir != "" {
		name, err := agent.CleanPath(req.Dir)
		if err != nil {
			return invalid(err)
		}
		info, err := s.root.Stat(name)
		if err != nil {
			return fsError("run in", name, err)
		}
		if !info.IsDir() {
			return invalid(fmt.Errorf("run: %s is not a directory", name))
		}
		dir = filepath.Join(s.rootDir, filepath.FromSlash(name))
	}
	s.runsMu.Lock()
	if _, dup := s.runs[f.ID]; dup {
		s.runsMu.Unlock()
		return invalid(fmt.Errorf("request id %d already has a command running", f.ID))
	}
	runCtx, cancel := context.WithCancel(s.ctx)
	s.runs[f.ID] = cancel
	s.runWG.Add(1)
	s.runsMu.Unlock()

	go func() {
		defer s.runWG.Done()
		defer func() {
			s.runsMu.Lock()
			delete(s.runs, f.ID)
			s.runsMu.Unlock()
			cancel()
		}()
		code, err := s.run(runCtx, f.ID, req, dir)
		if err != nil {
			_ = s.w.WriteFrame(agent.FrameError, f.ID, agent.MustJSON(agent.ErrorReply{Code: agent.CodeIO, Message: err.Error()}), true)
			return
		}
		_ = s.w.WriteFrame(agent.FrameExit, f.ID, agent.MustJSON(agent.ExitReply{Code: code}), true)
	}()
	return nil
}

func (s *server) cancelRun(id uint32) {
	s.runsMu.Lock()
	cancel := s.runs[id]
	s.runsMu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// run executes one command in its own process group, streaming its output.
// Canceling ctx kills the whole group.
func (s *server) run(ctx context.Context, id uint32, req agent.RunRequest, dir string) (int, error) {
	cmd := exec.Command(req.Argv[0], req.Argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), req.Env...)
	startInOwnGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", req.Argv[0], err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", req.Argv[0], err)
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("run %s: %w", req.Argv[0], err)
	}
	stopKill := context.AfterFunc(ctx, func() { killGroup(cmd) })
	defer stopKill()
	var pumps sync.WaitGroup
	pumps.Add(2)
	go s.pump(&pumps, agent.FrameStdout, id, stdout)
	go s.pump(&pumps, agent.FrameStderr, id, stderr)
	pumps.Wait() // StdoutPipe requires reading everything before Wait
	err = cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exitErr):
		return exitCode(exitErr), nil
	default:
		return 0, fmt.Errorf("run %s: %w", req.Argv[0], err)
	}
}

func (s *server) pump(wg *sync.WaitGroup, t agent.FrameType, id uint32, r io.Reader) {
	defer wg.Done()
	buf := make([]byte, agent.OutputChunkSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			// Output is flushed at once: people watch builds live.
			if werr := s.w.WriteFrame(t, id, buf[:n], true); werr != nil {
				_, _ = io.Copy(io.Discard, r) // keep the command from blocking on a full pipe
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// shutdown discards unfinished puts and stops running commands.
func (s *server) shutdown() {
	for id, job := range s.jobs {
		close(job.frames) // the put goroutine discards its file
		delete(s.jobs, id)
	}
	s.incomplete = 0
	defer s.closeDirs()
	s.putsWG.Wait()
	s.runsMu.Lock()
	for _, cancel := range s.runs {
		cancel()
	}
	s.runsMu.Unlock()
	s.runWG.Wait()
	_ = s.w.Flush()
}
