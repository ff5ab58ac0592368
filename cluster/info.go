package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
)

// Info is what odod/cluster/info reports of the cluster.
type Info struct {
	// Server is the API server's address ("" for a Client made without a
	// REST config).
	Server string
	// Version is the API server's git version (v1.34.1).
	Version string
	// Groups are the API groups it serves, sorted.
	Groups []string
	// OpenShift is true when it serves project.openshift.io, which every
	// OpenShift does: a Kubernetes cluster may serve Routes or
	// ImageStreams through CRDs (odod's local cluster does) and is still
	// not OpenShift.
	OpenShift bool
	// User and UserGroups are who the credentials are, by
	// SelfSubjectReview; empty when the cluster cannot say (older than
	// 1.28, or the review is not allowed).
	User       string
	UserGroups []string
}

// Info asks the API server its version, its API groups and who the
// credentials are.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var out Info
	if c.rest != nil {
		out.Server = c.rest.Host
	}
	v, groups, err := c.versionAndGroups(ctx)
	if err != nil {
		return out, classify(err, "read the cluster's version and API groups")
	}
	out.Version = v.GitVersion
	for _, g := range groups.Groups {
		if g.Name == "" {
			continue
		}
		out.Groups = append(out.Groups, g.Name)
		if g.Name == "project.openshift.io" {
			out.OpenShift = true
		}
	}
	sort.Strings(out.Groups)

	review, err := c.sets.Kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	switch {
	case err == nil:
		out.User, out.UserGroups = review.Status.UserInfo.Username, review.Status.UserInfo.Groups
	case apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apierrors.IsMethodNotSupported(err):
		c.log.Debug("SelfSubjectReview not answered; the user is unknown")
	default:
		return out, classify(err, "ask the cluster who the user is (SelfSubjectReview)")
	}
	return out, nil
}

// versionAndGroups reads /version and /apis with ctx through the
// discovery REST client; fake clientsets have none, and answer through
// the discovery interface.
func (c *Client) versionAndGroups(ctx context.Context) (version.Info, metav1.APIGroupList, error) {
	var v version.Info
	var groups metav1.APIGroupList
	disc := c.sets.Kube.Discovery()
	rc := disc.RESTClient()
	if rc == nil {
		pv, err := disc.ServerVersion()
		if err != nil {
			return v, groups, err
		}
		pg, err := disc.ServerGroups()
		if err != nil {
			return v, groups, err
		}
		return *pv, *pg, nil
	}
	for path, into := range map[string]any{"/version": &v, "/apis": &groups} {
		raw, err := rc.Get().AbsPath(path).Do(ctx).Raw()
		if err != nil {
			return v, groups, err
		}
		if err := json.Unmarshal(raw, into); err != nil {
			return v, groups, fmt.Errorf("decode %s: %w", path, err)
		}
	}
	return v, groups, nil
}
