package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	imagefake "github.com/openshift/client-go/image/clientset/versioned/fake"
	"go.uber.org/zap/zaptest"
	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// TestMethodTableMatchesProtocol keeps the dispatch table and the
// protocol's catalog in step, and so, through protocol's docs test,
// docs/protocol.md: every method a client sends has an entry of the same
// kind and params type, and every entry is in the catalog.
func TestMethodTableMatchesProtocol(t *testing.T) {
	table := newMethodTable()
	catalog := map[string]protocol.MethodInfo{}
	for _, info := range protocol.Methods() {
		catalog[info.Name] = info
		if info.Direction == protocol.ServerToClient {
			if _, ok := table[info.Name]; ok {
				t.Errorf("%s is sent by the server, yet the table answers it", info.Name)
			}
			continue
		}
		m, ok := table[info.Name]
		if !ok {
			t.Errorf("%s: in protocol.Methods but not in the method table", info.Name)
			continue
		}
		if m.notif != (info.Kind == protocol.Notification) {
			t.Errorf("%s: the table says notification=%v, the catalog %s", info.Name, m.notif, info.Kind)
		}
		want := reflect.TypeFor[none]()
		if info.Params != nil {
			want = reflect.TypeOf(info.Params)
		}
		if m.params != want {
			t.Errorf("%s: the table decodes %v, the catalog documents %v", info.Name, m.params, want)
		}
	}
	for name := range table {
		if _, ok := catalog[name]; !ok {
			t.Errorf("%s: in the method table but not in protocol.Methods (nor so in docs/protocol.md)", name)
		}
	}
}

func TestInitializeAdvertisesTheTable(t *testing.T) {
	c := startServer(t, Options{Clusters: newFakeClusters(t, nil)})
	res := c.initialize(nil, false)
	got := res.Capabilities.Experimental.Methods
	want := advertised(newMethodTable())
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("advertised %v, want %v", got, want)
	}
	for _, m := range got {
		if m == protocol.MethodDebugSleep {
			t.Fatal("the debug method is advertised")
		}
	}
	if len(got) < 15 {
		t.Fatalf("only %d methods advertised", len(got))
	}
}

// fakeClusters is the Clusters of the tests: a Kubeconfig over a test
// kubeconfig (testKubeconfig) whose Connect answers what connect says.
type fakeClusters struct {
	*Kubeconfig
	mu         sync.Mutex
	connect    func(ctx context.Context, namespace string) (Cluster, error)
	namespaces []string // what Connect was asked for
}

func newFakeClusters(t *testing.T, connect func(ctx context.Context, namespace string) (Cluster, error)) *fakeClusters {
	t.Helper()
	k := NewKubeconfig(zaptest.NewLogger(t))
	k.Configure(Selection{Kubeconfig: testKubeconfig(t)})
	return &fakeClusters{Kubeconfig: k, connect: connect}
}

func (f *fakeClusters) Connect(ctx context.Context, namespace string) (Cluster, error) {
	f.mu.Lock()
	f.namespaces = append(f.namespaces, namespace)
	connect := f.connect
	f.mu.Unlock()
	if connect == nil {
		return nil, &cluster.Error{Kind: cluster.KindUnreachable, Message: "no cluster in this test", Suggestion: "start one"}
	}
	if namespace == "" {
		namespace = f.DefaultNamespace()
	}
	return connect(ctx, namespace)
}

// testKubeconfig writes a kubeconfig of two contexts on one cluster.
func testKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	const kubeconfig = `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:6443"}
- name: other
  cluster: {server: "https://127.0.0.2:6443"}
contexts:
- name: dev
  context: {cluster: local, user: alice, namespace: team-a}
- name: admin
  context: {cluster: other, user: root}
users:
- name: alice
  user: {token: "t1"}
- name: root
  user: {token: "t2"}
`
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeCluster is a *cluster.Client over fake clientsets.
func fakeCluster(namespace string, kube *kubefake.Clientset) *cluster.Client {
	return cluster.New(cluster.Clientsets{Kube: kube}, namespace, cluster.Platform{},
		cluster.WithImageInspector(&cluster.FakeImageInspector{}), cluster.WithExecer(&cluster.FakeExecer{}))
}

func connectTo(cl Cluster) func(context.Context, string) (Cluster, error) {
	return func(context.Context, string) (Cluster, error) { return cl, nil }
}

// openComponent opens a workspace holding a component's settings and
// returns its id.
func openComponent(t *testing.T, c *client) (string, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.New("web", "nodejs")
	cfg.ComponentSettings.Project = "team-a"
	cfg.ComponentSettings.Ports = []string{"8080/TCP"}
	if err := config.Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	var ws protocol.WorkspaceOpenResult
	if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(dir)}, &ws); err != nil {
		t.Fatal(err)
	}
	return ws.WorkspaceID, dir
}

// A request that waits on a hung API server holds up neither the queue
// (odod/status answers at once) nor anything but the workspace's own
// later requests, which wait for its settings edit to end.
func TestClusterWaitDoesNotHoldTheQueue(t *testing.T) {
	hung := make(chan struct{})
	var once sync.Once
	clusters := newFakeClusters(t, func(ctx context.Context, _ string) (Cluster, error) {
		first := false
		once.Do(func() { first = true })
		if first {
			close(hung)
			<-ctx.Done() // an API server that never answers
			return nil, ctx.Err()
		}
		return fakeCluster("team-a", kubefake.NewClientset()), nil
	})
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)
	ws, _ := openComponent(t, c)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	create, err := c.conn.DispatchCall(ctx, protocol.MethodURLCreate, protocol.URLCreateParams{WorkspaceID: ws, Name: "http", Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-hung:
	case <-time.After(10 * time.Second):
		t.Fatal("url/create never reached the cluster")
	}
	start := time.Now()
	var status protocol.StatusResult
	if err := c.call(protocol.MethodStatus, nil, &status); err != nil {
		t.Fatalf("status while url/create waits on the cluster: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("status took %v behind a hung url/create", d)
	}

	// The workspace's next request waits for the edit to end.
	list, err := c.conn.DispatchCall(context.Background(), protocol.MethodURLList, protocol.WorkspaceParams{WorkspaceID: ws})
	if err != nil {
		t.Fatal(err)
	}
	listed := make(chan error, 1)
	go func() {
		var res protocol.URLListResult
		err := list.Wait(context.Background(), &res)
		if err == nil && (len(res.URLs) != 1 || res.URLs[0].Name != "http") {
			err = errors.New("url/list did not see the URL url/create saved")
		}
		listed <- err
	}()
	select {
	case err := <-listed:
		t.Fatalf("url/list answered (%v) while url/create was still editing", err)
	case <-time.After(200 * time.Millisecond):
	}
	// The first request the client sent has id 0 (initialize), then 1
	// (workspace/open) and 2 (url/create).
	if err := c.conn.Notify(context.Background(), protocol.MethodCancelRequest, map[string]any{"id": 2}); err != nil {
		t.Fatal(err)
	}
	var res protocol.URLCreateResult
	waitCtx, waitCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer waitCancel()
	if err := create.Wait(waitCtx, &res); err != nil {
		t.Fatalf("url/create: %v (the URL is saved; the cluster part is done at push)", err)
	}
	if res.URL.State != protocol.SettingNotPushed {
		t.Fatalf("url/create = %+v, want a URL not pushed", res.URL)
	}
	select {
	case err := <-listed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("url/list never answered")
	}
}

func TestSettingsMethodsOnAFakeCluster(t *testing.T) {
	kube := kubefake.NewClientset()
	clusters := newFakeClusters(t, connectTo(fakeCluster("team-a", kube)))
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(&protocol.InitializationOptions{Kubeconfig: "/k", Context: "ctx", Namespace: "ns"}, false)
	if got, want := clusters.Selection(), (Selection{Kubeconfig: "/k", Context: "ctx", Namespace: "ns"}); got != want {
		t.Fatalf("initialize configured %+v, want %+v", got, want)
	}
	ws, _ := openComponent(t, c)

	var created protocol.URLCreateResult
	if err := c.call(protocol.MethodURLCreate, protocol.URLCreateParams{WorkspaceID: ws, Name: "http", Port: 8080}, &created); err != nil {
		t.Fatal(err)
	}
	if created.URL.Name != "http" || created.URL.State != protocol.SettingNotPushed {
		t.Fatalf("url/create = %+v", created.URL)
	}
	if err := c.call(protocol.MethodStorageAdd, protocol.StorageAddParams{WorkspaceID: ws, Name: "data", Path: "/data", Size: "1Gi"}, nil); err != nil {
		t.Fatal(err)
	}
	var urls protocol.URLListResult
	if err := c.call(protocol.MethodURLList, protocol.WorkspaceParams{WorkspaceID: ws}, &urls); err != nil {
		t.Fatal(err)
	}
	if len(urls.URLs) != 1 || urls.URLs[0].Port != 8080 {
		t.Fatalf("url/list = %+v", urls.URLs)
	}
	var storage protocol.StorageListResult
	if err := c.call(protocol.MethodStorageList, protocol.WorkspaceParams{WorkspaceID: ws}, &storage); err != nil {
		t.Fatal(err)
	}
	if len(storage.Storage) != 1 || storage.Storage[0].Path != "/data" {
		t.Fatalf("storage/list = %+v", storage.Storage)
	}
	clusters.mu.Lock()
	asked := append([]string(nil), clusters.namespaces...)
	clusters.mu.Unlock()
	for _, ns := range asked {
		if ns != "team-a" {
			t.Fatalf("connected to %q, want the component's project team-a (all: %v)", ns, asked)
		}
	}
	if err := c.call(protocol.MethodURLDelete, protocol.NameParams{WorkspaceID: ws, Name: "http"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call(protocol.MethodStorageRemove, protocol.NameParams{WorkspaceID: ws, Name: "data"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call(protocol.MethodURLList, protocol.WorkspaceParams{WorkspaceID: ws}, &urls); err != nil {
		t.Fatal(err)
	}
	if len(urls.URLs) != 0 {
		t.Fatalf("url/list after delete = %+v", urls.URLs)
	}

	// Errors carry codes and suggestions.
	for _, tc := range []struct {
		name   string
		method string
		params any
		code   int64
	}{
		{"no name", protocol.MethodURLCreate, protocol.URLCreateParams{WorkspaceID: ws, Port: 80}, protocol.CodeInvalidParams},
		{"no workspace", protocol.MethodURLList, protocol.WorkspaceParams{WorkspaceID: "ws-nope"}, protocol.CodeWorkspaceNotFound},
		{"no workspace id", protocol.MethodStorageList, protocol.WorkspaceParams{}, protocol.CodeInvalidParams},
		{"unknown URL", protocol.MethodURLDelete, protocol.NameParams{WorkspaceID: ws, Name: "nope"}, 0},
		{"unknown storage", protocol.MethodStorageRemove, protocol.NameParams{WorkspaceID: ws, Name: "nope"}, protocol.CodeNotFound},
	} {
		err := c.call(tc.method, tc.params, nil)
		if tc.code == 0 {
			if err != nil {
				t.Errorf("%s: %v, want success (not in the settings nor on the cluster)", tc.name, err)
			}
			continue
		}
		if got := rpcCode(t, err); got != tc.code {
			t.Errorf("%s: code %d (%v), want %d", tc.name, got, err, tc.code)
			continue
		}
		if d := errorData(t, err); len(d.Suggestions) == 0 {
			t.Errorf("%s: no suggestion in %+v", tc.name, d)
		}
	}
}

func TestCatalogOnAFakeCluster(t *testing.T) {
	clusters := newFakeClusters(t, nil)
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)

	// Unreachable.
	err := c.call(protocol.MethodCatalogList, protocol.CatalogListParams{}, nil)
	if got := rpcCode(t, err); got != protocol.CodeClusterUnreachable {
		t.Fatalf("catalog on no cluster: code %d (%v)", got, err)
	}

	// OpenShift ImageStreams; unreadable ones (401, 403) give the
	// built-in catalog, any other failure is an error.
	images := imagefake.NewClientset()
	cl := cluster.New(cluster.Clientsets{Kube: kubefake.NewClientset(), Image: images}, "team-a", cluster.Platform{ImageStream: true},
		cluster.WithImageInspector(&cluster.FakeImageInspector{}), cluster.WithExecer(&cluster.FakeExecer{}))
	clusters.mu.Lock()
	clusters.connect = connectTo(cl)
	clusters.mu.Unlock()
	images.PrependReactor("list", "imagestreams", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "image.openshift.io", Resource: "imagestreams"}, "", errors.New("no"))
	})
	var res protocol.CatalogListResult
	if err := c.call(protocol.MethodCatalogList, protocol.CatalogListParams{}, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Types) == 0 {
		t.Fatal("no built-in types when ImageStreams are forbidden")
	}
	images.PrependReactor("list", "imagestreams", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(errors.New("etcd is down"))
	})
	err = c.call(protocol.MethodCatalogList, protocol.CatalogListParams{}, nil)
	if got := rpcCode(t, err); got != protocol.CodeRequestFailed {
		t.Fatalf("catalog on a failing API server: code %d (%v)", got, err)
	}
	if d := errorData(t, err); len(d.Suggestions) == 0 {
		t.Fatalf("no suggestion: %+v", d)
	}
}

func TestDescribeAndDeleteOnAFakeCluster(t *testing.T) {
	kube := kubefake.NewClientset()
	clusters := newFakeClusters(t, connectTo(fakeCluster("team-a", kube)))
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)
	ws, _ := openComponent(t, c)

	var d protocol.DescribeResult
	if err := c.call(protocol.MethodComponentDescribe, protocol.WorkspaceParams{WorkspaceID: ws}, &d); err != nil {
		t.Fatal(err)
	}
	if d.Name != "web" || d.Namespace != "team-a" || d.State != protocol.StateAbsent {
		t.Fatalf("describe = %+v, want web in team-a, absent", d)
	}
	var del protocol.ComponentDeleteResult
	if err := c.call(protocol.MethodComponentDelete, protocol.ComponentDeleteParams{WorkspaceID: ws}, &del); err != nil {
		t.Fatal(err)
	}
	if len(del.Deleted) != 0 {
		t.Fatalf("deleted %v of a component never pushed", del.Deleted)
	}

	// Forbidden: the user may not read the namespace.
	kube.PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no access to team-a"))
	})
	err := c.call(protocol.MethodComponentDescribe, protocol.WorkspaceParams{WorkspaceID: ws}, nil)
	if got := rpcCode(t, err); got != protocol.CodeUnauthorized {
		t.Fatalf("describe when forbidden: code %d (%v)", got, err)
	}
	if data := errorData(t, err); data.Reason != "Forbidden" || len(data.Suggestions) == 0 {
		t.Fatalf("describe when forbidden: data %+v", data)
	}
}

func TestClusterContextsUseAndInfo(t *testing.T) {
	kube := kubefake.NewClientset()
	kube.Resources = []*metav1.APIResourceList{{GroupVersion: "v1"}, {GroupVersion: "apps/v1"}, {GroupVersion: "networking.k8s.io/v1"}}
	kube.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "v1.34.1"}
	kube.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authnv1.SelfSubjectReview{Status: authnv1.SelfSubjectReviewStatus{UserInfo: authnv1.UserInfo{Username: "alice"}}}, nil
	})
	clusters := newFakeClusters(t, func(_ context.Context, namespace string) (Cluster, error) {
		return fakeCluster(namespace, kube), nil
	})
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)
	ws, _ := openComponent(t, c)

	var contexts protocol.ClusterContextsResult
	if err := c.call(protocol.MethodClusterContexts, nil, &contexts); err != nil {
		t.Fatal(err)
	}
	if contexts.Current != "dev" || len(contexts.Contexts) != 2 || contexts.Contexts[1].Name != "dev" || !contexts.Contexts[1].Current ||
		contexts.Contexts[1].Namespace != "team-a" || contexts.Contexts[0].Current || contexts.Contexts[0].Server != "https://127.0.0.2:6443" {
		t.Fatalf("contexts = %+v", contexts)
	}

	var info protocol.ClusterInfoResult
	if err := c.call(protocol.MethodClusterInfo, nil, &info); err != nil {
		t.Fatal(err)
	}
	want := protocol.ClusterInfoResult{Context: "dev", Namespace: "team-a", Server: "https://127.0.0.1:6443", Version: "v1.34.1",
		APIGroups: []string{"apps", "networking.k8s.io"}, User: "alice"}
	if !reflect.DeepEqual(info, want) {
		t.Fatalf("info = %+v, want %+v", info, want)
	}

	// Switch context: its own namespace and server, no restart.
	var used protocol.ClusterUseResult
	if err := c.call(protocol.MethodClusterUse, protocol.ClusterUseParams{Context: "admin"}, &used); err != nil {
		t.Fatal(err)
	}
	if used != (protocol.ClusterUseResult{Context: "admin", Namespace: "default", Server: "https://127.0.0.2:6443"}) {
		t.Fatalf("use admin = %+v", used)
	}
	if err := c.call(protocol.MethodClusterUse, protocol.ClusterUseParams{Namespace: "team-b"}, &used); err != nil {
		t.Fatal(err)
	}
	if used.Context != "admin" || used.Namespace != "team-b" {
		t.Fatalf("use namespace team-b = %+v", used)
	}
	if err := c.call(protocol.MethodClusterInfo, nil, &info); err != nil {
		t.Fatal(err)
	}
	if info.Context != "admin" || info.Namespace != "team-b" || info.Server != "https://127.0.0.2:6443" {
		t.Fatalf("info after use = %+v", info)
	}
	// The open workspace keeps working, in its component's project.
	clusters.mu.Lock()
	clusters.namespaces = nil
	clusters.mu.Unlock()
	if err := c.call(protocol.MethodURLList, protocol.WorkspaceParams{WorkspaceID: ws}, nil); err != nil {
		t.Fatalf("url/list after use: %v", err)
	}
	clusters.mu.Lock()
	asked := clusters.namespaces
	clusters.mu.Unlock()
	if len(asked) == 0 || asked[0] != "team-a" {
		t.Fatalf("the workspace connected to %v, want its project team-a", asked)
	}

	// Errors: nothing to use, an unknown context (nothing changes), an
	// unreachable cluster, expired credentials.
	err := c.call(protocol.MethodClusterUse, protocol.ClusterUseParams{}, nil)
	if got := rpcCode(t, err); got != protocol.CodeInvalidParams {
		t.Fatalf("use {}: code %d (%v)", got, err)
	}
	err = c.call(protocol.MethodClusterUse, protocol.ClusterUseParams{Context: "nope"}, nil)
	if got := rpcCode(t, err); got != protocol.CodeNotFound {
		t.Fatalf("use nope: code %d (%v)", got, err)
	}
	if d := errorData(t, err); len(d.Suggestions) == 0 || !strings.Contains(d.Suggestions[0].Action, "admin, dev") {
		t.Fatalf("use nope: data %+v, want the contexts to choose from", d)
	}
	if sel := clusters.Selection(); sel.Context != "admin" || sel.Namespace != "team-b" {
		t.Fatalf("a failed use changed the selection to %+v", sel)
	}
	kube.PrependReactor("get", "version", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewUnauthorized("token expired")
	})
	err = c.call(protocol.MethodClusterInfo, nil, nil)
	if got := rpcCode(t, err); got != protocol.CodeUnauthorized {
		t.Fatalf("info with expired credentials: code %d (%v)", got, err)
	}
	clusters.mu.Lock()
	clusters.connect = nil
	clusters.mu.Unlock()
	err = c.call(protocol.MethodClusterInfo, nil, nil)
	if got := rpcCode(t, err); got != protocol.CodeClusterUnreachable {
		t.Fatalf("info on no cluster: code %d (%v)", got, err)
	}
	if d := errorData(t, err); len(d.Suggestions) == 0 {
		t.Fatalf("info on no cluster: no suggestion in %+v", d)
	}
}
