package main

import (
	"os"
	"strings"
	"testing"

	"github.com/odod-dev/odod/config"
)

func TestCreateGitComponent(t *testing.T) {
	kubeconfig := fakeAPIServer(t)
	dir := t.TempDir()
	_, stderr, code := runCmd(t, "create", "nodejs", "web", "--context", dir, "--kubeconfig", kubeconfig,
		"--git", "https://example.com/org/web.git", "--ref", "v2", "--context-dir", "svc/web", "--registry", "127.0.0.1:5000/team")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.ComponentSettings
	if s.SourceType != config.Git || s.SourceLocation != "https://example.com/org/web.git" || s.Ref != "v2" || s.ContextDir != "svc/web" || s.Registry != "127.0.0.1:5000/team" {
		t.Fatalf("settings %+v", s)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--git", "git@github.com:org/web.git"}, "SSH"},
		{[]string{"--git", "https://example.com/r.git", "--context-dir", "../up"}, "leaves the repository"},
		{[]string{"--git", "https://example.com/r.git", "--ref", "a..b"}, "not a git ref"},
		{[]string{"--git", "https://example.com/r.git", "--binary", "app.jar"}, "exclude each other"},
		{[]string{"--context-dir", "x"}, "not a git component"},
	} {
		other := t.TempDir()
		args := append([]string{"create", "nodejs", "x", "--context", other, "--kubeconfig", kubeconfig}, tc.args...)
		if _, stderr, code := runCmd(t, args...); code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %s; want …%s…", tc.args, code, stderr, tc.want)
		}
		if _, err := os.Stat(config.Path(other)); !os.IsNotExist(err) {
			t.Errorf("%v: settings written", tc.args)
		}
	}
}

func TestRollbackRejectsABadRevision(t *testing.T) {
	if _, stderr, code := runCmd(t, "rollback", "two", "--context", t.TempDir()); code == 0 || !strings.Contains(stderr, "odod history") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}
