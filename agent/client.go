package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// ClientOptions configure NewClient.
type ClientOptions struct {
	// Name identifies the client in the agent's logs, e.g. "odod v0.3.0".
	Name string
	// Logger receives diagnostics. Nil: no logs.
	Logger *zap.Logger
	// Keepalive, when positive, is how often the client checks that the
	// stream still carries something, pinging the agent whenever nothing
	// was sent or nothing received for that long. Without it a half-open
	// connection (a stream over SPDY has no heartbeat of its own that
	// fails it) hangs every call until its context ends.
	Keepalive time.Duration
	// KeepaliveTimeout is how long the stream may carry nothing, neither a
	// frame from the agent nor a completed write, before the client gives
	// it up: it closes the stream and fails every call with an error that
	// says so. Default: three Keepalive periods.
	KeepaliveTimeout time.Duration
}

// Client is the daemon's end of one agent stream. All methods are safe for
// concurrent use, and requests are pipelined: any number of puts and other
// requests may be in flight at once, so callers get throughput by issuing
// them from several goroutines or with StartPut.
type Client struct {
	rw       io.ReadWriteCloser
	w        *FrameWriter
	log      *zap.Logger
	info     AgentInfo
	readDone chan struct{}

	// lastRead and lastWrite are when a frame last arrived and a write to
	// the stream last completed, in UnixNano: what the keepalive watches.
	lastRead, lastWrite atomic.Int64
	// delivering is set while the read loop waits for a caller to take a
	// frame: a slow caller, not a dead stream.
	delivering atomic.Bool

	mu     sync.Mutex
	nextID uint32
	calls  map[uint32]*call
	err    error // set when the stream broke; every later call fails with it
}

// AgentInfo is what the agent reported in the handshake.
type AgentInfo struct {
	Protocol     int    // the protocol version in use
	AgentVersion string // the agent binary's version
	Root         string // the agent's root directory in the container
}

// ErrClosed is returned by calls on a closed client.
var ErrClosed = errors.New("agent client closed")

type call struct {
	op, path  string
	frames    chan Frame    // replies; the last one is OK, Error, Exit or Pong
	abandoned chan struct{} // closed when the caller stopped listening
	once      sync.Once
}

func (c *call) abandon() { c.once.Do(func() { close(c.abandoned) }) }

// NewClient performs the handshake on rw (typically the stdin/stdout of
// `kubectl exec -i POD -- /opt/odo/bin/agent --root /tmp/src`) and returns a
// client that owns rw: Close closes it. When the agent speaks no common
// protocol version the error wraps ErrIncompatibleAgent.
func NewClient(ctx context.Context, rw io.ReadWriteCloser, opts ClientOptions) (*Client, error) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	c := &Client{
		rw: rw, log: log,
		readDone: make(chan struct{}), calls: map[uint32]*call{}, nextID: 1,
	}
	c.w = NewFrameWriter(activityWriter{w: rw, c: c})
	now := time.Now().UnixNano()
	c.lastRead.Store(now)
	c.lastWrite.Store(now)
	type result struct {
		info AgentInfo
		err  error
	}
	done := make(chan result, 1)
	go func() {
		info, err := c.handshake(opts.Name)
		done <- result{info, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			_ = rw.Close()
			return nil, r.err
		}
		c.info = r.info
	case <-ctx.Done():
		_ = rw.Close() // unblocks the handshake goroutine
		<-done
		return nil, fmt.Errorf("agent handshake: %w", ctx.Err())
	}
	go c.readLoop()
	if opts.Keepalive > 0 {
		timeout := opts.KeepaliveTimeout
		if timeout <= 0 {
			timeout = 3 * opts.Keepalive
		}
		go c.keepalive(opts.Keepalive, timeout)
	}
	return c, nil
}

// activityWriter records completed writes as signs of a live stream.
type activityWriter struct {
	w io.Writer
	c *Client
}

func (a activityWriter) Write(p []byte) (int, error) {
	n, err := a.w.Write(p)
	if n > 0 {
		a.c.lastWrite.Store(time.Now().UnixNano())
	}
	return n, err
}

func since(t *atomic.Int64) time.Duration { return time.Since(time.Unix(0, t.Load())) }

// keepalive pings the agent whenever nothing was written or nothing was
// read for a period, and gives the stream up when it has carried nothing
// either way for timeout. Any frame counts as an answer, and a completed
// write as progress: a long upload or a build's output keeps the stream
// alive without pings queueing behind it. Writing at least once a period
// matters for itself too: client-go's WebSocket executor half-closes stdin
// (what ends the agent) with a write that reuses the deadline of the last
// stdin write, 60 s after it, so after a minute-long build with nothing
// sent that close failed at once and took the whole connection down (see
// TestIntegrationAgentStreamOutlivesALongCommand). It ends with the stream.
func (c *Client) keepalive(period, timeout time.Duration) {
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	var pinging atomic.Bool
	for {
		select {
		case <-c.readDone:
			return
		case <-ticker.C:
		}
		if c.delivering.Load() {
			continue // the stream waits for us, not the other way round
		}
		quiet := min(since(&c.lastRead), since(&c.lastWrite))
		if quiet >= timeout {
			c.giveUp(fmt.Errorf("agent stream broken: nothing came through it for %s (the connection to the cluster is gone or stalled); the next push reconnects", quiet.Round(time.Second)))
			return
		}
		idle := max(since(&c.lastRead), since(&c.lastWrite))
		if idle >= period && pinging.CompareAndSwap(false, true) {
			// The ping's write may block on a stalled stream; giveUp
			// closes the stream, which ends it.
			go func() {
				defer pinging.Store(false)
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				_ = c.Ping(ctx)
			}()
		}
	}
}

// giveUp fails the stream with err and closes it; the read loop ends when
// the transport under rw has torn the stream down.
func (c *Client) giveUp(err error) {
	c.log.Info("closing the agent stream", zap.Error(err))
	c.fail(err)
	if a, ok := c.rw.(Aborter); ok {
		a.Abort()
		return
	}
	_ = c.rw.Close()
}

// Aborter is a stream that can be torn down at once, without the orderly
// close that waits for the other end (which a dead connection never
// answers). The keepalive uses it when it gives a stream up.
type Aborter interface {
	Abort()
}

func (c *Client) handshake(name string) (AgentInfo, error) {
	hello := NewHello(name)
	if err := c.w.WriteFrame(FrameHello, 0, MustJSON(hello), true); err != nil {
		return AgentInfo{}, fmt.Errorf("agent handshake: send hello: %w", err)
	}
	f, err := ReadFrame(c.rw)
	if err != nil {
		return AgentInfo{}, fmt.Errorf("agent handshake: %w; check that the container runs odod's init image (/opt/odo/bin/agent)", err)
	}
	switch f.Type {
	case FrameHelloReply:
		var reply HelloReply
		if err := DecodeJSON(f.Payload, &reply); err != nil || reply.Magic != HelloMagic {
			return AgentInfo{}, fmt.Errorf("agent handshake: malformed reply %s", QuoteBytes(f.Payload))
		}
		if reply.Protocol < MinProtocol || reply.Protocol > MaxProtocol {
			return AgentInfo{}, fmt.Errorf("%w (agent %s chose protocol %d, odod speaks %d..%d)", ErrIncompatibleAgent, reply.AgentVersion, reply.Protocol, MinProtocol, MaxProtocol)
		}
		return AgentInfo{Protocol: reply.Protocol, AgentVersion: reply.AgentVersion, Root: reply.Root}, nil
	case FrameError:
		var reply ErrorReply
		_ = DecodeJSON(f.Payload, &reply)
		if reply.Code == CodeIncompatible {
			return AgentInfo{}, fmt.Errorf("%w (%s)", ErrIncompatibleAgent, reply.Message)
		}
		return AgentInfo{}, fmt.Errorf("agent handshake refused: %s", reply.Message)
	default:
		return AgentInfo{}, fmt.Errorf("agent handshake: unexpected %s frame", f.Type)
	}
}

// Info returns what the agent reported in the handshake.
func (c *Client) Info() AgentInfo { return c.info }

// Close closes the stream and fails calls still in flight. Puts not yet
// acknowledged are discarded by the agent, never left half-written.
func (c *Client) Close() error {
	err := c.rw.Close()
	<-c.readDone
	return err
}

// Done is closed when the stream has ended (Close, or the agent went away).
func (c *Client) Done() <-chan struct{} { return c.readDone }

// Err reports why the stream ended, or nil while it is up.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *Client) readLoop() {
	defer close(c.readDone)
	for {
		f, err := ReadFrame(c.rw)
		if err != nil {
			c.fail(streamEnded(err))
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		c.mu.Lock()
		cl := c.calls[f.ID]
		if cl != nil && isTerminal(f.Type) {
			delete(c.calls, f.ID)
		}
		c.mu.Unlock()
		if cl == nil {
			continue // a reply to a call its caller abandoned
		}
		c.delivering.Store(true)
		select {
		case cl.frames <- f:
		case <-cl.abandoned:
		}
		c.delivering.Store(false)
		c.lastRead.Store(time.Now().UnixNano())
	}
}

func isTerminal(t FrameType) bool {
	switch t {
	case FrameOK, FrameError, FrameExit, FramePong:
		return true
	}
	return false
}

// streamEnded says why the stream's reading ended.
func streamEnded(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, fs.ErrClosed) || errors.Is(err, io.ErrClosedPipe) {
		return fmt.Errorf("%w: the agent stream ended", ErrClosed)
	}
	return fmt.Errorf("agent stream broken: %w; the pod may have restarted, reconnect and resync", err)
}

// fail ends every call in flight with err, and every later one; the first
// reason given stays.
func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	calls := c.calls
	c.calls = map[uint32]*call{}
	c.mu.Unlock()
	for _, cl := range calls {
		cl.abandon()
	}
}

// sendFailed says why a request could not be sent: why the stream ended,
// when it has (the failed write only echoes that), else the write's error.
func (c *Client) sendFailed(what string, err error) error {
	if serr := c.Err(); serr != nil {
		return serr
	}
	return fmt.Errorf("%s: send: %w", what, err)
}

// begin registers a call and returns its id.
func (c *Client) begin(op, path string, buffer int) (uint32, *call, error) {
	cl := &call{op: op, path: path, frames: make(chan Frame, buffer), abandoned: make(chan struct{})}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, nil, c.err
	}
	id := c.nextID
	c.nextID++
	if c.nextID == 0 {
		c.nextID = 1 // 0 is the handshake's
	}
	c.calls[id] = cl
	return id, cl, nil
}

func (c *Client) forget(id uint32, cl *call) {
	c.mu.Lock()
	if c.calls[id] == cl {
		delete(c.calls, id)
	}
	c.mu.Unlock()
	cl.abandon()
}

// next waits for the call's next reply frame, flushing what is buffered
// first so the agent can answer.
func (c *Client) next(ctx context.Context, id uint32, cl *call) (Frame, error) {
	if err := c.w.Flush(); err != nil {
		c.forget(id, cl)
		return Frame{}, c.sendFailed(fmt.Sprintf("agent %s", cl.op), err)
	}
	select {
	case f := <-cl.frames:
		return f, nil
	case <-cl.abandoned:
		select {
		case f := <-cl.frames: // delivered just before the stream ended
			return f, nil
		default:
		}
		return Frame{}, c.Err()
	case <-ctx.Done():
		c.forget(id, cl)
		return Frame{}, ctx.Err()
	}
}

// await waits for a call that ends in OK or Error.
func (c *Client) await(ctx context.Context, id uint32, cl *call) error {
	f, err := c.next(ctx, id, cl)
	if err != nil {
		return err
	}
	return replyError(cl, f)
}

func replyError(cl *call, f Frame) error {
	switch f.Type {
	case FrameOK, FramePong:
		return nil
	case FrameError:
		var reply ErrorReply
		if err := DecodeJSON(f.Payload, &reply); err != nil {
			return fmt.Errorf("agent %s: malformed error reply: %w", cl.op, err)
		}
		return &RemoteError{Op: cl.op, Path: cl.path, Code: reply.Code, Message: reply.Message}
	default:
		return fmt.Errorf("agent %s: unexpected %s reply", cl.op, f.Type)
	}
}

// simple sends one request frame and waits for OK or Error.
func (c *Client) simple(ctx context.Context, t FrameType, path string, payload []byte) error {
	id, cl, err := c.begin(t.String(), path, 1)
	if err != nil {
		return err
	}
	if err := c.w.WriteFrame(t, id, payload, false); err != nil {
		c.forget(id, cl)
		return c.sendFailed(fmt.Sprintf("agent %s", t), err)
	}
	return c.await(ctx, id, cl)
}

// Ping checks that the agent answers.
func (c *Client) Ping(ctx context.Context) error {
	return c.simple(ctx, FramePing, "", nil)
}

// Delete removes path (recursively, for a directory). Deleting a path that
// does not exist succeeds.
func (c *Client) Delete(ctx context.Context, path string) error {
	return c.simple(ctx, FrameDelete, path, MustJSON(PathRequest{Path: path}))
}

// Mkdir creates path and its missing parents with mode's permission bits
// (0 means 0755).
func (c *Client) Mkdir(ctx context.Context, path string, mode fs.FileMode) error {
	return c.simple(ctx, FrameMkdir, path, MustJSON(MkdirRequest{Path: path, Mode: uint32(mode.Perm())}))
}

// Symlink makes path a symlink to target, replacing a file or symlink there.
func (c *Client) Symlink(ctx context.Context, path, target string) error {
	return c.simple(ctx, FrameSymlink, path, MustJSON(SymlinkRequest{Path: path, Target: target}))
}

// PendingPut is a put whose content has been sent; Wait collects the
// agent's verdict.
type PendingPut struct {
	c   *Client
	id  uint32
	cl  *call
	err error // a failure before or while sending
}

// Wait waits until the agent has renamed the file into place or refused it.
func (p *PendingPut) Wait(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	return p.c.await(ctx, p.id, p.cl)
}

// StartPut streams r (exactly size bytes) to path with mode's permission
// bits and returns without waiting for the agent's answer, so a caller can
// send many files back to back and then Wait for each. Parent directories
// are created. Content travels in ChunkSize frames; memory use does not
// grow with the file size.
func (c *Client) StartPut(ctx context.Context, path string, mode fs.FileMode, r io.Reader, size int64) *PendingPut {
	id, cl, err := c.begin("Put", path, 1)
	if err != nil {
		return &PendingPut{err: err}
	}
	p := &PendingPut{c: c, id: id, cl: cl}
	fail := func(err error) *PendingPut {
		c.forget(id, cl)
		p.err = err
		return p
	}
	if err := c.w.WriteFrame(FramePutBegin, id, MustJSON(PutBegin{Path: path, Mode: uint32(mode.Perm()), Size: size}), false); err != nil {
		return fail(c.sendFailed(fmt.Sprintf("agent put %s", path), err))
	}
	hasher := NewHasher()
	buf := make([]byte, min(int64(ChunkSize), max(size, 1)))
	var sent int64
	var readErr error
	for readErr == nil {
		if err := ctx.Err(); err != nil {
			readErr = err
			break
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if sent+int64(n) > size {
				readErr = fmt.Errorf("agent put %s: the source has more than the %d bytes announced; it changed while being sent, push again", path, size)
				break
			}
			_, _ = hasher.Write(buf[:n])
			if werr := c.w.WriteFrame(FramePutData, id, buf[:n], false); werr != nil {
				return fail(c.sendFailed(fmt.Sprintf("agent put %s", path), werr))
			}
			sent += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("agent put %s: read source: %w", path, err)
		}
	}
	if readErr == nil && sent != size {
		readErr = fmt.Errorf("agent put %s: the source has %d bytes, %d were announced; it changed while being sent, push again", path, sent, size)
	}
	end := PutEnd{Hash: hasher.HashSum()}
	if readErr != nil {
		end = PutEnd{Abort: true} // the agent discards the temporary file
	}
	if err := c.w.WriteFrame(FramePutEnd, id, MustJSON(end), false); err != nil {
		return fail(c.sendFailed(fmt.Sprintf("agent put %s", path), err))
	}
	if readErr != nil {
		// The agent's "aborted" answer is of no interest; ours is.
		return fail(readErr)
	}
	return p
}

// PutFile writes size bytes from r to path atomically (see StartPut) and
// waits for the agent to confirm. For many files, use StartPut or call
// PutFile from several goroutines: requests are pipelined.
func (c *Client) PutFile(ctx context.Context, path string, mode fs.FileMode, r io.Reader, size int64) error {
	return c.StartPut(ctx, path, mode, r, size).Wait(ctx)
}

// List returns every file, directory and symlink under dir (relative to
// the agent's root; "." for all of it), with content hashes of files. The
// directory itself is not included. Paths are relative to the agent's root.
func (c *Client) List(ctx context.Context, dir string) ([]Entry, error) {
	id, cl, err := c.begin("List", dir, 16)
	if err != nil {
		return nil, err
	}
	if err := c.w.WriteFrame(FrameList, id, MustJSON(PathRequest{Path: dir}), false); err != nil {
		c.forget(id, cl)
		return nil, c.sendFailed(fmt.Sprintf("agent list %s", dir), err)
	}
	var entries []Entry
	for {
		f, err := c.next(ctx, id, cl)
		if err != nil {
			return nil, err
		}
		if f.Type != FrameListBatch {
			if err := replyError(cl, f); err != nil {
				return nil, err
			}
			return entries, nil
		}
		var batch ListBatch
		if err := DecodeJSON(f.Payload, &batch); err != nil {
			c.forget(id, cl)
			return nil, fmt.Errorf("agent list %s: %w", dir, err)
		}
		entries = append(entries, batch.Entries...)
	}
}

// Run runs argv in the agent's root directory with env ("KEY=value")
// added to the agent's environment, copying its output to stdout and stderr
// as it arrives, and returns its exit status (128+n when killed by signal
// n). Canceling ctx kills the command's process group.
func (c *Client) Run(ctx context.Context, argv, env []string, stdout, stderr io.Writer) (int, error) {
	return c.RunIn(ctx, "", argv, env, stdout, stderr)
}

// RunIn is Run in dir, a directory relative to the agent's root.
func (c *Client) RunIn(ctx context.Context, dir string, argv, env []string, stdout, stderr io.Writer) (int, error) {
	id, cl, err := c.begin("Run", dir, 64)
	if err != nil {
		return -1, err
	}
	if err := c.w.WriteFrame(FrameRun, id, MustJSON(RunRequest{Argv: argv, Env: env, Dir: dir}), false); err != nil {
		c.forget(id, cl)
		return -1, c.sendFailed("agent run", err)
	}
	var writeErr error
	for {
		f, err := c.next(ctx, id, cl)
		if err != nil {
			if ctx.Err() != nil {
				// Tell the agent to kill the command; the answer is not awaited.
				_ = c.w.WriteFrame(FrameCancel, id, nil, true)
			}
			return -1, err
		}
		switch f.Type {
		case FrameStdout, FrameStderr:
			w := stdout
			if f.Type == FrameStderr {
				w = stderr
			}
			if w != nil && writeErr == nil {
				if _, err := w.Write(f.Payload); err != nil {
					writeErr = fmt.Errorf("agent run: copy output: %w", err)
				}
			}
		case FrameExit:
			var reply ExitReply
			if err := DecodeJSON(f.Payload, &reply); err != nil {
				return -1, fmt.Errorf("agent run: %w", err)
			}
			return reply.Code, writeErr
		default:
			if err := replyError(cl, f); err != nil {
				return -1, err
			}
			return -1, fmt.Errorf("agent run: unexpected %s reply", f.Type)
		}
	}
}
