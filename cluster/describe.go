package cluster

import (
	"context"
	"fmt"
	"sort"
	"time"

	routev1 "github.com/openshift/api/route/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// URL is a URL of the component on the cluster.
type URL struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"` // Route or Ingress
	Object string `json:"object"`
	Host   string `json:"host,omitempty"`
	Port   int    `json:"port"`
	Secure bool   `json:"secure"`
	// URL is scheme://host, "" while the host is unknown.
	URL string `json:"url,omitempty"`
}

// Storage is a storage PVC of the component.
type Storage struct {
	Name  string `json:"name"`
	PVC   string `json:"pvc"`
	Size  string `json:"size"`
	Path  string `json:"path,omitempty"` // "" when not mounted (yet)
	Phase string `json:"phase"`
}

// Description is what component/describe shows.
type Description struct {
	Name      string `json:"name"`
	App       string `json:"app"`
	Namespace string `json:"namespace"`
	// Workload is nil when the component is not on the cluster.
	Workload *ObjectRef  `json:"workload,omitempty"`
	Objects  []ObjectRef `json:"objects"`
	Pod      PodStatus   `json:"pod"`
	URLs     []URL       `json:"urls"`
	Storage  []Storage   `json:"storage"`
}

// describedKinds are listed by Describe and deleted by Delete, workload
// first. ImageStream is odo's (odo created one per component).
var describedKinds = []string{KindDeployment, KindDeploymentConfig, KindService, KindSecret, KindPVC, KindRoute, KindIngress, KindImageStream}

// Describe reports the component's objects, pod state, URLs and storage.
func (c *Client) Describe(ctx context.Context, ref ComponentRef) (Description, error) {
	d := Description{Name: ref.Name, App: ref.App, Namespace: c.namespace, Objects: []ObjectRef{}, URLs: []URL{}, Storage: []Storage{}}
	objs, err := c.listComponent(ctx, ref)
	if err != nil {
		return d, err
	}
	for _, o := range objs {
		d.Objects = append(d.Objects, o)
		if (o.Kind == KindDeployment || o.Kind == KindDeploymentConfig) && o.Name == ref.ObjectName() && d.Workload == nil {
			w := o
			d.Workload = &w
		}
	}
	d.Pod = PodStatus{State: StateAbsent}
	if d.Workload != nil {
		if d.Pod, err = c.PodStatus(ctx, ref); err != nil {
			return d, err
		}
	}
	if d.URLs, err = c.ListURLs(ctx, ref); err != nil {
		return d, err
	}
	if d.Storage, err = c.ListStorage(ctx, ref); err != nil {
		return d, err
	}
	return d, nil
}

// PodStatus is the state of the component's current pod, without
// waiting.
func (c *Client) PodStatus(ctx context.Context, ref ComponentRef) (PodStatus, error) {
	list, err := c.sets.Kube.CoreV1().Pods(c.namespace).List(ctx, metav1.ListOptions{LabelSelector: ref.Selector().String()})
	if err != nil {
		return PodStatus{}, classify(err, "list the component's pods")
	}
	pods, rollout, err := c.currentPods(ctx, ref, list.Items)
	if KindOf(err) == KindNotFound {
		return PodStatus{State: StateAbsent}, nil
	}
	if err != nil {
		return PodStatus{}, err
	}
	if len(pods) == 0 {
		if rollout != "" {
			return PodStatus{State: StateStarting, Reason: rollout}, nil
		}
		return PodStatus{State: StateAbsent}, nil
	}
	st, fatal := c.podStatus(ctx, pods[0], map[types.UID]time.Time{}, time.Hour)
	if fatal != nil {
		return PodStatus{State: StateError, Pod: pods[0].Name, Reason: fatal.Reason, Message: fatal.Message}, nil
	}
	return st, nil
}

func (c *Client) listComponent(ctx context.Context, ref ComponentRef) ([]ObjectRef, error) {
	var out []ObjectRef
	sel := ref.Selector().String()
	for _, kind := range describedKinds {
		ops, ok := c.ops(kind)
		if !ok {
			continue
		}
		items, err := ops.list(ctx, sel)
		if err != nil {
			return nil, classify(err, "list "+kind+"s")
		}
		for _, it := range items {
			out = append(out, ObjectRef{Kind: kind, Name: it.GetName()})
		}
	}
	return out, nil
}

// ListURLs lists the component's Routes and Ingresses.
func (c *Client) ListURLs(ctx context.Context, ref ComponentRef) ([]URL, error) {
	urls := []URL{}
	sel := ref.Selector().String()
	if c.sets.Route != nil {
		routes, err := c.sets.Route.RouteV1().Routes(c.namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return nil, classify(err, "list Routes")
		}
		for _, r := range routes.Items {
			urls = append(urls, routeURL(r))
		}
	}
	ings, err := c.sets.Kube.NetworkingV1().Ingresses(c.namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, classify(err, "list Ingresses")
	}
	for _, i := range ings.Items {
		urls = append(urls, ingressURL(i))
	}
	sort.Slice(urls, func(i, j int) bool { return urls[i].Name < urls[j].Name })
	return urls, nil
}

func routeURL(r routev1.Route) URL {
	u := URL{Name: nonEmpty(r.Labels[LabelURLName], r.Name), Kind: KindRoute, Object: r.Name, Host: r.Spec.Host, Secure: r.Spec.TLS != nil}
	if r.Spec.Port != nil {
		u.Port = r.Spec.Port.TargetPort.IntValue()
	}
	if u.Host == "" && len(r.Status.Ingress) > 0 {
		u.Host = r.Status.Ingress[0].Host
	}
	u.URL = hostURL(u.Host, u.Secure)
	return u
}

func ingressURL(i networkingv1.Ingress) URL {
	u := URL{Name: nonEmpty(i.Labels[LabelURLName], i.Name), Kind: KindIngress, Object: i.Name, Secure: len(i.Spec.TLS) > 0}
	if len(i.Spec.Rules) > 0 {
		rule := i.Spec.Rules[0]
		u.Host = rule.Host
		if rule.HTTP != nil && len(rule.HTTP.Paths) > 0 && rule.HTTP.Paths[0].Backend.Service != nil {
			u.Port = int(rule.HTTP.Paths[0].Backend.Service.Port.Number)
		}
	}
	u.URL = hostURL(u.Host, u.Secure)
	return u
}

func hostURL(host string, secure bool) string {
	if host == "" {
		return ""
	}
	if secure {
		return "https://" + host
	}
	return "http://" + host
}

// DeleteURL deletes a URL's Route or Ingress now (removing it from the
// settings, config.RemoveURL, keeps the next push from recreating it).
func (c *Client) DeleteURL(ctx context.Context, ref ComponentRef, name string) error {
	obj := ref.URLObjectName(name)
	deleted := false
	for _, kind := range []string{KindRoute, KindIngress} {
		ops, ok := c.ops(kind)
		if !ok {
			continue
		}
		err := ops.del(ctx, obj, metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return classify(err, fmt.Sprintf("delete %s %s", kind, obj))
		}
		deleted = true
	}
	if !deleted {
		return &Error{Kind: KindNotFound, Message: fmt.Sprintf("URL %q of component %s is not on the cluster", name, ref.Name), Suggestion: "list the URLs with url/list"}
	}
	return nil
}

// ListStorage lists the component's storage PVCs with where the workload
// mounts them.
func (c *Client) ListStorage(ctx context.Context, ref ComponentRef) ([]Storage, error) {
	sel := labels.SelectorFromSet(labels.Set{LabelPartOf: ref.App, LabelInstance: ref.Name})
	req, err := labels.NewRequirement(LabelStorageName, "exists", nil)
	if err != nil {
		return nil, err
	}
	pvcs, err := c.sets.Kube.CoreV1().PersistentVolumeClaims(c.namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.Add(*req).String()})
	if err != nil {
		return nil, classify(err, "list PersistentVolumeClaims")
	}
	mounts, err := c.workloadMounts(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := []Storage{}
	for _, p := range pvcs.Items {
		size := p.Spec.Resources.Requests[corev1.ResourceStorage]
		out = append(out, Storage{Name: p.Labels[LabelStorageName], PVC: p.Name, Size: size.String(), Path: mounts[p.Name], Phase: string(p.Status.Phase)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// workloadMounts maps claim names to mount paths in the app container.
func (c *Client) workloadMounts(ctx context.Context, ref ComponentRef) (map[string]string, error) {
	var pod *corev1.PodSpec
	d, err := c.sets.Kube.AppsV1().Deployments(c.namespace).Get(ctx, ref.ObjectName(), metav1.GetOptions{})
	switch {
	case err == nil:
		pod = &d.Spec.Template.Spec
	case !apierrors.IsNotFound(err):
		return nil, classify(err, "read the component's Deployment")
	case c.sets.Apps != nil:
		dc, err := c.sets.Apps.AppsV1().DeploymentConfigs(c.namespace).Get(ctx, ref.ObjectName(), metav1.GetOptions{})
		if err == nil && dc.Spec.Template != nil {
			pod = &dc.Spec.Template.Spec
		} else if err != nil && !apierrors.IsNotFound(err) {
			return nil, classify(err, "read the component's DeploymentConfig")
		}
	}
	out := map[string]string{}
	if pod == nil {
		return out, nil
	}
	claims := map[string]string{}
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil {
			claims[v.Name] = v.PersistentVolumeClaim.ClaimName
		}
	}
	for _, ctr := range pod.Containers {
		if ctr.Name != ref.ObjectName() {
			continue
		}
		for _, m := range ctr.VolumeMounts {
			if claim, ok := claims[m.Name]; ok && m.SubPath == "" {
				out[claim] = m.MountPath
			}
		}
	}
	return out, nil
}
