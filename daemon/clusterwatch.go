package daemon

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
)

// The editor's tree refreshes itself: odod/cluster/watch runs informers
// on the current namespace and sends their changes, gathered over a
// window, as odod/cluster/didChange through the connection's one writer.

// defaultClusterWatchWindow is how long changes are gathered into one
// notification when Options.ClusterWatchWindow is not set.
const defaultClusterWatchWindow = 200 * time.Millisecond

// clusterWatchSyncTimeout bounds the informers' first list.
const clusterWatchSyncTimeout = 30 * time.Second

// clusterWatchRetry is how long a watch that could not start waits
// before trying again.
const clusterWatchRetry = 5 * time.Second

// clusterWatch is the connection's watch of the cluster: one goroutine
// (run) owns the informers while it is active.
type clusterWatch struct {
	s      *Server
	window time.Duration

	mu sync.Mutex
	// cancel and done are the running loop's; nil when inactive.
	cancel context.CancelFunc
	done   chan struct{}
	// restart asks the loop to watch the selection anew.
	restart chan struct{}
	// wake says that pending has changes.
	wake      chan struct{}
	pending   map[changeKey]cluster.ObjectChange
	context   string
	namespace string
	seq       uint64
}

type changeKey struct{ kind, name string }

func newClusterWatch(s *Server, window time.Duration) *clusterWatch {
	if window <= 0 {
		window = defaultClusterWatchWindow
	}
	return &clusterWatch{s: s, window: window}
}

func (w *clusterWatch) status() protocol.ClusterWatchResult {
	w.mu.Lock()
	defer w.mu.Unlock()
	res := protocol.ClusterWatchResult{Active: w.cancel != nil, WindowMs: w.window.Milliseconds()}
	if res.Active {
		res.Context, res.Namespace = w.context, w.namespace
	}
	return res
}

func (s *Server) clusterWatchStart(ctx context.Context, _ *jsonrpc2.Conn, _ protocol.ClusterWatchParams) (any, error) {
	w := s.clusterWatch
	w.mu.Lock()
	if w.cancel != nil {
		w.mu.Unlock()
		return w.status(), nil
	}
	s.mu.Lock()
	serveCtx := s.serveCtx
	s.mu.Unlock()
	loopCtx, cancel := context.WithCancel(serveCtx)
	done := make(chan struct{})
	w.cancel, w.done = cancel, done
	w.restart, w.wake = make(chan struct{}, 1), make(chan struct{}, 1)
	w.pending = map[changeKey]cluster.ObjectChange{}
	restart, wake := w.restart, w.wake
	w.mu.Unlock()

	// The first start is answered: the editor knows the watch is on
	// (or why not) before it relies on it.
	started := make(chan error, 1)
	s.goroutines.Add(1)
	go func() {
		defer s.goroutines.Done()
		defer close(done)
		w.run(loopCtx, restart, wake, started)
	}()
	release(ctx)
	var err error
	select {
	case err = <-started:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		w.stop()
		return nil, engineError(err)
	}
	return w.status(), nil
}

func (s *Server) clusterWatchStop(context.Context, *jsonrpc2.Conn, protocol.ClusterUnwatchParams) (any, error) {
	s.clusterWatch.stop()
	return s.clusterWatch.status(), nil
}

// stop ends the loop and waits until its goroutines (and the
// informers') have ended.
func (w *clusterWatch) stop() {
	w.mu.Lock()
	cancel, done := w.cancel, w.done
	w.cancel, w.done = nil, nil
	w.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// clusterSelectionChanged moves an active watch to the new context or
// namespace (odod/cluster/use, odod/project/set, odod/login).
func (s *Server) clusterSelectionChanged() {
	w := s.clusterWatch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel == nil {
		return
	}
	select {
	case w.restart <- struct{}{}:
	default:
	}
}

// add records a change for the next notification; informers call it, so
// it never blocks.
func (w *clusterWatch) add(ch cluster.ObjectChange) {
	w.mu.Lock()
	k := changeKey{ch.Kind, ch.Name}
	if prev, ok := w.pending[k]; ok && prev.Type == cluster.Added && ch.Type == cluster.Changed {
		ch.Type = cluster.Added
	}
	w.pending[k] = ch
	wake := w.wake
	w.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default:
	}
}

// run is the watch's goroutine: it connects, runs the informers, sends
// what they see once a window has passed since the first change, and
// starts anew on the current selection when asked; a watch that cannot
// start is retried, and the editor told.
func (w *clusterWatch) run(ctx context.Context, restart, wake <-chan struct{}, started chan<- error) {
	first := true
	var (
		current *cluster.ComponentWatch
		timer   *time.Timer
		timerC  <-chan time.Time
		retry   <-chan time.Time
	)
	stopCurrent := func() {
		if current != nil {
			current.Stop()
			current = nil
		}
		if timer != nil {
			timer.Stop()
			timer, timerC = nil, nil
		}
		w.mu.Lock()
		clear(w.pending)
		w.mu.Unlock()
	}
	defer stopCurrent()
	start := func() {
		stopCurrent()
		retry = nil
		cw, ctxName, ns, err := w.startInformers(ctx)
		if first {
			first = false
			started <- err
			if err != nil {
				return
			}
		} else if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.s.log.Warn("cannot watch the cluster; retrying", zap.Duration("in", clusterWatchRetry), zap.Error(err))
			w.send(protocol.ClusterDidChangeParams{Context: ctxName, Namespace: ns, Reset: true, Error: watchError(err)})
			retry = time.After(clusterWatchRetry)
			return
		} else {
			w.send(protocol.ClusterDidChangeParams{Context: ctxName, Namespace: ns, Reset: true})
		}
		current = cw
	}
	start()
	if current == nil && retry == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-restart:
			start()
		case <-retry:
			start()
		case <-wake:
			if timer == nil {
				timer = time.NewTimer(w.window)
				timerC = timer.C
			}
		case <-timerC:
			timer, timerC = nil, nil
			w.flush()
		}
	}
}

// startInformers connects with the current selection and starts the
// informers.
func (w *clusterWatch) startInformers(ctx context.Context) (*cluster.ComponentWatch, string, string, error) {
	ctxName := ""
	if kc, err := w.s.opts.Clusters.Contexts(); err == nil {
		ctxName = kc.Current
	}
	ns := w.s.opts.Clusters.DefaultNamespace()
	cl, err := w.s.opts.Clusters.Connect(ctx, "")
	if err != nil {
		return nil, ctxName, ns, err
	}
	ns = cl.Namespace()
	syncCtx, cancel := context.WithTimeout(ctx, clusterWatchSyncTimeout)
	defer cancel()
	cw, err := cl.WatchComponents(syncCtx, w.add)
	if err != nil {
		return nil, ctxName, ns, err
	}
	w.mu.Lock()
	w.context, w.namespace = ctxName, ns
	w.mu.Unlock()
	w.s.log.Info("watching the cluster", zap.String("context", ctxName), zap.String("namespace", ns))
	return cw, ctxName, ns, nil
}

func watchError(err error) *protocol.ClusterWatchError {
	e := engineError(err)
	out := &protocol.ClusterWatchError{Code: e.Code, Message: e.Message}
	if e.Data != nil {
		_ = json.Unmarshal(*e.Data, &out.Data)
	}
	return out
}

// flush sends the window's changes.
func (w *clusterWatch) flush() {
	w.mu.Lock()
	changes := make([]protocol.ClusterChange, 0, len(w.pending))
	comps := map[protocol.ComponentRefParams]bool{}
	for _, ch := range w.pending {
		changes = append(changes, protocol.ClusterChange{Kind: ch.Kind, Name: ch.Name, Component: ch.Component, App: ch.App,
			Type: protocol.ChangeType(ch.Type), State: ch.State})
		comps[protocol.ComponentRefParams{Name: ch.Component, App: ch.App}] = true
	}
	clear(w.pending)
	p := protocol.ClusterDidChangeParams{Context: w.context, Namespace: w.namespace, Changes: changes}
	w.mu.Unlock()
	if len(changes) == 0 {
		return
	}
	sort.Slice(changes, func(i, j int) bool {
		a, b := changes[i], changes[j]
		if a.Component != b.Component {
			return a.Component < b.Component
		}
		if a.App != b.App {
			return a.App < b.App
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	for c := range comps {
		p.Components = append(p.Components, c)
	}
	sort.Slice(p.Components, func(i, j int) bool {
		if p.Components[i].Name != p.Components[j].Name {
			return p.Components[i].Name < p.Components[j].Name
		}
		return p.Components[i].App < p.Components[j].App
	})
	w.send(p)
}

// send numbers a notification and queues it on the connection's writer.
func (w *clusterWatch) send(p protocol.ClusterDidChangeParams) {
	w.mu.Lock()
	w.seq++
	p.Seq = w.seq
	w.mu.Unlock()
	p.Time = time.Now()
	if p.Changes == nil {
		p.Changes = []protocol.ClusterChange{}
	}
	if p.Components == nil {
		p.Components = []protocol.ComponentRefParams{}
	}
	w.s.notes.send(protocol.MethodClusterDidChange, p)
}
