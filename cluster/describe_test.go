package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDescribeURLsStorageDelete(t *testing.T) {
	ctx := context.Background()
	c, f := newFakeClient(t, "dev", false)
	spec := nodejsSpec()
	objs, err := Desired(spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, objs, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	// Someone else's object with similar labels must survive Delete.
	other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "dev", Labels: map[string]string{LabelPartOf: "shop", LabelInstance: "backend"}}}
	if _, err := f.kube.CoreV1().Secrets("dev").Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ref := spec.Ref()
	d, err := c.Describe(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if d.Workload == nil || d.Workload.Name != "frontend-shop" || len(d.Objects) != len(objs.All()) {
		t.Fatalf("describe objects %+v", d)
	}
	if d.Pod.State != StateStarting || d.Pod.Reason != "RollingOut" {
		t.Fatalf("pod state %+v", d.Pod)
	}
	if len(d.URLs) != 1 || d.URLs[0] != (URL{Name: "web", Kind: KindIngress, Object: "web-shop", Host: "frontend.example.test", Port: 8080, URL: "http://frontend.example.test"}) {
		t.Fatalf("urls %+v", d.URLs)
	}
	if len(d.Storage) != 1 || d.Storage[0] != (Storage{Name: "cache", PVC: "cache-shop-pvc", Size: "2Gi", Path: "/cache"}) {
		t.Fatalf("storage %+v", d.Storage)
	}

	if err := c.DeleteURL(ctx, ref, "web"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteURL(ctx, ref, "web"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}

	deleted, err := c.Delete(ctx, ref, DeleteOptions{Wait: true, Timeout: 5 * time.Second, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(deleted) != len(objs.All())-1 {
		t.Fatalf("deleted %+v", deleted)
	}
	if _, err := f.kube.CoreV1().Secrets("dev").Get(ctx, "other", metav1.GetOptions{}); err != nil {
		t.Fatalf("another component's secret was deleted: %v", err)
	}
	d, err = c.Describe(ctx, ref)
	if err != nil || d.Workload != nil || d.Pod.State != StateAbsent || len(d.Objects) != 0 {
		t.Fatalf("after delete: %+v %v", d, err)
	}
}

func TestDeleteWaitTimesOut(t *testing.T) {
	ctx := context.Background()
	// A pod that never goes away (a finalizer the fake ignores is not
	// needed: the fake does not garbage-collect pods).
	pod := podOf("web-app-x-1", "new", 0, running())
	c, _ := newFakeClient(t, "ns", false, pod)
	_, err := c.Delete(ctx, waitRef, DeleteOptions{Wait: true, Timeout: 50 * time.Millisecond, PollInterval: 5 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "Pod/web-app-x-1") {
		t.Fatalf("want a timeout naming the pod, got %v", err)
	}
}

func TestFollowLogs(t *testing.T) {
	objs := append(rolledOut(), podOf("web-app-new-1", "new", 0, running()))
	c, _ := newFakeClient(t, "ns", false, objs...)
	ctx, cancel := context.WithCancel(context.Background())
	var lines []LogLine
	err := c.FollowLogs(ctx, waitRef, LogOptions{RetryInterval: time.Millisecond}, func(l LogLine) {
		lines = append(lines, l)
		cancel()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("stop: %v", err)
	}
	// The fake clientset answers every log request with "fake logs".
	if len(lines) == 0 || lines[0].Pod != "web-app-new-1" || lines[0].Container != "web-app" || lines[0].Text != "fake logs" {
		t.Fatalf("lines %+v", lines)
	}
}

func TestSplitTimestamp(t *testing.T) {
	ts, text := splitTimestamp("2024-05-01T10:00:00.123456789Z hello world")
	if text != "hello world" || ts.Nanosecond() != 123456789 {
		t.Fatalf("%v %q", ts, text)
	}
	ts, text = splitTimestamp("no stamp here")
	if !ts.IsZero() || text != "no stamp here" {
		t.Fatalf("%v %q", ts, text)
	}
}
