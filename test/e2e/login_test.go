//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/protocol"
)

// namespaceUser makes a ServiceAccount that may do anything in ns and
// nothing outside it (a Role, no ClusterRole: it cannot list
// namespaces), and returns a token for it from the TokenRequest API.
func namespaceUser(t *testing.T, kube kubernetes.Interface, ns, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{"", "apps", "networking.k8s.io", "route.openshift.io", "apps.openshift.io", "image.openshift.io"},
		Resources: []string{"*"}, Verbs: []string{"*"},
	}}}
	if _, err := kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}}}
	if _, err := kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

// twoUserKubeconfig copies the admin kubeconfig with its context named
// admin (in ns) and adds a context dev for the namespace user.
func twoUserKubeconfig(t *testing.T, adminKubeconfig, ns, token string) (path, server string) {
	t.Helper()
	raw, err := clientcmd.LoadFromFile(adminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	admin := raw.Contexts[raw.CurrentContext]
	if admin == nil {
		t.Fatalf("the admin kubeconfig has no current context")
	}
	out := clientcmdapi.NewConfig()
	out.Clusters = raw.Clusters
	out.AuthInfos = raw.AuthInfos
	a := admin.DeepCopy()
	a.Namespace = ns
	out.Contexts["admin"] = a
	dev := clientcmdapi.NewAuthInfo()
	dev.Token = token
	out.AuthInfos["dev"] = dev
	d := clientcmdapi.NewContext()
	d.Cluster, d.AuthInfo, d.Namespace = admin.Cluster, "dev", ns
	out.Contexts["dev"] = d
	out.CurrentContext = "admin"
	path = filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*out, path); err != nil {
		t.Fatal(err)
	}
	return path, raw.Clusters[admin.Cluster].Server
}

func didChangeOf(raw json.RawMessage) protocol.ClusterDidChangeParams {
	var p protocol.ClusterDidChangeParams
	_ = json.Unmarshal(raw, &p)
	return p
}

func changed(p protocol.ClusterDidChangeParams, kind, name string, typ protocol.ChangeType) bool {
	for _, ch := range p.Changes {
		if ch.Kind == kind && ch.Name == name && ch.Type == typ {
			return true
		}
	}
	return false
}

// TestContextsLoginAndClusterWatch: two users in two contexts (an admin,
// and a ServiceAccount that may use one namespace and not list
// namespaces), each seeing its own view through odod/cluster/use; a
// login with the ServiceAccount's token; odod/cluster/didChange when
// another process creates and deletes a component's objects; an env var
// set with odod/config/set reaching the new pod after a push.
func TestContextsLoginAndClusterWatch(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-login")
	other := c.Namespace(t, "odod-login-other")
	kube := c.Client(t)
	token := namespaceUser(t, kube, ns, "dev")
	kubeconfig, server := twoUserKubeconfig(t, c.Kubeconfig, ns, token)

	e := startOdod(t, kubeconfig)
	var init protocol.InitializeResult
	e.mustCall(30*time.Second, protocol.MethodInitialize, protocol.InitializeParams{}, &init)
	_ = e.conn.Notify(context.Background(), protocol.MethodInitialized, struct{}{})

	var contexts protocol.ClusterContextsResult
	e.mustCall(time.Minute, protocol.MethodClusterContexts, nil, &contexts)
	if contexts.Current != "admin" || len(contexts.Contexts) != 2 {
		t.Fatalf("cluster/contexts = %+v", contexts)
	}
	var watch protocol.ClusterWatchResult
	e.mustCall(time.Minute, protocol.MethodClusterWatch, nil, &watch)
	if !watch.Active || watch.Context != "admin" || watch.Namespace != ns {
		t.Fatalf("cluster/watch = %+v", watch)
	}

	// The admin's view: every namespace.
	var projects protocol.ProjectListResult
	e.mustCall(time.Minute, protocol.MethodProjectList, nil, &projects)
	names := map[string]bool{}
	for _, p := range projects.Projects {
		names[p.Name] = true
	}
	if !projects.Complete || !names[ns] || !names[other] {
		t.Fatalf("the admin's project/list = %+v", projects)
	}

	// The namespace user's view: its namespace only, and it says so.
	mark := e.mark()
	var used protocol.ClusterUseResult
	e.mustCall(time.Minute, protocol.MethodClusterUse, protocol.ClusterUseParams{Context: "dev"}, &used)
	if used.Context != "dev" || used.Namespace != ns {
		t.Fatalf("cluster/use dev = %+v", used)
	}
	reset := didChangeOf(e.waitFor(mark, protocol.MethodClusterDidChange, time.Minute, func(raw json.RawMessage) bool { return didChangeOf(raw).Reset }))
	if reset.Context != "dev" || reset.Namespace != ns || reset.Error != nil {
		t.Fatalf("the watch did not follow cluster/use: %+v", reset)
	}
	e.mustCall(time.Minute, protocol.MethodProjectList, nil, &projects)
	if projects.Complete || len(projects.Projects) != 1 || projects.Projects[0].Name != ns || projects.Message == "" {
		t.Fatalf("the namespace user's project/list = %+v", projects)
	}
	t.Logf("the namespace user's project/list: %s", projects.Message)
	var info protocol.ClusterInfoResult
	e.mustCall(time.Minute, protocol.MethodClusterInfo, nil, &info)
	if info.User != "system:serviceaccount:"+ns+":dev" || info.Context != "dev" {
		t.Fatalf("cluster/info as dev = %+v", info)
	}
	if err := e.call(time.Minute, protocol.MethodAppList, protocol.AppListParams{Namespace: other}, nil); err == nil {
		t.Fatalf("the namespace user listed the apps of %s", other)
	}

	// Back to the admin.
	mark = e.mark()
	e.mustCall(time.Minute, protocol.MethodClusterUse, protocol.ClusterUseParams{Context: "admin"}, &used)
	e.waitFor(mark, protocol.MethodClusterDidChange, time.Minute, func(raw json.RawMessage) bool {
		p := didChangeOf(raw)
		return p.Reset && p.Context == "admin"
	})
	e.mustCall(time.Minute, protocol.MethodProjectList, nil, &projects)
	if !projects.Complete {
		t.Fatalf("the admin's project/list after switching back = %+v", projects)
	}

	// Log in with the ServiceAccount's token: the kubeconfig already
	// trusts the server, so no flag is needed; odod uses it at once.
	mark = e.mark()
	var login protocol.LoginResult
	e.mustCall(time.Minute, protocol.MethodLogin, protocol.LoginParams{Server: server, Token: token}, &login)
	host := cluster.ClusterNickname(server)
	if login.User != "system:serviceaccount:"+ns+":dev" || login.Namespace != ns || login.Context != ns+"/"+host+"/"+login.User || login.Kubeconfig != kubeconfig {
		t.Fatalf("login = %+v", login)
	}
	e.waitFor(mark, protocol.MethodClusterDidChange, time.Minute, func(raw json.RawMessage) bool {
		p := didChangeOf(raw)
		return p.Reset && p.Context == login.Context
	})
	e.mustCall(time.Minute, protocol.MethodClusterInfo, nil, &info)
	if info.User != login.User || info.Context != login.Context {
		t.Fatalf("cluster/info after login = %+v", info)
	}
	err := e.call(time.Minute, protocol.MethodLogin, protocol.LoginParams{Server: server, Username: "developer", Password: "developer"}, nil)
	if code := rpcCode(err); code != protocol.CodeLoginUnsupported {
		t.Fatalf("a password login on Kubernetes: %v (code %d), want %d", err, code, protocol.CodeLoginUnsupported)
	}
	t.Logf("password login on Kubernetes: %v", err)

	// Another process creates and deletes a component's objects: the
	// tree hears of both, as the logged-in namespace user.
	labels := map[string]string{cluster.LabelInstance: "ext", cluster.LabelPartOf: "other", cluster.LabelManagedBy: "odo"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "ext-other", Labels: labels}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](0),
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"deployment": "ext-other"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"deployment": "ext-other"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}},
	}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext-other", Labels: labels},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mark = e.mark()
	start := time.Now()
	if _, err := kube.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	e.waitFor(mark, protocol.MethodClusterDidChange, time.Minute, func(raw json.RawMessage) bool {
		p := didChangeOf(raw)
		for _, k := range []string{"Deployment", "Service"} {
			if changed(p, k, "ext-other", protocol.ChangeAdded) {
				seen[k] = true
			}
		}
		return seen["Deployment"] && seen["Service"]
	})
	t.Logf("didChange for a component created by another process: %s after the first create", time.Since(start))
	mark = e.mark()
	if err := kube.AppsV1().Deployments(ns).Delete(ctx, "ext-other", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := kube.CoreV1().Services(ns).Delete(ctx, "ext-other", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	gone := map[string]bool{}
	e.waitFor(mark, protocol.MethodClusterDidChange, time.Minute, func(raw json.RawMessage) bool {
		p := didChangeOf(raw)
		for _, k := range []string{"Deployment", "Service"} {
			if changed(p, k, "ext-other", protocol.ChangeDeleted) {
				gone[k] = true
			}
		}
		return gone["Deployment"] && gone["Service"]
	})

	// An env var set with odod/config/set reaches the new pod after a
	// push, pushed by the logged-in namespace user.
	dir := filepath.Join(t.TempDir(), "web")
	copyTree(t, filepath.Join("..", "..", "testdata", "nodejs-app"), dir)
	var opened protocol.WorkspaceOpenResult
	e.mustCall(time.Minute, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: dir}).String()}, &opened)
	e.mustCall(time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{
		WorkspaceID: opened.WorkspaceID, Type: "nodejs", Name: "web", App: "shop", Project: ns, Ports: []string{"8080"},
	}, nil)
	var first protocol.PushResult
	e.mustCall(10*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: opened.WorkspaceID}, &first)
	var cfg protocol.ConfigViewResult
	e.mustCall(time.Minute, protocol.MethodConfigSet, protocol.ConfigSetParams{WorkspaceID: opened.WorkspaceID, Env: []string{"GREETING=set-by-config"}}, &cfg)
	if len(cfg.Env) != 1 || cfg.Env[0].Value != "set-by-config" {
		t.Fatalf("config/set = %+v", cfg)
	}
	var second protocol.PushResult
	e.mustCall(10*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: opened.WorkspaceID}, &second)
	t.Logf("pushes as the namespace user: %d files to %s, then %d files to %s after config/set", first.FilesCopied, first.Pod, second.FilesCopied, second.Pod)
	if second.Pod == first.Pod {
		t.Fatalf("the push after config/set kept pod %s: the environment is the pod's", first.Pod)
	}
	cl, err := cluster.Connect(ctx, cluster.Options{Kubeconfig: c.Kubeconfig, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	var env strings.Builder
	if err := cl.Exec(ctx, second.Pod, cluster.ComponentRef{Name: "web", App: "shop"}.ObjectName(), []string{"printenv", "GREETING"}, nil, &env, &env); err != nil {
		t.Fatalf("printenv in %s: %v: %s", second.Pod, err, env.String())
	}
	if strings.TrimSpace(env.String()) != "set-by-config" {
		t.Fatalf("printenv GREETING in the new pod = %q", env.String())
	}

	// The same component from a terminal, by name, and completed.
	var byName protocol.ComponentSummary
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "describe", "web", "--project", ns, "-o", "json")), &byName); err != nil {
		t.Fatal(err)
	}
	if byName.Name != "web" || byName.App != "shop" || byName.Pod != second.Pod {
		t.Fatalf("odod describe web = %+v", byName)
	}
	if out := odod(t, c.Kubeconfig, "__complete", "describe", "--project", ns, "w"); !strings.HasPrefix(out, "web\n") {
		t.Fatalf("completion of component names: %q", out)
	}
	if out := odod(t, c.Kubeconfig, "__complete", "app", "describe", "--project", ns, ""); !strings.HasPrefix(out, "shop\n") {
		t.Fatalf("completion of app names: %q", out)
	}
	if out := odod(t, c.Kubeconfig, "__complete", "project", "set", "odod-login"); !strings.Contains(out, ns+"\n") {
		t.Fatalf("completion of project names: %q", out)
	}

	// Log out: a ServiceAccount's token is not revoked, but it is gone
	// from the kubeconfig, and odod no longer gets in.
	var logout protocol.LogoutResult
	e.mustCall(time.Minute, protocol.MethodLogout, nil, &logout)
	if logout.Revoked || logout.Context != login.Context {
		t.Fatalf("logout = %+v", logout)
	}
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if raw.AuthInfos[raw.Contexts[login.Context].AuthInfo].Token != "" {
		t.Fatal("the token is still in the kubeconfig")
	}
	if err := e.call(time.Minute, protocol.MethodClusterInfo, nil, nil); err == nil {
		t.Fatal("cluster/info answered after logout")
	}
	e.mustCall(time.Minute, protocol.MethodClusterUnwatch, nil, &watch)
	e.mustCall(time.Minute, protocol.MethodShutdown, nil, nil)
	_ = e.conn.Notify(context.Background(), protocol.MethodExit, nil)
}

// TestCLILoginAsANamespaceUser: odod login with a ServiceAccount's
// token from a terminal, its view, odod logout.
func TestCLILoginAsANamespaceUser(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-cli-login")
	token := namespaceUser(t, c.Client(t), ns, "dev")
	// A copy of the admin kubeconfig (paths made absolute): it trusts
	// the server's authority.
	raw, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*raw, kubeconfig); err != nil {
		t.Fatal(err)
	}
	server := raw.Clusters[raw.Contexts[raw.CurrentContext].Cluster].Server

	var login protocol.LoginResult
	if err := json.Unmarshal([]byte(odod(t, kubeconfig, "login", server, "--token", token, "-o", "json")), &login); err != nil {
		t.Fatal(err)
	}
	if login.Namespace != ns || login.User != "system:serviceaccount:"+ns+":dev" {
		t.Fatalf("odod login = %+v", login)
	}
	var projects protocol.ProjectListResult
	if err := json.Unmarshal([]byte(odod(t, kubeconfig, "project", "list", "-o", "json")), &projects); err != nil {
		t.Fatal(err)
	}
	if projects.Complete || len(projects.Projects) != 1 || projects.Projects[0].Name != ns || projects.Message == "" {
		t.Fatalf("odod project list as the namespace user = %+v", projects)
	}
	var list protocol.ComponentListResult
	if err := json.Unmarshal([]byte(odod(t, kubeconfig, "list", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if list.Namespace != ns {
		t.Fatalf("odod list = %+v", list)
	}
	var logout protocol.LogoutResult
	if err := json.Unmarshal([]byte(odod(t, kubeconfig, "logout", "-o", "json")), &logout); err != nil {
		t.Fatal(err)
	}
	if logout.Context != login.Context || logout.Revoked {
		t.Fatalf("odod logout = %+v", logout)
	}
	// Logged out: the cluster no longer lets it list.
	cmd := exec.Command(ododBin, "list")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("odod list after logout succeeded: %s", out)
	}
	// A second logout: not logged in.
	cmd = exec.Command(ododBin, "logout")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "not logged in") {
		t.Fatalf("a second odod logout: %v: %s", err, out)
	}
}

// rpcCode is a JSON-RPC error's code, 0 for anything else.
func rpcCode(err error) int64 {
	var e *jsonrpc2.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}
