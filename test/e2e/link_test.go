//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/protocol"
)

// initialized starts odod serve in namespace ns and initializes it.
func initialized(t *testing.T, kubeconfig, ns string) *editor {
	t.Helper()
	e := startOdod(t, kubeconfig)
	var init protocol.InitializeResult
	e.mustCall(30*time.Second, protocol.MethodInitialize, protocol.InitializeParams{
		InitializationOptions: &protocol.InitializationOptions{Namespace: ns, LogLevel: "debug"},
	}, &init)
	_ = e.conn.Notify(context.Background(), protocol.MethodInitialized, struct{}{})
	return e
}

// pushedComponent copies testdata/app into a workspace, opens it, creates
// a nodejs component name on port 8080, pushes it and returns the
// workspace id and directory.
func (e *editor) pushedComponent(app, name string) (string, string) {
	t := e.t
	t.Helper()
	dir := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", app), dir)
	ws := e.open(dir)
	e.mustCall(time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{
		WorkspaceID: ws, Type: "nodejs", Name: name, Ports: []string{"8080"},
	}, nil)
	var res protocol.PushResult
	e.mustCall(10*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: ws}, &res)
	if res.BuildExitCode == nil || *res.BuildExitCode != 0 {
		t.Fatalf("push of %s = %+v", name, res)
	}
	return ws, dir
}

// open opens the workspace dir and returns its id.
func (e *editor) open(dir string) string {
	e.t.Helper()
	var opened protocol.WorkspaceOpenResult
	e.mustCall(time.Minute, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: dir}).String()}, &opened)
	return opened.WorkspaceID
}

// rpcError is err's code and data; it fails the test when err is not a
// JSON-RPC error.
func rpcError(t *testing.T, err error) (int64, protocol.ErrorData) {
	t.Helper()
	var rerr *jsonrpc2.Error
	if !errors.As(err, &rerr) {
		t.Fatalf("error %v (%T) is not a JSON-RPC error", err, err)
	}
	var d protocol.ErrorData
	if rerr.Data != nil {
		_ = json.Unmarshal(*rerr.Data, &d)
	}
	return rerr.Code, d
}

func suggestions(d protocol.ErrorData) string {
	var s []string
	for _, x := range d.Suggestions {
		s = append(s, x.Action)
	}
	return strings.Join(s, " | ")
}

// TestLinkFrontendToBackend: a Node.js frontend linked to a backend
// component, and to a plain Service of the namespace, calls them at the
// host and port the link put into its environment; the links hold after
// a push, describe shows them, unlink takes the variables away once the
// pod rolled; the CLI does the same.
func TestLinkFrontendToBackend(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-link")
	client := c.Client(t)
	e := initialized(t, c.Kubeconfig, ns)

	e.pushedComponent("nodejs-app", "backend")
	feID, feDir := e.pushedComponent("nodejs-frontend", "frontend")

	// A Service odod did not make: another name for the backend's pods, on
	// port 80.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, err := client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{cluster.PodLabelDeployment: "backend-app"},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Bad targets first: nothing is saved or rolled.
	err = e.call(time.Minute, protocol.MethodLink, protocol.LinkParams{WorkspaceID: feID, To: "nope"}, nil)
	if code, d := rpcError(t, err); code != protocol.CodeNotFound || !strings.Contains(suggestions(d), "backend (component, ports 8080)") ||
		!strings.Contains(suggestions(d), "legacy (service, ports 80)") {
		t.Fatalf("link to an unknown target: %v %+v", err, d)
	}
	err = e.call(time.Minute, protocol.MethodLink, protocol.LinkParams{WorkspaceID: feID, To: "backend", Port: 9999}, nil)
	if code, _ := rpcError(t, err); code != protocol.CodeInvalidParams || !strings.Contains(err.Error(), "8080") {
		t.Fatalf("link to a port not exposed: %v", err)
	}

	var linked protocol.LinkResult
	e.mustCall(5*time.Minute, protocol.MethodLink, protocol.LinkParams{WorkspaceID: feID, To: "backend"}, &linked)
	if linked.Pod == "" || linked.Link.Secret != "backend-app-8080" || linked.Link.Port != 8080 {
		t.Fatalf("link = %+v", linked)
	}
	e.mustCall(5*time.Minute, protocol.MethodLink, protocol.LinkParams{WorkspaceID: feID, To: "legacy"}, &linked)
	if linked.Link.Kind != "service" || linked.Link.Secret != "frontend-app-link-legacy-80" {
		t.Fatalf("link to a Service = %+v", linked)
	}

	var pf protocol.PortForwardResult
	e.mustCall(time.Minute, protocol.MethodPortForward, protocol.PortForwardParams{WorkspaceID: feID, RemotePort: 8080}, &pf)
	front := "http://" + pf.Address + "/call/"
	get(t, front+"backend", "backend says: "+helloAnswer, 3*time.Minute)
	get(t, front+"legacy", "legacy says: "+helloAnswer, time.Minute)

	// A push (a change, so a build) keeps the links.
	writeWorkspaceFile(t, feDir, "notes.txt", "pushed after the link\n")
	var pushed protocol.PushResult
	e.mustCall(5*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: feID}, &pushed)
	if pushed.BuildExitCode == nil || *pushed.BuildExitCode != 0 {
		t.Fatalf("push after link = %+v", pushed)
	}
	get(t, front+"backend", "backend says: "+helloAnswer, 2*time.Minute)
	get(t, front+"legacy", "legacy says: "+helloAnswer, time.Minute)
	var desc protocol.DescribeResult
	e.mustCall(time.Minute, protocol.MethodComponentDescribe, protocol.WorkspaceParams{WorkspaceID: feID}, &desc)
	if len(desc.Links) != 2 || desc.Links[0].Name != "backend" || desc.Links[1].Name != "legacy" {
		t.Fatalf("describe's links = %+v", desc.Links)
	}

	// Unlink: the pod rolls without the variables; the other link stays.
	var unlinked protocol.LinkResult
	e.mustCall(5*time.Minute, protocol.MethodUnlink, protocol.UnlinkParams{WorkspaceID: feID, To: "backend"}, &unlinked)
	if unlinked.Pod == "" || unlinked.Pod == linked.Pod {
		t.Fatalf("unlink = %+v: the pod must have rolled (was %s)", unlinked, linked.Pod)
	}
	get(t, front+"backend", "no link to backend", 3*time.Minute)
	get(t, front+"legacy", "legacy says: "+helloAnswer, time.Minute)
	e.mustCall(5*time.Minute, protocol.MethodUnlink, protocol.UnlinkParams{WorkspaceID: feID, To: "legacy"}, nil)
	get(t, front+"legacy", "no link to legacy", 3*time.Minute)
	if _, err := client.CoreV1().Secrets(ns).Get(ctx, "frontend-app-link-legacy-80", metav1.GetOptions{}); err == nil {
		t.Errorf("the link's Secret is still there after unlink")
	}

	// The same from the terminal.
	var cli protocol.LinkResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "link", "backend", "--port", "8080", "--context", feDir, "-o", "json")), &cli); err != nil {
		t.Fatal(err)
	}
	if cli.Pod == "" || cli.Link.Name != "backend" {
		t.Fatalf("odod link = %+v", cli)
	}
	get(t, front+"backend", "backend says: "+helloAnswer, 3*time.Minute)
	if out := odod(t, c.Kubeconfig, "unlink", "backend", "--context", feDir); !strings.Contains(out, "Unlinked component backend") {
		t.Fatalf("odod unlink: %q", out)
	}
	get(t, front+"backend", "no link to backend", 3*time.Minute)
	if out, err := os.ReadFile(filepath.Join(feDir, ".odo", "config.yaml")); err != nil || strings.Contains(string(out), "Link") {
		t.Fatalf("config after unlink (%v):\n%s", err, out)
	}
}
