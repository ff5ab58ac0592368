//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/internal/treesum"
	"github.com/odod-dev/odod/protocol"
)

// cutProxy is a TCP proxy on 127.0.0.1 in front of the API server. Cut
// closes every connection through it and refuses new ones (accepted and
// closed at once) until it is restored: for odod behind it, the API server
// and every exec stream through it are gone. Nothing touches the API
// server itself.
type cutProxy struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		_ = l.Close()
		p.setCut(true) // closes what is open
		done := make(chan struct{})
		go func() { p.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the proxy's connections did not end")
		}
	})
	return p
}

func (p *cutProxy) addr() string { return p.l.Addr().String() }

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			_ = c.Close()
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.forward(c)
		}()
	}
}

// track records c unless the proxy is cut.
func (p *cutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *cutProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *cutProxy) forward(client net.Conn) {
	defer p.untrack(client)
	upstream, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil || !p.track(upstream) {
		if upstream != nil {
			_ = upstream.Close()
		}
		return
	}
	defer p.untrack(upstream)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go pipe(upstream, client)
	go pipe(client, upstream)
	<-done
	<-done
}

// setCut cuts (closing every open connection) or restores the proxy.
func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	p.cut = cut
	var open []net.Conn
	if cut {
		for c := range p.conns {
			open = append(open, c)
		}
	}
	p.mu.Unlock()
	for _, c := range open {
		_ = c.Close()
	}
}

// kubeconfigThrough writes a copy of kubeconfig whose current cluster is
// reached through a proxy, and returns its path and the API server's
// host:port the proxy must forward to. TLS still checks the API server's
// certificate, under its own name.
func kubeconfigThrough(t *testing.T, kubeconfig string, proxyAddr func(target string) string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		t.Fatalf("%s: no current context", kubeconfig)
	}
	cl, ok := cfg.Clusters[ctx.Cluster]
	if !ok {
		t.Fatalf("%s: no cluster %q", kubeconfig, ctx.Cluster)
	}
	u, err := url.Parse(cl.Server)
	if err != nil || u.Scheme != "https" {
		t.Fatalf("%s: server %q is not an https URL", kubeconfig, cl.Server)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "443")
	}
	if cl.TLSServerName == "" {
		cl.TLSServerName = u.Hostname()
	}
	cl.Server = "https://" + proxyAddr(target)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// podAnswer is what the app answers at the pod's IP (the cluster's node is
// this machine), without going through the API server.
func podAnswer(ctx context.Context, kube kubernetes.Interface, ns, pod string) (string, error) {
	p, err := kube.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(p.Status.PodIP, "8080")+"/", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}

// waitPodAnswer polls podAnswer until the app answers want or timeout
// passes; it returns the last answer and error.
func waitPodAnswer(ctx context.Context, kube kubernetes.Interface, ns, pod, want string, timeout time.Duration) (string, error) {
	var (
		answer string
		err    error
	)
	for deadline := time.Now().Add(timeout); answer != want && time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(100 * time.Millisecond) {
		answer, err = podAnswer(ctx, kube, ns, pod)
	}
	return answer, err
}

// workdirSums lists "path sha256" of the given workspace paths in the
// container's working dir (which also holds what the build made, such as
// node_modules, so only the workspace's paths are compared).
func workdirSums(ctx context.Context, cl *cluster.Client, pod, container string, sums []string) ([]string, error) {
	var paths []string
	for _, s := range sums {
		p, _, _ := strings.Cut(s, " ")
		paths = append(paths, p)
	}
	var stdout, stderr strings.Builder
	script := `cd /opt/app-root/src && for p in "$@"; do if [ -f "$p" ]; then printf '%s %s\n' "$p" "$(sha256sum < "$p" | cut -d' ' -f1)"; else printf '%s missing\n' "$p"; fi; done`
	if err := cl.Exec(ctx, pod, container, append([]string{"sh", "-c", script, "sh"}, paths...), nil, &stdout, &stderr); err != nil {
		return nil, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return strings.Split(strings.TrimSpace(stdout.String()), "\n"), nil
}

// TestWatchRidesOutAnUnreachableAPIServer: odod serve reaches the API
// server through a proxy that the test cuts while the watch runs and files
// are edited. The watch keeps the changes, reports the trouble once (one
// transition to the error state, with its reason, and one warning through
// window/showMessage), retries with backoff, and after the cut the
// container's /tmp/src and working dir equal the workspace and the app
// answers the last edit.
//
// The cut lasts 40 s rather than a minute: the watch retries after 1, 2,
// 4 and 8 s and then every 15 s (its cap), so 40 s see the backoff reach
// its cap and several retries fail there; a longer cut only adds more
// identical 15 s retries.
func TestWatchRidesOutAnUnreachableAPIServer(t *testing.T) {
	const cutFor = 40 * time.Second
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-cut")
	ws := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "nodejs-app"), ws)
	// The test's own client goes to the API server directly.
	cl, err := cluster.Connect(context.Background(), cluster.Options{Kubeconfig: c.Kubeconfig, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	var proxy *cutProxy
	through := kubeconfigThrough(t, c.Kubeconfig, func(target string) string {
		proxy = startCutProxy(t, target)
		return proxy.addr()
	})

	e := initialized(t, through, ns)
	wsID := e.open(ws)
	e.mustCall(time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{
		WorkspaceID: wsID, Type: "nodejs", Name: "cut", Ports: []string{"8080"},
	}, nil)
	e.mustCall(time.Minute, protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: wsID}, nil)
	pod := converge(t, e, cl, wsID, ws, "cut", 10*time.Minute)

	// The cut, with edits before the watch notices and while it retries.
	mark := e.mark()
	proxy.setCut(true)
	cutAt := time.Now()
	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello during the cut';\n")
	e.waitFor(mark, protocol.MethodShowMessage, cutFor, func(json.RawMessage) bool { return true })
	writeWorkspaceFile(t, ws, "lib/added-in-the-cut.js", "module.exports = 'added while the API server was away';\n")
	if err := os.Remove(filepath.Join(ws, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(cutFor / 2)
	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello after the cut';\n")
	if w := e.watchStatus(wsID); !w.Active || !w.Retrying || w.LastError == "" {
		t.Fatalf("during the cut the watch should be retrying with the error: %+v", w)
	}
	time.Sleep(time.Until(cutAt.Add(cutFor)))
	proxy.setCut(false)
	t.Logf("cut for %s; restored", time.Since(cutAt).Round(time.Second))

	if got := converge(t, e, cl, wsID, ws, "cut", 3*time.Minute); got != pod {
		t.Logf("converged on another pod (%s, was %s)", got, pod)
		pod = got
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	want, err := treesum.Local(ws)
	if err != nil {
		t.Fatal(err)
	}
	got, err := workdirSums(ctx, cl, pod, "cut-app", want)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the working dir holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if gone, err := workdirSums(ctx, cl, pod, "cut-app", []string{"notes.txt x"}); err != nil || gone[0] != "notes.txt missing" {
		t.Errorf("notes.txt, deleted during the cut, in the working dir: %v %v", gone, err)
	}
	answer, err := waitPodAnswer(ctx, c.Client(t), ns, pod, "Hello after the cut", time.Minute)
	if answer != "Hello after the cut" {
		t.Errorf("the app answers %q (%v), want the last edit", answer, err)
	}

	// Reported once: one transition into the error state (failed retries
	// may repeat it, error to error, each with the reason) and one warning.
	var intoError int
	for _, raw := range e.since(mark, protocol.MethodComponentStateChanged) {
		var p protocol.StateChangedParams
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		if p.To == protocol.StateError {
			if p.Reason == "" {
				t.Errorf("an error state without a reason: %+v", p)
			}
			if p.From != protocol.StateError {
				intoError++
			}
		}
	}
	if intoError != 1 {
		t.Errorf("the component went into the error state %d times during and after the cut, want once", intoError)
	}
	var warnings []string
	for _, raw := range e.since(mark, protocol.MethodShowMessage) {
		var p protocol.ShowMessageParams
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		if p.Type == protocol.MessageWarning || p.Type == protocol.MessageError {
			warnings = append(warnings, p.Message)
		}
	}
	t.Logf("the component went into the error state %d time(s); warnings: %q", intoError, warnings)
	if len(warnings) != 1 {
		t.Errorf("window/showMessage warnings during the cut: %q, want one", warnings)
	}
	w := e.watchStatus(wsID)
	if !w.Active || w.Retrying || w.LastError != "" {
		t.Errorf("after the cut the watch is %+v, want active and healthy", w)
	}
	e.mustCall(3*time.Minute, protocol.MethodComponentDelete, protocol.ComponentDeleteParams{WorkspaceID: wsID}, nil)
}
