package cluster

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// ObjectRef names an object of the component.
type ObjectRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// ApplyResult says what Apply did.
type ApplyResult struct {
	Created   []ObjectRef
	Updated   []ObjectRef
	Unchanged []ObjectRef
	// Deleted are objects of the component no longer desired (a removed
	// URL, storage or port).
	Deleted []ObjectRef
	// Workload is the workload's kind, name and UID.
	Workload    ObjectRef
	WorkloadUID types.UID
}

// Changed reports whether Apply wrote anything.
func (r ApplyResult) Changed() bool {
	return len(r.Created)+len(r.Updated)+len(r.Deleted) > 0
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Force applies every object even when its recorded hash matches,
	// to repair objects someone edited by hand.
	Force bool
}

// Apply makes the cluster match objs with server-side apply (field
// manager "odod", conflicts forced: odod owns these objects).
//
// Order: the workload first, because the Service, Secrets, PVCs, Routes
// and Ingresses carry an owner reference to it (odo ≥ 1.0.2's, so that
// deleting the workload collects them) and that needs its UID. The pod
// may be scheduled a moment before its PVCs exist; the scheduler retries
// when they appear, and WaitForPod only calls a missing PVC fatal after a
// grace period.
//
// Each object carries the hash of what odod applied in the annotation
// odod.dev/spec-hash; an object whose hash is unchanged is not applied,
// so a push with unchanged settings writes nothing. Objects with the
// component's labels that are no longer desired (Secrets of removed
// ports, storage PVCs, Routes, Ingresses, the Service when no ports are
// left) are deleted.
func (c *Client) Apply(ctx context.Context, objs Objects, opts ApplyOptions) (ApplyResult, error) {
	var res ApplyResult
	var workload runtime.Object
	switch {
	case objs.Deployment != nil:
		workload = objs.Deployment
	case objs.DeploymentConfig != nil:
		if !c.platform.DeploymentConfig {
			return res, &Error{Kind: KindInvalid, Message: "this cluster does not serve DeploymentConfigs (apps.openshift.io/v1)", Suggestion: "use a Deployment"}
		}
		workload = objs.DeploymentConfig
	default:
		return res, &Error{Kind: KindInvalid, Message: "no workload to apply", Suggestion: "build the objects with cluster.Desired"}
	}
	wmeta, err := meta.Accessor(workload)
	if err != nil {
		return res, err
	}
	ref := ComponentRef{Name: wmeta.GetLabels()[LabelInstance], App: wmeta.GetLabels()[LabelPartOf]}
	if ref.Name == "" || ref.App == "" {
		return res, &Error{Kind: KindInvalid, Message: "the workload lacks the component labels", Suggestion: "build the objects with cluster.Desired"}
	}

	var mu sync.Mutex // guards res while the objects are applied in parallel
	live, err := c.applyOne(ctx, workload, nil, opts, &res, &mu)
	if err != nil {
		return res, err
	}
	res.Workload = ObjectRef{Kind: kindOf(workload), Name: live.GetName()}
	res.WorkloadUID = live.GetUID()
	owner := metav1.OwnerReference{APIVersion: apiVersionOf(workload), Kind: kindOf(workload), Name: live.GetName(), UID: live.GetUID()}

	// The other objects only need the workload's UID: each is read and,
	// when its hash differs, applied, all at once (a round trip each on
	// their own), and so is each kind's pruning list.
	desired := map[ObjectRef]bool{}
	g, gctx := errgroup.WithContext(ctx)
	for _, o := range objs.All()[1:] {
		m, _ := meta.Accessor(o)
		desired[ObjectRef{Kind: kindOf(o), Name: m.GetName()}] = true
		g.Go(func() error {
			_, err := c.applyOne(gctx, o, &owner, opts, &res, &mu)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	if err := c.prune(ctx, ref, desired, &res, &mu); err != nil {
		return res, err
	}
	sortRefs(res.Created, res.Updated, res.Unchanged, res.Deleted)
	c.log.Debug("applied", zap.String("component", ref.Name), zap.Int("created", len(res.Created)), zap.Int("updated", len(res.Updated)),
		zap.Int("unchanged", len(res.Unchanged)), zap.Int("deleted", len(res.Deleted)))
	return res, nil
}

// sortRefs orders each list by kind and name: parallel applies finish in
// any order.
func sortRefs(lists ...[]ObjectRef) {
	for _, l := range lists {
		slices.SortFunc(l, func(a, b ObjectRef) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name)) })
	}
}

func (c *Client) applyOne(ctx context.Context, obj runtime.Object, owner *metav1.OwnerReference, opts ApplyOptions, res *ApplyResult, mu *sync.Mutex) (metav1.Object, error) {
	kind := kindOf(obj)
	ops, ok := c.ops(kind)
	if !ok {
		return nil, &Error{Kind: KindInvalid, Message: fmt.Sprintf("this cluster does not serve %ss", kind),
			Suggestion: "remove what needs it from .odo/config.yaml (a URL of kind route needs OpenShift)"}
	}
	data, hash, err := applyPayload(obj, owner)
	if err != nil {
		return nil, err
	}
	m, _ := meta.Accessor(obj)
	name := m.GetName()
	oref := ObjectRef{Kind: kind, Name: name}
	existing, err := ops.get(ctx, name)
	switch {
	case apierrors.IsNotFound(err):
		existing = nil
	case err != nil:
		return nil, classify(err, fmt.Sprintf("get %s %s", kind, name))
	}
	if existing != nil && !opts.Force && existing.GetAnnotations()[AnnotationSpecHash] == hash && existing.GetDeletionTimestamp() == nil {
		mu.Lock()
		res.Unchanged = append(res.Unchanged, oref)
		mu.Unlock()
		return existing, nil
	}
	applied, err := ops.apply(ctx, name, data, true)
	if err != nil {
		return nil, classify(err, fmt.Sprintf("apply %s %s", kind, name))
	}
	mu.Lock()
	if existing == nil {
		res.Created = append(res.Created, oref)
	} else {
		res.Updated = append(res.Updated, oref)
	}
	mu.Unlock()
	return applied, nil
}

// applyPayload renders obj as an apply patch with owner set, and returns
// it with the hash it records. Nulls (creationTimestamp) and status are
// dropped: an apply patch states only what odod owns.
func applyPayload(obj runtime.Object, owner *metav1.OwnerReference) ([]byte, string, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, "", fmt.Errorf("convert %s: %w", kindOf(obj), err)
	}
	delete(u, "status")
	dropNulls(u)
	md, _ := u["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		u["metadata"] = md
	}
	if owner != nil {
		ou, err := runtime.DefaultUnstructuredConverter.ToUnstructured(owner)
		if err != nil {
			return nil, "", err
		}
		dropNulls(ou)
		md["ownerReferences"] = []any{ou}
	}
	annotations, _ := md["annotations"].(map[string]any)
	if annotations == nil {
		annotations = map[string]any{}
	}
	delete(annotations, AnnotationSpecHash)
	if len(annotations) == 0 {
		delete(md, "annotations")
	}
	canonical, err := json.Marshal(u) // map keys are sorted: stable
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(canonical)
	hash := hex.EncodeToString(sum[:16])
	annotations[AnnotationSpecHash] = hash
	md["annotations"] = annotations
	data, err := json.Marshal(u)
	return data, hash, err
}

func dropNulls(m map[string]any) {
	for k, v := range m {
		switch vv := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropNulls(vv)
		case []any:
			for _, e := range vv {
				if em, ok := e.(map[string]any); ok {
					dropNulls(em)
				}
			}
		}
	}
}

// prunableKinds are the kinds whose undesired objects Apply deletes.
var prunableKinds = []string{KindSecret, KindPVC, KindService, KindRoute, KindIngress}

// prune deletes the component's objects that are not desired, each kind
// in parallel.
func (c *Client) prune(ctx context.Context, ref ComponentRef, desired map[ObjectRef]bool, res *ApplyResult, mu *sync.Mutex) error {
	sel := managedSelector(ref)
	g, ctx := errgroup.WithContext(ctx)
	for _, kind := range prunableKinds {
		ops, ok := c.ops(kind)
		if !ok {
			continue
		}
		g.Go(func() error {
			items, err := ops.list(ctx, sel)
			if err != nil {
				return classify(err, "list "+kind+"s")
			}
			for _, it := range items {
				r := ObjectRef{Kind: kind, Name: it.GetName()}
				if desired[r] || it.GetDeletionTimestamp() != nil {
					continue
				}
				if kind == KindPVC && it.GetName() == ref.AppRootPVCName() {
					continue // never drop the sources' volume behind the user's back
				}
				if err := ops.del(ctx, it.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return classify(err, fmt.Sprintf("delete %s %s", kind, it.GetName()))
				}
				mu.Lock()
				res.Deleted = append(res.Deleted, r)
				mu.Unlock()
			}
			return nil
		})
	}
	return g.Wait()
}

// managedSelector selects what odod applied for the component.
func managedSelector(ref ComponentRef) string {
	return labels.SelectorFromSet(labels.Set{LabelPartOf: ref.App, LabelInstance: ref.Name, LabelManagedBy: ManagedBy}).String()
}

func kindOf(obj runtime.Object) string { return obj.GetObjectKind().GroupVersionKind().Kind }

func apiVersionOf(obj runtime.Object) string {
	gvk := obj.GetObjectKind().GroupVersionKind()
	return schema.GroupVersion{Group: gvk.Group, Version: gvk.Version}.String()
}
