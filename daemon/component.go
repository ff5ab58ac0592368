package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// componentOf returns the workspace's component, creating it on first use.
func (s *Server) componentOf(sess *session) (*component.Component, error) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.comp != nil {
		return sess.comp, nil
	}
	idx, ok := sess.index.(component.Index)
	if !ok || sess.state == protocol.WorkspaceClosed {
		return nil, Errorf(protocol.CodeWorkspaceNotFound, "open-workspace", "Open the workspace again with odod/workspace/open.",
			"workspace %s is not open", sess.id)
	}
	s.mu.Lock()
	initImage := s.initImage
	s.mu.Unlock()
	reportProgress := pushProgressGate()
	sess.comp = component.New(component.Options{
		Index:     idx,
		Connect:   s.connectComponent,
		InitImage: initImage,
		Version:   s.opts.Version,
		Logger:    s.log.With(zap.String("workspaceId", sess.id)),
		Hooks: component.Hooks{
			State: func(from, to protocol.ComponentState, reason, message string) {
				sess.emit(protocol.MethodComponentStateChanged, func(ev protocol.Event) any {
					return protocol.StateChangedParams{Event: ev, From: from, To: to, Reason: reason, Message: message}
				})
			},
			Progress: func(p protocol.PushProgressParams) {
				if !reportProgress(p) {
					return
				}
				sess.emit(protocol.MethodPushProgress, func(ev protocol.Event) any { p.Event = ev; return p })
			},
			Log: func(p protocol.LogParams) {
				sess.emit(protocol.MethodLog, func(ev protocol.Event) any { p.Event = ev; return p })
				for _, tap := range sess.tappedLogs() {
					tap(p)
				}
			},
		},
	})
	return sess.comp, nil
}

// sessionFor finds an open workspace by id.
func (s *Server) sessionFor(id string) (*session, error) {
	if id == "" {
		return nil, invalidParams("workspaceId", "is required", "Pass the workspaceId odod/workspace/open returned.")
	}
	s.workspaces.mu.Lock()
	sess := s.workspaces.byID[id]
	s.workspaces.mu.Unlock()
	if sess == nil {
		return nil, workspaceNotFound(id)
	}
	select {
	case <-sess.ready:
	default:
		return nil, Errorf(protocol.CodeContentModified, "wait-open", "Wait for odod/workspace/open to answer.", "workspace %s is still being indexed", id)
	}
	return sess, nil
}

// componentFor finds the workspace's component once the settings edits
// that came before have ended.
func (s *Server) componentFor(id string) (*session, *component.Component, error) {
	sess, err := s.sessionFor(id)
	if err != nil {
		return nil, nil, err
	}
	sess.waitForEdits()
	comp, err := s.componentOf(sess)
	return sess, comp, err
}

// engineError turns an engine failure into the protocol's error.
func engineError(err error) *jsonrpc2.Error {
	var rpcErr *jsonrpc2.Error
	if errors.As(err, &rpcErr) {
		return rpcErr
	}
	e := component.Coded(err)
	data := protocol.ErrorData{Reason: e.Reason}
	if e.Suggestion != "" {
		data.Suggestions = []protocol.Suggestion{{ID: e.Reason, Action: e.Suggestion}}
	}
	return newError(e.Code, e.Message, data)
}

// onComponent finds the workspace's component and runs fn on it; engine
// errors become protocol errors.
func onComponent(s *Server, workspaceID string, fn func(*component.Component) (any, error)) (any, error) {
	_, comp, err := s.componentFor(workspaceID)
	if err != nil {
		return nil, err
	}
	res, err := fn(comp)
	return res, wrapEngine(err)
}

// settingsUse says whether a method edits a workspace's settings or only
// reads them.
type settingsUse int

const (
	reads settingsUse = iota
	edits
)

// onSettings is onComponent for the methods that need only the
// workspace's settings (URLs, storage): no component, no index. An edit
// holds the session's settings lock throughout; a read waits for the
// edits that came before it.
func onSettings(s *Server, workspaceID string, use settingsUse, fn func(*component.Settings) (any, error)) (any, error) {
	sess, err := s.sessionFor(workspaceID)
	if err != nil {
		return nil, err
	}
	if use == edits {
		defer sess.editSettings()()
	} else {
		sess.waitForEdits()
	}
	res, err := fn(s.settingsOf(sess))
	return res, wrapEngine(err)
}

// settingsOf makes the settings of a workspace.
func (s *Server) settingsOf(sess *session) *component.Settings {
	s.mu.Lock()
	initImage := s.initImage
	s.mu.Unlock()
	return component.NewSettings(component.SettingsOptions{
		Root: sess.root, Connect: s.connectComponent, InitImage: initImage, Version: s.opts.Version,
		Logger: s.log.With(zap.String("workspaceId", sess.id)),
	})
}

func (s *Server) describe(ctx context.Context, _ *jsonrpc2.Conn, p protocol.WorkspaceParams) (any, error) {
	return onComponent(s, p.WorkspaceID, func(c *component.Component) (any, error) {
		d, err := c.Describe(ctx)
		if sess, serr := s.sessionFor(p.WorkspaceID); serr == nil {
			d.Watch = sess.watchStatus()
		}
		return d, err
	})
}

func (s *Server) deleteComponent(ctx context.Context, _ *jsonrpc2.Conn, p protocol.ComponentDeleteParams) (any, error) {
	return onComponent(s, p.WorkspaceID, func(c *component.Component) (any, error) {
		if sess, err := s.sessionFor(p.WorkspaceID); err == nil {
			sess.stopWatch()
			_ = forgetWatch(sess.root) // nothing left to watch
			sess.stopSubscriptions()
		}
		deleted, err := c.Delete(ctx, p.Wait == nil || *p.Wait)
		return protocol.ComponentDeleteResult{Deleted: deleted}, err
	})
}

func (s *Server) createURL(ctx context.Context, _ *jsonrpc2.Conn, p protocol.URLCreateParams) (any, error) {
	if p.Name == "" || p.Port <= 0 {
		return nil, invalidParams("name/port", "a URL needs a name and a port", "Pass name (a DNS-1123 label) and port (one of the component's ports).")
	}
	kind := config.URLKind(p.Kind)
	if kind != config.URLKindAuto && kind != config.URLKindRoute && kind != config.URLKindIngress {
		return nil, invalidParams("kind", fmt.Sprintf("%q is not a kind of URL", p.Kind), `Pass "route", "ingress", or leave it out.`)
	}
	return onSettings(s, p.WorkspaceID, edits, func(c *component.Settings) (any, error) {
		u, err := c.CreateURL(ctx, config.ConfigURL{Name: p.Name, Port: p.Port, Secure: p.Secure, Host: p.Host, Kind: kind})
		return protocol.URLCreateResult{URL: u}, err
	})
}

func (s *Server) listURLs(ctx context.Context, _ *jsonrpc2.Conn, p protocol.WorkspaceParams) (any, error) {
	return onSettings(s, p.WorkspaceID, reads, func(c *component.Settings) (any, error) {
		urls, err := c.ListURLs(ctx)
		return protocol.URLListResult{URLs: urls}, err
	})
}

func (s *Server) deleteURL(ctx context.Context, _ *jsonrpc2.Conn, p protocol.NameParams) (any, error) {
	return onSettings(s, p.WorkspaceID, edits, func(c *component.Settings) (any, error) {
		return nil, c.DeleteURL(ctx, p.Name)
	})
}

func (s *Server) addStorage(_ context.Context, _ *jsonrpc2.Conn, p protocol.StorageAddParams) (any, error) {
	return onSettings(s, p.WorkspaceID, edits, func(c *component.Settings) (any, error) {
		return nil, c.AddStorage(p.Name, p.Path, p.Size)
	})
}

func (s *Server) listStorage(ctx context.Context, _ *jsonrpc2.Conn, p protocol.WorkspaceParams) (any, error) {
	return onSettings(s, p.WorkspaceID, reads, func(c *component.Settings) (any, error) {
		st, err := c.ListStorage(ctx)
		return protocol.StorageListResult{Storage: st}, err
	})
}

func (s *Server) removeStorage(_ context.Context, _ *jsonrpc2.Conn, p protocol.NameParams) (any, error) {
	return onSettings(s, p.WorkspaceID, edits, func(c *component.Settings) (any, error) {
		return nil, c.RemoveStorage(p.Name)
	})
}

func (s *Server) portForward(ctx context.Context, _ *jsonrpc2.Conn, p protocol.PortForwardParams) (any, error) {
	return onComponent(s, p.WorkspaceID, func(c *component.Component) (any, error) {
		// The forward outlives the request: it ends with stop, the
		// workspace, or the daemon.
		return c.PortForward(context.WithoutCancel(ctx), p.LocalPort, p.RemotePort)
	})
}

func (s *Server) stopPortForward(_ context.Context, _ *jsonrpc2.Conn, p protocol.PortForwardStopParams) (any, error) {
	return onComponent(s, p.WorkspaceID, func(c *component.Component) (any, error) {
		return nil, c.StopPortForward(p.LocalPort)
	})
}

// wrapEngine keeps nil nil (a typed nil would be an error).
func wrapEngine(err error) error {
	if err == nil {
		return nil
	}
	return engineError(err)
}

func (s *Server) catalog(ctx context.Context, _ *jsonrpc2.Conn, p protocol.CatalogListParams) (any, error) {
	namespace := ""
	if p.WorkspaceID != "" {
		sess, err := s.sessionFor(p.WorkspaceID)
		if err != nil {
			return nil, err
		}
		if cfg, err := config.Load(sess.root); err == nil {
			namespace = cfg.ComponentSettings.Project
		}
	}
	cl, err := s.connect(ctx, namespace)
	if err != nil {
		return nil, wrapEngine(err)
	}
	entries, err := cl.Catalog(ctx)
	if err != nil {
		return nil, wrapEngine(err)
	}
	res := protocol.CatalogListResult{Types: []protocol.CatalogType{}}
	for _, e := range entries {
		res.Types = append(res.Types, protocol.CatalogType{Name: e.Name, Tags: e.Tags, Source: e.Source, Namespace: e.Namespace, Description: e.Description})
	}
	return res, nil
}

// push runs a push with progress on the request's token.
func (s *Server) push(ctx context.Context, conn *jsonrpc2.Conn, p protocol.PushParams) (any, error) {
	sess, comp, err := s.componentFor(p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	title := "Pushing " + sess.name()
	if p.DryRun {
		title = "Planning a push of " + sess.name()
	}
	ctx, progress := s.startProgress(ctx, conn, p.WorkDoneToken, title, true)
	res, err := comp.Push(ctx, component.PushOptions{
		Force: p.Force, DryRun: p.DryRun,
		Progress: func(pp protocol.PushProgressParams) {
			msg := string(pp.Phase)
			pct := -1
			if pp.Phase == protocol.PhaseUpload && pp.FilesTotal > 0 {
				msg = fmt.Sprintf("%d/%d files", pp.FilesDone, pp.FilesTotal)
				pct = 100 * pp.FilesDone / pp.FilesTotal
			}
			progress.Report(msg, pct, pp.Phase != protocol.PhaseUpload)
		},
	})
	if err != nil {
		progress.End("failed")
		return nil, engineError(err)
	}
	progress.End(fmt.Sprintf("%d files copied, %d deleted in %d ms", res.FilesCopied, res.FilesDeleted, res.DurationMs))
	return res, nil
}

func (sess *session) name() string {
	return filepath.Base(sess.root)
}

// followLogs starts an app-log subscription owned by the server.
func (s *Server) followLogs(_ context.Context, _ *jsonrpc2.Conn, p protocol.LogsFollowParams) (any, error) {
	if p.Source != "" && p.Source != protocol.LogApp {
		return nil, invalidParams("source", fmt.Sprintf("%q cannot be followed", p.Source),
			`Use "app"; build output arrives as odod/log with source "build" during each push.`)
	}
	sess, comp, err := s.componentFor(p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	tail := int64(100)
	if p.TailLines != nil {
		tail = *p.TailLines
	}
	s.mu.Lock()
	s.subSeq++
	id := fmt.Sprintf("logs-%d", s.subSeq)
	s.mu.Unlock()
	s.goOwned(func(ctx context.Context) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if !sess.addSubscription(id, cancel) {
			return
		}
		defer sess.removeSubscription(id)
		err := comp.FollowLogs(ctx, id, tail)
		if err != nil && ctx.Err() == nil {
			coded := component.Coded(err)
			s.log.Warn("log stream ended", zap.String("subscriptionId", id), zap.Error(err))
			sess.emit(protocol.MethodLog, func(ev protocol.Event) any {
				return protocol.LogParams{Event: ev, Source: protocol.LogApp, Stream: "stderr", SubscriptionID: id,
					Text: "odod: the log stream ended: " + coded.Error()}
			})
		}
	})
	return protocol.LogsFollowResult{SubscriptionID: id}, nil
}

func (s *Server) stopLogs(_ context.Context, _ *jsonrpc2.Conn, p protocol.LogsStopParams) (any, error) {
	return nil, s.stopSubscription(p.SubscriptionID)
}

func (s *Server) stopSubscription(id string) error {
	if id == "" {
		return invalidParams("subscriptionId", "is required", "Pass the subscriptionId odod/logs/follow returned.")
	}
	for _, sess := range s.workspaces.all() {
		if sess.stopSubscription(id) {
			return nil
		}
	}
	return Errorf(protocol.CodeNotFound, "logs-follow", "odod/logs/follow returns the subscriptionId to stop.", "no log subscription %q", id)
}

// subscription bookkeeping on the session.
func (sess *session) addSubscription(id string, cancel context.CancelFunc) bool {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.state == protocol.WorkspaceClosed {
		return false
	}
	if sess.subs == nil {
		sess.subs = map[string]context.CancelFunc{}
	}
	sess.subs[id] = cancel
	return true
}

func (sess *session) removeSubscription(id string) {
	sess.mu.Lock()
	delete(sess.subs, id)
	sess.mu.Unlock()
}

func (sess *session) stopSubscription(id string) bool {
	sess.mu.Lock()
	cancel, ok := sess.subs[id]
	delete(sess.subs, id)
	sess.mu.Unlock()
	if ok {
		cancel()
	}
	return ok
}

func (sess *session) stopSubscriptions() {
	sess.mu.Lock()
	subs := sess.subs
	sess.subs = nil
	sess.mu.Unlock()
	for _, cancel := range subs {
		cancel()
	}
}

func (s *Server) create(ctx context.Context, _ *jsonrpc2.Conn, p protocol.ComponentCreateParams) (any, error) {
	sess, err := s.sessionFor(p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	defer sess.editSettings()()
	res, err := component.Create(ctx, sess.root, component.CreateRequest{
		Type: p.Type, Name: p.Name, Project: p.Project, App: p.App, Ports: p.Ports, Env: p.Env, Force: p.Force, Binary: p.Binary,
		Git: p.Git, Ref: p.Ref, ContextDir: p.ContextDir, Registry: p.Registry,
	}, s.connectComponent, s.opts.Clusters.DefaultNamespace)
	if err != nil {
		return nil, engineError(err)
	}
	if res.Warning != "" {
		s.log.Warn(res.Warning)
	}
	st := res.Settings
	return protocol.ComponentCreateResult{Component: protocol.ComponentSettings{
		Name: st.Name, Type: st.Type, App: st.App(), Project: st.Project, Ports: st.Ports, ConfigPath: res.Path,
	}}, nil
}
