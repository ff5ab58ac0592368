package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	appsv1os "github.com/openshift/api/apps/v1"
	routev1 "github.com/openshift/api/route/v1"
	appsfake "github.com/openshift/client-go/apps/clientset/versioned/fake"
	routefake "github.com/openshift/client-go/route/clientset/versioned/fake"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
)

func componentLabels(name, app string) map[string]string {
	return map[string]string{cluster.LabelInstance: name, cluster.LabelPartOf: app, cluster.LabelManagedBy: "odod"}
}

// waitGoroutines waits (at most 10 s) until no more than n goroutines
// run, and fails with their stacks otherwise.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines still run, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// didChange waits for an odod/cluster/didChange after seq matching pred.
func (c *client) didChange(after uint64, pred func(protocol.ClusterDidChangeParams) bool) protocol.ClusterDidChangeParams {
	c.t.Helper()
	var got protocol.ClusterDidChangeParams
	c.waitNotification(protocol.MethodClusterDidChange, func(raw json.RawMessage) bool {
		var p protocol.ClusterDidChangeParams
		if err := json.Unmarshal(raw, &p); err != nil || p.Seq <= after || !pred(p) {
			return false
		}
		got = p
		return true
	})
	return got
}

func hasChange(p protocol.ClusterDidChangeParams, kind, name string, typ protocol.ChangeType) bool {
	for _, ch := range p.Changes {
		if ch.Kind == kind && ch.Name == name && ch.Type == typ {
			return true
		}
	}
	return false
}

func TestClusterWatch(t *testing.T) {
	// Counted first, while nothing else of this test runs, and from settled
	// numbers: goroutines of earlier tests (or of this test's connection)
	// still ending while it counted made the count one short under -race.
	perConnection := goroutinesOfAConnection(t)
	before := settledGoroutines()
	kube := kubefake.NewClientset(namespace("team-a"), namespace("team-b"))
	clusters := newFakeClusters(t, func(_ context.Context, ns string) (Cluster, error) { return fakeCluster(ns, kube), nil })
	c := startServer(t, Options{Clusters: clusters, ClusterWatchWindow: 20 * time.Millisecond})
	c.initialize(nil, false)
	ctx := context.Background()

	// What is there before the watch is not reported as a change.
	old := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "old-shop", Namespace: "team-a", Labels: componentLabels("old", "shop")}}
	if _, err := kube.CoreV1().Services("team-a").Create(ctx, old, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var res protocol.ClusterWatchResult
	if err := c.call(protocol.MethodClusterWatch, nil, &res); err != nil {
		t.Fatal(err)
	}
	if !res.Active || res.Namespace != "team-a" || res.Context != "dev" || res.WindowMs != 20 {
		t.Fatalf("cluster/watch = %+v", res)
	}
	if err := c.call(protocol.MethodClusterWatch, nil, &res); err != nil || !res.Active {
		t.Fatalf("a second cluster/watch = %+v, %v", res, err)
	}

	// A component appears: its Deployment and Pod; an unlabelled
	// Deployment beside it is not reported.
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web-shop", Namespace: "team-a", Labels: componentLabels("web", "shop")}}
	if _, err := kube.AppsV1().Deployments("team-a").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	other := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "not-ours", Namespace: "team-a", Labels: map[string]string{"app": "x"}}}
	if _, err := kube.AppsV1().Deployments("team-a").Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-shop-1", Namespace: "team-a", Labels: componentLabels("web", "shop")},
		Status: corev1.PodStatus{Phase: corev1.PodPending}}
	if _, err := kube.CoreV1().Pods("team-a").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]protocol.ClusterChange{}
	var last uint64
	for len(seen) < 2 {
		p := c.didChange(last, func(protocol.ClusterDidChangeParams) bool { return true })
		last = p.Seq
		if p.Namespace != "team-a" || p.Context != "dev" || len(p.Components) != 1 || p.Components[0] != (protocol.ComponentRefParams{Name: "web", App: "shop"}) {
			t.Fatalf("didChange = %+v", p)
		}
		for _, ch := range p.Changes {
			if ch.Name == "not-ours" || ch.Name == "old-shop" {
				t.Fatalf("reported %+v", ch)
			}
			seen[ch.Kind] = ch
		}
	}
	if seen["Deployment"].Type != protocol.ChangeAdded || seen["Pod"].State != "Pending" || seen["Pod"].Component != "web" {
		t.Fatalf("changes %+v", seen)
	}

	// The pod runs: a change of state. A change that shows nothing (an
	// annotation) is not reported.
	pod.Annotations = map[string]string{"x": "y"}
	if _, err := kube.CoreV1().Pods("team-a").Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodRunning
	if _, err := kube.CoreV1().Pods("team-a").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := c.didChange(last, func(protocol.ClusterDidChangeParams) bool { return true })
	if len(p.Changes) != 1 || p.Changes[0].Type != protocol.ChangeChanged || p.Changes[0].State != "Running" {
		t.Fatalf("didChange after the pod ran = %+v (an annotation alone must not be reported)", p)
	}
	last = p.Seq

	// It vanishes.
	if err := kube.AppsV1().Deployments("team-a").Delete(ctx, "web-shop", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p = c.didChange(last, func(p protocol.ClusterDidChangeParams) bool {
		return hasChange(p, "Deployment", "web-shop", protocol.ChangeDeleted)
	})
	last = p.Seq

	// The watch follows odod/project/set: a reset, then only team-b.
	if err := c.call(protocol.MethodProjectSet, protocol.ProjectNameParams{Name: "team-b"}, nil); err != nil {
		t.Fatal(err)
	}
	p = c.didChange(last, func(p protocol.ClusterDidChangeParams) bool { return p.Reset })
	if p.Namespace != "team-b" || len(p.Changes) != 0 || p.Error != nil {
		t.Fatalf("reset = %+v", p)
	}
	last = p.Seq
	if err := c.call(protocol.MethodClusterWatch, nil, &res); err != nil || res.Namespace != "team-b" {
		t.Fatalf("cluster/watch after project/set = %+v, %v", res, err)
	}
	for _, ns := range []string{"team-a", "team-b"} {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "api-" + ns, Namespace: ns, Labels: componentLabels("api", "shop")}}
		if _, err := kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	p = c.didChange(last, func(protocol.ClusterDidChangeParams) bool { return true })
	if p.Namespace != "team-b" || len(p.Changes) != 1 || p.Changes[0].Name != "api-team-b" {
		t.Fatalf("didChange after project/set = %+v", p)
	}
	last = p.Seq

	// Unwatch stops every goroutine it started, informers included.
	if err := c.call(protocol.MethodClusterUnwatch, nil, &res); err != nil || res.Active {
		t.Fatalf("cluster/unwatch = %+v, %v", res, err)
	}
	if err := c.call(protocol.MethodClusterUnwatch, nil, &res); err != nil {
		t.Fatalf("a second unwatch: %v", err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "late", Namespace: "team-b", Labels: componentLabels("late", "shop")}}
	if _, err := kube.CoreV1().Services("team-b").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A request's reply follows the notifications queued before it.
	if err := c.call(protocol.MethodStatus, nil, nil); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	for _, n := range c.notifications {
		if n.Method == protocol.MethodClusterDidChange {
			var p protocol.ClusterDidChangeParams
			_ = json.Unmarshal(*n.Params, &p)
			if p.Seq > last {
				c.mu.Unlock()
				t.Fatalf("didChange after unwatch: %+v", p)
			}
		}
	}
	c.mu.Unlock()
	waitGoroutines(t, before+perConnection)

	// A watch running when the connection ends stops with it.
	if err := c.call(protocol.MethodClusterWatch, nil, &res); err != nil || !res.Active {
		t.Fatalf("cluster/watch again = %+v, %v", res, err)
	}
	_ = c.conn.Close()
	c.exitCode()
	waitGoroutines(t, before)
}

// settledGoroutines is the number of goroutines once it has not changed
// for 200 ms (at most 5 s).
func settledGoroutines() int {
	n, since := runtime.NumGoroutine(), time.Now()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && time.Since(since) < 200*time.Millisecond; {
		time.Sleep(10 * time.Millisecond)
		if m := runtime.NumGoroutine(); m != n {
			n, since = m, time.Now()
		}
	}
	return n
}

// goroutinesOfAConnection is how many goroutines an idle test connection
// (server and client) runs.
func goroutinesOfAConnection(t *testing.T) int {
	t.Helper()
	before := settledGoroutines() // the previous tests' goroutines may still be ending
	c := startServer(t, Options{Clusters: newFakeClusters(t, nil)})
	c.initialize(nil, false)
	// The connection's goroutines start around initialize, some after its
	// reply: count once the number has held for a while.
	n := settledGoroutines() - before
	_ = c.conn.Close()
	c.exitCode()
	waitGoroutines(t, before)
	return n
}

func TestClusterWatchErrors(t *testing.T) {
	kube := kubefake.NewClientset(namespace("team-a"))
	clusters := newFakeClusters(t, nil)
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)
	expectCode(t, "watch an unreachable cluster", c.call(protocol.MethodClusterWatch, nil, nil), protocol.CodeClusterUnreachable)
	var res protocol.ClusterWatchResult
	if err := c.call(protocol.MethodClusterUnwatch, nil, &res); err != nil || res.Active {
		t.Fatalf("a failed watch is active: %+v, %v", res, err)
	}

	// A user who may not list pods there.
	kube.PrependReactor("list", "pods", func(k8stesting.Action) (bool, kruntime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no"))
	})
	clusters.mu.Lock()
	clusters.connect = func(_ context.Context, ns string) (Cluster, error) { return fakeCluster(ns, kube), nil }
	clusters.mu.Unlock()
	err := c.call(protocol.MethodClusterWatch, nil, nil)
	expectCode(t, "watch where pods may not be listed", err, protocol.CodeUnauthorized)
	if d := errorData(t, err); d.Reason != "Forbidden" {
		t.Fatalf("reason %q", d.Reason)
	}
}

// Within a window an object is reported once, its changes merged.
func TestClusterWatchCoalesces(t *testing.T) {
	w := newClusterWatch(nil, 0)
	w.pending = map[changeKey]cluster.ObjectChange{}
	ch := func(name string, typ cluster.ChangeType) cluster.ObjectChange {
		return cluster.ObjectChange{Kind: "Pod", Name: name, Component: "web", App: "shop", Type: typ}
	}
	w.add(ch("a", cluster.Added))
	w.add(ch("a", cluster.Changed))
	w.add(ch("b", cluster.Changed))
	w.add(ch("b", cluster.Deleted))
	w.add(ch("c", cluster.Added))
	w.add(ch("c", cluster.Deleted))
	want := map[string]cluster.ChangeType{"a": cluster.Added, "b": cluster.Deleted, "c": cluster.Deleted}
	if len(w.pending) != len(want) {
		t.Fatalf("pending %v", w.pending)
	}
	for name, typ := range want {
		if got := w.pending[changeKey{"Pod", name}].Type; got != typ {
			t.Errorf("%s: %s, want %s", name, got, typ)
		}
	}
	if w.window != defaultClusterWatchWindow {
		t.Fatalf("default window %s", w.window)
	}
}

// On OpenShift the watch covers DeploymentConfigs and Routes too.
func TestClusterWatchOnOpenShift(t *testing.T) {
	kube := kubefake.NewClientset(namespace("team-a"))
	apps := appsfake.NewClientset()
	routes := routefake.NewClientset()
	clusters := newFakeClusters(t, func(_ context.Context, ns string) (Cluster, error) {
		return cluster.New(cluster.Clientsets{Kube: kube, Apps: apps, Route: routes}, ns, cluster.Platform{DeploymentConfig: true, Route: true},
			cluster.WithImageInspector(&cluster.FakeImageInspector{}), cluster.WithExecer(&cluster.FakeExecer{})), nil
	})
	c := startServer(t, Options{Clusters: clusters, ClusterWatchWindow: 10 * time.Millisecond})
	c.initialize(nil, false)
	if err := c.call(protocol.MethodClusterWatch, nil, nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dc := &appsv1os.DeploymentConfig{ObjectMeta: metav1.ObjectMeta{Name: "web-shop", Namespace: "team-a", Labels: componentLabels("web", "shop")}}
	if _, err := apps.AppsV1().DeploymentConfigs("team-a").Create(ctx, dc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	route := &routev1.Route{ObjectMeta: metav1.ObjectMeta{Name: "site-shop", Namespace: "team-a", Labels: componentLabels("web", "shop")}}
	if _, err := routes.RouteV1().Routes("team-a").Create(ctx, route, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	c.waitNotification(protocol.MethodClusterDidChange, func(raw json.RawMessage) bool {
		var p protocol.ClusterDidChangeParams
		_ = json.Unmarshal(raw, &p)
		for _, ch := range p.Changes {
			seen[ch.Kind+"/"+ch.Name] = ch.Type == protocol.ChangeAdded
		}
		return seen["DeploymentConfig/web-shop"] && seen["Route/site-shop"]
	})
}

// A watch that cannot start again after a switch says why, with a code,
// and starts once it can.
func TestClusterWatchSwitchToAForbiddenNamespace(t *testing.T) {
	kube := kubefake.NewClientset(namespace("team-a"), namespace("team-b"))
	var forbidden atomic.Bool
	forbidden.Store(true)
	kube.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, kruntime.Object, error) {
		if a.GetNamespace() == "team-b" && forbidden.Load() {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no"))
		}
		return false, nil, nil
	})
	clusters := newFakeClusters(t, func(_ context.Context, ns string) (Cluster, error) { return fakeCluster(ns, kube), nil })
	c := startServer(t, Options{Clusters: clusters, ClusterWatchWindow: 10 * time.Millisecond})
	c.initialize(nil, false)
	if err := c.call(protocol.MethodClusterWatch, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call(protocol.MethodClusterUse, protocol.ClusterUseParams{Namespace: "team-b"}, nil); err != nil {
		t.Fatal(err)
	}
	p := c.didChange(0, func(p protocol.ClusterDidChangeParams) bool { return p.Reset })
	if p.Error == nil || p.Error.Code != protocol.CodeUnauthorized || p.Namespace != "team-b" || len(p.Error.Data.Suggestions) == 0 {
		t.Fatalf("reset into a forbidden namespace = %+v (error %+v)", p, p.Error)
	}
	forbidden.Store(false)
	if err := c.call(protocol.MethodClusterUse, protocol.ClusterUseParams{Namespace: "team-b"}, nil); err != nil {
		t.Fatal(err)
	}
	p = c.didChange(p.Seq, func(p protocol.ClusterDidChangeParams) bool { return p.Reset })
	if p.Error != nil || p.Namespace != "team-b" {
		t.Fatalf("reset once allowed = %+v", p)
	}
	var res protocol.ClusterWatchResult
	if err := c.call(protocol.MethodClusterWatch, nil, &res); err != nil || res.Namespace != "team-b" || !res.Active {
		t.Fatalf("cluster/watch = %+v, %v", res, err)
	}
}
