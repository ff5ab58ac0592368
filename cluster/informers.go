package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	appsv1os "github.com/openshift/api/apps/v1"
	routev1 "github.com/openshift/api/route/v1"
	appsinformers "github.com/openshift/client-go/apps/informers/externalversions"
	routeinformers "github.com/openshift/client-go/route/informers/externalversions"
	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// ChangeType says what happened to an object.
type ChangeType string

// Change types.
const (
	Added   ChangeType = "added"
	Changed ChangeType = "changed"
	Deleted ChangeType = "deleted"
)

// ObjectChange is one change of a component's object that an informer
// saw.
type ObjectChange struct {
	// Kind is Deployment, DeploymentConfig, Service, Route, Ingress,
	// PersistentVolumeClaim or Pod.
	Kind string
	Name string
	// Component and App are the instance and part-of labels.
	Component string
	App       string
	Type      ChangeType
	// State is a Pod's or PersistentVolumeClaim's phase (a Pod's
	// waiting reason, or Terminating, when it has one).
	State string
}

// ComponentWatch is a running WatchComponents; Stop ends it.
type ComponentWatch struct {
	cancel    context.CancelFunc
	factories []interface{ Shutdown() }
	once      sync.Once
}

// Stop stops the informers and returns once their goroutines have ended:
// onChange is not called after it returns.
func (w *ComponentWatch) Stop() {
	w.once.Do(func() {
		w.cancel()
		for _, f := range w.factories {
			f.Shutdown()
		}
	})
}

// watched is one informer and how to read its objects.
type watched struct {
	kind     string
	informer cache.SharedIndexInformer
}

// WatchComponents runs informers on the client's namespace for the
// objects of components (odo's and odod's: the instance and part-of
// labels): Deployments, DeploymentConfigs where served, Services, Routes
// where served, Ingresses, PersistentVolumeClaims and Pods. It returns
// once their caches hold the namespace's objects; from then on onChange
// is called for each object that appears, vanishes, or changes in a way
// the tree shows (a pod's phase and readiness, a workload's ready
// replicas, a claim's phase, a spec), from the informers' goroutines,
// until Stop. A user who may not list or watch one of these kinds gets
// KindUnauthorized naming it; caches that do not fill before ctx's
// deadline, KindUnreachable.
func (c *Client) WatchComponents(ctx context.Context, onChange func(ObjectChange)) (*ComponentWatch, error) {
	sel, err := componentSelector("")
	if err != nil {
		return nil, fmt.Errorf("component selector: %w", err)
	}
	tweak := func(o *metav1.ListOptions) { o.LabelSelector = sel.String() }
	runCtx, cancel := context.WithCancel(context.Background())
	w := &ComponentWatch{cancel: cancel}

	kube := informers.NewSharedInformerFactoryWithOptions(c.sets.Kube, 0, informers.WithNamespace(c.namespace), informers.WithTweakListOptions(tweak))
	w.factories = append(w.factories, kube)
	list := []watched{
		{"Deployment", kube.Apps().V1().Deployments().Informer()},
		{"Service", kube.Core().V1().Services().Informer()},
		{"Ingress", kube.Networking().V1().Ingresses().Informer()},
		{"PersistentVolumeClaim", kube.Core().V1().PersistentVolumeClaims().Informer()},
		{"Pod", kube.Core().V1().Pods().Informer()},
	}
	var starts []func()
	starts = append(starts, func() { kube.Start(runCtx.Done()) })
	if c.sets.Apps != nil && c.platform.DeploymentConfig {
		f := appsinformers.NewSharedInformerFactoryWithOptions(c.sets.Apps, 0, appsinformers.WithNamespace(c.namespace), appsinformers.WithTweakListOptions(tweak))
		w.factories = append(w.factories, f)
		list = append(list, watched{"DeploymentConfig", f.Apps().V1().DeploymentConfigs().Informer()})
		starts = append(starts, func() { f.Start(runCtx.Done()) })
	}
	if c.sets.Route != nil && c.platform.Route {
		f := routeinformers.NewSharedInformerFactoryWithOptions(c.sets.Route, 0, routeinformers.WithNamespace(c.namespace), routeinformers.WithTweakListOptions(tweak))
		w.factories = append(w.factories, f)
		list = append(list, watched{"Route", f.Route().V1().Routes().Informer()})
		starts = append(starts, func() { f.Start(runCtx.Done()) })
	}

	// A kind the user may not list never syncs: its first refusal ends
	// the wait.
	refused := make(chan error, len(list))
	synced := make([]cache.InformerSynced, 0, len(list))
	for _, wd := range list {
		kind := wd.kind
		if err := wd.informer.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
				select {
				case refused <- classify(err, "watch the "+kind+"s of "+c.namespace):
				default:
				}
			}
			c.log.Debug("watch of components interrupted", zap.String("kind", kind), zap.Error(err))
		}); err != nil {
			w.Stop()
			return nil, fmt.Errorf("watch %s: %w", kind, err)
		}
		if _, err := wd.informer.AddEventHandler(changeHandler(kind, onChange)); err != nil {
			w.Stop()
			return nil, fmt.Errorf("watch %s: %w", kind, err)
		}
		synced = append(synced, wd.informer.HasSynced)
	}
	for _, start := range starts {
		start()
	}
	done := make(chan bool, 1)
	go func() { done <- cache.WaitForCacheSync(runCtx.Done(), synced...) }()
	select {
	case <-done:
		return w, nil
	case err := <-refused:
		w.Stop()
		<-done
		return nil, err
	case <-ctx.Done():
		w.Stop()
		<-done
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &Error{Kind: KindUnreachable, Message: "the cluster did not list the components' objects of " + c.namespace + " in time", Err: ctx.Err(),
				Suggestion: "check that the cluster is running and answers (kubectl get pods -n " + c.namespace + ")"}
		}
		return nil, ctx.Err()
	}
}

// changeHandler reports an informer's events after its initial list,
// for objects that carry both component labels, updates only when
// stateKey differs.
func changeHandler(kind string, onChange func(ObjectChange)) cache.ResourceEventHandler {
	report := func(obj any, t ChangeType) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		m, err := metaOf(obj)
		if err != nil {
			return
		}
		comp, app := m.GetLabels()[LabelInstance], m.GetLabels()[LabelPartOf]
		if comp == "" || app == "" {
			return
		}
		onChange(ObjectChange{Kind: kind, Name: m.GetName(), Component: comp, App: app, Type: t, State: objectState(obj)})
	}
	return cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			if !initial {
				report(obj, Added)
			}
		},
		UpdateFunc: func(old, cur any) {
			if stateKey(old) != stateKey(cur) {
				report(cur, Changed)
			}
		},
		DeleteFunc: func(obj any) { report(obj, Deleted) },
	}
}

func metaOf(obj any) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no object meta", obj)
	}
	return m, nil
}

// objectState is what the tree shows of a Pod or a claim.
func objectState(obj any) string {
	switch o := obj.(type) {
	case *corev1.Pod:
		if o.DeletionTimestamp != nil {
			return "Terminating"
		}
		for _, cs := range append(append([]corev1.ContainerStatus{}, o.Status.InitContainerStatuses...), o.Status.ContainerStatuses...) {
			if cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing" && cs.State.Waiting.Reason != "ContainerCreating" {
				return cs.State.Waiting.Reason
			}
		}
		return string(o.Status.Phase)
	case *corev1.PersistentVolumeClaim:
		return string(o.Status.Phase)
	}
	return ""
}

// stateKey is what an update must change to be reported: the spec
// (generation, labels), deletion, and the status the tree shows. A pod's
// or workload's other status churn is not.
func stateKey(obj any) string {
	m, err := metaOf(obj)
	if err != nil {
		return ""
	}
	labels := make([]string, 0, len(m.GetLabels()))
	for k, v := range m.GetLabels() {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	key := fmt.Sprintf("%d|%t|%s|%s", m.GetGeneration(), m.GetDeletionTimestamp() != nil, strings.Join(labels, ","), objectState(obj))
	switch o := obj.(type) {
	case *corev1.Pod:
		ready := false
		for _, c := range o.Status.Conditions {
			if c.Type == corev1.PodReady {
				ready = c.Status == corev1.ConditionTrue
			}
		}
		key += fmt.Sprintf("|%t", ready)
	case *appsv1.Deployment:
		key += fmt.Sprintf("|%d/%d", o.Status.ReadyReplicas, o.Status.AvailableReplicas)
	case *appsv1os.DeploymentConfig:
		key += fmt.Sprintf("|%d/%d/%d", o.Status.ReadyReplicas, o.Status.AvailableReplicas, o.Status.LatestVersion)
	case *corev1.Service:
		key += fmt.Sprintf("|%v", o.Spec.Ports)
	case *routev1.Route:
		key += fmt.Sprintf("|%s|%d", o.Spec.Host, len(o.Status.Ingress))
	case *networkingv1.Ingress:
		key += fmt.Sprintf("|%v", o.Status.LoadBalancer.Ingress)
	}
	return key
}
