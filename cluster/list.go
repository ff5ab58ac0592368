package cluster

import (
	"context"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// ComponentSummary is one component found on the cluster by its labels:
// what describe shows of it, and what its workload's labels say.
type ComponentSummary struct {
	Description
	// Type is the builder (the name label), with its version when the
	// runtime-version label has one: nodejs:14.
	Type string
	// ManagedBy is who created it: odod, or odo for odo v1's.
	ManagedBy string
}

// componentSelector selects the workloads of components (odo's and
// odod's both carry instance and part-of), of one app when app is set.
func componentSelector(app string) (labels.Selector, error) {
	instance, err := labels.NewRequirement(LabelInstance, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	sel := labels.NewSelector().Add(*instance)
	if app == "" {
		partOf, err := labels.NewRequirement(LabelPartOf, selection.Exists, nil)
		if err != nil {
			return nil, err
		}
		return sel.Add(*partOf), nil
	}
	partOf, err := labels.NewRequirement(LabelPartOf, selection.Equals, []string{app})
	if err != nil {
		return nil, err
	}
	return sel.Add(*partOf), nil
}

// ListComponents finds the components of the client's namespace (of one
// app when app is set) by their workloads' labels, and describes each.
func (c *Client) ListComponents(ctx context.Context, app string) ([]ComponentSummary, error) {
	sel, err := componentSelector(app)
	if err != nil {
		return nil, &Error{Kind: KindInvalid, Message: "app " + app + " is not a valid label value", Err: err,
			Suggestion: "name an app made of letters, digits, '-', '_' and '.'"}
	}
	opts := metav1.ListOptions{LabelSelector: sel.String()}
	var workloads []metav1.ObjectMeta
	deployments, err := c.sets.Kube.AppsV1().Deployments(c.namespace).List(ctx, opts)
	if err != nil {
		return nil, classify(err, "list the Deployments of "+c.namespace)
	}
	for _, d := range deployments.Items {
		workloads = append(workloads, d.ObjectMeta)
	}
	if c.sets.Apps != nil && c.platform.DeploymentConfig {
		dcs, err := c.sets.Apps.AppsV1().DeploymentConfigs(c.namespace).List(ctx, opts)
		if err != nil {
			return nil, classify(err, "list the DeploymentConfigs of "+c.namespace)
		}
		for _, d := range dcs.Items {
			workloads = append(workloads, d.ObjectMeta)
		}
	}
	seen := map[ComponentRef]bool{}
	out := []ComponentSummary{}
	for _, w := range workloads {
		ref := ComponentRef{Name: w.Labels[LabelInstance], App: w.Labels[LabelPartOf]}
		if seen[ref] || ref.ObjectName() != w.Name {
			// Another workload of the same component, or one that is not
			// a component's own (named <component>-<app>).
			continue
		}
		seen[ref] = true
		d, err := c.Describe(ctx, ref)
		if err != nil {
			return nil, err
		}
		typ := w.Labels[LabelName]
		if v := w.Labels[LabelRuntimeVersion]; v != "" && typ != "" {
			typ += ":" + v
		}
		managedBy := w.Labels[LabelManagedBy]
		if managedBy == "" {
			managedBy = "odo"
		}
		out = append(out, ComponentSummary{Description: d, Type: typ, ManagedBy: managedBy})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].App != out[j].App {
			return out[i].App < out[j].App
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}
