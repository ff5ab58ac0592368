package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	oappsv1 "github.com/openshift/api/apps/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// The annotations the workload controllers keep their revisions in.
const (
	AnnotationDeploymentRevision = "deployment.kubernetes.io/revision"
	// A DeploymentConfig's ReplicationControllers: which config, which
	// version, which phase.
	AnnotationDCName    = "openshift.io/deployment-config.name"
	AnnotationDCVersion = "openshift.io/deployment-config.latest-version"
	AnnotationDCCause   = "openshift.io/deployment.status-reason"
)

// Revision is one rollout of the component's workload: a ReplicaSet of a
// Deployment, a ReplicationController of a DeploymentConfig.
type Revision struct {
	Revision int64 `json:"revision"`
	// Name is the ReplicaSet's or ReplicationController's.
	Name string `json:"name"`
	// Image is the app container's image.
	Image   string    `json:"image"`
	Created time.Time `json:"created"`
	// Cause is the change-cause (odod records the build's source and
	// commit) or the DeploymentConfig's status reason.
	Cause string `json:"cause,omitempty"`
	// Current is the revision the workload runs now.
	Current bool `json:"current"`
}

// History lists the component workload's revisions, oldest first.
func (c *Client) History(ctx context.Context, ref ComponentRef) (string, []Revision, error) {
	name := ref.ObjectName()
	d, err := c.sets.Kube.AppsV1().Deployments(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		revs, err := c.deploymentHistory(ctx, d, name)
		return "Deployment", revs, err
	}
	if !apierrors.IsNotFound(err) {
		return "", nil, classify(err, "read Deployment "+name)
	}
	if c.platform.DeploymentConfig && c.sets.Apps != nil {
		dc, err := c.sets.Apps.AppsV1().DeploymentConfigs(c.namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			revs, err := c.dcHistory(ctx, dc, name)
			return "DeploymentConfig", revs, err
		}
		if !apierrors.IsNotFound(err) {
			return "", nil, classify(err, "read DeploymentConfig "+name)
		}
	}
	return "", nil, &Error{Kind: KindNotFound, Message: fmt.Sprintf("component %s has no workload in namespace %s", ref.Name, c.namespace),
		Suggestion: "push it first (odod push)"}
}

func (c *Client) replicaSetsOf(ctx context.Context, d *appsv1.Deployment) ([]appsv1.ReplicaSet, error) {
	list, err := c.sets.Kube.AppsV1().ReplicaSets(c.namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(d.Spec.Selector.MatchLabels).String(),
	})
	if err != nil {
		return nil, classify(err, "list the ReplicaSets of "+d.Name)
	}
	var out []appsv1.ReplicaSet
	for _, rs := range list.Items {
		if metav1.IsControlledBy(&rs, d) {
			out = append(out, rs)
		}
	}
	return out, nil
}

func (c *Client) deploymentHistory(ctx context.Context, d *appsv1.Deployment, container string) ([]Revision, error) {
	rss, err := c.replicaSetsOf(ctx, d)
	if err != nil {
		return nil, err
	}
	current := d.Annotations[AnnotationDeploymentRevision]
	var revs []Revision
	for _, rs := range rss {
		n, err := strconv.ParseInt(rs.Annotations[AnnotationDeploymentRevision], 10, 64)
		if err != nil {
			continue
		}
		revs = append(revs, Revision{Revision: n, Name: rs.Name, Image: appImage(rs.Spec.Template.Spec, container),
			Created: rs.CreationTimestamp.Time, Cause: rs.Annotations[AnnotationChangeCause], Current: rs.Annotations[AnnotationDeploymentRevision] == current})
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i].Revision < revs[j].Revision })
	return revs, nil
}

func (c *Client) dcHistory(ctx context.Context, dc *oappsv1.DeploymentConfig, container string) ([]Revision, error) {
	list, err := c.sets.Kube.CoreV1().ReplicationControllers(c.namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(map[string]string{"openshift.io/deployment-config.name": dc.Name}).String(),
	})
	if err != nil {
		return nil, classify(err, "list the ReplicationControllers of "+dc.Name)
	}
	var revs []Revision
	for _, rc := range list.Items {
		if rc.Annotations[AnnotationDCName] != dc.Name {
			continue
		}
		n, err := strconv.ParseInt(rc.Annotations[AnnotationDCVersion], 10, 64)
		if err != nil || rc.Spec.Template == nil {
			continue
		}
		revs = append(revs, Revision{Revision: n, Name: rc.Name, Image: appImage(rc.Spec.Template.Spec, container),
			Created: rc.CreationTimestamp.Time, Cause: rc.Annotations[AnnotationDCCause], Current: n == dc.Status.LatestVersion})
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i].Revision < revs[j].Revision })
	return revs, nil
}

func appImage(pod corev1.PodSpec, container string) string {
	for _, ctr := range pod.Containers {
		if ctr.Name == container {
			return ctr.Image
		}
	}
	if len(pod.Containers) > 0 {
		return pod.Containers[0].Image
	}
	return ""
}

// annotationsToSkip are kept from the Deployment, not copied from the
// ReplicaSet, on rollback (kubectl's list).
var annotationsToSkip = map[string]bool{
	corev1.LastAppliedConfigAnnotation:          true,
	AnnotationDeploymentRevision:                true,
	"deployment.kubernetes.io/revision-history": true,
	"deployment.kubernetes.io/desired-replicas": true,
	"deployment.kubernetes.io/max-replicas":     true,
	appsv1.DeprecatedRollbackTo:                 true,
}

// ErrRollbackSkipped is matched (errors.Is) when the workload already runs
// the revision asked for.
var ErrRollbackSkipped = &Error{Kind: KindConflict, Reason: "RollbackSkipped", Message: "the workload already runs that revision"}

// Rollback rolls the component's workload back to a revision (0: the one
// before the current), as `kubectl rollout undo` does for a Deployment:
// the revision's pod template and annotations are patched back in, and
// the controller makes that ReplicaSet current again under a new revision
// number. A DeploymentConfig is rolled back through the
// DeploymentConfigRollback API, as `oc rollout undo`. It returns the
// revision rolled back to.
func (c *Client) Rollback(ctx context.Context, ref ComponentRef, revision int64) (Revision, error) {
	kind, revs, err := c.History(ctx, ref)
	if err != nil {
		return Revision{}, err
	}
	target, err := pickRevision(revs, revision)
	if err != nil {
		return Revision{}, err
	}
	name := ref.ObjectName()
	if kind == "DeploymentConfig" {
		return target, c.rollbackDC(ctx, name, target)
	}
	d, err := c.sets.Kube.AppsV1().Deployments(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Revision{}, classify(err, "read Deployment "+name)
	}
	if d.Spec.Paused {
		return Revision{}, &Error{Kind: KindConflict, Reason: "Paused", Message: fmt.Sprintf("Deployment %s is paused", name),
			Suggestion: "resume it first: kubectl rollout resume deployment/" + name}
	}
	rs, err := c.sets.Kube.AppsV1().ReplicaSets(c.namespace).Get(ctx, target.Name, metav1.GetOptions{})
	if err != nil {
		return Revision{}, classify(err, "read ReplicaSet "+target.Name)
	}
	if sameTemplate(rs.Spec.Template, d.Spec.Template) {
		return target, ErrRollbackSkipped
	}
	tmpl := rs.Spec.Template.DeepCopy()
	delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	annotations := map[string]string{}
	for k := range annotationsToSkip {
		if v, ok := d.Annotations[k]; ok {
			annotations[k] = v
		}
	}
	for k, v := range rs.Annotations {
		if !annotationsToSkip[k] {
			annotations[k] = v
		}
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "replace", "path": "/spec/template", "value": tmpl},
		{"op": "replace", "path": "/metadata/annotations", "value": annotations},
	})
	if err != nil {
		return Revision{}, fmt.Errorf("make the rollback patch: %w", err)
	}
	if _, err := c.sets.Kube.AppsV1().Deployments(c.namespace).Patch(ctx, name, types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: ManagedBy}); err != nil {
		return Revision{}, classify(err, fmt.Sprintf("roll Deployment %s back to revision %d", name, target.Revision))
	}
	return target, nil
}

// pickRevision finds the revision to roll back to: the one asked for, or
// the newest before the current one.
func pickRevision(revs []Revision, revision int64) (Revision, error) {
	if revision < 0 {
		return Revision{}, &Error{Kind: KindInvalid, Message: fmt.Sprintf("revision %d is negative", revision), Suggestion: "pick one from odod history"}
	}
	var current int64 = -1
	for _, r := range revs {
		if r.Current {
			current = r.Revision
		}
	}
	var best *Revision
	for i := range revs {
		r := &revs[i]
		if revision > 0 && r.Revision == revision {
			if r.Current {
				return *r, ErrRollbackSkipped
			}
			return *r, nil
		}
		if revision == 0 && r.Revision < current && (best == nil || r.Revision > best.Revision) {
			best = r
		}
	}
	if revision > 0 {
		return Revision{}, &Error{Kind: KindNotFound, Reason: "RevisionNotFound", Message: fmt.Sprintf("revision %d is not in the history", revision),
			Suggestion: "pick one that odod history lists (old revisions beyond the workload's revisionHistoryLimit are gone)"}
	}
	if best == nil {
		return Revision{}, &Error{Kind: KindNotFound, Reason: "NoPreviousRevision", Message: "there is no revision before the current one",
			Suggestion: "push a second build first; odod history lists the revisions"}
	}
	return *best, nil
}

// rollbackDC rolls a DeploymentConfig back, as oc rollout undo: the
// rollback API returns the config with the revision's template, which is
// then written (its image triggers stay as they are).
func (c *Client) rollbackDC(ctx context.Context, name string, target Revision) error {
	dcs := c.sets.Apps.AppsV1().DeploymentConfigs(c.namespace)
	rolled, err := dcs.Rollback(ctx, name, &oappsv1.DeploymentConfigRollback{
		Name: name,
		Spec: oappsv1.DeploymentConfigRollbackSpec{
			From:            corev1.ObjectReference{Name: target.Name},
			Revision:        target.Revision,
			IncludeTemplate: true,
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return classify(err, fmt.Sprintf("roll DeploymentConfig %s back to revision %d", name, target.Revision))
	}
	if _, err := dcs.Update(ctx, rolled, metav1.UpdateOptions{FieldManager: ManagedBy}); err != nil {
		return classify(err, "write DeploymentConfig "+name)
	}
	return nil
}
