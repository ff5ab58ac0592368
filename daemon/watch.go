package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// maxDebounce bounds odod/watch/start's debounceMs: longer and a save
// would seem lost.
const maxDebounce = 10 * time.Second

// watchStop stops the workspace's watch, if any.
func (s *Server) watchStop(_ context.Context, _ *jsonrpc2.Conn, p protocol.WatchStopParams) (any, error) {
	sess, err := s.sessionFor(p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	if err := forgetWatch(sess.root); err != nil {
		s.log.Warn("a reconnecting editor may find the watch resumed", zap.String("workspaceId", sess.id), zap.Error(err))
	}
	return sess.stopWatch(), nil
}

// resumeWatch starts the watch a former daemon ran on the workspace, if
// any and if the component is configured.
func (s *Server) resumeWatch(ctx context.Context, conn *jsonrpc2.Conn, sess *session) {
	ms, ok := rememberedWatch(sess.root)
	if !ok {
		return
	}
	if _, err := s.watchStart(ctx, conn, protocol.WatchStartParams{WorkspaceID: sess.id, DebounceMs: &ms}); err != nil {
		s.log.Info("the workspace's watch was not resumed", zap.String("workspaceId", sess.id), zap.Error(err))
	}
}

// watchStart starts the workspace's watch, or gives a running one the new
// debounce.
func (s *Server) watchStart(_ context.Context, conn *jsonrpc2.Conn, p protocol.WatchStartParams) (any, error) {
	debounce := component.DefaultDebounce
	if p.DebounceMs != nil {
		d := time.Duration(*p.DebounceMs) * time.Millisecond
		if d < 0 || d > maxDebounce {
			return nil, invalidParams("debounceMs", fmt.Sprintf("%d is out of range", *p.DebounceMs),
				fmt.Sprintf("Pass 0 to %d, or leave it out for %d.", maxDebounce.Milliseconds(), component.DefaultDebounce.Milliseconds()))
		}
		debounce = d
	}
	sess, comp, err := s.componentFor(p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	serveCtx := s.serveCtx
	s.mu.Unlock()

	sess.mu.Lock()
	if w := sess.watch; w != nil {
		sess.mu.Unlock()
		if p.DebounceMs != nil {
			w.SetDebounce(debounce)
		}
		return w.Status(), nil
	}
	idx, ok := sess.index.(component.Index)
	if !ok || sess.state == protocol.WorkspaceClosed {
		sess.mu.Unlock()
		return nil, workspaceNotFound(p.WorkspaceID)
	}
	log := s.log.With(zap.String("workspaceId", sess.id))
	w := component.NewWatch(&watchPusher{s: s, conn: conn, sess: sess, comp: comp}, component.WatchOptions{
		Debounce:     debounce,
		Pending:      func() int { return idx.Pending().Len() },
		SettingsFile: config.Path(sess.root),
		Probe:        comp.PodMoved,
		Logger:       log,
		OnResult: func(res protocol.PushResult, err error, superseded bool) {
			switch {
			case superseded:
				log.Info("watch: newer changes cancelled the push; pushing them all", zap.String("pushId", res.PushID))
			case err != nil:
				log.Info("watch: push failed", zap.String("pushId", res.PushID), zap.Error(err))
			default:
				log.Info("watch: pushed", zap.String("pushId", res.PushID), zap.Int("copied", res.FilesCopied),
					zap.Int("deleted", res.FilesDeleted), zap.Int64("ms", res.DurationMs))
			}
		},
		OnTrouble: func(err error, retryIn time.Duration) {
			s.showMessage(sess, protocol.MessageWarning, fmt.Sprintf(
				"odod cannot push %s: %s. Your changes are kept; odod retries (next in %s) and pushes them as soon as it can.",
				sess.name(), component.Coded(err).Message, retryIn.Round(time.Second)))
		},
		OnRecovered: func() {
			s.showMessage(sess, protocol.MessageInfo, fmt.Sprintf("odod pushes %s again.", sess.name()))
		},
	})
	sess.watch = w
	// The watch ends with the workspace (close stops it) and at the latest
	// with the connection; the next daemon to open the workspace resumes it.
	w.Start(serveCtx)
	sess.mu.Unlock()
	if err := rememberWatch(sess.root, debounce); err != nil {
		log.Warn("the watch will not resume after a reconnect", zap.Error(err))
	}
	log.Info("watch started", zap.Duration("debounce", debounce))
	return w.Status(), nil
}

// showMessage tells the user something about a workspace, unless it was
// closed meanwhile.
func (s *Server) showMessage(sess *session, typ protocol.MessageType, message string) {
	sess.mu.Lock()
	closed := sess.state == protocol.WorkspaceClosed
	sess.mu.Unlock()
	if closed {
		return
	}
	s.notes.send(protocol.MethodShowMessage, protocol.ShowMessageParams{Type: typ, Message: message})
}

// watchPusher is the watch's push: odod/push's, with a $/progress of its
// own when the client can create tokens.
type watchPusher struct {
	s    *Server
	conn *jsonrpc2.Conn // the connection that started the watch
	sess *session
	comp *component.Component
}

// Push needs no flush of the index: the watch pushes after a batch, and
// a batch taken in now would only supersede this very push.
func (p *watchPusher) Push(ctx context.Context, opts component.PushOptions) (protocol.PushResult, error) {
	// Not cancellable from the editor: odod/watch/stop stops the watch.
	ctx, progress := p.s.startProgress(ctx, p.conn, nil, "Pushing "+p.sess.name()+" (watch)", false)
	opts.Progress = progressReporter(progress)
	res, err := p.comp.Push(ctx, opts)
	if err != nil {
		progress.End("failed: " + component.Coded(err).Message)
		return res, err
	}
	progress.End(fmt.Sprintf("%d files copied, %d deleted in %d ms", res.FilesCopied, res.FilesDeleted, res.DurationMs))
	return res, nil
}

// progressReporter mirrors a push's phases and upload into $/progress.
func progressReporter(progress *Progress) func(protocol.PushProgressParams) {
	return func(pp protocol.PushProgressParams) {
		msg := string(pp.Phase)
		pct := -1
		if pp.Phase == protocol.PhaseUpload && pp.FilesTotal > 0 {
			msg = fmt.Sprintf("%d/%d files", pp.FilesDone, pp.FilesTotal)
			pct = 100 * pp.FilesDone / pp.FilesTotal
		}
		progress.Report(msg, pct, pp.Phase != protocol.PhaseUpload)
	}
}

// watchChanged tells the workspace's watch, if any, that n paths changed.
func (sess *session) watchChanged(n int) {
	sess.mu.Lock()
	w := sess.watch
	sess.mu.Unlock()
	if w != nil {
		w.Changed(n)
	}
}

// stopWatch stops the workspace's watch, if any, and returns its status.
// A push it runs is cancelled; its changes stay pending.
func (sess *session) stopWatch() protocol.WatchStatus {
	sess.mu.Lock()
	w := sess.watch
	sess.watch = nil
	sess.mu.Unlock()
	if w == nil {
		return protocol.WatchStatus{}
	}
	w.Stop()
	return w.Status()
}

// watchStatusLocked is the watch's status; sess.mu is held.
func (sess *session) watchStatusLocked() protocol.WatchStatus {
	if sess.watch == nil {
		return protocol.WatchStatus{}
	}
	return sess.watch.Status()
}

// watchStatus is watchStatusLocked for callers without the lock.
func (sess *session) watchStatus() protocol.WatchStatus {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return sess.watchStatusLocked()
}
