package cluster

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
)

// interruption is one call of LogOptions.Interrupted.
type interruption struct {
	err     error
	retryIn time.Duration
}

func TestFollowLogsRidesOutAnAPIServerRestart(t *testing.T) {
	objs := append(rolledOut(), podOf("web-app-new-1", "new", 0, running()))
	c, f := newFakeClient(t, "ns", false, objs...)
	// The API server goes away for three pod lists, then comes back.
	var mu sync.Mutex
	failures := 3
	refused := &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/api/v1/namespaces/ns/pods", Err: syscall.ECONNREFUSED}
	f.kube.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			return true, nil, refused
		}
		return false, nil, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var lines []LogLine
	var told []interruption
	err := c.FollowLogs(ctx, waitRef, LogOptions{
		RetryInterval:    time.Millisecond,
		MaxRetryInterval: 3 * time.Millisecond,
		Interrupted:      func(err error, retryIn time.Duration) { told = append(told, interruption{err, retryIn}) },
	}, func(l LogLine) {
		lines = append(lines, l)
		cancel()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("FollowLogs: %v, want it to go on until cancelled", err)
	}
	if len(lines) == 0 || lines[0].Text != "fake logs" {
		t.Fatalf("no line after the API server came back: %+v", lines)
	}
	// Told of each failure, with a growing wait capped at the maximum,
	// then of the recovery.
	want := []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 0}
	if len(told) != len(want) {
		t.Fatalf("Interrupted calls %+v, want %d", told, len(want))
	}
	for i, w := range want {
		if told[i].retryIn != w {
			t.Errorf("call %d: retry in %v, want %v", i, told[i].retryIn, w)
		}
		if gotErr := told[i].err != nil; gotErr != (w != 0) {
			t.Errorf("call %d: err %v", i, told[i].err)
		}
	}
	if !errors.Is(told[0].err, ErrUnreachable) {
		t.Errorf("the failure is %v, want it classified as unreachable", told[0].err)
	}
}

func TestFollowLogsStopsOnAnswersThatStay(t *testing.T) {
	for name, fail := range map[string]error{
		"forbidden":    apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no access")),
		"unauthorized": apierrors.NewUnauthorized("the token expired"),
	} {
		t.Run(name, func(t *testing.T) {
			objs := append(rolledOut(), podOf("web-app-new-1", "new", 0, running()))
			c, f := newFakeClient(t, "ns", false, objs...)
			f.kube.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, fail })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := c.FollowLogs(ctx, waitRef, LogOptions{RetryInterval: time.Millisecond}, func(LogLine) {})
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("FollowLogs: %v, want ErrUnauthorized at once", err)
			}
		})
	}
	// The component deleted: its workload is gone.
	c, _ := newFakeClient(t, "ns", false, podOf("web-app-new-1", "new", 0, running()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.FollowLogs(ctx, waitRef, LogOptions{RetryInterval: time.Millisecond}, func(LogLine) {}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("FollowLogs of a deleted component: %v, want ErrNotFound", err)
	}
}
