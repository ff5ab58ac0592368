package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	oappsv1 "github.com/openshift/api/apps/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

func templateWith(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"deployment": "web-app"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web-app", Image: image}}},
	}
}

// twoRevisions is a Deployment at revision 2 (image v2) with the ReplicaSets
// of revisions 1 and 2, as the controller leaves them.
func twoRevisions() []runtime.Object {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web-app", Namespace: "dev", UID: "d-uid",
			Annotations: map[string]string{AnnotationDeploymentRevision: "2", AnnotationChangeCause: "odod push: v2", AnnotationSpecHash: "h2"}},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"deployment": "web-app"}}, Template: templateWith("reg/web@sha256:2")},
	}
	rs := func(name, rev, image, cause string, age time.Duration) *appsv1.ReplicaSet {
		tmpl := templateWith(image)
		tmpl.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = name
		return &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web-app-" + name, Namespace: "dev", Labels: tmpl.Labels,
				CreationTimestamp: metav1.NewTime(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC).Add(age)),
				Annotations:       map[string]string{AnnotationDeploymentRevision: rev, AnnotationChangeCause: cause, AnnotationSpecHash: "h" + rev},
				OwnerReferences:   []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web-app", UID: "d-uid", Controller: ptr.To(true)}}},
			Spec: appsv1.ReplicaSetSpec{Template: tmpl},
		}
	}
	other := rs("x", "9", "other", "", 0)
	other.OwnerReferences = nil // not the Deployment's
	return []runtime.Object{d, rs("a1", "1", "reg/web@sha256:1", "odod push: v1", 0), rs("b2", "2", "reg/web@sha256:2", "odod push: v2", time.Minute), other}
}

func TestHistoryListsTheReplicaSets(t *testing.T) {
	c, _ := newFakeClient(t, "dev", false, twoRevisions()...)
	kind, revs, err := c.History(context.Background(), ComponentRef{Name: "web", App: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if kind != "Deployment" || len(revs) != 2 {
		t.Fatalf("%s %+v", kind, revs)
	}
	if revs[0].Revision != 1 || revs[0].Image != "reg/web@sha256:1" || revs[0].Cause != "odod push: v1" || revs[0].Current ||
		revs[1].Revision != 2 || !revs[1].Current {
		t.Fatalf("revisions %+v", revs)
	}
	if _, _, err := c.History(context.Background(), ComponentRef{Name: "none", App: "app"}); KindOf(err) != KindNotFound {
		t.Fatalf("no workload: %v", err)
	}
}

func TestRollbackPatchesThePreviousTemplateBack(t *testing.T) {
	c, f := newFakeClient(t, "dev", false, twoRevisions()...)
	ref := ComponentRef{Name: "web", App: "app"}
	to, err := c.Rollback(context.Background(), ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	if to.Revision != 1 {
		t.Fatalf("rolled back to %+v, want revision 1", to)
	}
	d, err := f.kube.AppsV1().Deployments("dev").Get(context.Background(), "web-app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "reg/web@sha256:1" {
		t.Fatalf("template image %s", img)
	}
	if _, ok := d.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
		t.Fatal("pod-template-hash copied into the Deployment")
	}
	// The revision annotation stays the Deployment's; the cause is the
	// ReplicaSet's, as kubectl does.
	if d.Annotations[AnnotationDeploymentRevision] != "2" || d.Annotations[AnnotationChangeCause] != "odod push: v1" {
		t.Fatalf("annotations %v", d.Annotations)
	}
	var patched bool
	for _, a := range f.kube.Actions() {
		if p, ok := a.(k8stesting.PatchAction); ok && p.GetPatchType() == "application/json-patch+json" {
			patched = true
		}
	}
	if !patched {
		t.Fatal("no JSON patch sent")
	}

	// Asking for the current revision, an unknown one, or a negative one.
	if _, err := c.Rollback(context.Background(), ref, 2); !errors.Is(err, ErrRollbackSkipped) {
		t.Fatalf("current revision: %v", err)
	}
	if _, err := c.Rollback(context.Background(), ref, 7); KindOf(err) != KindNotFound {
		t.Fatalf("unknown revision: %v", err)
	}
	if _, err := c.Rollback(context.Background(), ref, -1); KindOf(err) != KindInvalid {
		t.Fatalf("negative revision: %v", err)
	}
}

func TestRollbackWithoutAnEarlierRevision(t *testing.T) {
	objs := twoRevisions()
	c, _ := newFakeClient(t, "dev", false, objs[0], objs[2])
	if _, err := c.Rollback(context.Background(), ComponentRef{Name: "web", App: "app"}, 0); KindOf(err) != KindNotFound {
		t.Fatalf("%v", err)
	}
}

func TestDeploymentConfigHistoryAndRollback(t *testing.T) {
	c, f := newFakeClient(t, "dev", true)
	ctx := context.Background()
	dc := &oappsv1.DeploymentConfig{ObjectMeta: metav1.ObjectMeta{Name: "web-app", Namespace: "dev"},
		Spec:   oappsv1.DeploymentConfigSpec{Template: ptr.To(templateWith("reg/web@sha256:2"))},
		Status: oappsv1.DeploymentConfigStatus{LatestVersion: 2}}
	if _, err := f.apps.AppsV1().DeploymentConfigs("dev").Create(ctx, dc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "2"} {
		tmpl := templateWith("reg/web@sha256:" + v)
		rc := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "web-app-" + v, Namespace: "dev",
			Labels:      map[string]string{"openshift.io/deployment-config.name": "web-app"},
			Annotations: map[string]string{AnnotationDCName: "web-app", AnnotationDCVersion: v, AnnotationDCCause: "image change"}},
			Spec: corev1.ReplicationControllerSpec{Template: &tmpl}}
		if _, err := f.kube.CoreV1().ReplicationControllers("dev").Create(ctx, rc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var asked *oappsv1.DeploymentConfigRollback
	f.apps.PrependReactor("create", "deploymentconfigs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "rollback" {
			return false, nil, nil
		}
		asked = a.(k8stesting.CreateAction).GetObject().(*oappsv1.DeploymentConfigRollback)
		out := dc.DeepCopy()
		out.Spec.Template = ptr.To(templateWith("reg/web@sha256:1"))
		return true, out, nil
	})
	ref := ComponentRef{Name: "web", App: "app"}
	kind, revs, err := c.History(ctx, ref)
	if err != nil || kind != "DeploymentConfig" || len(revs) != 2 || !revs[1].Current || revs[0].Image != "reg/web@sha256:1" {
		t.Fatalf("%s %+v %v", kind, revs, err)
	}
	to, err := c.Rollback(ctx, ref, 0)
	if err != nil || to.Revision != 1 {
		t.Fatalf("%+v %v", to, err)
	}
	if asked == nil || asked.Spec.Revision != 1 || !asked.Spec.IncludeTemplate {
		t.Fatalf("rollback request %+v", asked)
	}
	got, _ := f.apps.AppsV1().DeploymentConfigs("dev").Get(ctx, "web-app", metav1.GetOptions{})
	if got.Spec.Template.Spec.Containers[0].Image != "reg/web@sha256:1" {
		t.Fatalf("config not updated: %+v", got.Spec.Template)
	}
}
