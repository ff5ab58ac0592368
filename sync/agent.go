package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/odod-dev/odod/agent"
)

// maxPutsInFlight bounds the puts whose answers are awaited at once: the
// content is already sent, so this only bounds bookkeeping, and keeps the
// exec stream full while the agent renames files into place. Through the
// API server a round trip is tens of milliseconds: the window must hold
// more than a round trip's worth of puts (64 capped a 20,000-file push at
// about 64 files per round trip).
const maxPutsInFlight = 1024

// putsAwaitedAtOnce is how many of the oldest puts are awaited when the
// window is full: waiting flushes what is buffered, so waiting for one at
// a time would send every further put in a write of its own.
const putsAwaitedAtOnce = maxPutsInFlight / 4

// AgentTransport syncs through odod's in-container agent over one
// long-lived exec stream: puts are pipelined, writes atomic, paths confined
// to the agent's root.
type AgentTransport struct {
	client *agent.Client
	// onClose is called after the client is closed (ends the exec).
	onClose func() error
}

// NewAgentTransport wraps a connected agent client. onClose, if set, runs
// after the client is closed.
func NewAgentTransport(client *agent.Client, onClose func() error) *AgentTransport {
	return &AgentTransport{client: client, onClose: onClose}
}

// Name implements Transport.
func (t *AgentTransport) Name() string { return "agent" }

// Info returns what the agent said in the handshake.
func (t *AgentTransport) Info() agent.AgentInfo { return t.client.Info() }

// Broken reports whether the stream has ended or been given up (the pod
// went away, the exec was closed, the keepalive found the connection
// dead): the transport must be dialled again.
func (t *AgentTransport) Broken() bool {
	return t.client.Err() != nil
}

// Apply implements Transport.
func (t *AgentTransport) Apply(ctx context.Context, plan Plan, src Source, report func(Progress)) (Result, error) {
	var res Result
	progress := newProgressCounter(plan, report)
	var inflight []pendingPut
	wait := func(p pendingPut) error {
		if err := p.put.Wait(ctx); err != nil {
			return fmt.Errorf("sync %s: %w", p.op.Path, err)
		}
		res.FilesCopied++
		res.Bytes += p.n
		progress.done(p.op.Path, p.n)
		return nil
	}
	drain := func() error {
		var first error
		for _, p := range inflight {
			if err := wait(p); err != nil && first == nil {
				first = err
			}
		}
		inflight = nil
		return first
	}
	for _, op := range plan.Ops {
		if err := ctx.Err(); err != nil {
			_ = drain()
			return res, err
		}
		switch op.Kind {
		case OpDelete:
			if err := t.client.Delete(ctx, op.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return res, fmt.Errorf("delete %s: %w", op.Path, err)
			}
			res.FilesDeleted++
			progress.done(op.Path, 0)
		case OpMkdir:
			if err := t.client.Mkdir(ctx, op.Path, op.Entry.Mode.Perm()|0o700); err != nil {
				return res, fmt.Errorf("mkdir %s: %w", op.Path, err)
			}
		case OpSymlink:
			if err := t.client.Symlink(ctx, op.Path, op.Entry.LinkTarget); err != nil {
				return res, fmt.Errorf("symlink %s: %w", op.Path, err)
			}
			res.FilesCopied++
			progress.done(op.Path, 0)
		case OpPut:
			p, err := t.startPut(ctx, src, op)
			if err != nil {
				_ = drain()
				return res, err
			}
			inflight = append(inflight, p)
			if len(inflight) >= maxPutsInFlight {
				for range putsAwaitedAtOnce {
					if err := wait(inflight[0]); err != nil {
						inflight = inflight[1:]
						_ = drain()
						return res, err
					}
					inflight = inflight[1:]
				}
			}
		}
	}
	return res, drain()
}

// pendingPut is a put whose content is sent and whose answer is awaited.
type pendingPut struct {
	op  Op
	put *agent.PendingPut
	n   int64
}

func (t *AgentTransport) startPut(ctx context.Context, src Source, op Op) (pendingPut, error) {
	f, err := src.Open(op.Path)
	if err != nil {
		return pendingPut{}, fmt.Errorf("read %s: %w (it changed during the push; push again)", op.Path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return pendingPut{}, fmt.Errorf("read %s: %w", op.Path, err)
	}
	// The file's size now, not the index's: an edit since the changes were
	// taken is simply sent (the index still has it pending).
	put := t.client.StartPut(ctx, op.Path, op.Entry.Mode.Perm()|0o600, f, info.Size())
	return pendingPut{op: op, put: put, n: info.Size()}, nil
}

// Run implements Transport.
func (t *AgentTransport) Run(ctx context.Context, argv, env []string, stdout, stderr io.Writer) (int, error) {
	return t.client.Run(ctx, argv, env, stdout, stderr)
}

// List implements Lister: the container's files under the agent's root.
func (t *AgentTransport) List(ctx context.Context) ([]Entry, error) {
	remote, err := t.client.List(ctx, ".")
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(remote))
	for i, r := range remote {
		out[i] = Entry{Path: r.Path, Size: r.Size, Mode: r.Mode, LinkTarget: r.LinkTarget, Hash: r.Hash}
	}
	return out, nil
}

// Close implements Transport.
func (t *AgentTransport) Close() error {
	err := t.client.Close()
	if t.onClose != nil {
		if cerr := t.onClose(); err == nil {
			err = cerr
		}
	}
	return err
}
