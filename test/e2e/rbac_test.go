//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/protocol"
)

// TestNamespaceScopedUser: a developer whose only rights are a Role in
// one namespace (a ServiceAccount's token, no cluster-wide list) creates a
// component, pushes it, makes a URL and follows its logs through odod
// serve; once the Role only reads, a push fails with an error that names
// the missing permission: the verb, the resource and the namespace. Its
// token and a Secret's value never appear in what odod logs or notifies.
func TestNamespaceScopedUser(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-rbac")
	admin := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	if _, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "dev"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	everything := []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}
	if _, err := admin.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "dev"}, Rules: everything}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "dev"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "dev", Namespace: ns}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "dev"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	expiry := int64(3600)
	tok, err := admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "dev", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secretValue := "rbac-planted-" + ns
	if _, err := admin.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "planted", Labels: map[string]string{"app.kubernetes.io/instance": "scoped", "app.kubernetes.io/part-of": "app"}},
		StringData: map[string]string{"password": secretValue},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The developer's kubeconfig: the token, the namespace, nothing else.
	cfg := clientcmdapi.NewConfig()
	cluster := &clientcmdapi.Cluster{Server: c.Config.Host, CertificateAuthorityData: c.Config.CAData}
	if len(cluster.CertificateAuthorityData) == 0 && c.Config.CAFile != "" {
		if cluster.CertificateAuthorityData, err = os.ReadFile(c.Config.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Clusters["local"] = cluster
	cfg.AuthInfos["dev"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	cfg.Contexts["dev"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "dev", Namespace: ns}
	cfg.CurrentContext = "dev"
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}

	ws := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "nodejs-app"), ws)
	e := startOdod(t, kubeconfig)
	e.plant("the ServiceAccount's token", tok.Status.Token)
	e.plant("the Secret's value", secretValue)
	e.mustCall(30*time.Second, protocol.MethodInitialize, protocol.InitializeParams{
		InitializationOptions: &protocol.InitializationOptions{LogLevel: "debug"},
	}, nil)
	_ = e.conn.Notify(context.Background(), protocol.MethodInitialized, struct{}{})
	var opened protocol.WorkspaceOpenResult
	e.mustCall(time.Minute, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: ws}).String()}, &opened)
	wsID := opened.WorkspaceID

	var created protocol.ComponentCreateResult
	e.mustCall(time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{
		WorkspaceID: wsID, Type: "nodejs", Name: "scoped", Ports: []string{"8080"},
	}, &created)
	if created.Component.Project != ns {
		t.Fatalf("component = %+v, want project %s (the kubeconfig's namespace)", created.Component, ns)
	}
	var pushed protocol.PushResult
	e.mustCall(10*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: wsID}, &pushed)
	if pushed.BuildExitCode == nil || *pushed.BuildExitCode != 0 {
		t.Fatalf("push = %+v", pushed)
	}
	var u protocol.URLCreateResult
	e.mustCall(time.Minute, protocol.MethodURLCreate, protocol.URLCreateParams{WorkspaceID: wsID, Name: "www", Port: 8080}, &u)
	if u.URL.State != "Pushed" {
		t.Fatalf("url create = %+v, want it pushed", u.URL)
	}
	var sub protocol.LogsFollowResult
	mark := e.mark()
	e.mustCall(time.Minute, protocol.MethodLogsFollow, protocol.LogsFollowParams{WorkspaceID: wsID}, &sub)
	e.waitFor(mark, protocol.MethodLog, 2*time.Minute, func(raw json.RawMessage) bool {
		var p protocol.LogParams
		return json.Unmarshal(raw, &p) == nil && p.SubscriptionID == sub.SubscriptionID && strings.Contains(p.Text, "listening")
	})
	e.mustCall(time.Minute, protocol.MethodLogsStop, protocol.LogsStopParams(sub), nil)
	var desc protocol.DescribeResult
	e.mustCall(time.Minute, protocol.MethodComponentDescribe, protocol.WorkspaceParams{WorkspaceID: wsID}, &desc)
	if desc.State != protocol.StateRunning {
		t.Fatalf("describe = %+v", desc)
	}

	// Read-only now: the next push cannot apply the component's objects.
	readOnly := []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}}}
	if _, err := admin.RbacV1().Roles(ns).Update(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "dev"}, Rules: readOnly}, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.mustCall(time.Minute, protocol.MethodStorageAdd, protocol.StorageAddParams{WorkspaceID: wsID, Name: "data", Path: "/data", Size: "100Mi"}, nil)
	err = e.call(5*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: wsID}, nil)
	var rpcErr *jsonrpc2.Error
	if err == nil {
		t.Fatal("push with a read-only Role succeeded")
	}
	if !asRPCError(err, &rpcErr) || rpcErr.Code != protocol.CodeUnauthorized {
		t.Fatalf("push with a read-only Role: %v, want code %d", err, protocol.CodeUnauthorized)
	}
	msg := rpcErr.Message
	// The verb, the resource and the namespace of the missing permission.
	if !forbiddenNames.MatchString(msg) || !strings.Contains(msg, ns) {
		t.Errorf("the Forbidden error does not name the missing permission (verb, resource, namespace %s): %s", ns, msg)
	}
	t.Logf("forbidden: %s", msg)

	// Everything but exec: the objects apply, the files cannot be sent.
	e.mustCall(time.Minute, protocol.MethodStorageRemove, protocol.NameParams{WorkspaceID: wsID, Name: "data"}, nil)
	noExec := []rbacv1.PolicyRule{
		{APIGroups: []string{"*"}, Resources: []string{"deployments", "replicasets", "services", "secrets", "persistentvolumeclaims",
			"pods", "pods/log", "pods/portforward", "routes", "ingresses", "events", "configmaps", "imagestreams", "imagestreamtags"}, Verbs: []string{"*"}},
	}
	if _, err := admin.RbacV1().Roles(ns).Update(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "dev"}, Rules: noExec}, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A new pod: the agent's exec stream, opened before, must be opened again.
	if err := admin.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=scoped"}); err != nil {
		t.Fatal(err)
	}
	mark = e.mark()
	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'no exec';\n")
	e.waitFor(mark, protocol.MethodIndexDidChange, 10*time.Second, func(json.RawMessage) bool { return true })
	err = e.call(5*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: wsID}, nil)
	if !asRPCError(err, &rpcErr) {
		t.Fatalf("push without pods/exec: %v, want an error", err)
	}
	t.Logf("forbidden exec: code %d: %s", rpcErr.Code, rpcErr.Message)
	if rpcErr.Code != protocol.CodeUnauthorized {
		t.Errorf("push without pods/exec: code %d, want %d (not allowed: no retry helps)", rpcErr.Code, protocol.CodeUnauthorized)
	}
	if !strings.Contains(rpcErr.Message, "pods/exec") || !strings.Contains(rpcErr.Message, ns) || !strings.Contains(rpcErr.Message, "create") {
		t.Errorf("the Forbidden exec does not name the missing permission (create pods/exec in %s): %s", ns, rpcErr.Message)
	}
}

var forbiddenNames = regexp.MustCompile(`\b(create|patch|update|delete)\b[^"]*"?(persistentvolumeclaims|deployments|services|secrets)`)

func asRPCError(err error, target **jsonrpc2.Error) bool {
	e, ok := err.(*jsonrpc2.Error)
	if ok {
		*target = e
	}
	return ok
}
