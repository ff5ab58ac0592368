// Package gittest makes git repositories from files in a test and serves
// them over HTTP with `git http-backend` (git's own smart HTTP server, run
// as a CGI program by net/http/cgi in the test process), so that code that
// clones can be tested against a real git server with nothing committed.
package gittest

import (
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Repo is a repository in a test's temporary directory.
type Repo struct {
	// Dir is its work tree.
	Dir string
	t   testing.TB
}

// New makes a repository named name (the directory <tmp>/<name>.git's
// work tree) on branch main, with files committed.
func New(t testing.TB, name string, files map[string]string) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed to serve test repositories: %v (hack/tools.sh installs it)", err)
	}
	r := &Repo{Dir: filepath.Join(t.TempDir(), name+".git"), t: t}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.Git("init", "-q", "-b", "main")
	r.Git("config", "user.email", "test@odod.dev")
	r.Git("config", "user.name", "odod test")
	// Served by http-backend straight from the work tree's .git.
	r.Git("config", "http.receivepack", "false")
	r.Commit("initial", files)
	return r
}

// Git runs git in the repository and returns its trimmed output.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+r.Dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit writes files (relative slash paths; executable when the name ends
// in .sh or lies under .s2i/bin) and commits them; it returns the commit.
func (r *Repo) Commit(message string, files map[string]string) string {
	r.t.Helper()
	for rel, content := range files {
		p := filepath.Join(r.Dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(rel, ".sh") || strings.HasPrefix(rel, ".s2i/bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			r.t.Fatal(err)
		}
	}
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", message)
	return r.Git("rev-parse", "HEAD")
}

// Serve serves the repository's parent directory with git http-backend on
// addr ("127.0.0.1:0" for any port) until the test ends, and returns the
// repository's URL.
func (r *Repo) Serve(addr string) string {
	r.t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		r.t.Fatal(err)
	}
	h := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Env:  []string{"GIT_PROJECT_ROOT=" + filepath.Dir(r.Dir), "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + r.Dir},
	}
	// http-backend serves <root>/<name>.git/ from the work tree's .git.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		r.t.Fatalf("listen on %s for the git server: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.URL.Path = strings.Replace(req.URL.Path, ".git/", ".git/.git/", 1)
		h.ServeHTTP(w, req)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	r.t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + "/" + filepath.Base(r.Dir)
}
