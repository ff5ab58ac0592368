package component

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/internal/gittest"
	"github.com/odod-dev/odod/protocol"
)

// buildCluster is a fakeCluster whose build pod is a directory of this
// machine: the tar and assemble commands odod execs run there, with
// assemble emulated as the test builder's (copy /tmp/src to the working
// dir; exit 3 when the sources hold a file named "fail").
type buildCluster struct {
	*fakeCluster
	root     string
	mu       sync.Mutex
	started  []cluster.BuildPodSpec
	deleted  []string
	startErr error
}

func (b *buildCluster) StartBuildPod(_ context.Context, spec cluster.BuildPodSpec) (cluster.Pod, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.started = append(b.started, spec)
	if b.startErr != nil {
		return cluster.Pod{}, b.startErr
	}
	return cluster.Pod{Name: fmt.Sprintf("build-%d", len(b.started)), Container: cluster.BuildContainerName}, nil
}

func (b *buildCluster) DeleteBuildPod(name string) {
	b.mu.Lock()
	b.deleted = append(b.deleted, name)
	b.mu.Unlock()
}

func (b *buildCluster) in(p string) string { return filepath.Join(b.root, filepath.FromSlash(p)) }

func (b *buildCluster) Exec(ctx context.Context, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch {
	case argv[0] == "sh" && !strings.Contains(argv[2], "assemble"):
		// The tar transport's own scripts, on the mapped paths.
		args := append([]string(nil), argv[1:]...)
		for i := 3; i < len(args); i++ {
			args[i] = b.in(args[i])
		}
		cmd := exec.CommandContext(ctx, "sh", args...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
		return cmd.Run()
	case argv[0] == "tar" && argv[1] == "-x":
		cmd := exec.CommandContext(ctx, "tar", "-x", "-f", "-", "-C", b.in(argv[len(argv)-1]))
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
		return cmd.Run()
	case argv[0] == "sh" && strings.Contains(argv[2], "assemble"):
		src, work := b.in(argv[4]), b.in("/opt/app-root/src")
		fmt.Fprintln(stdout, "---> Installing application source ...")
		if _, err := os.Stat(filepath.Join(src, "fail")); err == nil {
			fmt.Fprintln(stderr, "build.sh: syntax error")
			return &cluster.ExitError{Code: 3}
		}
		if err := os.MkdirAll(work, 0o755); err != nil {
			return err
		}
		return exec.CommandContext(ctx, "cp", "-R", src+"/.", work).Run()
	case argv[0] == "tar" && argv[1] == "-c":
		cmd := exec.CommandContext(ctx, "tar", append([]string{"-c", "-f", "-", "-C", b.root}, argv[6:]...)...)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		return cmd.Run()
	}
	return fmt.Errorf("unexpected exec %q", argv)
}

// fakeCommit records the layer's files and answers an image by digest.
type fakeCommit struct {
	mu    sync.Mutex
	calls []cluster.CommitOptions
	files [][]string
}

func (f *fakeCommit) commit(_ context.Context, o cluster.CommitOptions) (string, error) {
	fh, err := os.Open(o.LayerFile)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	var names []string
	tr := tar.NewReader(fh)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		names = append(names, strings.TrimSuffix(h.Name, "/"))
	}
	sort.Strings(names)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, o)
	f.files = append(f.files, names)
	return fmt.Sprintf("%s@sha256:%064d", o.Repository, len(f.calls)), nil
}

func gitHarness(t *testing.T, settings func(s *config.ComponentSettings)) (*Component, *buildCluster, *fakeCommit, *recorder) {
	t.Helper()
	root := t.TempDir()
	cfg := config.New("web", "nodejs")
	cfg.ComponentSettings.Project = "ns"
	cfg.ComponentSettings.Registry = "127.0.0.1:5000/dev"
	cfg.ComponentSettings.Ports = []string{"8080"}
	settings(&cfg.ComponentSettings)
	if err := config.Save(root, cfg); err != nil {
		t.Fatal(err)
	}
	idx, err := indexer.Open(context.Background(), root, indexer.Options{Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idx.Close() })
	b := &buildCluster{fakeCluster: &fakeCluster{podUID: "uid-1"}, root: t.TempDir()}
	fc := &fakeCommit{}
	rec := &recorder{}
	c := New(Options{
		Index:       idx,
		Connect:     func(context.Context, string) (Cluster, error) { return b, nil },
		InitImage:   "init:test",
		Logger:      zaptest.NewLogger(t),
		Hooks:       rec.hooks(),
		CommitImage: fc.commit,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c, b, fc, rec
}

func TestGitPushBuildsAndRollsToTheImage(t *testing.T) {
	repo := gittest.New(t, "web", map[string]string{"app/index.html": "v1\n", "README": "top\n"})
	first := repo.Git("rev-parse", "HEAD")
	repo.Git("tag", "v1")
	repo.Commit("v2", map[string]string{"app/index.html": "v2\n"})
	url := repo.Serve("127.0.0.1:0")

	c, b, fc, rec := gitHarness(t, func(s *config.ComponentSettings) {
		s.SourceType, s.SourceLocation, s.Ref, s.ContextDir = config.Git, url, "v1", "app"
	})
	res, err := c.Push(context.Background(), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.BuildExitCode == nil || *res.BuildExitCode != 0 || res.Pod == "" {
		t.Fatalf("result %+v", res)
	}
	if len(fc.calls) != 1 {
		t.Fatalf("%d commits", len(fc.calls))
	}
	o := fc.calls[0]
	if o.Repository != "127.0.0.1:5000/dev/ns/web-app" || o.Builder != "127.0.0.1:5000/odod/nodejs-builder:latest" ||
		strings.Join(o.Cmd, " ") != "/usr/libexec/s2i/run" || o.Labels["io.openshift.build.commit.id"] != first {
		t.Fatalf("commit options %+v", o)
	}
	// The layer holds the working dir with the context dir's files only.
	if got := strings.Join(fc.files[0], " "); got != "opt/app-root/src opt/app-root/src/index.html" {
		t.Fatalf("layer files %s", got)
	}
	if data, _ := os.ReadFile(b.in("/opt/app-root/src/index.html")); string(data) != "v1\n" {
		t.Fatalf("built %q, want the tag's v1", data)
	}
	if len(b.deleted) != 1 || b.deleted[0] != "build-1" {
		t.Fatalf("build pods deleted %v", b.deleted)
	}
	// The workload runs the image by digest, without odod's supervisor.
	if b.applied != 1 {
		t.Fatalf("applied %d times", b.applied)
	}
	logs := strings.Join(rec.logs, "\n")
	if !strings.Contains(logs, "build:---> Installing application source") || !strings.Contains(logs, "build:---> Pushed 127.0.0.1:5000/dev/ns/web-app@sha256:") {
		t.Fatalf("build log:\n%s", logs)
	}
	if states := strings.Join(rec.states, " "); !strings.Contains(states, "Building") || !strings.HasSuffix(states, "Running") {
		t.Fatalf("states %s", states)
	}
}

func TestGitPushFailuresKeepTheRunningApp(t *testing.T) {
	repo := gittest.New(t, "web", map[string]string{"index.html": "v1\n"})
	url := repo.Serve("127.0.0.1:0")
	broken := gittest.New(t, "broken", map[string]string{"fail": "x\n"})
	brokenURL := broken.Serve("127.0.0.1:0")
	for _, tc := range []struct {
		name     string
		settings func(s *config.ComponentSettings)
		code     int64
		reason   string
		pods     int
	}{
		{"unreachable", func(s *config.ComponentSettings) { s.SourceLocation = "http://127.0.0.1:1/none.git" }, protocol.CodeBuildFailed, "FetchFailed", 0},
		{"missing ref", func(s *config.ComponentSettings) { s.SourceLocation, s.Ref = url, "nope" }, protocol.CodeBuildFailed, "RefNotFound", 0},
		{"missing context dir", func(s *config.ComponentSettings) { s.SourceLocation, s.ContextDir = url, "svc" }, protocol.CodeBuildFailed, "ContextDirNotFound", 0},
		{"failing assemble", func(s *config.ComponentSettings) { s.SourceLocation = brokenURL }, protocol.CodeBuildFailed, "AssembleFailed", 1},
		{"no registry", func(s *config.ComponentSettings) { s.SourceLocation, s.Registry = url, "" }, protocol.CodeInvalidConfig, "NoRegistry", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, b, fc, _ := gitHarness(t, func(s *config.ComponentSettings) {
				s.SourceType = config.Git
				tc.settings(s)
			})
			_, err := c.Push(context.Background(), PushOptions{})
			e := Coded(err)
			if err == nil || e.Code != tc.code || e.Reason != tc.reason || e.Suggestion == "" {
				t.Fatalf("err %v (%+v), want code %d reason %s with a suggestion", err, e, tc.code, tc.reason)
			}
			if b.applied != 0 || len(fc.calls) != 0 {
				t.Fatalf("applied %d, committed %d: a failed build must not touch the workload", b.applied, len(fc.calls))
			}
			if len(b.started) != tc.pods || len(b.deleted) != tc.pods {
				t.Fatalf("build pods started %d deleted %d, want %d", len(b.started), len(b.deleted), tc.pods)
			}
		})
	}
}

func TestBuildTurnsTheWorkspaceIntoAnImage(t *testing.T) {
	c, b, fc, _ := gitHarness(t, func(s *config.ComponentSettings) {})
	writeFile(t, filepath.Join(c.root, "server.js"), "console.log('hi')\n")
	writeFile(t, filepath.Join(c.root, "lib", "a.js"), "1\n")
	if err := c.opts.Index.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := c.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Image, "127.0.0.1:5000/dev/ns/web-app@sha256:") {
		t.Fatalf("image %s", res.Image)
	}
	got := strings.Join(fc.files[0], " ")
	for _, want := range []string{"opt/app-root/src/server.js", "opt/app-root/src/lib/a.js"} {
		if !strings.Contains(got, want) {
			t.Fatalf("layer %s lacks %s", got, want)
		}
	}
	if strings.Contains(got, ".odo") {
		t.Fatalf("layer holds odod's own files: %s", got)
	}
	if b.applied != 0 {
		t.Fatal("build deployed something")
	}
}

func TestGitDryRunPlansNothing(t *testing.T) {
	c, b, fc, _ := gitHarness(t, func(s *config.ComponentSettings) {
		s.SourceType, s.SourceLocation = config.Git, "http://127.0.0.1:1/none.git"
	})
	writeFile(t, filepath.Join(c.root, "local.txt"), "not the component's source\n")
	res, err := c.Push(context.Background(), PushOptions{DryRun: true})
	if err != nil || len(res.Operations) != 0 || res.FilesCopied != 0 {
		t.Fatalf("dry run %+v %v", res, err)
	}
	if len(b.started) != 0 || len(fc.calls) != 0 || b.applied != 0 {
		t.Fatal("a dry run touched the cluster")
	}
}
