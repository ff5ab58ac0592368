package cluster

import (
	"context"
	"testing"

	"github.com/odod-dev/odod/config"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func refs(rs []ObjectRef) map[ObjectRef]bool {
	m := map[ObjectRef]bool{}
	for _, r := range rs {
		m[r] = true
	}
	return m
}

func TestApplyCreatesThenNothingThenPrunes(t *testing.T) {
	ctx := context.Background()
	// A Deployment someone created before (odo, or kubectl) with a UID,
	// which the fake tracker does not assign on its own.
	c, f := newFakeClient(t, "dev", false, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "frontend-shop", Namespace: "dev", UID: "uid-1"}})
	spec := nodejsSpec()
	objs, err := Desired(spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Apply(ctx, objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != len(objs.All())-1 || len(res.Updated) != 1 || len(res.Unchanged)+len(res.Deleted) != 0 || res.WorkloadUID != "uid-1" {
		t.Fatalf("first apply: %+v", res)
	}
	if res.Workload != (ObjectRef{Kind: KindDeployment, Name: "frontend-shop"}) {
		t.Fatalf("workload %+v", res.Workload)
	}
	dep, err := f.kube.AppsV1().Deployments("dev").Get(ctx, "frontend-shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if dep.Annotations[AnnotationSpecHash] == "" {
		t.Fatal("no spec hash recorded")
	}
	svc, err := f.kube.CoreV1().Services("dev").Get(ctx, "frontend-shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.OwnerReferences) != 1 || svc.OwnerReferences[0].Kind != "Deployment" || svc.OwnerReferences[0].UID != dep.UID || svc.OwnerReferences[0].APIVersion != "apps/v1" {
		t.Fatalf("service owner refs %+v (deployment UID %q)", svc.OwnerReferences, dep.UID)
	}
	for _, mf := range svc.ManagedFields {
		if mf.Manager != FieldManager || mf.Operation != metav1.ManagedFieldsOperationApply {
			t.Fatalf("managed by %q with %q, want odod Apply", mf.Manager, mf.Operation)
		}
	}

	// Unchanged settings apply nothing: no patch is sent at all.
	f.kube.ClearActions()
	res, err = c.Apply(ctx, objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() || len(res.Unchanged) != len(objs.All()) {
		t.Fatalf("second apply changed things: %+v", res)
	}
	for _, a := range f.kube.Actions() {
		if a.GetVerb() == "patch" || a.GetVerb() == "create" || a.GetVerb() == "update" || a.GetVerb() == "delete" {
			t.Fatalf("unchanged apply wrote: %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}

	// A new env var changes only the workload; dropping the storage and
	// a port prunes their PVC and Secret; the s2idata PVC stays.
	spec.Settings.Envs = append(spec.Settings.Envs, config.EnvVar{Name: "NEW", Value: "1"})
	spec.Settings.Storage = nil
	spec.Settings.Ports = []string{"8080/TCP"}
	objs, err = Desired(spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.Apply(ctx, objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	upd := refs(res.Updated)
	if !upd[ObjectRef{KindDeployment, "frontend-shop"}] || !upd[ObjectRef{KindService, "frontend-shop"}] {
		t.Fatalf("updated %+v", res.Updated)
	}
	del := refs(res.Deleted)
	if !del[ObjectRef{KindPVC, "cache-shop-pvc"}] || !del[ObjectRef{KindSecret, "frontend-shop-9229"}] || len(del) != 2 {
		t.Fatalf("deleted %+v", res.Deleted)
	}
	if !refs(res.Unchanged)[ObjectRef{KindPVC, "frontend-shop-s2idata"}] {
		t.Fatalf("s2idata PVC not unchanged: %+v", res)
	}
	if _, err := f.kube.CoreV1().PersistentVolumeClaims("dev").Get(ctx, "cache-shop-pvc", metav1.GetOptions{}); err == nil {
		t.Fatal("storage PVC still there")
	}
	dep2, _ := f.kube.AppsV1().Deployments("dev").Get(ctx, "frontend-shop", metav1.GetOptions{})
	if dep2.Annotations[AnnotationSpecHash] == dep.Annotations[AnnotationSpecHash] {
		t.Fatal("hash did not change with the settings")
	}

	// Force re-applies everything.
	res, err = c.Apply(ctx, objs, ApplyOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != len(objs.All()) {
		t.Fatalf("forced apply: %+v", res)
	}
}

func TestApplyDeploymentConfigAndRoute(t *testing.T) {
	ctx := context.Background()
	c, f := newFakeClient(t, "proj", true)
	objs, err := Desired(javaDCSpec())
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Apply(ctx, objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Workload.Kind != KindDeploymentConfig {
		t.Fatalf("%+v", res)
	}
	dc, err := f.apps.AppsV1().DeploymentConfigs("proj").Get(ctx, "backend-app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	route, err := f.route.RouteV1().Routes("proj").Get(ctx, "api-app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if route.OwnerReferences[0].UID != dc.UID || route.OwnerReferences[0].APIVersion != "apps.openshift.io/v1" {
		t.Fatalf("route owner %+v", route.OwnerReferences)
	}
	// Without OpenShift, a DeploymentConfig is refused with a suggestion.
	plain, _ := newFakeClient(t, "proj", false)
	if _, err := plain.Apply(ctx, objs, ApplyOptions{}); KindOf(err) != KindInvalid {
		t.Fatalf("DC on plain Kubernetes: %v", err)
	}
}
