package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DeleteOptions tune Delete.
type DeleteOptions struct {
	// Wait waits until the objects and the pods are gone.
	Wait bool
	// Timeout bounds the wait; default 2 minutes.
	Timeout time.Duration
	// PollInterval is how often the wait checks; default 500 ms.
	PollInterval time.Duration
}

// Delete deletes everything with the component's labels (part-of +
// instance, odo's selector, so components odo created go too): the
// workload, Service, Secrets, PVCs including storage, Routes, Ingresses
// and odo's ImageStream. With opts.Wait it returns only when they and the
// component's pods are gone, or fails with a KindTimeout error.
func (c *Client) Delete(ctx context.Context, ref ComponentRef, opts DeleteOptions) ([]ObjectRef, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 500 * time.Millisecond
	}
	objs, err := c.listComponent(ctx, ref)
	if err != nil {
		return nil, err
	}
	background := metav1.DeletePropagationBackground
	deleted := []ObjectRef{}
	for _, o := range objs {
		ops, _ := c.ops(o.Kind)
		err := ops.del(ctx, o.Name, metav1.DeleteOptions{PropagationPolicy: &background})
		if err != nil && !apierrors.IsNotFound(err) {
			return deleted, classify(err, fmt.Sprintf("delete %s %s", o.Kind, o.Name))
		}
		deleted = append(deleted, o)
	}
	if !opts.Wait {
		return deleted, nil
	}
	deadline := time.NewTimer(opts.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(opts.PollInterval)
	defer tick.Stop()
	for {
		left, err := c.listComponent(ctx, ref)
		if err != nil {
			return deleted, err
		}
		pods, err := c.sets.Kube.CoreV1().Pods(c.namespace).List(ctx, metav1.ListOptions{LabelSelector: ref.Selector().String()})
		if err != nil {
			return deleted, classify(err, "list the component's pods")
		}
		for _, p := range pods.Items {
			left = append(left, ObjectRef{Kind: KindPod, Name: p.Name})
		}
		if len(left) == 0 {
			return deleted, nil
		}
		select {
		case <-ctx.Done():
			return deleted, ctx.Err()
		case <-deadline.C:
			var names []string
			for _, l := range left {
				names = append(names, l.Kind+"/"+l.Name)
			}
			return deleted, &Error{Kind: KindTimeout, Message: fmt.Sprintf("component %s not gone after %s: %s remain", ref.Name, opts.Timeout, strings.Join(names, ", ")),
				Suggestion: "look for finalizers on what remains (kubectl get <kind> <name> -o yaml) or a node that is down"}
		case <-tick.C:
		}
	}
}
