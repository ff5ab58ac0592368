package daemon

import (
	"context"
	"errors"
	"testing"

	projectv1 "github.com/openshift/api/project/v1"
	projectfake "github.com/openshift/client-go/project/clientset/versioned/fake"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
)

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
}

// expectCode checks an error's code and that it says what to do.
func expectCode(t *testing.T, what string, err error, code int64) {
	t.Helper()
	if got := rpcCode(t, err); got != code {
		t.Fatalf("%s: code %d (%v), want %d", what, got, err, code)
	}
	if d := errorData(t, err); len(d.Suggestions) == 0 || d.Suggestions[0].Action == "" {
		t.Fatalf("%s: no suggestion in %+v", what, d)
	}
}

func TestProjectsOnKubernetes(t *testing.T) {
	kube := kubefake.NewClientset(namespace("team-a"), namespace("team-b"))
	clusters := newFakeClusters(t, func(_ context.Context, ns string) (Cluster, error) { return fakeCluster(ns, kube), nil })
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)

	var list protocol.ProjectListResult
	if err := c.call(protocol.MethodProjectList, nil, &list); err != nil {
		t.Fatal(err)
	}
	if list.Current != "team-a" || !list.Complete || len(list.Projects) != 2 || !list.Projects[0].Current || list.Projects[1].Name != "team-b" || list.Projects[1].Phase != "Active" {
		t.Fatalf("project/list = %+v", list)
	}

	var res protocol.ProjectResult
	if err := c.call(protocol.MethodProjectCreate, protocol.ProjectNameParams{Name: "team-c"}, &res); err != nil {
		t.Fatal(err)
	}
	if res != (protocol.ProjectResult{Name: "team-c", Current: "team-a"}) {
		t.Fatalf("project/create = %+v", res)
	}
	if _, err := kube.CoreV1().Namespaces().Get(context.Background(), "team-c", metav1.GetOptions{}); err != nil {
		t.Fatalf("the namespace was not created: %v", err)
	}
	expectCode(t, "create an existing project", c.call(protocol.MethodProjectCreate, protocol.ProjectNameParams{Name: "team-c"}, nil), protocol.CodeConflict)
	expectCode(t, "create Bad_Name", c.call(protocol.MethodProjectCreate, protocol.ProjectNameParams{Name: "Bad_Name"}, nil), protocol.CodeInvalidParams)
	expectCode(t, "create no name", c.call(protocol.MethodProjectCreate, protocol.ProjectNameParams{}, nil), protocol.CodeInvalidParams)

	if err := c.call(protocol.MethodProjectSet, protocol.ProjectNameParams{Name: "team-c"}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Current != "team-c" || clusters.Selection().Namespace != "team-c" {
		t.Fatalf("project/set = %+v, selection %+v", res, clusters.Selection())
	}
	expectCode(t, "set a missing project", c.call(protocol.MethodProjectSet, protocol.ProjectNameParams{Name: "nope"}, nil), protocol.CodeNotFound)
	if ns := clusters.Selection().Namespace; ns != "team-c" {
		t.Fatalf("a failed set left the selection at %q", ns)
	}

	if err := c.call(protocol.MethodProjectDelete, protocol.ProjectDeleteParams{Name: "team-c"}, &res); err != nil {
		t.Fatal(err)
	}
	if res != (protocol.ProjectResult{Name: "team-c", Current: "team-a"}) {
		t.Fatalf("project/delete of the current project = %+v, want the context's team-a current again", res)
	}
	expectCode(t, "delete a missing project", c.call(protocol.MethodProjectDelete, protocol.ProjectDeleteParams{Name: "team-c"}, nil), protocol.CodeNotFound)

	// A user who may not list namespaces still sees the current one.
	kube.PrependReactor("list", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "", errors.New("no"))
	})
	if err := c.call(protocol.MethodProjectList, nil, &list); err != nil {
		t.Fatal(err)
	}
	if list.Complete || len(list.Projects) != 1 || list.Projects[0].Name != "team-a" || !list.Projects[0].Current {
		t.Fatalf("project/list when forbidden = %+v", list)
	}
	// … and may not create one.
	kube.PrependReactor("create", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "team-d", errors.New("no"))
	})
	expectCode(t, "create when forbidden", c.call(protocol.MethodProjectCreate, protocol.ProjectNameParams{Name: "team-d"}, nil), protocol.CodeUnauthorized)

	clusters.mu.Lock()
	clusters.connect = nil
	clusters.mu.Unlock()
	expectCode(t, "list on no cluster", c.call(protocol.MethodProjectList, nil, nil), protocol.CodeClusterUnreachable)
}

func TestProjectsOnOpenShift(t *testing.T) {
	projects := projectfake.NewClientset(&projectv1.Project{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}, Status: projectv1.ProjectStatus{Phase: corev1.NamespaceActive}})
	// The API server answers a ProjectRequest with the Project it made.
	projects.PrependReactor("create", "projectrequests", func(a k8stesting.Action) (bool, runtime.Object, error) {
		req := a.(k8stesting.CreateAction).GetObject().(*projectv1.ProjectRequest)
		p := &projectv1.Project{ObjectMeta: metav1.ObjectMeta{Name: req.Name}, Status: projectv1.ProjectStatus{Phase: corev1.NamespaceActive}}
		return true, p, projects.Tracker().Add(p)
	})
	kube := kubefake.NewClientset()
	clusters := newFakeClusters(t, func(_ context.Context, ns string) (Cluster, error) {
		return cluster.New(cluster.Clientsets{Kube: kube, Project: projects}, ns, cluster.Platform{Project: true},
			cluster.WithImageInspector(&cluster.FakeImageInspector{}), cluster.WithExecer(&cluster.FakeExecer{})), nil
	})
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)

	var list protocol.ProjectListResult
	if err := c.call(protocol.MethodProjectList, nil, &list); err != nil {
		t.Fatal(err)
	}
	if !list.Complete || len(list.Projects) != 1 || list.Projects[0].Name != "team-a" {
		t.Fatalf("project/list = %+v", list)
	}
	if err := c.call(protocol.MethodProjectCreate, protocol.ProjectNameParams{Name: "team-b"}, nil); err != nil {
		t.Fatal(err)
	}
	var requested bool
	for _, a := range projects.Actions() {
		if a.GetVerb() == "create" && a.GetResource().Resource == "projectrequests" {
			requested = true
		}
	}
	if !requested {
		t.Fatalf("no ProjectRequest was created: %v", projects.Actions())
	}
	if err := c.call(protocol.MethodProjectList, nil, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Projects) != 2 || list.Projects[1].Name != "team-b" {
		t.Fatalf("project/list after create = %+v", list)
	}
	expectCode(t, "create an existing project", c.call(protocol.MethodProjectCreate, protocol.ProjectNameParams{Name: "team-b"}, nil), protocol.CodeConflict)
	if err := c.call(protocol.MethodProjectDelete, protocol.ProjectDeleteParams{Name: "team-b"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, a := range kube.Actions() {
		if a.GetResource().Resource == "namespaces" {
			t.Fatalf("namespaces used on OpenShift: %v", a)
		}
	}
}
