package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	oappsv1 "github.com/openshift/api/apps/v1"

	"github.com/odod-dev/odod/config"
)

// Names and labels of odod's own S2I builds (clusters without a build
// API).
const (
	// LabelBuildOf marks a build pod with the component it builds; build
	// pods do not carry the component's selector labels, so no wait for
	// the component's pod ever finds one.
	LabelBuildOf = "odod.dev/build-of"
	// BuildContainerName is the build pod's one container.
	BuildContainerName = "build"
	// AnnotationChangeCause is kubectl's: the deployment controller copies
	// it to the ReplicaSet, and history shows it.
	AnnotationChangeCause = "kubernetes.io/change-cause"
	// AnnotationVCSURI and AnnotationVCSRef are odo's/OpenShift console's.
	AnnotationVCSURI = "app.openshift.io/vcs-uri"
	AnnotationVCSRef = "app.openshift.io/vcs-ref"
)

// buildPodIdle keeps the build container alive while odod execs the build
// into it; it ends on TERM.
const buildPodIdle = `trap 'exit 0' TERM; while :; do sleep 2; done`

// BuildPodSpec is a build pod: the builder image, idle, into which odod
// copies the sources and runs assemble.
type BuildPodSpec struct {
	Ref ComponentRef
	// Image is the builder image.
	Image string
	// Env is the build's environment (the component's variables).
	Env []corev1.EnvVar
	// Timeout bounds the wait for the pod to run; default DefaultPodTimeout.
	Timeout time.Duration
}

// BuildPodObject is the build pod StartBuildPod creates (pure).
func BuildPodObject(namespace string, spec BuildPodSpec) *corev1.Pod {
	name := truncateName(spec.Ref.ObjectName(), 63-len("-build-xxxxx")) + "-build-"
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: name,
			Namespace:    namespace,
			Labels:       map[string]string{LabelBuildOf: spec.Ref.ObjectName(), LabelManagedBy: ManagedBy},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: ptr.To[int64](2),
			AutomountServiceAccountToken:  ptr.To(false),
			Containers: []corev1.Container{{
				Name:            BuildContainerName,
				Image:           spec.Image,
				ImagePullPolicy: pullPolicy(spec.Image),
				Command:         []string{"/bin/sh", "-c", buildPodIdle},
				Env:             spec.Env,
			}},
		},
	}
}

// StartBuildPod creates a build pod and waits until it runs. The caller
// deletes it (DeleteBuildPod) whatever happens; on error the pod, if one
// was created, is deleted here.
func (c *Client) StartBuildPod(ctx context.Context, spec BuildPodSpec) (Pod, error) {
	created, err := c.sets.Kube.CoreV1().Pods(c.namespace).Create(ctx, BuildPodObject(c.namespace, spec), metav1.CreateOptions{FieldManager: ManagedBy})
	if err != nil {
		return Pod{}, classify(err, "create the build pod")
	}
	pod, err := c.waitBuildPod(ctx, created.Name, spec)
	if err != nil {
		c.DeleteBuildPod(created.Name)
		return Pod{}, err
	}
	return pod, nil
}

func (c *Client) waitBuildPod(ctx context.Context, name string, spec BuildPodSpec) (Pod, error) {
	timeout := spec.Timeout
	if timeout == 0 {
		timeout = DefaultPodTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	since := map[types.UID]time.Time{}
	for {
		p, err := c.sets.Kube.CoreV1().Pods(c.namespace).Get(wctx, name, metav1.GetOptions{})
		if err != nil && wctx.Err() == nil {
			return Pod{}, classify(err, "read the build pod")
		}
		if err == nil {
			st, perr := c.podStatus(wctx, *p, since, 60*time.Second)
			if perr != nil {
				perr.Message = "build pod: " + perr.Message
				return Pod{}, perr
			}
			if st.State == StateRunning {
				return Pod{Namespace: p.Namespace, Name: p.Name, UID: p.UID, Container: BuildContainerName,
					ContainerID: containerID(*p, BuildContainerName), Node: p.Spec.NodeName, IP: p.Status.PodIP}, nil
			}
		}
		select {
		case <-wctx.Done():
			if err := ctx.Err(); err != nil {
				return Pod{}, err
			}
			return Pod{}, &Error{Kind: KindTimeout, Message: fmt.Sprintf("build pod %s did not start within %s", name, timeout),
				Suggestion: "check the builder image and the cluster's capacity: kubectl describe pod " + name}
		case <-tick.C:
		}
	}
}

// DeleteBuildPod deletes a build pod, bounded in time and independent of
// the build's context (a cancelled build still cleans up).
func (c *Client) DeleteBuildPod(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.sets.Kube.CoreV1().Pods(c.namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
	if err != nil && !apierrors.IsNotFound(err) {
		c.log.Sugar().Warnf("delete build pod %s: %v", name, err)
	}
}

// BuiltImage is what a git component's workload runs instead of the
// builder image with odod's supervisor.
type BuiltImage struct {
	// Image is the built image by digest (registry/repo@sha256:…).
	Image string
	// Cause is the change-cause recorded on the workload (history).
	Cause string
	// SourceURL and SourceRef are the git repository and commit.
	SourceURL, SourceRef string
	// Strategy is the component's Strategy setting; empty: Rolling where
	// no storage is mounted, else Recreate.
	Strategy string
}

// ForBuiltImage turns a component's desired objects (Desired) into those
// of a component that runs a built image: no init containers, no
// supervisor, no s2idata PVC (the image holds the assembled application),
// the image's own command (its S2I run script), and, without storage that
// only one pod may mount, a rolling update, so that the running app keeps
// serving until the new one is ready and a rollout that fails leaves it
// running. A DeploymentConfig loses the ImageChange trigger on the builder
// stream, which would put the builder back.
func ForBuiltImage(objs *Objects, ref ComponentRef, built BuiltImage) {
	appRoot := ref.AppRootPVCName()
	var pvcs = objs.PVCs[:0:0]
	for _, p := range objs.PVCs {
		if p.Name != appRoot {
			pvcs = append(pvcs, p)
		}
	}
	objs.PVCs = pvcs
	annotate := func(m *metav1.ObjectMeta) {
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		if built.Cause != "" {
			m.Annotations[AnnotationChangeCause] = built.Cause
		}
		if built.SourceURL != "" {
			m.Annotations[AnnotationVCSURI] = built.SourceURL
		}
		if built.SourceRef != "" {
			m.Annotations[AnnotationVCSRef] = built.SourceRef
		}
	}
	strategy := config.ComponentSettings{Strategy: built.Strategy}
	if built.Strategy == "" && len(objs.PVCs) == 0 {
		strategy.Strategy = config.StrategyRolling
	}
	if d := objs.Deployment; d != nil {
		annotate(&d.ObjectMeta)
		runBuilt(&d.Spec.Template.Spec, ref, built.Image)
		d.Spec.Strategy = deploymentStrategy(strategy)
	}
	if dc := objs.DeploymentConfig; dc != nil {
		annotate(&dc.ObjectMeta)
		runBuilt(&dc.Spec.Template.Spec, ref, built.Image)
		dc.Spec.Strategy = dcStrategy(strategy)
		dc.Spec.Triggers = oappsv1.DeploymentTriggerPolicies{{Type: oappsv1.DeploymentTriggerOnConfigChange}}
	}
}

func runBuilt(pod *corev1.PodSpec, ref ComponentRef, image string) {
	drop := map[string]bool{SupervisordVolumeName: true, ref.AppRootPVCName(): true}
	pod.InitContainers = nil
	vols := pod.Volumes[:0:0]
	for _, v := range pod.Volumes {
		if !drop[v.Name] {
			vols = append(vols, v)
		}
	}
	pod.Volumes = vols
	for i := range pod.Containers {
		ctr := &pod.Containers[i]
		if ctr.Name != ref.ObjectName() {
			continue
		}
		ctr.Image, ctr.ImagePullPolicy = image, pullPolicy(image)
		ctr.Command, ctr.Args = nil, nil
		mounts := ctr.VolumeMounts[:0:0]
		for _, m := range ctr.VolumeMounts {
			if !drop[m.Name] {
				mounts = append(mounts, m)
			}
		}
		ctr.VolumeMounts = mounts
	}
}
