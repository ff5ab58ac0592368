package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestInfoReportsVersionGroupsAndUser(t *testing.T) {
	c, f := newFakeClient(t, "team-a", false)
	f.kube.Resources = []*metav1.APIResourceList{
		{GroupVersion: "v1"},
		{GroupVersion: "apps/v1"},
		{GroupVersion: "route.openshift.io/v1"},
		{GroupVersion: "project.openshift.io/v1"},
	}
	f.kube.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "v1.34.1"}
	f.kube.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authnv1.SelfSubjectReview{Status: authnv1.SelfSubjectReviewStatus{UserInfo: authnv1.UserInfo{
			Username: "alice", Groups: []string{"system:authenticated"}}}}, nil
	})
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Version: "v1.34.1", Groups: []string{"apps", "project.openshift.io", "route.openshift.io"}, OpenShift: true,
		User: "alice", UserGroups: []string{"system:authenticated"}}
	if !reflect.DeepEqual(info, want) {
		t.Fatalf("Info = %+v, want %+v", info, want)
	}
}

func TestInfoWithoutSelfSubjectReview(t *testing.T) {
	c, f := newFakeClient(t, "team-a", false)
	// Routes through a CRD do not make a cluster OpenShift.
	f.kube.Resources = []*metav1.APIResourceList{{GroupVersion: "route.openshift.io/v1"}}
	f.kube.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "authentication.k8s.io", Resource: "selfsubjectreviews"}, "", errors.New("no"))
	})
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.User != "" || info.OpenShift {
		t.Fatalf("Info = %+v, want no user, not OpenShift", info)
	}

	f.kube.PrependReactor("get", "version", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewUnauthorized("token expired")
	})
	_, err = c.Info(context.Background())
	if KindOf(err) != KindUnauthorized {
		t.Fatalf("Info with expired credentials: %v, want Unauthorized", err)
	}
}

func TestContextsReadTheKubeconfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	kubeconfig := `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:6443"}
contexts:
- name: dev
  context: {cluster: local, user: alice, namespace: team-a}
- name: admin
  context: {cluster: local, user: root}
users:
- name: alice
  user: {token: "t1"}
- name: root
  user: {token: "t2"}
`
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Contexts(Options{Kubeconfig: path})
	if err != nil {
		t.Fatal(err)
	}
	want := KubeContexts{Current: "dev", Contexts: []KubeContext{
		{Name: "admin", Cluster: "local", Server: "https://127.0.0.1:6443", User: "root"},
		{Name: "dev", Cluster: "local", Server: "https://127.0.0.1:6443", User: "alice", Namespace: "team-a"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Contexts = %+v, want %+v", got, want)
	}
	if got, _ := Contexts(Options{Kubeconfig: path, Context: "admin"}); got.Current != "admin" {
		t.Fatalf("an explicit context is not the current one: %q", got.Current)
	}
	if _, err := Contexts(Options{Kubeconfig: filepath.Join(t.TempDir(), "missing")}); KindOf(err) != KindNoConfig {
		t.Fatalf("missing kubeconfig: %v, want NoConfig", err)
	}
}
