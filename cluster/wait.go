package cluster

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// PodState is the component's pod state as the protocol's
// component/stateChanged names it. Syncing and Building are the sync
// engine's; this package reports the others.
type PodState string

// Pod states.
const (
	StateAbsent   PodState = "Absent"
	StateStarting PodState = "Starting"
	StateRunning  PodState = "Running"
	StateError    PodState = "Error"
)

// PodStatus is one observation of the component's pod.
type PodStatus struct {
	State PodState
	// Pod is the pod's name, "" when there is none.
	Pod string
	// Reason is the cluster's reason (ContainerCreating, ImagePullBackOff,
	// FailedScheduling, …).
	Reason  string
	Message string
}

// Pod is a running pod of the component.
type Pod struct {
	Namespace string
	Name      string
	UID       types.UID
	// Container is the app container's name (<component>-<app>).
	Container string
	// ContainerID is the app container's runtime id: it changes when the
	// container restarts, which loses what was pushed into it (/tmp/src is
	// the container's own), though the pod stays.
	ContainerID string
	Node        string
	IP          string
}

// WaitOptions tune WaitForPod.
type WaitOptions struct {
	// Timeout bounds the wait; default 240 s, odo's.
	Timeout time.Duration
	// PendingGrace is how long an unschedulable pod (unbound or missing
	// PVC, no room) is given before the wait fails; default 60 s, since a
	// dynamically provisioned PVC takes a few seconds to bind.
	PendingGrace time.Duration
	// OnState is called on each change of state or reason.
	OnState func(PodStatus)
}

// DefaultPodTimeout is odo's waitForPodTimeOut.
const DefaultPodTimeout = 240 * time.Second

// fatalWaiting are container waiting reasons that will not fix
// themselves: the wait fails at once with the cluster's reason.
var fatalWaiting = map[string]bool{
	"ImagePullBackOff": true, "ErrImageNeverPull": true, "InvalidImageName": true,
	"CrashLoopBackOff": true, "CreateContainerConfigError": true, "CreateContainerError": true,
	"RunContainerError": true, "PreCreateHookError": true, "PostStartHookError": true,
}

// WaitForPod waits until the component's current pod (of the workload's
// latest rollout, not a pod on its way out) is Running with its
// containers ready, reporting state changes through opts.OnState. A pod
// that cannot start fails the wait with the cluster's reason and a
// suggestion: image pull failures and crash loops at once, an init
// container that exits non-zero at once, an unschedulable pod (unbound
// PVC) after opts.PendingGrace, anything else at opts.Timeout.
func (c *Client) WaitForPod(ctx context.Context, ref ComponentRef, opts WaitOptions) (Pod, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultPodTimeout
	}
	if opts.PendingGrace <= 0 {
		opts.PendingGrace = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	var last PodStatus
	report := func(st PodStatus) {
		if st == last {
			return
		}
		last = st
		if opts.OnState != nil {
			opts.OnState(st)
		}
	}
	fail := func(err *Error, pod string) (Pod, error) {
		report(PodStatus{State: StateError, Pod: pod, Reason: err.Reason, Message: err.Message})
		return Pod{}, err
	}

	sel := ref.Selector().String()
	pods := c.sets.Kube.CoreV1().Pods(c.namespace)
	var events <-chan struct{}
	stopWatch := func() {}
	defer func() { stopWatch() }()
	unschedulableSince := map[types.UID]time.Time{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return Pod{}, classify(err, "list the component's pods")
		}
		if events == nil {
			events, stopWatch = c.watchPods(ctx, sel, list.ResourceVersion)
		}
		current, rollout, err := c.currentPods(ctx, ref, list.Items)
		if err != nil {
			if KindOf(err) == KindNotFound {
				return fail(&Error{Kind: KindNotFound, Reason: "Absent", Message: fmt.Sprintf("component %s is not on the cluster", ref.Name),
					Suggestion: "push the component first"}, "")
			}
			return Pod{}, err
		}
		switch {
		case len(current) == 0 && rollout != "":
			report(PodStatus{State: StateStarting, Reason: rollout})
		case len(current) == 0:
			report(PodStatus{State: StateAbsent})
		default:
			p := current[0]
			st, fatal := c.podStatus(ctx, p, unschedulableSince, opts.PendingGrace)
			if fatal != nil {
				return fail(fatal, p.Name)
			}
			report(st)
			if st.State == StateRunning {
				return Pod{Namespace: p.Namespace, Name: p.Name, UID: p.UID, Container: ref.ObjectName(), ContainerID: containerID(p, ref.ObjectName()),
					Node: p.Spec.NodeName, IP: p.Status.PodIP}, nil
			}
		}
		select {
		case <-ctx.Done():
		case <-events:
		case <-tick.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := context.Cause(ctx); err != nil && ctx.Err() == context.Canceled {
		return Pod{}, err
	}
	reason := last.Reason
	if reason == "" {
		reason = string(last.State)
	}
	return fail(&Error{Kind: KindPodNotReady, Reason: reason,
		Message:    fmt.Sprintf("the pod of component %s did not start within %s (last state %s %s)", ref.Name, opts.Timeout, last.State, strings.TrimSpace(last.Reason+" "+last.Message)),
		Suggestion: "check the pod's events (kubectl describe pod -l " + sel + ") and the cluster's capacity, then push again"}, last.Pod)
}

// watchPods wakes the wait loop on pod events; it restarts the watch if
// the server closes it. The returned stop ends it.
func (c *Client) watchPods(ctx context.Context, selector, rv string) (<-chan struct{}, func()) {
	ctx, cancel := context.WithCancel(ctx)
	wake := make(chan struct{}, 1)
	go func() {
		for ctx.Err() == nil {
			w, err := c.sets.Kube.CoreV1().Pods(c.namespace).Watch(ctx, metav1.ListOptions{LabelSelector: selector, ResourceVersion: rv})
			if err != nil {
				select { // the ticker keeps the loop going; retry later
				case <-ctx.Done():
				case <-time.After(2 * time.Second):
				}
				continue
			}
			wakeOnEvents(ctx, w, wake)
			w.Stop()
			rv = ""
		}
	}()
	return wake, cancel
}

// wakeOnEvents signals wake on each of w's events until w ends or ctx is
// done. It does not rely on the watch ending with ctx: not every
// watch.Interface does (client-go's fakes do not), and its goroutine
// must end with the wait that started it.
func wakeOnEvents(ctx context.Context, w watch.Interface, wake chan<- struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-w.ResultChan():
			if !ok {
				return
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}
}

// currentPods are the pods of the workload's latest rollout, newest
// first, without terminating ones. rollout is a reason when the workload
// has not rolled out yet. A missing workload is a KindNotFound error.
func (c *Client) currentPods(ctx context.Context, ref ComponentRef, all []corev1.Pod) ([]corev1.Pod, string, error) {
	name := ref.ObjectName()
	keep, rollout, err := c.deploymentFilter(ctx, name)
	if apierrors.IsNotFound(err) && c.sets.Apps != nil {
		keep, rollout, err = c.deploymentConfigFilter(ctx, name)
	}
	if apierrors.IsNotFound(err) {
		return nil, "", notFound("workload %s not found", name)
	}
	if err != nil {
		return nil, "", classify(err, "read the component's workload")
	}
	var out []corev1.Pod
	for _, p := range all {
		if p.DeletionTimestamp == nil && keep(p) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[j].CreationTimestamp.Before(&out[i].CreationTimestamp) })
	return out, rollout, nil
}

func (c *Client) deploymentFilter(ctx context.Context, name string) (func(corev1.Pod) bool, string, error) {
	d, err := c.sets.Kube.AppsV1().Deployments(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, "", err
	}
	if d.Status.ObservedGeneration < d.Generation || d.Annotations["deployment.kubernetes.io/revision"] == "" {
		return func(corev1.Pod) bool { return false }, "RollingOut", nil
	}
	rsList, err := c.sets.Kube.AppsV1().ReplicaSets(c.namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(d.Spec.Selector.MatchLabels).String(),
	})
	if err != nil {
		return nil, "", err
	}
	// The rollout's ReplicaSet is the one whose pod template is the
	// Deployment's, as the deployment controller itself finds it. Neither
	// observedGeneration nor the revision annotation says it exists: a
	// changed template was seen observed, with the revision still the old
	// one, before its ReplicaSet was made (the wait then returned the old
	// pod).
	hash := ""
	for _, rs := range rsList.Items {
		if metav1.IsControlledBy(&rs, d) && sameTemplate(rs.Spec.Template, d.Spec.Template) {
			hash = rs.Labels["pod-template-hash"]
		}
	}
	if hash == "" {
		return func(corev1.Pod) bool { return false }, "RollingOut", nil
	}
	return func(p corev1.Pod) bool { return p.Labels["pod-template-hash"] == hash }, "", nil
}

// sameTemplate says whether a ReplicaSet's pod template is the
// Deployment's, but for the pod-template-hash label the controller adds.
func sameTemplate(rs, d corev1.PodTemplateSpec) bool {
	if rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != "" {
		rs.Labels = maps.Clone(rs.Labels)
		delete(rs.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	}
	return apiequality.Semantic.DeepEqual(rs, d)
}

func (c *Client) deploymentConfigFilter(ctx context.Context, name string) (func(corev1.Pod) bool, string, error) {
	dc, err := c.sets.Apps.AppsV1().DeploymentConfigs(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, "", err
	}
	if dc.Status.ObservedGeneration < dc.Generation || dc.Status.LatestVersion == 0 {
		return func(corev1.Pod) bool { return false }, "RollingOut", nil
	}
	latest := strconv.FormatInt(dc.Status.LatestVersion, 10)
	return func(p corev1.Pod) bool {
		return p.Annotations["openshift.io/deployment-config.latest-version"] == latest && p.Labels[PodLabelDeploymentConfig] == name
	}, "", nil
}

// podStatus classifies one pod; a non-nil *Error means it will not start.
func (c *Client) podStatus(ctx context.Context, p corev1.Pod, unschedulableSince map[types.UID]time.Time, grace time.Duration) (PodStatus, *Error) {
	st := PodStatus{State: StateStarting, Pod: p.Name, Reason: string(p.Status.Phase)}
	if p.Status.Phase == corev1.PodFailed {
		return st, &Error{Kind: KindPodNotReady, Reason: nonEmpty(p.Status.Reason, "Failed"), Message: fmt.Sprintf("pod %s failed: %s", p.Name, p.Status.Message),
			Suggestion: "push again to get a new pod; if it fails again, check the node's resources"}
	}
	images := map[string]string{}
	for _, ctr := range append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...) {
		images[ctr.Name] = ctr.Image
	}
	for _, cs := range p.Status.InitContainerStatuses {
		if err := containerFailure(p.Name, cs, images[cs.Name], true); err != nil {
			return st, err
		}
		if w := cs.State.Waiting; w != nil && st.Reason == string(p.Status.Phase) {
			st.Reason, st.Message = "Init:"+w.Reason, w.Message
		}
	}
	allReady := len(p.Status.ContainerStatuses) > 0
	for _, cs := range p.Status.ContainerStatuses {
		if err := containerFailure(p.Name, cs, images[cs.Name], false); err != nil {
			return st, err
		}
		if w := cs.State.Waiting; w != nil && (st.Reason == string(p.Status.Phase) || st.Reason == "Init:PodInitializing") {
			st.Reason, st.Message = w.Reason, w.Message
		}
		allReady = allReady && cs.Ready && cs.State.Running != nil
	}
	if p.Status.Phase == corev1.PodRunning && allReady {
		return PodStatus{State: StateRunning, Pod: p.Name}, nil
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type != corev1.PodScheduled || cond.Status != corev1.ConditionFalse {
			continue
		}
		st.Reason, st.Message = nonEmpty(cond.Reason, "Unschedulable"), cond.Message
		since, seen := unschedulableSince[p.UID]
		if !seen {
			unschedulableSince[p.UID] = c.now()
			break
		}
		if c.now().Sub(since) >= grace {
			return st, c.unschedulable(ctx, p, cond, grace)
		}
	}
	return st, nil
}

// containerFailure reports a container that will not start by itself.
func containerFailure(pod string, cs corev1.ContainerStatus, image string, isInit bool) *Error {
	what := "container " + cs.Name
	if isInit {
		what = "init container " + cs.Name
	}
	if w := cs.State.Waiting; w != nil && fatalWaiting[w.Reason] {
		e := &Error{Kind: KindPodNotReady, Reason: w.Reason, Message: fmt.Sprintf("pod %s: %s: %s", pod, what, strings.TrimSpace(w.Message))}
		switch w.Reason {
		case "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName":
			e.Message = fmt.Sprintf("pod %s: %s cannot pull image %s: %s", pod, what, image, strings.TrimSpace(w.Message))
			e.Suggestion = "check that the image exists and that the cluster can reach its registry; odod's init image must be pushed to a registry the cluster pulls from (odod init-image)"
		case "CrashLoopBackOff":
			if t := cs.LastTerminationState.Terminated; t != nil {
				e.Message += fmt.Sprintf(" (last exit code %d, %s)", t.ExitCode, nonEmpty(t.Reason, "Error"))
			}
			e.Suggestion = fmt.Sprintf("read the container's output: kubectl logs %s -c %s --previous", pod, cs.Name)
		default:
			e.Suggestion = "check the environment variables, storage and ports in .odo/config.yaml, then push again"
		}
		return e
	}
	if isInit {
		for _, t := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
			if t != nil && t.ExitCode != 0 {
				return &Error{Kind: KindPodNotReady, Reason: nonEmpty(t.Reason, "InitContainerFailed"),
					Message:    fmt.Sprintf("pod %s: %s exited with code %d: %s", pod, what, t.ExitCode, strings.TrimSpace(t.Message)),
					Suggestion: fmt.Sprintf("read its output: kubectl logs %s -c %s", pod, cs.Name)}
			}
		}
	}
	return nil
}

// unschedulable explains a pod the scheduler cannot place, with the PVC's
// own events when a claim is the cause.
func (c *Client) unschedulable(ctx context.Context, p corev1.Pod, cond corev1.PodCondition, grace time.Duration) *Error {
	e := &Error{Kind: KindPodNotReady, Reason: nonEmpty(cond.Reason, "Unschedulable"),
		Message:    fmt.Sprintf("pod %s could not be scheduled for %s: %s", p.Name, grace, cond.Message),
		Suggestion: "the cluster has no node with room for the pod: lower MinCPU/MinMemory in .odo/config.yaml or free capacity"}
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		claim := v.PersistentVolumeClaim.ClaimName
		pvc, err := c.sets.Kube.CoreV1().PersistentVolumeClaims(c.namespace).Get(ctx, claim, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			e.Reason, e.Message = "PVCNotFound", fmt.Sprintf("pod %s waits for PersistentVolumeClaim %s, which does not exist", p.Name, claim)
			e.Suggestion = "push again to recreate the component's objects"
			return e
		}
		if err != nil || pvc.Status.Phase == corev1.ClaimBound {
			continue
		}
		e.Reason = "PVCUnbound"
		e.Message = fmt.Sprintf("PersistentVolumeClaim %s is %s, so pod %s cannot be scheduled", claim, nonEmpty(string(pvc.Status.Phase), "Pending"), p.Name)
		if ev := c.latestEvent(ctx, "PersistentVolumeClaim", claim); ev != nil {
			e.Reason = ev.Reason
			e.Message += ": " + ev.Message
		}
		e.Suggestion = "the cluster could not provide a volume: ask its administrator for a default StorageClass (or a free PersistentVolume), or remove storage from .odo/config.yaml"
		return e
	}
	return e
}

func (c *Client) latestEvent(ctx context.Context, kind, name string) *corev1.Event {
	list, err := c.sets.Kube.CoreV1().Events(c.namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.SelectorFromSet(fields.Set{"involvedObject.kind": kind, "involvedObject.name": name}).String(),
	})
	if err != nil || len(list.Items) == 0 {
		return nil
	}
	latest := &list.Items[0]
	for i := range list.Items {
		if eventTime(&list.Items[i]).After(eventTime(latest)) {
			latest = &list.Items[i]
		}
	}
	return latest
}

func eventTime(e *corev1.Event) time.Time {
	if !e.LastTimestamp.IsZero() {
		return e.LastTimestamp.Time
	}
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// containerID is the runtime id of the pod's container name.
func containerID(p corev1.Pod, name string) string {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == name {
			return cs.ContainerID
		}
	}
	return ""
}
