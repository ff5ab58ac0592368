package testcluster

import (
	"os"
	"path/filepath"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRepoRootSkipsNestedModules(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "go.mod"), "// odod\nmodule github.com/odod-dev/odod\n\ngo 1.26\n")
	writeFile(t, filepath.Join(root, "hack", "k8s", "go.mod"), "module github.com/odod-dev/odod/hack/k8s\n")
	deep := filepath.Join(root, "hack", "k8s", "cmd", "kube")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := RepoRoot(deep)
	if err != nil {
		t.Fatalf("RepoRoot(%s): %v", deep, err)
	}
	if got != root {
		t.Fatalf("RepoRoot(%s) = %s, want %s", deep, got, root)
	}
}

func TestRepoRootOutsideCheckout(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/other\n")
	if got, err := RepoRoot(dir); err == nil {
		t.Fatalf("RepoRoot outside a checkout = %s, want an error", got)
	}
}

func TestDeclaresModule(t *testing.T) {
	for _, tc := range []struct {
		goMod string
		want  bool
	}{
		{"module github.com/odod-dev/odod\n", true},
		{"module \"github.com/odod-dev/odod\"\n", true},
		{"module github.com/odod-dev/odod/hack/k8s\n", false},
		{"// module github.com/odod-dev/odod\n", false},
		{"", false},
	} {
		if got := declaresModule([]byte(tc.goMod), modulePath); got != tc.want {
			t.Errorf("declaresModule(%q) = %v, want %v", tc.goMod, got, tc.want)
		}
	}
}

func TestStateDir(t *testing.T) {
	t.Setenv("ODOD_CLUSTER_STATE", "")
	if got, want := StateDir("/repo"), "/repo/hack/.state"; got != want {
		t.Errorf("StateDir default = %s, want %s", got, want)
	}
	t.Setenv("ODOD_CLUSTER_STATE", "/elsewhere")
	if got := StateDir("/repo"); got != "/elsewhere" {
		t.Errorf("StateDir with ODOD_CLUSTER_STATE = %s, want /elsewhere", got)
	}
}

func TestRequireSkipsWhenAsked(t *testing.T) {
	t.Setenv("ODOD_SKIP_CLUSTER", "1")
	t.Setenv("ODOD_REQUIRE_CLUSTER", "")
	var skipped bool
	t.Run("needs-cluster", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Require(t)
		t.Error("Require returned instead of skipping")
	})
	if !skipped {
		t.Fatal("Require with ODOD_SKIP_CLUSTER=1 did not skip")
	}
}
