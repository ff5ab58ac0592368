package cluster

import (
	"context"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/odod-dev/odod/config"
)

// LinkTarget is what a component can link to: another component of its
// application, or any other Service of the namespace.
type LinkTarget struct {
	// Name is the component's name, or the Service's.
	Name string
	Kind config.LinkKind
	// Service is the Service that serves it.
	Service string
	// Ports are the Service's ports, ascending.
	Ports []int
}

// LinkTargets lists what a component of app can link to: the components
// of app (found by their Service, <component>-<app> with the component
// labels; their per-port Secrets carry the host and port) and every
// other Service of the namespace, components first, then by name.
func (c *Client) LinkTargets(ctx context.Context, app string) ([]LinkTarget, error) {
	list, err := c.sets.Kube.CoreV1().Services(c.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, classify(err, "list the Services of "+c.namespace)
	}
	out := make([]LinkTarget, 0, len(list.Items))
	for _, svc := range list.Items {
		t := LinkTarget{Name: svc.Name, Kind: config.LinkService, Service: svc.Name}
		if inst := svc.Labels[LabelInstance]; inst != "" && svc.Labels[LabelPartOf] == app &&
			(ComponentRef{Name: inst, App: app}).ObjectName() == svc.Name {
			t.Name, t.Kind = inst, config.LinkComponent
		}
		for _, p := range svc.Spec.Ports {
			t.Ports = append(t.Ports, int(p.Port))
		}
		sort.Ints(t.Ports)
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind == config.LinkComponent
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// LinkSecret is the Secret whose keys a link puts into the app
// container's environment: the target component's per-port Secret, or
// for a Service the one the linking component makes.
func LinkSecret(ref ComponentRef, l config.ComponentLink) string {
	if l.EffectiveKind() == config.LinkService {
		return ref.LinkSecretName(l.Name, l.Port)
	}
	return ComponentRef{Name: l.Name, App: ref.App}.SecretName(int32(l.Port))
}

// linkEnvFrom is the app container's envFrom: one Secret per link, as
// odo link added them.
func linkEnvFrom(s config.ComponentSettings, ref ComponentRef) []corev1.EnvFromSource {
	var out []corev1.EnvFromSource
	for _, l := range s.Link {
		out = append(out, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: LinkSecret(ref, l)},
		}})
	}
	return out
}

// linkSecrets are the Secrets of the links to plain Services, in the
// per-port Secrets' form (odo's keys, the component-port annotation), so
// that a Service is linked the way a component is.
func linkSecrets(s config.ComponentSettings, ref ComponentRef, meta func(name string, extra map[string]string) metav1.ObjectMeta) []*corev1.Secret {
	var out []*corev1.Secret
	for _, l := range s.Link {
		if l.EffectiveKind() != config.LinkService {
			continue
		}
		m := meta(LinkSecret(ref, l), nil)
		port := strconv.Itoa(l.Port)
		m.Annotations[AnnotationComponentPort] = port
		host, portKey := l.EnvNames()
		out = append(out, &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: m,
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{host: []byte(l.Name), portKey: []byte(port)},
		})
	}
	return out
}
