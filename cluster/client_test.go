package cluster

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://a.example.test:6443"}
- name: b
  cluster: {server: "https://b.example.test:6443"}
users:
- name: u
  user: {token: t}
contexts:
- name: ctx-a
  context: {cluster: a, user: u, namespace: team-a}
- name: ctx-b
  context: {cluster: b, user: u}
current-context: ctx-a
`

func TestLoadConfigAsKubectl(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", path)
	cfg, ns, err := LoadConfig(Options{})
	if err != nil || cfg.Host != "https://a.example.test:6443" || ns != "team-a" {
		t.Fatalf("KUBECONFIG current context: %v %v %q", err, cfg, ns)
	}
	cfg, ns, err = LoadConfig(Options{Context: "ctx-b"})
	if err != nil || cfg.Host != "https://b.example.test:6443" || ns != "default" {
		t.Fatalf("context override: %v %q", err, ns)
	}
	_, ns, err = LoadConfig(Options{Context: "ctx-b", Namespace: "mine"})
	if err != nil || ns != "mine" {
		t.Fatalf("namespace override: %v %q", err, ns)
	}
	t.Setenv("KUBECONFIG", filepath.Join(dir, "nope"))
	if _, _, err := LoadConfig(Options{Kubeconfig: path}); err != nil {
		t.Fatalf("explicit path: %v", err)
	}
	t.Setenv("HOME", dir)
	if _, _, err := LoadConfig(Options{}); !errors.Is(err, ErrNoConfig) {
		t.Fatalf("no config: %v", err)
	}
	if _, _, err := LoadConfig(Options{Kubeconfig: path, Context: "missing"}); !errors.Is(err, ErrNoConfig) {
		t.Fatalf("unknown context: %v", err)
	}
}

func TestConnectErrors(t *testing.T) {
	ctx := context.Background()
	unauthorized := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
	}))
	defer unauthorized.Close()
	_, err := ConnectConfig(ctx, &rest.Config{Host: unauthorized.URL}, "ns", Options{})
	var ce *Error
	if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &ce) || ce.Suggestion == "" {
		t.Fatalf("401: %v", err)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err = ConnectConfig(ctx, &rest.Config{Host: closed.URL}, "ns", Options{Timeout: 2 * time.Second})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("closed port: %v", err)
	}

	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	_, err = ConnectConfig(ctx, &rest.Config{Host: hang.URL}, "ns", Options{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("hanging server: %v", err)
	}
}

// TestConnectDiscoversOpenShift serves /apis like a cluster with the
// Route and ImageStream CRDs but no DeploymentConfigs (odod's local one).
func TestConnectDiscoversOpenShift(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/apis", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"kind":"APIGroupList","groups":[
{"name":"route.openshift.io","versions":[{"groupVersion":"route.openshift.io/v1","version":"v1"}]},
{"name":"image.openshift.io","versions":[{"groupVersion":"image.openshift.io/v1","version":"v1"}]},
{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}]}]}`))
	})
	mux.HandleFunc("/apis/route.openshift.io/v1", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"kind":"APIResourceList","groupVersion":"route.openshift.io/v1","resources":[{"name":"routes","namespaced":true,"kind":"Route","verbs":["get"]}]}`))
	})
	mux.HandleFunc("/apis/image.openshift.io/v1", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"kind":"APIResourceList","groupVersion":"image.openshift.io/v1","resources":[{"name":"imagestreams/status","namespaced":true,"kind":"ImageStream","verbs":["get"]}]}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := ConnectConfig(context.Background(), &rest.Config{Host: srv.URL}, "ns", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Platform(); got != (Platform{Route: true}) {
		t.Fatalf("platform %+v (imagestreams/status alone is not imagestreams)", got)
	}
	if c.Namespace() != "ns" || c.RESTConfig() == nil {
		t.Fatal("namespace or REST config lost")
	}
}

func TestInteractiveRateLimit(t *testing.T) {
	def := &rest.Config{Host: "https://example.invalid"}
	got := interactiveRateLimit(def)
	if got.QPS != clientQPS || got.Burst != clientBurst {
		t.Fatalf("default config: QPS %v burst %d, want %v %d", got.QPS, got.Burst, float32(clientQPS), clientBurst)
	}
	if def.QPS != 0 {
		t.Fatal("the caller's config was changed")
	}
	own := &rest.Config{QPS: 7, Burst: 9}
	if got := interactiveRateLimit(own); got.QPS != 7 || got.Burst != 9 {
		t.Fatalf("a config's own limit was replaced: %v %d", got.QPS, got.Burst)
	}
}
