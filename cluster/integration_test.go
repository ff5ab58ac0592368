//go:build integration

package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/internal/testcluster"
)

func connect(t *testing.T, tc *testcluster.Cluster, ns string) *cluster.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cluster.Connect(ctx, cluster.Options{Kubeconfig: tc.Kubeconfig, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIntegrationCatalogListsNodejs(t *testing.T) {
	tc := testcluster.Require(t)
	c := connect(t, tc, "default")
	t.Logf("platform: %+v", c.Platform())
	if !c.Platform().ImageStream || !c.Platform().Route {
		t.Fatalf("the local cluster serves Route and ImageStream CRDs; discovered %+v", c.Platform())
	}
	entries, err := c.Catalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || e.Name == "nodejs"
	}
	if !found {
		t.Fatalf("nodejs not in the catalog: %+v", entries)
	}
	b, err := c.ResolveType(context.Background(), "nodejs")
	if err != nil || !strings.Contains(b.Image, "nodejs-builder") {
		t.Fatalf("resolve nodejs: %+v %v", b, err)
	}
}

// TestIntegrationApplyAndClassify applies a Node.js component whose init
// image does not exist: the Service, Secret and PVC must be created
// (and the PVC bound), a second apply must write nothing, and the pod
// wait must fail with the image pull reason, not a timeout.
func TestIntegrationApplyAndClassify(t *testing.T) {
	tc := testcluster.Require(t)
	ns := tc.Namespace(t, "odod-cluster")
	c := connect(t, tc, ns)
	ctx := context.Background()

	builder, info := nodejsBuilder(t, c)
	settings := config.New("web", "nodejs").ComponentSettings
	settings.Ports = []string{"8080/TCP"}
	spec := cluster.ComponentSpec{
		Namespace: ns, Settings: settings, Builder: builder, Image: info,
		InitImage:        tc.Registry + "/odod/init-does-not-exist:none",
		RoutesServed:     c.Platform().Route,
		ManagedByVersion: "integration",
	}
	objs, err := cluster.Desired(spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Apply(ctx, objs, cluster.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != len(objs.All()) || res.WorkloadUID == "" {
		t.Fatalf("first apply %+v", res)
	}
	kube := tc.Client(t)
	svc, err := kube.CoreV1().Services(ns).Get(ctx, "web-app", metav1.GetOptions{})
	if err != nil || len(svc.OwnerReferences) != 1 || svc.OwnerReferences[0].UID != res.WorkloadUID {
		t.Fatalf("service %v %+v", err, svc)
	}
	if _, err := kube.CoreV1().Secrets(ns).Get(ctx, "web-app-8080", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		pvc, err := kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "web-app-s2idata", metav1.GetOptions{})
		return err == nil && pvc.Status.Phase == corev1.ClaimBound, nil
	})
	if err != nil {
		t.Fatalf("s2idata PVC not bound: %v", err)
	}
	again, err := c.Apply(ctx, objs, cluster.ApplyOptions{})
	if err != nil || again.Changed() {
		t.Fatalf("second apply wrote: %+v %v", again, err)
	}

	var states []cluster.PodStatus
	start := time.Now()
	_, err = c.WaitForPod(ctx, spec.Ref(), cluster.WaitOptions{Timeout: 3 * time.Minute, OnState: func(s cluster.PodStatus) { states = append(states, s) }})
	var ce *cluster.Error
	if !errors.As(err, &ce) || ce.Kind != cluster.KindPodNotReady {
		t.Fatalf("want a pod failure, got %v", err)
	}
	switch ce.Reason {
	case "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName":
	default:
		t.Fatalf("failure not classified as an image problem: %v (states %+v)", err, states)
	}
	t.Logf("classified in %v: %v; states %+v", time.Since(start).Round(time.Millisecond), err, states)

	deleted, err := c.Delete(ctx, spec.Ref(), cluster.DeleteOptions{Wait: true, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("deleted %d objects", len(deleted))
}

// TestIntegrationExecAndPortForward runs commands in a plain pod of the
// Node.js builder image: streamed stdout and stderr, stdin, exit codes,
// and a port-forward to a server in it.
func TestIntegrationExecAndPortForward(t *testing.T) {
	tc := testcluster.Require(t)
	ns := tc.Namespace(t, "odod-exec")
	c := connect(t, tc, ns)
	ctx := context.Background()
	builder, err := c.ResolveType(ctx, "nodejs")
	if err != nil {
		t.Fatal(err)
	}
	kube := tc.Client(t)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "exec", Namespace: ns},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "main", Image: builder.Image, ImagePullPolicy: corev1.PullIfNotPresent,
			Command: []string{"node", "-e", `require("http").createServer((q,s)=>s.end("hello from pod")).listen(8080)`},
		}}},
	}
	if _, err := kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testcluster.WaitPodRunning(t, ctx, kube, ns, "exec", 2*time.Minute)

	var stdout, stderr bytes.Buffer
	err = c.Exec(ctx, "exec", "main", []string{"sh", "-c", "for i in 1 2 3; do echo line$i; done; echo oops >&2; exit 3"}, nil, &stdout, &stderr)
	var exit *cluster.ExitError
	if !errors.As(err, &exit) || exit.Code != 3 {
		t.Fatalf("want exit 3, got %v", err)
	}
	if stdout.String() != "line1\nline2\nline3\n" || stderr.String() != "oops\n" {
		t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
	}

	// Streamed: the first line arrives before the command ends.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- c.Exec(ctx, "exec", "main", []string{"sh", "-c", "echo first; sleep 2; echo second"}, nil, pw, io.Discard)
		pw.Close()
	}()
	start := time.Now()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(pr, buf); err != nil || string(buf) != "first\n" {
		t.Fatalf("first line: %q %v", buf, err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Fatalf("first line took %v: output is not streamed", d)
	}
	rest, _ := io.ReadAll(pr)
	if err := <-done; err != nil || string(rest) != "second\n" {
		t.Fatalf("rest %q %v", rest, err)
	}

	stdout.Reset()
	if err := c.Exec(ctx, "exec", "main", []string{"cat"}, strings.NewReader("through stdin"), &stdout, nil); err != nil || stdout.String() != "through stdin" {
		t.Fatalf("stdin: %q %v", stdout.String(), err)
	}
	if err := c.Exec(ctx, "exec", "nope", []string{"true"}, nil, nil, nil); err == nil {
		t.Fatal("exec in a missing container succeeded")
	}

	pf, err := c.PortForward(ctx, "exec", 0, 8080)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	// Running is not listening: node may still be starting (seconds on a
	// loaded machine), and until then each forwarded connection is refused
	// in the pod and ends at once.
	var body []byte
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(pf.LocalPort))
		if err != nil {
			return false, nil
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return true, nil
	})
	if err != nil {
		t.Fatalf("the server in the pod never answered through the forward: %v", err)
	}
	if string(body) != "hello from pod" {
		t.Fatalf("port-forward body %q", body)
	}
}

// TestIntegrationStrategySwitches applies the Strategy setting both ways on
// the real API server: the server defaults a RollingUpdate's parameters, and
// refuses them beside Recreate, so a switch back works only when odod owns
// them (server-side apply then removes them).
func TestIntegrationStrategySwitches(t *testing.T) {
	tc := testcluster.Require(t)
	ns := tc.Namespace(t, "odod-strategy")
	c := connect(t, tc, ns)
	ctx := context.Background()
	builder, info := nodejsBuilder(t, c)
	kube := tc.Client(t)
	for _, strategy := range []string{config.StrategyRolling, config.StrategyRecreate, config.StrategyRolling, ""} {
		settings := config.New("web", "nodejs").ComponentSettings
		settings.Strategy = strategy
		objs, err := cluster.Desired(cluster.ComponentSpec{
			Namespace: ns, Settings: settings, Builder: builder, Image: info,
			InitImage: tc.Registry + "/odod/init-does-not-exist:none", ManagedByVersion: "integration",
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Apply(ctx, objs, cluster.ApplyOptions{}); err != nil {
			t.Fatalf("Strategy %q: apply: %v", strategy, err)
		}
		d, err := kube.AppsV1().Deployments(ns).Get(ctx, "web-app", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := appsv1.RecreateDeploymentStrategyType
		if strategy == config.StrategyRolling {
			want = appsv1.RollingUpdateDeploymentStrategyType
		}
		if d.Spec.Strategy.Type != want || (want == appsv1.RecreateDeploymentStrategyType) != (d.Spec.Strategy.RollingUpdate == nil) {
			t.Fatalf("Strategy %q: the cluster holds %+v", strategy, d.Spec.Strategy)
		}
	}
}

// nodejsBuilder resolves the catalog's nodejs builder and reads its image.
func nodejsBuilder(t *testing.T, c *cluster.Client) (cluster.Builder, cluster.ImageInfo) {
	t.Helper()
	ctx := context.Background()
	builder, err := c.ResolveType(ctx, "nodejs")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cluster.NewRegistryInspector().Inspect(ctx, builder.Image)
	if err != nil {
		t.Fatal(err)
	}
	return builder, info
}
