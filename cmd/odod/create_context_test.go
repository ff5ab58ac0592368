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

// odo added its file index to .gitignore (creating it if missing) so that
// it is not committed; odod does it when it creates the component.
func TestCreateAddsTheIndexToGitignore(t *testing.T) {
	kubeconfig := fakeAPIServer(t)
	for name, tc := range map[string]struct{ before, after string }{
		"missing":          {"", ".odo/odo-file-index.json\n"},
		"no final newline": {"node_modules", "node_modules\n.odo/odo-file-index.json\n"},
		"already there":    {"/.odo/\n", "/.odo/\n"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.before != "" {
				if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte(tc.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, stderr, code := runCmd(t, "create", "nodejs", "x", "--context", dir, "--kubeconfig", kubeconfig); code != 0 {
				t.Fatalf("create: %d %s", code, stderr)
			}
			got, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
			if err != nil || string(got) != tc.after {
				t.Fatalf(".gitignore = %q (%v), want %q", got, err, tc.after)
			}
		})
	}
}
