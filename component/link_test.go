package component

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// LinkTargets: a component backend with two ports and a plain Service.
func (f *fakeCluster) LinkTargets(context.Context, string) ([]cluster.LinkTarget, error) {
	return []cluster.LinkTarget{
		{Name: "backend", Kind: config.LinkComponent, Service: "backend-app", Ports: []int{8080, 9090}},
		{Name: "web", Kind: config.LinkComponent, Service: "web-app", Ports: []int{8080}},
		{Name: "postgres", Kind: config.LinkService, Service: "postgres", Ports: []int{5432}},
	}, nil
}

func linkSettings(t *testing.T) (*Settings, *fakeCluster, string) {
	t.Helper()
	root := t.TempDir()
	cfg := config.New("web", "nodejs")
	cfg.ComponentSettings.Ports = []string{"8080"}
	if err := config.Save(root, cfg); err != nil {
		t.Fatal(err)
	}
	cl := &fakeCluster{podUID: "uid-1"}
	return NewSettings(SettingsOptions{Root: root, Connect: func(context.Context, string) (Cluster, error) { return cl, nil }, InitImage: "init:test"}), cl, root
}

func wantCode(t *testing.T, err error, code int64, reason string, says ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %d %s", code, reason)
	}
	e := Coded(err)
	if e.Code != code || e.Reason != reason {
		t.Fatalf("error %d %s (%v), want %d %s", e.Code, e.Reason, err, code, reason)
	}
	for _, s := range says {
		if !strings.Contains(e.Error(), s) {
			t.Errorf("error %q does not say %q", e.Error(), s)
		}
	}
}

func TestLinkBadTargets(t *testing.T) {
	s, _, root := linkSettings(t)
	ctx := context.Background()
	_, err := s.Link(ctx, "nope", 0)
	wantCode(t, err, protocol.CodeNotFound, "UnknownLinkTarget", `"nope"`, "backend (component, ports 8080, 9090)", "postgres (service, ports 5432)")
	if strings.Contains(Coded(err).Suggestion, "web (") {
		t.Errorf("the suggestion offers the component itself: %s", Coded(err).Suggestion)
	}
	_, err = s.Link(ctx, "backend", 0)
	wantCode(t, err, protocol.CodeInvalidParams, "PortRequired", "8080, 9090")
	_, err = s.Link(ctx, "backend", 1234)
	wantCode(t, err, protocol.CodeInvalidParams, "PortNotExposed", "1234", "ports 8080, 9090")
	_, err = s.Link(ctx, "web", 0)
	wantCode(t, err, protocol.CodeInvalidParams, "LinkToSelf")
	cfg, err := config.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ComponentSettings.Link) != 0 {
		t.Fatalf("a refused link was saved: %+v", cfg.ComponentSettings.Link)
	}
}

func TestLinkAndUnlink(t *testing.T) {
	s, cl, root := linkSettings(t)
	ctx := context.Background()

	// Not pushed: saved only, applied by the next push.
	res, err := s.Link(ctx, "backend", 9090)
	if err != nil {
		t.Fatal(err)
	}
	want := protocol.Link{Name: "backend", Kind: "component", Port: 9090, Secret: "backend-app-9090",
		Env: []string{"COMPONENT_BACKEND_HOST", "COMPONENT_BACKEND_PORT"}}
	if !reflect.DeepEqual(res, protocol.LinkResult{Link: want}) || cl.applied != 0 {
		t.Fatalf("Link = %+v (applied %d), want %+v and nothing applied", res, cl.applied, want)
	}

	// Pushed: applied at once, and the rolled pod is waited for.
	cl.applied = 1
	res, err = s.Link(ctx, "postgres", 0)
	if err != nil {
		t.Fatal(err)
	}
	wantPG := protocol.Link{Name: "postgres", Kind: "service", Port: 5432, Secret: "web-app-link-postgres-5432",
		Env: []string{"COMPONENT_POSTGRES_HOST", "COMPONENT_POSTGRES_PORT"}}
	if !reflect.DeepEqual(res, protocol.LinkResult{Link: wantPG, Pod: "pod-uid-1"}) || cl.applied != 2 {
		t.Fatalf("Link = %+v (applied %d), want %+v on pod-uid-1", res, cl.applied, wantPG)
	}
	links, err := s.Links()
	if err != nil || !reflect.DeepEqual(links, []protocol.Link{want, wantPG}) {
		t.Fatalf("Links = %+v, %v", links, err)
	}
	d, err := s.Describe(ctx)
	if err != nil || !reflect.DeepEqual(d.Links, []protocol.Link{want, wantPG}) {
		t.Fatalf("Describe's links = %+v, %v", d.Links, err)
	}

	res, err = s.Unlink(ctx, "backend")
	if err != nil || res.Link.Name != "backend" || res.Pod != "pod-uid-1" || cl.applied != 3 {
		t.Fatalf("Unlink = %+v, %v (applied %d)", res, err, cl.applied)
	}
	_, err = s.Unlink(ctx, "backend")
	wantCode(t, err, protocol.CodeNotFound, "NotLinked", "postgres")
	cfg, err := config.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ComponentSettings.Link; len(got) != 1 || got[0].Name != "postgres" || got[0].Kind != config.LinkService {
		t.Fatalf("links saved: %+v", got)
	}
}
