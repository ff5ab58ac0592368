package daemon

import (
	"context"
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// onCluster makes the objects of a component as odod (or odo) labels
// them: its Deployment and Service.
func onCluster(namespace, name, app, builder, version, managedBy string) []runtime.Object {
	ref := cluster.ComponentRef{Name: name, App: app}
	labels := map[string]string{cluster.LabelPartOf: app, cluster.LabelInstance: name, cluster.LabelApp: app,
		cluster.LabelName: builder, cluster.LabelRuntimeVersion: version}
	if managedBy != "" {
		labels[cluster.LabelManagedBy] = managedBy
	}
	meta := metav1.ObjectMeta{Name: ref.ObjectName(), Namespace: namespace, Labels: labels}
	return []runtime.Object{&appsv1.Deployment{ObjectMeta: meta}, &corev1.Service{ObjectMeta: meta}}
}

func TestComponentsAndAppsOnAFakeCluster(t *testing.T) {
	var objs []runtime.Object
	objs = append(objs, onCluster("team-a", "web", "shop", "nodejs", "14", "odod")...)
	objs = append(objs, onCluster("team-a", "api", "shop", "python", "3.9", "")...)
	objs = append(objs, onCluster("team-a", "worker", "batch", "java", "", "odod")...)
	objs = append(objs, onCluster("team-b", "other", "shop", "nodejs", "", "odod")...)
	objs = append(objs,
		// Not a component: no labels.
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "team-a"}},
		&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "http-shop", Namespace: "team-a", Labels: map[string]string{
			cluster.LabelPartOf: "shop", cluster.LabelInstance: "web", cluster.LabelURLName: "http"}},
			Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "web.example.com"}}}},
	)
	kube := kubefake.NewClientset(objs...)
	clusters := newFakeClusters(t, func(_ context.Context, ns string) (Cluster, error) { return fakeCluster(ns, kube), nil })
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)

	// The web component is open as a workspace.
	dir := t.TempDir()
	cfg := config.New("web", "nodejs")
	cfg.ComponentSettings.Application = "shop"
	cfg.ComponentSettings.Project = "team-a"
	if err := config.Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	var ws protocol.WorkspaceOpenResult
	if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(dir)}, &ws); err != nil {
		t.Fatal(err)
	}

	var list protocol.ComponentListResult
	if err := c.call(protocol.MethodComponentList, protocol.ComponentListParams{}, &list); err != nil {
		t.Fatal(err)
	}
	names := func(cs []protocol.ComponentSummary) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.App+"/"+c.Name)
		}
		return out
	}
	if got := names(list.Components); list.Namespace != "team-a" || len(got) != 3 || got[0] != "batch/worker" || got[1] != "shop/api" || got[2] != "shop/web" {
		t.Fatalf("component/list = %v in %s", got, list.Namespace)
	}
	api, web := list.Components[1], list.Components[2]
	if api.Type != "python:3.9" || api.ManagedBy != "odo" || api.Workspace != nil {
		t.Fatalf("api = %+v", api)
	}
	if web.Type != "nodejs:14" || web.ManagedBy != "odod" || web.Workspace == nil || web.Workspace.WorkspaceID != ws.WorkspaceID {
		t.Fatalf("web = %+v", web)
	}
	if len(web.URLs) != 1 || web.URLs[0].Name != "http" || web.URLs[0].Host != "web.example.com" || web.URLs[0].State != protocol.SettingPushed {
		t.Fatalf("web's URLs = %+v", web.URLs)
	}
	if web.State != protocol.StateStarting {
		t.Fatalf("web without a pod is %s, want Starting", web.State)
	}

	if err := c.call(protocol.MethodComponentList, protocol.ComponentListParams{App: "shop"}, &list); err != nil {
		t.Fatal(err)
	}
	if got := names(list.Components); len(got) != 2 {
		t.Fatalf("component/list app=shop = %v", got)
	}
	if err := c.call(protocol.MethodComponentList, protocol.ComponentListParams{Namespace: "team-b"}, &list); err != nil {
		t.Fatal(err)
	}
	if got := names(list.Components); list.Namespace != "team-b" || len(got) != 1 || got[0] != "shop/other" {
		t.Fatalf("component/list namespace=team-b = %v in %s", got, list.Namespace)
	}

	var apps protocol.AppListResult
	if err := c.call(protocol.MethodAppList, protocol.AppListParams{}, &apps); err != nil {
		t.Fatal(err)
	}
	if len(apps.Apps) != 2 || apps.Apps[0].Name != "batch" || apps.Apps[1].Name != "shop" ||
		len(apps.Apps[1].Components) != 2 || apps.Apps[1].Components[0] != "api" {
		t.Fatalf("app/list = %+v", apps)
	}
	var described protocol.AppDescribeResult
	if err := c.call(protocol.MethodAppDescribe, protocol.AppParams{Name: "shop"}, &described); err != nil {
		t.Fatal(err)
	}
	if described.Namespace != "team-a" || len(described.Components) != 2 {
		t.Fatalf("app/describe = %+v", described)
	}
	expectCode(t, "describe a missing app", c.call(protocol.MethodAppDescribe, protocol.AppParams{Name: "nope"}, nil), protocol.CodeNotFound)
	expectCode(t, "describe no app", c.call(protocol.MethodAppDescribe, protocol.AppParams{}, nil), protocol.CodeInvalidParams)

	var deleted protocol.AppDeleteResult
	if err := c.call(protocol.MethodAppDelete, protocol.AppDeleteParams{Name: "shop"}, &deleted); err != nil {
		t.Fatal(err)
	}
	if len(deleted.Components) != 2 || len(deleted.Deleted) < 5 {
		t.Fatalf("app/delete = %+v, want api and web with their Deployments, Services and Ingress", deleted)
	}
	left, err := kube.AppsV1().Deployments("team-a").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var remaining []string
	for _, d := range left.Items {
		remaining = append(remaining, d.Name)
	}
	if len(remaining) != 2 { // worker-batch and db
		t.Fatalf("Deployments left after deleting shop: %v", remaining)
	}
	if other, _ := kube.AppsV1().Deployments("team-b").List(context.Background(), metav1.ListOptions{}); len(other.Items) != 1 {
		t.Fatal("app/delete reached another namespace")
	}
	expectCode(t, "delete a missing app", c.call(protocol.MethodAppDelete, protocol.AppDeleteParams{Name: "shop"}, nil), protocol.CodeNotFound)

	kube.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "", errors.New("no"))
	})
	expectCode(t, "list when forbidden", c.call(protocol.MethodComponentList, protocol.ComponentListParams{}, nil), protocol.CodeUnauthorized)
	clusters.mu.Lock()
	clusters.connect = nil
	clusters.mu.Unlock()
	expectCode(t, "app/list on no cluster", c.call(protocol.MethodAppList, protocol.AppListParams{}, nil), protocol.CodeClusterUnreachable)
}
