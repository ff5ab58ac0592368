package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

var waitRef = ComponentRef{Name: "web", App: "app"}

// waitTemplate is the pod template of the test Deployment at image.
func waitTemplate(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{PodLabelDeployment: "web-app"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web-app", Image: image}}}}
}

// waitReplicaSet is the test Deployment's ReplicaSet of revision rev, with
// pod-template-hash hash and the template at image.
func waitReplicaSet(name, hash, rev, image string) *appsv1.ReplicaSet {
	tmpl := waitTemplate(image)
	tmpl.Labels["pod-template-hash"] = hash
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns",
		Labels:          map[string]string{PodLabelDeployment: "web-app", "pod-template-hash": hash},
		Annotations:     map[string]string{"deployment.kubernetes.io/revision": rev},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web-app", UID: "d-uid", Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Template: tmpl}}
}

// rolledOut is a Deployment at image v2 whose controller made ReplicaSet
// revision 2 for it, with pod-template-hash "new" (revision 1, "old", was
// v1).
func rolledOut() []runtime.Object {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web-app", Namespace: "ns", UID: "d-uid", Generation: 2,
		Annotations: map[string]string{"deployment.kubernetes.io/revision": "2"}},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{PodLabelDeployment: "web-app"}},
			Template: waitTemplate("builder:v2")},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2}}
	return []runtime.Object{d, waitReplicaSet("web-app-old", "old", "1", "builder:v1"), waitReplicaSet("web-app-new", "new", "2", "builder:v2")}
}

// A changed template that the Deployment's status already calls observed,
// its revision still the old one, before the controller made its
// ReplicaSet (seen on the local cluster after odod unlink): the old pod is
// not the rollout's, and the wait returns the new one once it runs.
func TestWaitForPodWaitsForTheNewTemplatesReplicaSet(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web-app", Namespace: "ns", UID: "d-uid", Generation: 3,
		Annotations: map[string]string{"deployment.kubernetes.io/revision": "2"}},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{PodLabelDeployment: "web-app"}},
			Template: waitTemplate("builder:v3")},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3}}
	c, f := newFakeClient(t, "ns", false, d, waitReplicaSet("web-app-new", "new", "2", "builder:v2"), podOf("web-app-new-1", "new", time.Minute, running()))
	go func() {
		time.Sleep(300 * time.Millisecond)
		ctx := context.Background()
		if _, err := f.kube.AppsV1().ReplicaSets("ns").Create(ctx, waitReplicaSet("web-app-v3", "v3", "3", "builder:v3"), metav1.CreateOptions{}); err != nil {
			t.Error(err)
		}
		if _, err := f.kube.CoreV1().Pods("ns").Create(ctx, podOf("web-app-v3-1", "v3", 0, running()), metav1.CreateOptions{}); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := c.WaitForPod(ctx, waitRef, WaitOptions{})
	if err != nil || p.Name != "web-app-v3-1" {
		t.Fatalf("WaitForPod = %q, %v; want the new template's pod web-app-v3-1, not the old running one", p.Name, err)
	}
}

func podOf(name, hash string, age time.Duration, status corev1.PodStatus) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(time.Now().Add(-age)),
			Labels:            map[string]string{LabelPartOf: "app", LabelInstance: "web", PodLabelDeployment: "web-app", "pod-template-hash": hash}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: InitCopySupervisordName, Image: "127.0.0.1:5000/odod/init:missing"}},
			Containers:     []corev1.Container{{Name: "web-app", Image: "builder"}},
			Volumes:        []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "web-app-s2idata"}}}},
		},
		Status: status,
	}
}

func running() corev1.PodStatus {
	return corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.5", ContainerStatuses: []corev1.ContainerStatus{{
		Name: "web-app", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}
}

type stateLog struct {
	mu     sync.Mutex
	states []PodStatus
}

func (s *stateLog) add(st PodStatus) { s.mu.Lock(); s.states = append(s.states, st); s.mu.Unlock() }
func (s *stateLog) get() []PodStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PodStatus(nil), s.states...)
}

func TestWaitForPodPicksCurrentRollout(t *testing.T) {
	objs := rolledOut()
	objs = append(objs,
		podOf("web-app-old-1", "old", time.Minute, running()),
		podOf("web-app-new-2", "new", time.Second, corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "web-app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}}))
	c, f := newFakeClient(t, "ns", false, objs...)
	var log stateLog
	go func() {
		time.Sleep(200 * time.Millisecond)
		p, err := f.kube.CoreV1().Pods("ns").Get(context.Background(), "web-app-new-2", metav1.GetOptions{})
		if err != nil {
			t.Error(err)
			return
		}
		p.Status = running()
		if _, err := f.kube.CoreV1().Pods("ns").UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
			t.Error(err)
		}
	}()
	start := time.Now()
	pod, err := c.WaitForPod(context.Background(), waitRef, WaitOptions{Timeout: 10 * time.Second, OnState: log.add})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Name != "web-app-new-2" || pod.Container != "web-app" || pod.IP != "10.0.0.5" {
		t.Fatalf("pod %+v: the old rollout's pod must not be chosen", pod)
	}
	states := log.get()
	if len(states) != 2 || states[0].State != StateStarting || states[0].Reason != "ContainerCreating" || states[1].State != StateRunning {
		t.Fatalf("states %+v", states)
	}
	t.Logf("woke %v after the pod became ready (watch, not the 1 s tick, when under ~1s)", time.Since(start)-200*time.Millisecond)
}

func TestWaitForPodImagePullFailsAtOnce(t *testing.T) {
	objs := append(rolledOut(), podOf("web-app-new-1", "new", 0, corev1.PodStatus{Phase: corev1.PodPending,
		InitContainerStatuses: []corev1.ContainerStatus{{Name: InitCopySupervisordName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason: "ImagePullBackOff", Message: `Back-off pulling image "127.0.0.1:5000/odod/init:missing"`}}}}}))
	c, _ := newFakeClient(t, "ns", false, objs...)
	var log stateLog
	_, err := c.WaitForPod(context.Background(), waitRef, WaitOptions{Timeout: 30 * time.Second, OnState: log.add})
	var ce *Error
	if !errors.As(err, &ce) || ce.Reason != "ImagePullBackOff" || !errors.Is(err, ErrPodNotReady) {
		t.Fatalf("want ImagePullBackOff, got %v", err)
	}
	if !strings.Contains(ce.Message, "127.0.0.1:5000/odod/init:missing") || ce.Suggestion == "" {
		t.Fatalf("message lacks the image or a suggestion: %v", err)
	}
	states := log.get()
	if last := states[len(states)-1]; last.State != StateError || last.Reason != "ImagePullBackOff" {
		t.Fatalf("states %+v", states)
	}
}

func TestWaitForPodCrashLoopAndInitFailure(t *testing.T) {
	crash := corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "web-app",
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 127}}}}}
	c, _ := newFakeClient(t, "ns", false, append(rolledOut(), podOf("web-app-new-1", "new", 0, crash))...)
	_, err := c.WaitForPod(context.Background(), waitRef, WaitOptions{Timeout: 30 * time.Second})
	var ce *Error
	if !errors.As(err, &ce) || ce.Reason != "CrashLoopBackOff" || !strings.Contains(ce.Message, "exit code 127") {
		t.Fatalf("crash loop: %v", err)
	}

	initFail := corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{Name: InitCopySupervisordName,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "cp: no such file"}}}}}
	c, _ = newFakeClient(t, "ns", false, append(rolledOut(), podOf("web-app-new-1", "new", 0, initFail))...)
	_, err = c.WaitForPod(context.Background(), waitRef, WaitOptions{Timeout: 30 * time.Second})
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "init container copy-supervisord exited with code 1") {
		t.Fatalf("init failure: %v", err)
	}
}

func TestWaitForPodUnboundPVC(t *testing.T) {
	pending := corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: "Unschedulable", Message: "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."}}}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "web-app-s2idata", Namespace: "ns"}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: "ns"}, Reason: "FailedBinding",
		Message:        "no persistent volumes available for this claim and no storage class is set",
		InvolvedObject: corev1.ObjectReference{Kind: "PersistentVolumeClaim", Name: "web-app-s2idata", Namespace: "ns"}}
	c, _ := newFakeClient(t, "ns", false, append(rolledOut(), podOf("web-app-new-1", "new", 0, pending), pvc, ev)...)
	_, err := c.WaitForPod(context.Background(), waitRef, WaitOptions{Timeout: 30 * time.Second, PendingGrace: 10 * time.Millisecond})
	var ce *Error
	if !errors.As(err, &ce) || ce.Reason != "FailedBinding" || !strings.Contains(ce.Message, "no storage class is set") || !strings.Contains(ce.Suggestion, "StorageClass") {
		t.Fatalf("unbound PVC: %v", err)
	}
}

func TestWaitForPodTimeoutAndAbsent(t *testing.T) {
	creating := corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "web-app",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}}
	c, _ := newFakeClient(t, "ns", false, append(rolledOut(), podOf("web-app-new-1", "new", 0, creating))...)
	_, err := c.WaitForPod(context.Background(), waitRef, WaitOptions{Timeout: 300 * time.Millisecond})
	var ce *Error
	if !errors.As(err, &ce) || ce.Kind != KindPodNotReady || ce.Reason != "ContainerCreating" {
		t.Fatalf("timeout: %v", err)
	}

	empty, _ := newFakeClient(t, "ns", false)
	_, err = empty.WaitForPod(context.Background(), waitRef, WaitOptions{Timeout: time.Second})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("no workload: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _ = newFakeClient(t, "ns", false, rolledOut()...)
	if _, err := c.WaitForPod(ctx, waitRef, WaitOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
