package component

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// phaseComponent is a component for one phase's test: its states are
// recorded, its index is a fake.
func phaseComponent(t *testing.T, opts Options) (*Component, *recorder) {
	t.Helper()
	rec := &recorder{}
	opts.Index = fakeIndex{root: t.TempDir()}
	opts.Hooks = rec.hooks()
	opts.InitImage = "init:test"
	c := New(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c, rec
}

func TestObjectsPhaseAppliesTheSettingsObjects(t *testing.T) {
	c, _ := phaseComponent(t, Options{})
	cfg := config.New("web", "nodejs")
	cfg.ComponentSettings.Ports = []string{"8080"}
	for _, tc := range []struct {
		name        string
		result      cluster.ApplyResult
		force       bool
		wantChanged bool
	}{
		{"created", cluster.ApplyResult{Created: []cluster.ObjectRef{{Kind: "Deployment", Name: "web-app"}}}, false, true},
		{"unchanged, forced", cluster.ApplyResult{Unchanged: []cluster.ObjectRef{{Kind: "Deployment", Name: "web-app"}}}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			applier := &fakeApplier{result: tc.result}
			got, err := c.applyObjects(context.Background(), struct {
				fakeResolver
				*fakeApplier
			}{fakeResolver{}, applier}, cfg, tc.force)
			if err != nil {
				t.Fatal(err)
			}
			if got.changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", got.changed, tc.wantChanged)
			}
			if got.paths.SrcOrBinPath != "/tmp" {
				t.Errorf("S2I source path %q, want /tmp (the image's destination label)", got.paths.SrcOrBinPath)
			}
			if len(applier.objs) != 1 || applier.objs[0].Deployment == nil || applier.opts[0].Force != tc.force {
				t.Fatalf("applied %d times (force %+v), want once with a Deployment and force %v", len(applier.objs), applier.opts, tc.force)
			}
		})
	}
}

func TestObjectsPhaseStopsAtAnUnknownType(t *testing.T) {
	c, _ := phaseComponent(t, Options{})
	applier := &fakeApplier{}
	_, err := c.applyObjects(context.Background(), struct {
		fakeResolver
		*fakeApplier
	}{fakeResolver{}, applier}, config.New("web", "cobol"), false)
	if cluster.KindOf(err) != cluster.KindNotFound || len(applier.objs) != 0 {
		t.Fatalf("unknown type: err %v, %d applies; want NotFound and none", err, len(applier.objs))
	}
}

func TestPodPhaseReportsWhyThePodIsStarting(t *testing.T) {
	c, rec := phaseComponent(t, Options{PodTimeout: 7 * time.Second})
	waiter := &fakePodWaiter{
		states: []cluster.PodStatus{{State: cluster.StateStarting, Reason: "ImagePullBackOff"}, {State: cluster.StateStarting}},
		pod:    cluster.Pod{Name: "web-1"},
	}
	var phases []protocol.PushPhase
	run := pushRun{c: c, id: "push-1", progress: func(p protocol.PushProgressParams) { phases = append(phases, p.Phase) }}
	pod, err := c.awaitPod(context.Background(), waiter, config.New("web", "nodejs"), true, run)
	if err != nil || pod.Name != "web-1" {
		t.Fatalf("awaitPod = %+v, %v", pod, err)
	}
	if len(waiter.asked) != 1 || waiter.asked[0].Timeout != 7*time.Second {
		t.Fatalf("wait options %+v, want the component's pod timeout", waiter.asked)
	}
	// Starting when waiting begins, then once per reason; a state without
	// a reason says nothing new.
	if want := []string{"Starting", "Starting"}; !reflect.DeepEqual(rec.states, want) {
		t.Fatalf("states %v, want %v", rec.states, want)
	}
	if want := []protocol.PushPhase{protocol.PhaseWait}; !reflect.DeepEqual(phases, want) {
		t.Fatalf("progress phases %v, want %v", phases, want)
	}

	waiter.err = &cluster.Error{Kind: cluster.KindTimeout, Message: "pod not ready"}
	if _, err := c.awaitPod(context.Background(), waiter, config.New("web", "nodejs"), false, run); !errors.As(err, new(*cluster.Error)) {
		t.Fatalf("a pod that does not start: %v, want the cluster's error", err)
	}
}

func TestMergeByName(t *testing.T) {
	type item struct {
		name, from string
		state      protocol.SettingState
	}
	local := []item{{name: "b", from: "settings"}, {name: "a", from: "settings"}}
	remote := []item{{name: "c", from: "cluster"}, {name: "b", from: "cluster"}}
	got := mergeByName(local, remote, func(i item) string { return i.name },
		func(l, r item) item { return item{name: l.name, from: l.from + "+" + r.from} },
		func(i *item) *protocol.SettingState { return &i.state })
	want := []item{
		{"a", "settings", protocol.SettingNotPushed},
		{"b", "settings+cluster", protocol.SettingPushed},
		{"c", "cluster", protocol.SettingLocallyDeleted},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merged %+v\nwant   %+v", got, want)
	}
}

func TestSettingsListWithoutAnIndex(t *testing.T) {
	root := t.TempDir()
	cfg := config.New("web", "nodejs")
	cfg.ComponentSettings.Ports = []string{"8080"}
	cfg.ComponentSettings.URL = []config.ConfigURL{{Name: "site", Port: 8080}}
	if err := config.Save(root, cfg); err != nil {
		t.Fatal(err)
	}
	cl := &fakeCluster{
		urls:    []cluster.URL{{Name: "site", Kind: "Route", Host: "site.example", URL: "http://site.example", Port: 8080}, {Name: "old", Kind: "Route", Port: 8080}},
		storage: []cluster.Storage{{Name: "cache", Path: "/cache", Size: "1Gi"}},
	}
	s := NewSettings(SettingsOptions{Root: root, Connect: func(context.Context, string) (Cluster, error) { return cl, nil }})
	if err := s.AddStorage("data", "/data", "2Gi"); err != nil {
		t.Fatal(err)
	}
	urls, err := s.ListURLs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantURLs := []protocol.URL{
		{Name: "old", Kind: "Route", Port: 8080, State: protocol.SettingLocallyDeleted},
		{Name: "site", Kind: "Route", Host: "site.example", URL: "http://site.example", Port: 8080, State: protocol.SettingPushed},
	}
	if !reflect.DeepEqual(urls, wantURLs) {
		t.Fatalf("urls %+v\nwant %+v", urls, wantURLs)
	}
	st, err := s.ListStorage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantStorage := []protocol.Storage{
		{Name: "cache", Path: "/cache", Size: "1Gi", State: protocol.SettingLocallyDeleted},
		{Name: "data", Path: "/data", Size: "2Gi", State: protocol.SettingNotPushed},
	}
	if !reflect.DeepEqual(st, wantStorage) {
		t.Fatalf("storage %+v\nwant %+v", st, wantStorage)
	}
}

// interruptingLogs follows logs that break once and come back.
type interruptingLogs struct{}

func (interruptingLogs) FollowLogs(_ context.Context, _ cluster.ComponentRef, opts cluster.LogOptions, emit func(cluster.LogLine)) error {
	emit(cluster.LogLine{Pod: "p1", Text: "before"})
	opts.Interrupted(&cluster.Error{Kind: cluster.KindUnreachable, Message: "the cluster did not answer"}, 4*time.Second)
	opts.Interrupted(nil, 0)
	emit(cluster.LogLine{Pod: "p1", Text: "after"})
	return nil
}

// The editor is told, in the subscription's own stream, when following the
// logs is interrupted and when it goes on.
func TestFollowLogsTellsAnInterruption(t *testing.T) {
	var got []string
	err := followLogs(context.Background(), interruptingLogs{}, config.New("web", "nodejs"), 0, "logs-1", func(p protocol.LogParams) {
		if p.SubscriptionID != "logs-1" {
			t.Errorf("line without its subscription: %+v", p)
		}
		got = append(got, string(p.Source)+": "+p.Text)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"app: before",
		"odod: odod: following the logs is interrupted: the cluster did not answer; retrying in 4s",
		"odod: odod: following the logs again",
		"app: after",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lines:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
