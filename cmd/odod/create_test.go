package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/odod-dev/odod/component"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odod-dev/odod/config"
)

// fakeAPIServer answers discovery and the openshift namespace's
// ImageStreams like a cluster with the ImageStream CRD and a nodejs
// builder stream, and returns a kubeconfig pointing at it.
func fakeAPIServer(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/apis", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"kind":"APIGroupList","groups":[{"name":"image.openshift.io","versions":[{"groupVersion":"image.openshift.io/v1","version":"v1"}]}]}`))
	})
	mux.HandleFunc("/apis/image.openshift.io/v1", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"kind":"APIResourceList","groupVersion":"image.openshift.io/v1","resources":[{"name":"imagestreams","namespaced":true,"kind":"ImageStream","verbs":["get","list"]}]}`))
	})
	const nodejs = `{"apiVersion":"image.openshift.io/v1","kind":"ImageStream","metadata":{"name":"nodejs","namespace":"openshift"},
"spec":{"tags":[{"name":"latest","annotations":{"tags":"builder,nodejs"},"from":{"kind":"DockerImage","name":"127.0.0.1:5000/odod/nodejs-builder:latest"}}]}}`
	mux.HandleFunc("/apis/image.openshift.io/v1/namespaces/openshift/imagestreams", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"kind":"ImageStreamList","apiVersion":"image.openshift.io/v1","metadata":{},"items":[` + nodejs + `]}`))
	})
	mux.HandleFunc("/apis/image.openshift.io/v1/namespaces/openshift/imagestreams/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/nodejs") {
			_, _ = w.Write([]byte(nodejs))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`))
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: team}}]
current-context: x
`, srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return out.String(), errb.String(), code
}

func TestCreateWritesLocalConfig(t *testing.T) {
	kubeconfig := fakeAPIServer(t)
	dir := filepath.Join(t.TempDir(), "My_Web App")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCmd(t, "create", "nodejs", "--context", dir, "--kubeconfig", kubeconfig,
		"--port", "8080,9229/udp", "--app", "shop", "-e", "A=1", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var report createReport
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if report.Image != "127.0.0.1:5000/odod/nodejs-builder:latest" || report.Warning != "" {
		t.Fatalf("report %+v", report)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.ComponentSettings
	if s.Name != "my-web-app" || s.Type != "nodejs" || s.Project != "team" || s.Application != "shop" ||
		strings.Join(s.Ports, " ") != "8080 9229/udp" || s.SourceType != config.Local || len(s.Envs) != 1 {
		t.Fatalf("settings %+v", s)
	}
	// A second create refuses to overwrite; --force replaces.
	if _, stderr, code := runCmd(t, "create", "nodejs", "other", "--context", dir, "--kubeconfig", kubeconfig); code == 0 || !strings.Contains(stderr, "--force") {
		t.Fatalf("overwrite without --force: %d %s", code, stderr)
	}
	if _, stderr, code := runCmd(t, "create", "nodejs", "other", "--context", dir, "--kubeconfig", kubeconfig, "--force"); code != 0 {
		t.Fatalf("--force: %s", stderr)
	}
	if cfg, _ := config.Load(dir); cfg.ComponentSettings.Name != "other" {
		t.Fatalf("not replaced: %+v", cfg.ComponentSettings)
	}
}

func TestCreateRejectsUnknownTypeAndBadInput(t *testing.T) {
	kubeconfig := fakeAPIServer(t)
	dir := t.TempDir()
	if _, stderr, code := runCmd(t, "create", "ruby", "x", "--context", dir, "--kubeconfig", kubeconfig); code == 0 || !strings.Contains(stderr, "odod catalog") {
		t.Fatalf("unknown type: %d %s", code, stderr)
	}
	if _, err := os.Stat(config.Path(dir)); !os.IsNotExist(err) {
		t.Fatal("settings written for an unknown type")
	}
	if _, stderr, code := runCmd(t, "create", "nodejs", "Bad_Name", "--context", dir, "--kubeconfig", kubeconfig); code == 0 || !strings.Contains(stderr, "DNS-1123") {
		t.Fatalf("bad name: %d %s", code, stderr)
	}
	if _, stderr, code := runCmd(t, "create", "nodejs", "x", "--context", dir, "--port", "http", "--kubeconfig", kubeconfig); code == 0 || !strings.Contains(stderr, "Ports[0]") {
		t.Fatalf("bad port: %d %s", code, stderr)
	}
}

func TestCreateWithoutClusterWarns(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBECONFIG", filepath.Join(dir, "none"))
	t.Setenv("HOME", dir)
	_, stderr, code := runCmd(t, "create", "quay.io/team/builder:1", "api", "--context", dir)
	if code != 0 || !strings.Contains(stderr, "Warning: type \"quay.io/team/builder:1\" not checked") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg, err := config.Load(dir)
	if err != nil || cfg.ComponentSettings.Type != "quay.io/team/builder:1" || cfg.ComponentSettings.Name != "api" {
		t.Fatalf("%v %+v", err, cfg)
	}
}

func TestCatalogCommand(t *testing.T) {
	kubeconfig := fakeAPIServer(t)
	stdout, stderr, code := runCmd(t, "catalog", "--kubeconfig", kubeconfig)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") || strings.Join(strings.Fields(lines[1]), " ") != "nodejs openshift latest ImageStream" {
		t.Fatalf("table:\n%s", stdout)
	}
	stdout, _, code = runCmd(t, "catalog", "--kubeconfig", kubeconfig, "-o", "json")
	var entries []map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &entries) != nil || len(entries) != 1 || entries[0]["name"] != "nodejs" {
		t.Fatalf("json: %d %s", code, stdout)
	}
	if _, stderr, code := runCmd(t, "catalog", "--kubeconfig", filepath.Join(t.TempDir(), "missing")); code == 0 || !strings.Contains(stderr, "kubeconfig") {
		t.Fatalf("no cluster: %d %s", code, stderr)
	}
}

func TestDefaultName(t *testing.T) {
	for _, c := range []struct{ dir, typ, want string }{
		{"/w/My_Web App", "nodejs", "my-web-app"},
		{"/w/123", "quay.io/x/py-builder:3", "py-builder"},
		{"/", "nodejs:14", "nodejs"},
	} {
		if got := component.DefaultName(c.dir, c.typ); got != c.want {
			t.Errorf("DefaultName(%q, %q) = %q, want %q", c.dir, c.typ, got, c.want)
		}
	}
}
