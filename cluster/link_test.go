package cluster

import (
	"context"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/odod-dev/odod/config"
)

// TestDesiredLinks: a link to a component reaches the app container
// through the target's per-port Secret; a link to a plain Service through
// a Secret of the linking component with odo's keys.
func TestDesiredLinks(t *testing.T) {
	spec := nodejsSpec()
	spec.Settings.Link = []config.ComponentLink{
		{Name: "backend", Port: 8080},
		{Name: "postgres", Port: 5432, Kind: config.LinkService},
	}
	objs, err := Desired(spec)
	if err != nil {
		t.Fatal(err)
	}
	c := objs.Deployment.Spec.Template.Spec.Containers[0]
	var got []string
	for _, e := range c.EnvFrom {
		got = append(got, e.SecretRef.Name)
	}
	want := []string{"backend-shop-8080", "frontend-shop-link-postgres-5432"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("envFrom = %v, want %v", got, want)
	}
	var linkSecret *corev1.Secret
	for _, s := range objs.Secrets {
		if s.Name == want[1] {
			linkSecret = s
		}
	}
	if linkSecret == nil {
		t.Fatalf("no Secret %s among %d", want[1], len(objs.Secrets))
	}
	if h, p := string(linkSecret.Data["COMPONENT_POSTGRES_HOST"]), string(linkSecret.Data["COMPONENT_POSTGRES_PORT"]); h != "postgres" || p != "5432" {
		t.Errorf("link Secret data = %q:%q, want postgres:5432", h, p)
	}
	if linkSecret.Labels[LabelInstance] != "frontend" || linkSecret.Labels[LabelManagedBy] != ManagedBy {
		t.Errorf("link Secret labels %v: it must be the linking component's, so that unlink prunes it", linkSecret.Labels)
	}

	// Without links, nothing of them.
	spec.Settings.Link = nil
	objs, err = Desired(spec)
	if err != nil {
		t.Fatal(err)
	}
	if ef := objs.Deployment.Spec.Template.Spec.Containers[0].EnvFrom; len(ef) != 0 {
		t.Errorf("envFrom without links = %v", ef)
	}
}

func TestLinkTargets(t *testing.T) {
	svc := func(name string, labels map[string]string, ports ...int32) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "dev", Labels: labels}}
		for _, p := range ports {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: p})
		}
		return s
	}
	comp := func(name, app string) map[string]string {
		return map[string]string{LabelInstance: name, LabelPartOf: app}
	}
	cl, _ := newFakeClient(t, "dev", false,
		svc("backend-shop", comp("backend", "shop"), 9090, 8080),
		svc("other-blog", comp("other", "blog"), 80),
		svc("postgres", nil, 5432),
	)
	got, err := cl.LinkTargets(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	want := []LinkTarget{
		{Name: "backend", Kind: config.LinkComponent, Service: "backend-shop", Ports: []int{8080, 9090}},
		{Name: "other-blog", Kind: config.LinkService, Service: "other-blog", Ports: []int{80}},
		{Name: "postgres", Kind: config.LinkService, Service: "postgres", Ports: []int{5432}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("LinkTargets = %+v\nwant %+v", got, want)
	}
}
