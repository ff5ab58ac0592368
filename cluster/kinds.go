package cluster

import (
	"context"

	oappsv1 "github.com/openshift/api/apps/v1"
	imagev1 "github.com/openshift/api/image/v1"
	routev1 "github.com/openshift/api/route/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// typedClient is the part of a client-go typed client (core, apps,
// networking, and OpenShift's generated ones alike) that odod uses.
type typedClient[T metav1.Object, L any] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (T, error)
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// kindOps are one kind's operations with the types erased, so that
// apply, prune, describe and delete are written once.
type kindOps struct {
	kind  string
	get   func(ctx context.Context, name string) (metav1.Object, error)
	apply func(ctx context.Context, name string, data []byte, force bool) (metav1.Object, error)
	list  func(ctx context.Context, selector string) ([]metav1.Object, error)
	del   func(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

func opsFor[T metav1.Object, L any](kind string, cl typedClient[T, L], items func(L) []T) kindOps {
	return kindOps{
		kind: kind,
		get: func(ctx context.Context, name string) (metav1.Object, error) {
			return cl.Get(ctx, name, metav1.GetOptions{})
		},
		apply: func(ctx context.Context, name string, data []byte, force bool) (metav1.Object, error) {
			return cl.Patch(ctx, name, types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
		},
		list: func(ctx context.Context, selector string) ([]metav1.Object, error) {
			l, err := cl.List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				return nil, err
			}
			var out []metav1.Object
			for _, it := range items(l) {
				out = append(out, it)
			}
			return out, nil
		},
		del: func(ctx context.Context, name string, opts metav1.DeleteOptions) error {
			return cl.Delete(ctx, name, opts)
		},
	}
}

func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// Kinds odod creates or deletes.
const (
	KindDeployment       = "Deployment"
	KindDeploymentConfig = "DeploymentConfig"
	KindService          = "Service"
	KindSecret           = "Secret"
	KindPVC              = "PersistentVolumeClaim"
	KindRoute            = "Route"
	KindIngress          = "Ingress"
	KindImageStream      = "ImageStream"
	KindPod              = "Pod"
)

// ops returns the operations of a kind; false when the cluster does not
// serve it.
func (c *Client) ops(kind string) (kindOps, bool) {
	ns := c.namespace
	switch kind {
	case KindDeployment:
		return opsFor(kind, c.sets.Kube.AppsV1().Deployments(ns), func(l *appsv1.DeploymentList) []*appsv1.Deployment { return ptrs(l.Items) }), true
	case KindDeploymentConfig:
		if c.sets.Apps == nil {
			return kindOps{}, false
		}
		return opsFor(kind, c.sets.Apps.AppsV1().DeploymentConfigs(ns), func(l *oappsv1.DeploymentConfigList) []*oappsv1.DeploymentConfig { return ptrs(l.Items) }), true
	case KindService:
		return opsFor(kind, c.sets.Kube.CoreV1().Services(ns), func(l *corev1.ServiceList) []*corev1.Service { return ptrs(l.Items) }), true
	case KindSecret:
		return opsFor(kind, c.sets.Kube.CoreV1().Secrets(ns), func(l *corev1.SecretList) []*corev1.Secret { return ptrs(l.Items) }), true
	case KindPVC:
		return opsFor(kind, c.sets.Kube.CoreV1().PersistentVolumeClaims(ns), func(l *corev1.PersistentVolumeClaimList) []*corev1.PersistentVolumeClaim { return ptrs(l.Items) }), true
	case KindRoute:
		if c.sets.Route == nil {
			return kindOps{}, false
		}
		return opsFor(kind, c.sets.Route.RouteV1().Routes(ns), func(l *routev1.RouteList) []*routev1.Route { return ptrs(l.Items) }), true
	case KindIngress:
		return opsFor(kind, c.sets.Kube.NetworkingV1().Ingresses(ns), func(l *networkingv1.IngressList) []*networkingv1.Ingress { return ptrs(l.Items) }), true
	case KindImageStream:
		if c.sets.Image == nil {
			return kindOps{}, false
		}
		return opsFor(kind, c.sets.Image.ImageV1().ImageStreams(ns), func(l *imagev1.ImageStreamList) []*imagev1.ImageStream { return ptrs(l.Items) }), true
	case KindPod:
		return opsFor(kind, c.sets.Kube.CoreV1().Pods(ns), func(l *corev1.PodList) []*corev1.Pod { return ptrs(l.Items) }), true
	}
	return kindOps{}, false
}
