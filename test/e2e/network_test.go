//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/protocol"
)

// The answers of the two test apps.
const (
	expressAnswer = "hello from express"
	helloAnswer   = "Hello from odod v1"
)

// TestClusterNetwork is the local cluster as a new user meets it: an
// Express app whose one dependency comes from the npm registry is created
// and pushed (the builder pod resolves and reaches the registry), another
// component's pod reaches it by its Service's DNS names and ClusterIP
// (cluster DNS, kube-proxy), and the URL that `odod url list` prints
// answers from this machine (the ingress controller).
func TestClusterNetwork(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-net")
	client := c.Client(t)

	web := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "nodejs-express"), web)
	odod(t, c.Kubeconfig, "create", "nodejs", "web", "--context", web, "--project", ns, "--port", "8080")
	pushOK(t, c.Kubeconfig, web)

	api := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "nodejs-app"), api)
	odod(t, c.Kubeconfig, "create", "nodejs", "api", "--context", api, "--project", ns, "--port", "8080")
	pushOK(t, c.Kubeconfig, api)

	t.Run("URL", func(t *testing.T) {
		host := "web-" + ns + ".localhost"
		odod(t, c.Kubeconfig, "url", "create", "web", "--port", "8080", "--host", host, "--ingress", "--context", web)
		var list protocol.URLListResult
		if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "url", "list", "--context", web, "-o", "json")), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.URLs) != 1 || list.URLs[0].URL != "http://"+host {
			t.Fatalf("odod url list = %+v, want one URL http://%s", list.URLs, host)
		}
		getLocalhostURL(t, list.URLs[0].URL, expressAnswer, 2*time.Minute)
	})

	t.Run("ServiceFromAnotherPod", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		// odod's own exec (WebSocket, SPDY fallback), as the pushes use it.
		execer := cluster.New(cluster.Clientsets{Kube: client}, ns, cluster.Platform{}, cluster.WithRESTConfig(c.Config))
		svc := componentService(ctx, t, client, ns, "web")
		from := runningPod(ctx, t, client, ns, "api")
		port := svc.Spec.Ports[0].Port
		for _, target := range []string{
			fmt.Sprintf("http://%s:%d/", svc.Name, port),                                      // the search path of the pod's namespace
			fmt.Sprintf("http://%s.%s.svc.cluster.local:%d/", svc.Name, ns, port),             // the full name
			fmt.Sprintf("http://%s/", net.JoinHostPort(svc.Spec.ClusterIP, fmt.Sprint(port))), // the ClusterIP
		} {
			if got := getFromPod(ctx, t, execer, from, target); got != expressAnswer {
				t.Errorf("GET %s from pod %s answered %q, want %q", target, from.Name, got, expressAnswer)
			}
		}
		// And the other way round, to a component that has no dependency.
		back := componentService(ctx, t, client, ns, "api")
		webPod := runningPod(ctx, t, client, ns, "web")
		target := fmt.Sprintf("http://%s:%d/", back.Name, back.Spec.Ports[0].Port)
		if got := getFromPod(ctx, t, execer, webPod, target); got != helloAnswer {
			t.Errorf("GET %s from pod %s answered %q, want %q", target, webPod.Name, got, helloAnswer)
		}
	})
}

// pushOK pushes the component in dir with the CLI and checks that its
// build succeeded.
func pushOK(t *testing.T, kubeconfig, dir string) {
	t.Helper()
	var res protocol.PushResult
	out := odod(t, kubeconfig, "push", "--context", dir, "-o", "json")
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("odod push -o json: %v\n%s", err, out)
	}
	if res.BuildExitCode == nil || *res.BuildExitCode != 0 {
		t.Fatalf("odod push in %s = %+v", dir, res)
	}
}

// getLocalhostURL fetches u until it answers want. Its host is a
// .localhost name: loopback by RFC 6761, as curl and browsers resolve it;
// Go's resolver asks the machine's DNS, so the test dials loopback itself,
// on the URL's port, and sends the URL's host as the Host header.
func getLocalhostURL(t *testing.T, u, want string, timeout time.Duration) {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(parsed.Hostname(), ".localhost") {
		t.Fatalf("URL %s: the host is not a .localhost name", u)
	}
	port := parsed.Port()
	if port == "" {
		port = "80"
	}
	var dialer net.Dialer
	httpClient := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		}},
	}
	defer httpClient.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		resp, err := httpClient.Get(u)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			last = fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(b)) == want {
				return
			}
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("GET %s (through 127.0.0.1:%s): last answer %q, want %q", u, port, last, want)
}

// componentService is the Service odod made for component name.
func componentService(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, name string) corev1.Service {
	t.Helper()
	list, err := client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{LabelSelector: cluster.LabelInstance + "=" + name})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || len(list.Items[0].Spec.Ports) == 0 || list.Items[0].Spec.ClusterIP == "" {
		t.Fatalf("Services of component %s: %+v", name, list.Items)
	}
	return list.Items[0]
}

// runningPod is the running pod of component name.
func runningPod(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, name string) *corev1.Pod {
	t.Helper()
	list, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: cluster.LabelInstance + "=" + name})
	if err != nil {
		t.Fatal(err)
	}
	for i := range list.Items {
		if p := &list.Items[i]; p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			return p
		}
	}
	t.Fatalf("no running pod of component %s among %d", name, len(list.Items))
	return nil
}

// getFromPod fetches target with Node.js inside pod, retrying until the
// answer is 200 or ctx ends, and returns the last body or error.
func getFromPod(ctx context.Context, t *testing.T, execer *cluster.Client, pod *corev1.Pod, target string) string {
	t.Helper()
	const script = `const u = process.argv[1];
require("http").get(u, {timeout: 5000}, r => {
  let b = ""; r.on("data", d => b += d);
  r.on("end", () => { process.stdout.write(b); process.exit(r.statusCode === 200 ? 0 : 1); });
}).on("timeout", function () { console.error("timeout"); this.destroy(); process.exit(1); })
  .on("error", e => { console.error(e.message); process.exit(1); });`
	var last string
	for {
		var stdout, stderr bytes.Buffer
		err := execer.Exec(ctx, pod.Name, pod.Spec.Containers[0].Name, []string{"node", "-e", script, target}, nil, &stdout, &stderr)
		if err == nil {
			return strings.TrimSpace(stdout.String())
		}
		last = fmt.Sprintf("%v: %s%s", err, stdout.String(), stderr.String())
		select {
		case <-ctx.Done():
			return "no answer: " + last
		case <-time.After(time.Second):
		}
	}
}
