package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LogLine is one line of a container's output.
type LogLine struct {
	Pod       string
	Container string
	// Time is the kubelet's timestamp of the line (zero if it had none).
	Time time.Time
	Text string
}

// LogOptions tune FollowLogs.
type LogOptions struct {
	// Container defaults to the app container (<component>-<app>).
	Container string
	// Since starts that far back; 0 means Tail.
	Since time.Duration
	// Tail is the number of earlier lines to start with; 0 means all.
	Tail int64
	// RetryInterval is the wait between looking for the pod again;
	// default 1 s. While the pods cannot be listed at all the wait doubles
	// on each failure, up to MaxRetryInterval (default 30 s).
	RetryInterval    time.Duration
	MaxRetryInterval time.Duration
	// Interrupted, when set, hears that following is interrupted because
	// the component's pods cannot be listed (an API server restarting, a
	// network down): err says why, retryIn when the next attempt is. It is
	// called with a nil err once the pods can be listed again.
	Interrupted func(err error, retryIn time.Duration)
}

// FollowLogs streams the component's app container output (go-init,
// supervisord and the `run` program: what `odo log -f` showed) to emit
// until ctx ends. It survives the container restarting and the pod being
// replaced: when a stream ends it finds the current pod again and resumes
// after the last line it delivered (by the kubelet's timestamps), so
// lines are neither repeated nor skipped across a restart. It also
// survives the API server going away for a while, retrying with backoff
// (see LogOptions.Interrupted). It returns ctx's error when stopped, or an
// error when the component is gone or the cluster refuses access.
func (c *Client) FollowLogs(ctx context.Context, ref ComponentRef, opts LogOptions, emit func(LogLine)) error {
	if opts.Container == "" {
		opts.Container = ref.ObjectName()
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = time.Second
	}
	if opts.MaxRetryInterval < opts.RetryInterval {
		opts.MaxRetryInterval = max(30*time.Second, opts.RetryInterval)
	}
	var last time.Time
	first := true
	var backoff time.Duration // > 0 while the pods cannot be listed
	for {
		pod, err := c.logPod(ctx, ref, opts.Container)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !retryable(err) {
				return err
			}
			backoff = min(max(2*backoff, opts.RetryInterval), opts.MaxRetryInterval)
			c.log.Debug("following logs: cannot list the component's pods; retrying", zap.Error(err), zap.Duration("retryIn", backoff))
			if opts.Interrupted != nil {
				opts.Interrupted(err, backoff)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(backoff):
			}
			continue
		}
		if backoff > 0 {
			backoff = 0
			if opts.Interrupted != nil {
				opts.Interrupted(nil, 0)
			}
		}
		if pod != "" {
			logOpts := &corev1.PodLogOptions{Container: opts.Container, Follow: true, Timestamps: true}
			switch {
			case !last.IsZero():
				logOpts.SinceTime = &metav1.Time{Time: last}
			case first && opts.Since > 0:
				secs := int64(opts.Since.Seconds())
				logOpts.SinceSeconds = &secs
			case first && opts.Tail > 0:
				logOpts.TailLines = &opts.Tail
			}
			first = false
			if err := c.streamLogs(ctx, pod, logOpts, &last, emit); err != nil && ctx.Err() == nil {
				c.log.Debug("log stream ended", zap.String("pod", pod), zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(opts.RetryInterval):
		}
	}
}

// retryable tells a passing failure of the cluster (unreachable, an API
// server restarting or overloaded) from an answer that stays: refused
// access, the component gone.
func retryable(err error) bool {
	switch KindOf(err) {
	case KindUnreachable, KindAPI, KindTimeout:
		return true
	}
	return false
}

// logPod is the newest current pod whose container has started; "" when
// none has yet.
func (c *Client) logPod(ctx context.Context, ref ComponentRef, container string) (string, error) {
	list, err := c.sets.Kube.CoreV1().Pods(c.namespace).List(ctx, metav1.ListOptions{LabelSelector: ref.Selector().String()})
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", classify(err, "list the component's pods")
	}
	pods, _, err := c.currentPods(ctx, ref, list.Items)
	if err != nil {
		return "", err
	}
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == container && (cs.State.Running != nil || cs.State.Terminated != nil) {
				return p.Name, nil
			}
		}
	}
	return "", nil
}

func (c *Client) streamLogs(ctx context.Context, pod string, opts *corev1.PodLogOptions, last *time.Time, emit func(LogLine)) error {
	stream, err := c.sets.Kube.CoreV1().Pods(c.namespace).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return classify(err, fmt.Sprintf("stream logs of %s", pod))
	}
	defer stream.Close()
	r := bufio.NewReader(stream)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			ts, text := splitTimestamp(strings.TrimSuffix(line, "\n"))
			// SinceTime has second precision on some servers: drop what
			// was already delivered.
			if ts.IsZero() || ts.After(*last) {
				if !ts.IsZero() {
					*last = ts
				}
				emit(LogLine{Pod: pod, Container: opts.Container, Time: ts, Text: text})
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// splitTimestamp splits the kubelet's "RFC3339Nano text" prefix.
func splitTimestamp(line string) (time.Time, string) {
	stamp, text, ok := strings.Cut(line, " ")
	if !ok {
		stamp, text = line, ""
	}
	ts, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return time.Time{}, line
	}
	return ts, text
}
