package daemon

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

func TestLinkMethodsOnAFakeCluster(t *testing.T) {
	kube := kubefake.NewClientset(
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "api-app", Namespace: "team-a",
			Labels: map[string]string{"app.kubernetes.io/instance": "api", "app.kubernetes.io/part-of": "app"}},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}, {Port: 9090}}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "postgres", Namespace: "team-a"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}},
	)
	clusters := newFakeClusters(t, connectTo(fakeCluster("team-a", kube)))
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)
	ws, dir := openComponent(t, c)

	var res protocol.LinkResult
	if err := c.call(protocol.MethodLink, protocol.LinkParams{WorkspaceID: ws, To: "api", Port: 9090}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Link.Secret != "api-app-9090" || res.Link.Kind != "component" || res.Pod != "" {
		t.Fatalf("odod/link = %+v", res)
	}
	if err := c.call(protocol.MethodLink, protocol.LinkParams{WorkspaceID: ws, To: "postgres"}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Link.Secret != "web-app-link-postgres-5432" || res.Link.Port != 5432 {
		t.Fatalf("odod/link to a Service = %+v", res)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ComponentSettings.Link) != 2 {
		t.Fatalf("links saved: %+v", cfg.ComponentSettings.Link)
	}
	var d protocol.DescribeResult
	if err := c.call(protocol.MethodComponentDescribe, protocol.WorkspaceParams{WorkspaceID: ws}, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Links) != 2 || d.Links[0].Name != "api" || d.Links[1].Name != "postgres" {
		t.Fatalf("describe's links = %+v", d.Links)
	}
	if err := c.call(protocol.MethodUnlink, protocol.UnlinkParams{WorkspaceID: ws, To: "api"}, &res); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		method string
		params any
		code   int64
		says   string
	}{
		{"unknown target", protocol.MethodLink, protocol.LinkParams{WorkspaceID: ws, To: "cache"}, protocol.CodeNotFound, "api (component, ports 8080, 9090); postgres (service, ports 5432)"},
		{"port not exposed", protocol.MethodLink, protocol.LinkParams{WorkspaceID: ws, To: "api", Port: 80}, protocol.CodeInvalidParams, "8080, 9090"},
		{"several ports", protocol.MethodLink, protocol.LinkParams{WorkspaceID: ws, To: "api"}, protocol.CodeInvalidParams, "port"},
		{"no target", protocol.MethodLink, protocol.LinkParams{WorkspaceID: ws}, protocol.CodeInvalidParams, "odod/component/list"},
		{"not linked", protocol.MethodUnlink, protocol.UnlinkParams{WorkspaceID: ws, To: "api"}, protocol.CodeNotFound, "describe"},
		{"not debugging", protocol.MethodDebugStop, protocol.WorkspaceParams{WorkspaceID: ws}, protocol.CodeNotFound, "debug/start"},
	} {
		err := c.call(tc.method, tc.params, nil)
		if got := rpcCode(t, err); got != tc.code {
			t.Errorf("%s: code %d (%v), want %d", tc.name, got, err, tc.code)
			continue
		}
		d := errorData(t, err)
		if len(d.Suggestions) == 0 || !strings.Contains(err.Error()+d.Suggestions[0].Action, tc.says) {
			t.Errorf("%s: %v %+v does not say %q", tc.name, err, d, tc.says)
		}
	}
	var info protocol.DebugInfoResult
	if err := c.call(protocol.MethodDebugInfo, protocol.WorkspaceParams{WorkspaceID: ws}, &info); err != nil {
		t.Fatal(err)
	}
	if info.Session != nil || info.DebugPort != 5858 || !info.DevMode {
		t.Fatalf("debug/info = %+v", info)
	}
}
