package component

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// FollowLogs streams the app container's output (go-init, supervisord,
// the run script) to the Log hook until ctx ends, across pod restarts.
func (c *Component) FollowLogs(ctx context.Context, subscriptionID string, tail int64) error {
	cfg, err := c.settings()
	if err != nil {
		return err
	}
	cl, err := c.opts.Connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		return err
	}
	return cl.FollowLogs(ctx, ref(cfg), cluster.LogOptions{Tail: tail}, func(l cluster.LogLine) {
		if c.opts.Hooks.Log != nil {
			c.opts.Hooks.Log(protocol.LogParams{Source: protocol.LogApp, Stream: "stdout", Text: l.Text, Pod: l.Pod, SubscriptionID: subscriptionID})
		}
	})
}

// connected loads the settings and connects to their project.
func (c *Component) connected(ctx context.Context) (*config.LocalConfig, Cluster, error) {
	cfg, err := c.settings()
	if err != nil {
		return nil, nil, err
	}
	cl, err := c.opts.Connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		return nil, nil, err
	}
	return cfg, cl, nil
}

// onCluster reports whether the component's workload exists.
func onCluster(ctx context.Context, cl Cluster, cfg *config.LocalConfig) (cluster.Description, bool, error) {
	d, err := cl.Describe(ctx, ref(cfg))
	if err != nil {
		return d, false, err
	}
	return d, d.Workload != nil, nil
}

// applySettings applies the settings' objects without syncing files, so
// that a URL is usable at once when the component is already pushed.
func (c *Component) applySettings(ctx context.Context, cl Cluster, cfg *config.LocalConfig) error {
	spec, _, err := c.spec(ctx, cl, cfg)
	if err != nil {
		return err
	}
	objs, err := cluster.Desired(spec)
	if err != nil {
		return err
	}
	_, err = cl.Apply(ctx, objs, cluster.ApplyOptions{})
	return err
}

// CreateURL adds a URL to the settings and, when the component is on the
// cluster, creates its Route or Ingress at once.
func (c *Component) CreateURL(ctx context.Context, u config.ConfigURL) (protocol.URL, error) {
	cfg, err := c.settings()
	if err != nil {
		return protocol.URL{}, err
	}
	if err := cfg.AddURL(u); err != nil {
		return protocol.URL{}, invalid("name", err)
	}
	if err := cfg.Validate(); err != nil {
		return protocol.URL{}, err
	}
	if err := config.Save(c.root, cfg); err != nil {
		return protocol.URL{}, err
	}
	out := protocol.URL{Name: u.Name, Port: u.Port, Secure: u.Secure, Host: u.Host, State: "Not pushed"}
	cl, err := c.opts.Connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		c.log.Info("URL saved; it is created on the cluster at the next push")
		return out, nil
	}
	if _, pushed, err := onCluster(ctx, cl, cfg); err != nil || !pushed {
		return out, nil
	}
	if err := c.applySettings(ctx, cl, cfg); err != nil {
		return out, err
	}
	urls, err := c.ListURLs(ctx)
	if err != nil {
		return out, err
	}
	for _, x := range urls {
		if x.Name == u.Name {
			return x, nil
		}
	}
	return out, nil
}

// ListURLs lists the URLs of the settings and of the cluster, as odo url
// list did (Pushed, Not pushed, Locally deleted).
func (c *Component) ListURLs(ctx context.Context) ([]protocol.URL, error) {
	cfg, err := c.settings()
	if err != nil {
		return nil, err
	}
	byName := map[string]*protocol.URL{}
	for _, u := range cfg.ComponentSettings.URL {
		byName[u.Name] = &protocol.URL{Name: u.Name, Port: u.Port, Secure: u.Secure, Host: u.Host, State: "Not pushed"}
	}
	if cl, err := c.opts.Connect(ctx, cfg.ComponentSettings.Project); err == nil {
		remote, err := cl.ListURLs(ctx, ref(cfg))
		if err != nil {
			return nil, err
		}
		for _, r := range remote {
			u, local := byName[r.Name]
			if !local {
				u = &protocol.URL{Name: r.Name, State: "Locally deleted"}
				byName[r.Name] = u
			} else {
				u.State = "Pushed"
			}
			u.Kind, u.Host, u.URL, u.Port, u.Secure = r.Kind, r.Host, r.URL, r.Port, r.Secure
		}
	}
	out := make([]protocol.URL, 0, len(byName))
	for _, u := range byName {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DeleteURL removes a URL from the settings and, when pushed, from the
// cluster.
func (c *Component) DeleteURL(ctx context.Context, name string) error {
	cfg, err := c.settings()
	if err != nil {
		return err
	}
	if err := cfg.RemoveURL(name); err != nil {
		if !errors.Is(err, config.ErrURLNotFound) {
			return err
		}
		// Not in the settings: it may still be on the cluster.
	} else if err := config.Save(c.root, cfg); err != nil {
		return err
	}
	cl, err := c.opts.Connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		return nil
	}
	if _, pushed, err := onCluster(ctx, cl, cfg); err == nil && pushed {
		return c.applySettings(ctx, cl, cfg) // prunes the URL's object
	}
	return nil
}

// AddStorage adds a PVC mount to the settings (applied on the next push).
func (c *Component) AddStorage(name, mountPath, size string) error {
	cfg, err := c.settings()
	if err != nil {
		return err
	}
	if err := cfg.AddStorage(config.ComponentStorageSettings{Name: name, Path: mountPath, Size: size}); err != nil {
		return invalid("name", err)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return config.Save(c.root, cfg)
}

// RemoveStorage removes a PVC mount from the settings (applied on the next
// push, which deletes the PVC).
func (c *Component) RemoveStorage(name string) error {
	cfg, err := c.settings()
	if err != nil {
		return err
	}
	if err := cfg.RemoveStorage(name); err != nil {
		return &Error{Code: protocol.CodeNotFound, Reason: "NotFound", Message: err.Error(), Suggestion: "odod storage list shows the component's storage", Err: err}
	}
	return config.Save(c.root, cfg)
}

// ListStorage lists the settings' storage and what is on the cluster.
func (c *Component) ListStorage(ctx context.Context) ([]protocol.Storage, error) {
	cfg, err := c.settings()
	if err != nil {
		return nil, err
	}
	byName := map[string]*protocol.Storage{}
	for _, s := range cfg.ComponentSettings.Storage {
		byName[s.Name] = &protocol.Storage{Name: s.Name, Path: s.Path, Size: s.Size, State: "Not pushed"}
	}
	if cl, err := c.opts.Connect(ctx, cfg.ComponentSettings.Project); err == nil {
		remote, err := cl.ListStorage(ctx, ref(cfg))
		if err != nil {
			return nil, err
		}
		for _, r := range remote {
			s, local := byName[r.Name]
			if !local {
				s = &protocol.Storage{Name: r.Name, Path: r.Path, Size: r.Size, State: "Locally deleted"}
				byName[r.Name] = s
				continue
			}
			s.State = "Pushed"
		}
	}
	out := make([]protocol.Storage, 0, len(byName))
	for _, s := range byName {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PortForward forwards 127.0.0.1:localPort (0: any) to remotePort of the
// component's pod (0: its first port). The forward outlives the app's
// restarts and the pod's replacement: when the tunnel breaks (the
// API server ends it when nothing listens for a moment, a new pod), it is
// opened again on the same local port, to the current pod. It stops with
// StopPortForward or Close.
func (c *Component) PortForward(ctx context.Context, localPort, remotePort int) (protocol.PortForwardResult, error) {
	cfg, cl, err := c.connected(ctx)
	if err != nil {
		return protocol.PortForwardResult{}, err
	}
	if remotePort == 0 {
		ports, err := cfg.ComponentSettings.ParsedPorts()
		if err != nil || len(ports) == 0 {
			return protocol.PortForwardResult{}, &Error{Code: protocol.CodeInvalidParams, Reason: "NoPort",
				Message: "the component has no port to forward to", Suggestion: "pass remotePort, or add a port to the component (odod create --port)"}
		}
		remotePort = int(ports[0].Number)
	}
	pf, podName, err := c.openForward(ctx, cl, cfg, localPort, remotePort)
	if err != nil {
		return protocol.PortForwardResult{}, err
	}
	res := protocol.PortForwardResult{LocalPort: pf.LocalPort, RemotePort: remotePort, Address: fmt.Sprintf("127.0.0.1:%d", pf.LocalPort), Pod: podName}
	fwdCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cancel()
		_ = pf.Close()
		return protocol.PortForwardResult{}, context.Canceled
	}
	c.forwards[pf.LocalPort] = forward{result: res, stop: func() { cancel(); <-done }}
	c.mu.Unlock()
	go func() {
		defer close(done)
		c.keepForwarding(fwdCtx, cl, cfg, pf, remotePort)
	}()
	return res, nil
}

// openForward finds the running pod and forwards to it.
func (c *Component) openForward(ctx context.Context, cl Cluster, cfg *config.LocalConfig, localPort, remotePort int) (*cluster.PortForward, string, error) {
	st, err := cl.PodStatus(ctx, ref(cfg))
	if err != nil {
		return nil, "", err
	}
	if st.State != cluster.StateRunning || st.Pod == "" {
		return nil, "", &Error{Code: protocol.CodeContainerNotReady, Reason: string(st.State),
			Message: fmt.Sprintf("the component's pod is not running (%s %s)", st.State, st.Reason), Suggestion: "push the component first (odod push)"}
	}
	pf, err := cl.PortForward(ctx, st.Pod, localPort, remotePort)
	if err != nil {
		return nil, "", err
	}
	return pf, st.Pod, nil
}

// forwardRetry is the wait between attempts to reopen a broken forward.
const forwardRetry = 500 * time.Millisecond

// keepForwarding reopens pf's tunnel whenever it ends, until ctx ends.
func (c *Component) keepForwarding(ctx context.Context, cl Cluster, cfg *config.LocalConfig, pf *cluster.PortForward, remotePort int) {
	local := pf.LocalPort
	for {
		select {
		case <-ctx.Done():
			_ = pf.Close()
			return
		case <-pf.Done():
		}
		c.log.Debug("port-forward ended; reopening it", zap.Int("localPort", local))
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(forwardRetry):
			}
			next, pod, err := c.openForward(ctx, cl, cfg, local, remotePort)
			if err == nil {
				pf = next
				c.mu.Lock()
				if f, ok := c.forwards[local]; ok {
					f.result.Pod = pod
					c.forwards[local] = f
				}
				c.mu.Unlock()
				break
			}
			c.log.Debug("reopening port-forward", zap.Int("localPort", local), zap.Error(err))
		}
	}
}

// StopPortForward stops the forward on localPort.
func (c *Component) StopPortForward(localPort int) error {
	c.mu.Lock()
	f, ok := c.forwards[localPort]
	delete(c.forwards, localPort)
	c.mu.Unlock()
	if !ok {
		return &Error{Code: protocol.CodeNotFound, Reason: "NotFound", Message: fmt.Sprintf("no port forward on local port %d", localPort),
			Suggestion: "odod/component/describe lists the forwarded ports"}
	}
	f.stop()
	return nil
}

// forwardedPorts lists the forwards.
func (c *Component) forwardedPorts() []protocol.PortForwardResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []protocol.PortForwardResult{}
	for _, f := range c.forwards {
		out = append(out, f.result)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LocalPort < out[j].LocalPort })
	return out
}

// Describe reports the component: settings, objects, pod, URLs, storage,
// forwards and the last push.
func (c *Component) Describe(ctx context.Context) (protocol.DescribeResult, error) {
	cfg, cl, err := c.connected(ctx)
	if err != nil {
		return protocol.DescribeResult{}, err
	}
	d, err := cl.Describe(ctx, ref(cfg))
	if err != nil {
		return protocol.DescribeResult{}, err
	}
	out := protocol.DescribeResult{
		Name: cfg.ComponentSettings.Name, App: cfg.ComponentSettings.App(), Type: cfg.ComponentSettings.Type,
		Namespace: d.Namespace, Pod: d.Pod.Pod, Reason: d.Pod.Reason,
		Objects: []protocol.ObjectRef{}, ForwardedPorts: c.forwardedPorts(), LastPush: c.LastPush(),
	}
	for _, o := range d.Objects {
		out.Objects = append(out.Objects, protocol.ObjectRef{Kind: o.Kind, Name: o.Name})
	}
	switch {
	case d.Workload == nil:
		out.State = protocol.StateAbsent
	case d.Pod.State == cluster.StateRunning:
		out.State = c.State()
		if out.State == protocol.StateAbsent || out.State == protocol.StateStarting {
			out.State = protocol.StateRunning
		}
	case d.Pod.State == cluster.StateError:
		out.State = protocol.StateError
	default:
		out.State = protocol.StateStarting
	}
	if out.URLs, err = c.ListURLs(ctx); err != nil {
		return out, err
	}
	if out.Storage, err = c.ListStorage(ctx); err != nil {
		return out, err
	}
	return out, nil
}

// Delete deletes everything with the component's labels and, with wait,
// returns when it is gone. The index forgets what the container held.
func (c *Component) Delete(ctx context.Context, wait bool) ([]protocol.ObjectRef, error) {
	cfg, cl, err := c.connected(ctx)
	if err != nil {
		return nil, err
	}
	// Stop using the pod before it goes; a transport that does not close
	// cleanly does not matter any more.
	_ = c.releasePod()
	deleted, err := cl.Delete(ctx, ref(cfg), cluster.DeleteOptions{Wait: wait})
	out := make([]protocol.ObjectRef, 0, len(deleted))
	for _, o := range deleted {
		out = append(out, protocol.ObjectRef{Kind: o.Kind, Name: o.Name})
	}
	if err != nil {
		return out, err
	}
	c.opts.Index.MarkAllPending()
	c.setState(protocol.StateAbsent, "Deleted", "")
	return out, nil
}

// invalid makes an invalid-params error from a settings edit.
func invalid(field string, err error) error {
	return &Error{Code: protocol.CodeInvalidParams, Reason: "InvalidParams", Message: fmt.Sprintf("%s: %v", field, err),
		Suggestion: "choose another " + strings.ToLower(field), Err: err}
}
