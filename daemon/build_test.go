package daemon

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
)

// deployedTwice is the component web-app in team-a at revision 2, with
// the ReplicaSets of revisions 1 and 2 and revision 2's running pod.
func deployedTwice() []runtime.Object {
	sel := map[string]string{"deployment": "web-app"}
	tmpl := func(image string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"deployment": "web-app"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web-app", Image: image}}}}
	}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web-app", Namespace: "team-a", UID: "d1",
		Annotations: map[string]string{cluster.AnnotationDeploymentRevision: "2"}},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: sel}, Template: tmpl("reg/web@sha256:2")}}
	objs := []runtime.Object{d}
	for _, rev := range []string{"1", "2"} {
		t := tmpl("reg/web@sha256:" + rev)
		t.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "h" + rev
		objs = append(objs, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-app-h" + rev, Namespace: "team-a", Labels: t.Labels,
			Annotations:     map[string]string{cluster.AnnotationDeploymentRevision: rev, cluster.AnnotationChangeCause: "build " + rev},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web-app", UID: "d1", Controller: ptr.To(true)}}},
			Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: sel}, Template: t}})
	}
	return append(objs, runningPodOf("2"))
}

// runningPodOf is the running pod of revision rev's ReplicaSet.
func runningPodOf(rev string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-app-h" + rev + "-abcde", Namespace: "team-a", UID: types.UID("p" + rev),
		Labels: map[string]string{"deployment": "web-app", appsv1.DefaultDeploymentUniqueLabelKey: "h" + rev,
			cluster.LabelPartOf: "app", cluster.LabelInstance: "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web-app", Image: "reg/web@sha256:" + rev}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "web-app", Ready: true,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}}
}

func TestHistoryRollbackAndBuildMethods(t *testing.T) {
	kube := kubefake.NewClientset(deployedTwice()...)
	c := startServer(t, Options{Clusters: newFakeClusters(t, connectTo(fakeCluster("team-a", kube)))})
	c.initialize(nil, false)
	ws, _ := openComponent(t, c)

	var hist protocol.ComponentHistoryResult
	if err := c.call(protocol.MethodComponentHistory, protocol.WorkspaceParams{WorkspaceID: ws}, &hist); err != nil {
		t.Fatal(err)
	}
	if hist.Workload != "Deployment" || len(hist.Revisions) != 2 || hist.Revisions[0].Cause != "build 1" || !hist.Revisions[1].Current {
		t.Fatalf("history %+v", hist)
	}

	// The deployment controller, which the fake lacks: once the template
	// is revision 1's again, revision 1's ReplicaSet runs a pod.
	controller := make(chan struct{})
	go func() {
		defer close(controller)
		for t.Context().Err() == nil {
			d, err := kube.AppsV1().Deployments("team-a").Get(t.Context(), "web-app", metav1.GetOptions{})
			if err == nil && d.Spec.Template.Spec.Containers[0].Image == "reg/web@sha256:1" {
				if _, err := kube.CoreV1().Pods("team-a").Create(t.Context(), runningPodOf("1"), metav1.CreateOptions{}); err != nil {
					t.Error(err)
				}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var rolled protocol.ComponentRollbackResult
	if err := c.call(protocol.MethodComponentRollback, protocol.ComponentRollbackParams{WorkspaceID: ws}, &rolled); err != nil {
		t.Fatal(err)
	}
	<-controller
	if rolled.RolledBackTo.Revision != 1 || rolled.RolledBackTo.Image != "reg/web@sha256:1" || rolled.Pod != "web-app-h1-abcde" {
		t.Fatalf("rollback %+v", rolled)
	}
	d, _ := kube.AppsV1().Deployments("team-a").Get(t.Context(), "web-app", metav1.GetOptions{})
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "reg/web@sha256:1" {
		t.Fatalf("Deployment runs %s after rollback", img)
	}

	err := c.call(protocol.MethodComponentRollback, protocol.ComponentRollbackParams{WorkspaceID: ws, Revision: 9}, nil)
	if code := rpcCode(t, err); code != protocol.CodeNotFound {
		t.Fatalf("unknown revision: %d %v", code, err)
	}
	// A build needs a registry on a cluster without a build API.
	err = c.call(protocol.MethodComponentBuild, protocol.ComponentBuildParams{WorkspaceID: ws}, nil)
	if code := rpcCode(t, err); code != protocol.CodeInvalidConfig || !strings.Contains(fmt.Sprint(errorData(t, err).Suggestions), "--registry") {
		t.Fatalf("build without a registry: %d %v", code, err)
	}
}
