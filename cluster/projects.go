package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	projectv1 "github.com/openshift/api/project/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Project is an OpenShift project or, elsewhere, a namespace: odo's
// project.
type Project struct {
	Name string
	// Phase is Active or Terminating.
	Phase string
}

// ProjectList is what ListProjects found.
type ProjectList struct {
	Projects []Project
	// Complete is false when the user may not list projects: Projects
	// then holds only the client's own namespace.
	Complete bool
}

// usesProjects is true where projects and projectrequests are served:
// a user there sees and creates projects, not namespaces.
func (c *Client) usesProjects() bool { return c.platform.Project && c.sets.Project != nil }

// ListProjects lists the projects the user can see, sorted. A user who
// may not list them still gets the client's namespace, with Complete
// false.
func (c *Client) ListProjects(ctx context.Context) (ProjectList, error) {
	var out ProjectList
	var err error
	if c.usesProjects() {
		var list *projectv1.ProjectList
		if list, err = c.sets.Project.ProjectV1().Projects().List(ctx, metav1.ListOptions{}); err == nil {
			for _, p := range list.Items {
				out.Projects = append(out.Projects, Project{Name: p.Name, Phase: string(p.Status.Phase)})
			}
		}
	} else {
		var list *corev1.NamespaceList
		if list, err = c.sets.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err == nil {
			for _, n := range list.Items {
				out.Projects = append(out.Projects, Project{Name: n.Name, Phase: string(n.Status.Phase)})
			}
		}
	}
	switch {
	case err == nil:
		out.Complete = true
	case apierrors.IsForbidden(err):
		c.log.Debug("the user may not list projects; showing the current one only")
		out.Projects = []Project{{Name: c.namespace, Phase: string(corev1.NamespaceActive)}}
		return out, nil
	default:
		return out, classify(err, "list projects")
	}
	sort.Slice(out.Projects, func(i, j int) bool { return out.Projects[i].Name < out.Projects[j].Name })
	return out, nil
}

// GetProject reads one project; a missing one is KindNotFound.
func (c *Client) GetProject(ctx context.Context, name string) (Project, error) {
	var phase string
	var err error
	if c.usesProjects() {
		var p *projectv1.Project
		if p, err = c.sets.Project.ProjectV1().Projects().Get(ctx, name, metav1.GetOptions{}); err == nil {
			phase = string(p.Status.Phase)
		}
	} else {
		var n *corev1.Namespace
		if n, err = c.sets.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err == nil {
			phase = string(n.Status.Phase)
		}
	}
	if apierrors.IsNotFound(err) {
		return Project{}, &Error{Kind: KindNotFound, Reason: "NotFound", Message: fmt.Sprintf("project %q does not exist", name), Err: err,
			Suggestion: "list the projects (odod project list) or create it (odod project create " + name + ")"}
	}
	if err != nil {
		return Project{}, classify(err, "read project "+name)
	}
	return Project{Name: name, Phase: phase}, nil
}

// CheckProjectName says why name cannot be a project, or nil.
func CheckProjectName(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return &Error{Kind: KindInvalid, Message: fmt.Sprintf("%q is not a valid project name: %s", name, strings.Join(errs, "; ")),
			Suggestion: "use lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit"}
	}
	return nil
}

// CreateProject creates a project: a ProjectRequest where OpenShift
// serves them (the way a user may), else a namespace. An existing one is
// KindConflict.
func (c *Client) CreateProject(ctx context.Context, name string) error {
	if err := CheckProjectName(name); err != nil {
		return err
	}
	var err error
	if c.usesProjects() {
		_, err = c.sets.Project.ProjectV1().ProjectRequests().Create(ctx, &projectv1.ProjectRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{FieldManager: FieldManager})
	} else {
		_, err = c.sets.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{FieldManager: FieldManager})
	}
	if apierrors.IsAlreadyExists(err) {
		return &Error{Kind: KindConflict, Reason: "AlreadyExists", Message: fmt.Sprintf("project %q already exists", name), Err: err,
			Suggestion: "choose another name, or use it (odod project set " + name + ")"}
	}
	return classify(err, "create project "+name)
}

// DeleteProject deletes a project and, with wait, returns once it is
// gone (bounded by timeout, default two minutes).
func (c *Client) DeleteProject(ctx context.Context, name string, wait bool, timeout time.Duration) error {
	var err error
	if c.usesProjects() {
		err = c.sets.Project.ProjectV1().Projects().Delete(ctx, name, metav1.DeleteOptions{})
	} else {
		err = c.sets.Kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	}
	if apierrors.IsNotFound(err) {
		return &Error{Kind: KindNotFound, Reason: "NotFound", Message: fmt.Sprintf("project %q does not exist", name), Err: err,
			Suggestion: "list the projects (odod project list)"}
	}
	if err != nil {
		return classify(err, "delete project "+name)
	}
	if !wait {
		return nil
	}
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := c.GetProject(ctx, name)
		if KindOf(err) == KindNotFound {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return &Error{Kind: KindTimeout, Message: fmt.Sprintf("project %q was still being deleted after %s", name, timeout),
					Suggestion: "its finalizers may be waiting: check with kubectl get namespace " + name + " -o yaml"}
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}
