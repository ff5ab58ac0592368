//go:build integration

package sync_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/internal/lockedbuf"
	"github.com/odod-dev/odod/internal/testcluster"
	odsync "github.com/odod-dev/odod/sync"
)

// longCommand is how long the long-running commands run: well past
// client-go's WebSocket write deadline (60 s) and heartbeat deadline (61 s).
const longCommand = 180 * time.Second

// TestIntegrationAgentStreamOutlivesALongCommand runs commands for three
// minutes through one agent exec stream, as a push's build does, sending
// nothing else meanwhile: a silent one, and a chatty one whose output is
// consumed slowly. Each must report its exit code and output, the stream
// must stay up, and closing it afterwards must be quick and clean, with no
// complaint from client-go. Before the agent client's keepalive, closing a
// stream whose last write was over a minute old failed: client-go's
// half-close of stdin reused that write's expired deadline, the failed
// write broke the connection for good ("Websocket Ping failed ... i/o
// timeout" every 5 s), the agent never saw the end of its stdin, and the
// stream died a minute later ("next reader: ... i/o timeout").
func TestIntegrationAgentStreamOutlivesALongCommand(t *testing.T) {
	tc := testcluster.Require(t)
	ns := tc.Namespace(t, "odod-agent-long")
	ctx, cancel := context.WithTimeout(context.Background(), longCommand+4*time.Minute)
	defer cancel()
	pod := startAgentPod(ctx, t, tc, ns)

	// What client-go says, as odod's CLI routes it (klog is process-wide;
	// this test binary has no other user of it).
	core, clientGoSaid := observer.New(zapcore.DebugLevel)
	clientGoLogs := &cluster.ClientGoLogs{}
	clientGoLogs.Install()
	clientGoLogs.To(zap.New(core))
	t.Cleanup(klog.ClearLogger)

	c, err := cluster.Connect(ctx, cluster.Options{Kubeconfig: tc.Kubeconfig, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	exec := odsync.ContainerExecutor{Execer: c, Pod: pod, Container: "app"}
	dialCtx, cancelDial := context.WithTimeout(ctx, time.Minute)
	tr, err := odsync.DialAgent(dialCtx, exec, "/tmp/src", "odod integration test", nil)
	cancelDial()
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = tr.Close() // bounded: a few seconds at most
		}
	})

	var wg gosync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		var stdout, stderr lockedbuf.Buffer
		code, err := tr.Run(ctx, []string{"sh", "-c", fmt.Sprintf("sleep %d; echo done; echo bye >&2; exit 3", int(longCommand.Seconds()))}, nil, &stdout, &stderr)
		if err != nil || code != 3 || stdout.String() != "done\n" || stderr.String() != "bye\n" {
			t.Errorf("silent command: code %d, err %v, stdout %q, stderr %q; want 3, nil, \"done\\n\", \"bye\\n\"", code, err, stdout.String(), stderr.String())
		}
	}()
	go func() {
		defer wg.Done()
		// A build that prints a lot (npm install), read by a slow
		// consumer (a terminal, an editor busy drawing).
		script := fmt.Sprintf(`end=$(($(date +%%s) + %d)); i=0; while [ $(date +%%s) -lt $end ]; do i=$((i+1)); echo "line $i $(head -c 2000 /dev/zero | tr '\0' x)"; sleep 0.05; done; echo "total $i"`, int(longCommand.Seconds()))
		out := &slowWriter{delay: 2 * time.Millisecond}
		code, err := tr.Run(ctx, []string{"sh", "-c", script}, nil, out, out)
		text := out.String()
		lines := strings.Count(text, "\n")
		if err != nil || code != 0 || !strings.Contains(text, "total ") || lines < 100 {
			t.Errorf("chatty command: code %d, err %v, %d lines, tail %q", code, err, lines, tail(text, 200))
		}
	}()
	wg.Wait()
	if tr.Broken() {
		t.Fatal("the agent stream ended during the commands")
	}
	// Closing ends the agent through its stdin, at once, although odod
	// itself sent nothing since the commands started.
	start := time.Now()
	closed = true
	if err := tr.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v: the agent did not see its stdin end", d)
	}
	for _, e := range clientGoSaid.AllUntimed() {
		t.Errorf("client-go said %q %v", e.Message, e.ContextMap())
	}
}

// slowWriter takes its time over every write.
type slowWriter struct {
	delay time.Duration
	mu    gosync.Mutex
	buf   bytes.Buffer
}

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(w.delay)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *slowWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// startAgentPod starts a pod whose "app" container has odod's agent (copied
// from the init image, as odod's own pods do) and waits until it runs.
func startAgentPod(ctx context.Context, t *testing.T, tc *testcluster.Cluster, ns string) string {
	t.Helper()
	kube := tc.Client(t)
	const name = "agent-long"
	shared := corev1.VolumeMount{Name: initimage.VolumeName, MountPath: initimage.MountPath + "/"}
	initCommand := initimage.InitContainerCommand()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: new(int64),
			Volumes:                       []corev1.Volume{{Name: initimage.VolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			InitContainers: []corev1.Container{{
				Name: initimage.InitContainerName, Image: testcluster.InitImage, ImagePullPolicy: corev1.PullIfNotPresent,
				Command: initCommand[:1], Args: initCommand[1:], VolumeMounts: []corev1.VolumeMount{shared},
			}},
			Containers: []corev1.Container{{
				Name: "app", Image: testcluster.NodejsBuilderImage, ImagePullPolicy: corev1.PullIfNotPresent,
				Command:      []string{"sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"},
				VolumeMounts: []corev1.VolumeMount{shared},
			}},
		},
	}
	if _, err := kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testcluster.WaitPodRunning(t, ctx, kube, ns, name, 3*time.Minute)
	return name
}
