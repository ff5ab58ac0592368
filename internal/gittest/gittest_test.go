package gittest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeClonesWithGit(t *testing.T) {
	r := New(t, "app", map[string]string{"index.html": "v1\n"})
	second := r.Commit("v2", map[string]string{"index.html": "v2\n"})
	url := r.Serve("127.0.0.1:0")
	dst := filepath.Join(t.TempDir(), "clone")
	out, err := exec.Command("git", "clone", "-q", url, dst).CombinedOutput()
	if err != nil {
		t.Fatalf("git clone %s: %v: %s", url, err, out)
	}
	data, err := os.ReadFile(filepath.Join(dst, "index.html"))
	if err != nil || string(data) != "v2\n" {
		t.Fatalf("clone has %q, %v", data, err)
	}
	head, _ := exec.Command("git", "-C", dst, "rev-parse", "HEAD").Output()
	if strings.TrimSpace(string(head)) != second {
		t.Fatalf("HEAD %s, want %s", head, second)
	}
}
