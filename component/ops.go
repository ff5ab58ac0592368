package component

import (
	"context"
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
	return c.FollowLogsTo(ctx, subscriptionID, tail, c.opts.Hooks.Log)
}

// FollowLogsTo streams the app container's output to emit until ctx
// ends, across pod restarts; it needs only the settings.
func (s *Settings) FollowLogsTo(ctx context.Context, subscriptionID string, tail int64, emit func(protocol.LogParams)) error {
	cfg, cl, err := s.connected(ctx)
	if err != nil {
		return err
	}
	return followLogs(ctx, cl, cfg, tail, subscriptionID, emit)
}

// followLogs streams the app container's output to emit.
func followLogs(ctx context.Context, cl LogFollower, cfg *config.LocalConfig, tail int64, subscriptionID string, emit func(protocol.LogParams)) error {
	if emit == nil {
		emit = func(protocol.LogParams) {}
	}
	interrupted := func(err error, retryIn time.Duration) {
		text := "odod: following the logs again"
		if err != nil {
			text = fmt.Sprintf("odod: following the logs is interrupted: %s; retrying in %s", Coded(err).Message, retryIn.Round(time.Second))
		}
		emit(protocol.LogParams{Source: protocol.LogOdod, Stream: "stderr", Text: text, SubscriptionID: subscriptionID})
	}
	return cl.FollowLogs(ctx, ref(cfg), cluster.LogOptions{Tail: tail, Interrupted: interrupted}, func(l cluster.LogLine) {
		emit(protocol.LogParams{Source: protocol.LogApp, Stream: "stdout", Text: l.Text, Pod: l.Pod, SubscriptionID: subscriptionID})
	})
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
		c.keepForwarding(fwdCtx, cl, cfg, pf, podName, remotePort)
	}()
	return res, nil
}

// openForward finds the running pod and forwards to it.
func (c *Component) openForward(ctx context.Context, cl PortForwarder, cfg *config.LocalConfig, localPort, remotePort int) (*cluster.PortForward, string, error) {
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

// forwardPodCheck is how often a forward checks that it still reaches the
// component's current pod: an idle tunnel to a deleted pod does not break
// until something connects through it.
const forwardPodCheck = 2 * time.Second

// keepForwarding reopens pf's tunnel whenever it ends or the component's
// running pod is no longer pod, until ctx ends.
func (c *Component) keepForwarding(ctx context.Context, cl PortForwarder, cfg *config.LocalConfig, pf *cluster.PortForward, pod string, remotePort int) {
	local := pf.LocalPort
	check := time.NewTicker(forwardPodCheck)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = pf.Close()
			return
		case <-pf.Done():
		case <-check.C:
			st, err := cl.PodStatus(ctx, ref(cfg))
			if err != nil || st.State != cluster.StateRunning || st.Pod == "" || st.Pod == pod {
				continue
			}
			c.log.Debug("the component's pod changed; moving the port-forward", zap.Int("localPort", local), zap.String("from", pod), zap.String("to", st.Pod))
			_ = pf.Close()
		}
		c.log.Debug("port-forward ended; reopening it", zap.Int("localPort", local))
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(forwardRetry):
			}
			next, nextPod, err := c.openForward(ctx, cl, cfg, local, remotePort)
			if err == nil {
				pf, pod = next, nextPod
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
// forwards and the last push. While the pod runs, the state is the one
// this component knows (Syncing, Building...).
func (c *Component) Describe(ctx context.Context) (protocol.DescribeResult, error) {
	out, err := c.Settings.Describe(ctx)
	if out.State == protocol.StateRunning {
		if st := c.State(); st != protocol.StateAbsent && st != protocol.StateStarting {
			out.State = st
		}
	}
	out.ForwardedPorts, out.LastPush = c.forwardedPorts(), c.LastPush()
	return out, err
}

// Describe reports the component as the settings and the cluster show it:
// settings, objects, pod, URLs and storage.
func (s *Settings) Describe(ctx context.Context) (protocol.DescribeResult, error) {
	cfg, cl, err := s.connected(ctx)
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
		Objects: []protocol.ObjectRef{}, ForwardedPorts: []protocol.PortForwardResult{}, Links: links(cfg),
	}
	for _, o := range d.Objects {
		out.Objects = append(out.Objects, protocol.ObjectRef{Kind: o.Kind, Name: o.Name})
	}
	switch {
	case d.Workload == nil:
		out.State = protocol.StateAbsent
	case d.Pod.State == cluster.StateRunning:
		out.State = protocol.StateRunning
	case d.Pod.State == cluster.StateError:
		out.State = protocol.StateError
	default:
		out.State = protocol.StateStarting
	}
	if out.URLs, err = s.ListURLs(ctx); err != nil {
		return out, err
	}
	if out.Storage, err = s.ListStorage(ctx); err != nil {
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
