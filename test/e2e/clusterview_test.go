//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/protocol"
)

// TestClusterView is the editor's view of the cluster on the real one:
// three components in two apps and two namespaces, listed, described,
// and one app deleted.
func TestClusterView(t *testing.T) {
	c := testcluster.Require(t)
	nsA := c.Namespace(t, "odod-view-a")
	nsB := c.Namespace(t, "odod-view-b")

	e := startOdod(t, c.Kubeconfig)
	var init protocol.InitializeResult
	e.mustCall(30*time.Second, protocol.MethodInitialize, protocol.InitializeParams{
		InitializationOptions: &protocol.InitializationOptions{Namespace: nsA},
	}, &init)
	_ = e.conn.Notify(context.Background(), protocol.MethodInitialized, struct{}{})

	var info protocol.ClusterInfoResult
	e.mustCall(time.Minute, protocol.MethodClusterInfo, nil, &info)
	if info.Version == "" || info.Namespace != nsA || info.OpenShift || len(info.APIGroups) == 0 || info.Server == "" {
		t.Fatalf("cluster/info = %+v", info)
	}
	t.Logf("cluster/info: %s at %s, user %q", info.Version, info.Server, info.User)
	var contexts protocol.ClusterContextsResult
	e.mustCall(time.Minute, protocol.MethodClusterContexts, nil, &contexts)
	if len(contexts.Contexts) == 0 || contexts.Current == "" {
		t.Fatalf("cluster/contexts = %+v", contexts)
	}

	var projects protocol.ProjectListResult
	e.mustCall(time.Minute, protocol.MethodProjectList, nil, &projects)
	seen := map[string]bool{}
	for _, p := range projects.Projects {
		seen[p.Name] = true
	}
	if !projects.Complete || !seen[nsA] || !seen[nsB] || projects.Current != nsA {
		t.Fatalf("project/list = %+v, want %s (current) and %s", projects, nsA, nsB)
	}

	// web and api in app shop of namespace A, worker in app batch of B.
	type comp struct{ name, app, ns string }
	comps := []comp{{"web", "shop", nsA}, {"api", "shop", nsA}, {"worker", "batch", nsB}}
	workspaces := map[string]string{}
	for _, cp := range comps {
		dir := filepath.Join(t.TempDir(), cp.name)
		copyTree(t, filepath.Join("..", "..", "testdata", "nodejs-app"), dir)
		var opened protocol.WorkspaceOpenResult
		e.mustCall(time.Minute, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: dir}).String()}, &opened)
		e.mustCall(time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{
			WorkspaceID: opened.WorkspaceID, Type: "nodejs", Name: cp.name, App: cp.app, Project: cp.ns, Ports: []string{"8080"},
		}, nil)
		var pushed protocol.PushResult
		e.mustCall(10*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: opened.WorkspaceID}, &pushed)
		workspaces[cp.name] = opened.WorkspaceID
	}

	var list protocol.ComponentListResult
	e.mustCall(time.Minute, protocol.MethodComponentList, protocol.ComponentListParams{}, &list)
	if list.Namespace != nsA || len(list.Components) != 2 {
		t.Fatalf("component/list = %+v, want api and web in %s", list, nsA)
	}
	for _, s := range list.Components {
		if s.App != "shop" || s.ManagedBy != "odod" || s.Type == "" || s.State != protocol.StateRunning ||
			s.Workspace == nil || s.Workspace.WorkspaceID != workspaces[s.Name] {
			t.Fatalf("component %+v", s)
		}
	}
	e.mustCall(time.Minute, protocol.MethodComponentList, protocol.ComponentListParams{Namespace: nsB, App: "batch"}, &list)
	if len(list.Components) != 1 || list.Components[0].Name != "worker" {
		t.Fatalf("component/list in %s = %+v", nsB, list)
	}

	var apps protocol.AppListResult
	e.mustCall(time.Minute, protocol.MethodAppList, protocol.AppListParams{}, &apps)
	if len(apps.Apps) != 1 || apps.Apps[0].Name != "shop" || len(apps.Apps[0].Components) != 2 {
		t.Fatalf("app/list in %s = %+v", nsA, apps)
	}
	e.mustCall(time.Minute, protocol.MethodAppList, protocol.AppListParams{Namespace: nsB}, &apps)
	if len(apps.Apps) != 1 || apps.Apps[0].Name != "batch" {
		t.Fatalf("app/list in %s = %+v", nsB, apps)
	}
	var described protocol.AppDescribeResult
	e.mustCall(time.Minute, protocol.MethodAppDescribe, protocol.AppParams{Name: "shop"}, &described)
	if len(described.Components) != 2 || described.Components[0].Pod == "" {
		t.Fatalf("app/describe shop = %+v", described)
	}

	// The same from a terminal.
	var cliList protocol.ComponentListResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "list", "--project", nsA, "-o", "json")), &cliList); err != nil {
		t.Fatal(err)
	}
	if len(cliList.Components) != 2 || cliList.Components[0].Name != "api" || cliList.Components[0].State != protocol.StateRunning {
		t.Fatalf("odod list = %+v", cliList)
	}
	var cliApps protocol.AppListResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "app", "list", "--project", nsB, "-o", "json")), &cliApps); err != nil {
		t.Fatal(err)
	}
	if len(cliApps.Apps) != 1 || cliApps.Apps[0].Name != "batch" {
		t.Fatalf("odod app list = %+v", cliApps)
	}
	var cliProjects protocol.ProjectListResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "project", "list", "-o", "json")), &cliProjects); err != nil {
		t.Fatal(err)
	}
	if len(cliProjects.Projects) < 2 || !cliProjects.Complete {
		t.Fatalf("odod project list = %+v", cliProjects)
	}

	start := time.Now()
	var deleted protocol.AppDeleteResult
	e.mustCall(5*time.Minute, protocol.MethodAppDelete, protocol.AppDeleteParams{Name: "shop"}, &deleted)
	t.Logf("app/delete shop: %d objects in %s", len(deleted.Deleted), time.Since(start))
	if len(deleted.Components) != 2 {
		t.Fatalf("app/delete = %+v", deleted)
	}
	kube := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if pods, err := kube.CoreV1().Pods(nsA).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/part-of=shop"}); err != nil || len(pods.Items) != 0 {
		t.Fatalf("pods of shop after app/delete: %v %v", pods, err)
	}
	e.mustCall(time.Minute, protocol.MethodComponentList, protocol.ComponentListParams{}, &list)
	if len(list.Components) != 0 {
		t.Fatalf("component/list after app/delete = %+v", list)
	}
	e.mustCall(time.Minute, protocol.MethodComponentList, protocol.ComponentListParams{Namespace: nsB}, &list)
	if len(list.Components) != 1 {
		t.Fatalf("app/delete reached %s: %+v", nsB, list)
	}
	err := e.call(time.Minute, protocol.MethodAppDescribe, protocol.AppParams{Name: "shop"}, nil)
	if err == nil {
		t.Fatal("app/describe of a deleted app answered")
	}

	// A project made and deleted from a terminal.
	temp := fmt.Sprintf("odod-view-tmp-%d", time.Now().UnixNano()%1000000)
	odod(t, c.Kubeconfig, "project", "create", temp)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = kube.CoreV1().Namespaces().Delete(ctx, temp, metav1.DeleteOptions{})
	})
	start = time.Now()
	odod(t, c.Kubeconfig, "project", "delete", temp)
	t.Logf("odod project delete (waiting until gone): %s", time.Since(start))
	if _, err := kube.CoreV1().Namespaces().Get(ctx, temp, metav1.GetOptions{}); err == nil {
		t.Fatalf("project %s still exists after odod project delete", temp)
	}

	// Switching project without a restart: the default namespace is B.
	e.mustCall(time.Minute, protocol.MethodProjectSet, protocol.ProjectNameParams{Name: nsB}, nil)
	e.mustCall(time.Minute, protocol.MethodAppList, protocol.AppListParams{}, &apps)
	if apps.Namespace != nsB || len(apps.Apps) != 1 {
		t.Fatalf("app/list after project/set = %+v", apps)
	}

	// odod app delete from a terminal.
	var cliDeleted protocol.AppDeleteResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "app", "delete", "batch", "--project", nsB, "-o", "json")), &cliDeleted); err != nil {
		t.Fatal(err)
	}
	if len(cliDeleted.Components) != 1 || cliDeleted.Components[0] != "worker" {
		t.Fatalf("odod app delete = %+v", cliDeleted)
	}
}
