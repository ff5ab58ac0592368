package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A mistyped --context must not silently become a new, empty workspace.
func TestCreateRefusesAMissingContext(t *testing.T) {
	kubeconfig := fakeAPIServer(t)
	missing := filepath.Join(t.TempDir(), "no", "such", "dir")
	_, stderr, code := runCmd(t, "create", "nodejs", "x", "--context", missing, "--kubeconfig", kubeconfig)
	if code == 0 || !strings.Contains(stderr, "does not exist") || !strings.Contains(stderr, "mkdir") {
		t.Fatalf("create --context %s: exit %d, stderr %s; want a refusal suggesting mkdir", missing, code, stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("create made %s", missing)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCmd(t, "create", "nodejs", "x", "--context", file, "--kubeconfig", kubeconfig); code == 0 || !strings.Contains(stderr, "not a directory") {
		t.Fatalf("create --context <a file>: exit %d, stderr %s", code, stderr)
	}
}
