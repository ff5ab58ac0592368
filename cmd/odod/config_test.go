package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// odod runs odod with args and returns its stdout.
func odod(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCommand(stdio{in: strings.NewReader(""), out: &out, err: &errOut})
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func TestConfigCommands(t *testing.T) {
	dir := t.TempDir()
	if err := config.Save(dir, config.New("web", "nodejs")); err != nil {
		t.Fatal(err)
	}
	out, err := odod(t, "config", "set", "--env", "GREETING=hello", "--env", "DEBUG=1", "--context", dir, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res protocol.ConfigViewResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("config set -o json: %v\n%s", err, out)
	}
	if len(res.Env) != 2 || res.Env[0] != (protocol.EnvVar{Name: "GREETING", Value: "hello"}) {
		t.Fatalf("env after set = %+v", res.Env)
	}
	if _, err := odod(t, "config", "set", "MaxMemory", "512Mi", "--context", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := odod(t, "config", "set", "MaxMemory", "lots", "--context", dir); err == nil || !strings.Contains(err.Error(), "→") {
		t.Fatalf("an invalid memory was accepted or said nothing to do: %v", err)
	}
	if _, err := odod(t, "config", "unset", "--env", "DEBUG", "--context", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := odod(t, "config", "unset", "--env", "NOPE", "--context", dir); err == nil {
		t.Fatal("unsetting a missing variable succeeded")
	}
	out, err = odod(t, "config", "view", "--context", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "MaxMemory") || !strings.Contains(out, "512Mi") || !strings.Contains(out, "GREETING") || strings.Contains(out, "DEBUG") {
		t.Fatalf("config view:\n%s", out)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ComponentSettings.Envs) != 1 || cfg.ComponentSettings.Envs[0].Name != "GREETING" {
		t.Fatalf("written envs %+v", cfg.ComponentSettings.Envs)
	}
	out, err = odod(t, "__complete", "config", "set", "Max")
	if err != nil || !strings.Contains(out, "MaxMemory\nMaxCPU") && !strings.Contains(out, "MaxCPU\nMaxMemory") {
		t.Fatalf("parameter completion: %q %v", out, err)
	}
}

// A completion that asks a cluster which never answers gives up after
// its bound, with nothing to complete: a shell is waiting.
func TestCompletionOfAHungClusterIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // accepted by the kernel, never answered
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: "https://`+ln.Addr().String()+`", insecure-skip-tls-verify: true}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: team-a}}]
users: [{name: u, user: {token: t}}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"__complete", "project", "set", "--kubeconfig", kubeconfig, ""},
		{"__complete", "app", "delete", "--kubeconfig", kubeconfig, ""},
		{"__complete", "list", "--kubeconfig", kubeconfig, "--project", ""},
		{"__complete", "describe", "--kubeconfig", kubeconfig, ""},
	} {
		done := make(chan string, 1)
		go func() {
			out, _ := odod(t, args...)
			done <- out
		}()
		select {
		case out := <-done:
			// Cobra prints the directive last: :4 is NoFileComp.
			if strings.TrimSpace(out) != ":4" {
				t.Fatalf("%v completed %q", args, out)
			}
		case <-time.After(25 * time.Second):
			t.Fatalf("%v: the completion did not give up", args)
		}
	}
}

// odod login -u without -p asks for the password (here stdin, empty).
func TestLoginAsksForThePassword(t *testing.T) {
	_, err := odod(t, "login", "https://127.0.0.1:1", "-u", "alice", "--kubeconfig", filepath.Join(t.TempDir(), "kubeconfig"))
	if err == nil || !strings.Contains(err.Error(), "no password") {
		t.Fatalf("login -u with no password on stdin: %v", err)
	}
	if _, err := odod(t, "login", "https://127.0.0.1:1", "--token", "t", "-u", "alice"); err == nil {
		t.Fatal("--token and -u together were accepted")
	}
}
