//go:build integration

package e2e

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sourcegraph/jsonrpc2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/internal/gittest"
	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/protocol"
)

// TestGitComponentBuildRolloutRollback is a git component on the local
// cluster, which serves no build API: a repository made in the test and
// served by git http-backend; each push builds an image in a build pod
// (the busybox test builder's assemble), pushes it to the local registry
// and rolls the Deployment to it by digest; history lists both builds;
// rollback brings the first one back; a build that cannot fetch, a
// missing ref and a failing assemble each end the push with -32026 and
// leave the running app alone; odod/component/build pushes an image and
// deploys nothing.
func TestGitComponentBuildRolloutRollback(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-git")
	client := c.Client(t)
	execer := cluster.New(cluster.Clientsets{Kube: client}, ns, cluster.Platform{}, cluster.WithRESTConfig(c.Config))

	repo := gittest.New(t, "site", map[string]string{"index.html": "site v1\n"})
	first := repo.Git("rev-parse", "HEAD")
	repoURL := repo.Serve("127.0.0.1:0")

	ws := t.TempDir()
	e := startOdod(t, c.Kubeconfig)
	var init protocol.InitializeResult
	e.mustCall(30*time.Second, protocol.MethodInitialize, protocol.InitializeParams{
		InitializationOptions: &protocol.InitializationOptions{Namespace: ns, LogLevel: "debug"},
	}, &init)
	_ = e.conn.Notify(context.Background(), protocol.MethodInitialized, struct{}{})
	var opened protocol.WorkspaceOpenResult
	e.mustCall(time.Minute, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: ws}).String()}, &opened)
	wsID := opened.WorkspaceID
	e.mustCall(time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{
		WorkspaceID: wsID, Type: "test-builder", Name: "site", Ports: []string{"8080"},
		Git: repoURL, Registry: c.Registry + "/odod-e2e",
	}, nil)

	// answer is what the app in pod serves.
	answer := func(pod string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var last string
		for {
			var out, errb strings.Builder
			err := execer.Exec(ctx, pod, "site-app", []string{"wget", "-qO-", "http://127.0.0.1:8080/index.html"}, nil, &out, &errb)
			if err == nil {
				return strings.TrimSpace(out.String())
			}
			last = err.Error() + ": " + errb.String()
			select {
			case <-ctx.Done():
				return "no answer: " + last
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	deployedImage := func() string {
		t.Helper()
		d, err := client.AppsV1().Deployments(ns).Get(context.Background(), "site-app", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d.Spec.Template.Spec.Containers[0].Image
	}
	push := func() (protocol.PushResult, []json.RawMessage, error) {
		mark := e.mark()
		var res protocol.PushResult
		start := time.Now()
		err := e.call(10*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: wsID}, &res)
		var timings protocol.PushTimings
		if res.Timings != nil {
			timings = *res.Timings
		}
		t.Logf("push: pod %s in %s (build %d ms, objects %d ms, pod %d ms; err %v)", res.Pod, time.Since(start), timings.BuildMs, timings.ObjectsMs, timings.PodMs, err)
		return res, e.since(mark, protocol.MethodLog), err
	}

	// First build: v1.
	res, logs, err := push()
	if err != nil {
		t.Fatal(err)
	}
	if res.BuildExitCode == nil || *res.BuildExitCode != 0 || res.Pod == "" {
		t.Fatalf("first push = %+v", res)
	}
	text := joinLogs(logsOf(logs, protocol.LogBuild))
	for _, want := range []string{"---> Fetching " + repoURL, "---> Installing application source", "---> Pushed " + c.Registry + "/odod-e2e/" + ns + "/site-app@sha256:"} {
		if !strings.Contains(text, want) {
			t.Fatalf("build log lacks %q:\n%s", want, text)
		}
	}
	v1Image := deployedImage()
	if !strings.Contains(v1Image, "@sha256:") {
		t.Fatalf("the Deployment runs %s, want the built image by digest", v1Image)
	}
	if got := answer(res.Pod); got != "site v1" {
		t.Fatalf("app answered %q, want site v1", got)
	}

	// Second commit, second build: v2 on a new pod.
	second := repo.Commit("v2", map[string]string{"index.html": "site v2\n"})
	res, _, err = push()
	if err != nil {
		t.Fatal(err)
	}
	v2Image := deployedImage()
	if v2Image == v1Image {
		t.Fatal("the second build did not change the Deployment's image")
	}
	if got := answer(res.Pod); got != "site v2" {
		t.Fatalf("app answered %q after the second build, want site v2", got)
	}

	// History, over JSON-RPC and the CLI.
	var hist protocol.ComponentHistoryResult
	e.mustCall(time.Minute, protocol.MethodComponentHistory, protocol.WorkspaceParams{WorkspaceID: wsID}, &hist)
	if hist.Workload != "Deployment" || len(hist.Revisions) != 2 || hist.Revisions[0].Image != v1Image || !hist.Revisions[1].Current ||
		!strings.Contains(hist.Revisions[0].Cause, first[:12]) || !strings.Contains(hist.Revisions[1].Cause, second[:12]) {
		t.Fatalf("history = %+v", hist)
	}
	var cliHist protocol.ComponentHistoryResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "history", "--context", ws, "-o", "json")), &cliHist); err != nil {
		t.Fatal(err)
	}
	if len(cliHist.Revisions) != 2 || cliHist.Revisions[1].Image != v2Image {
		t.Fatalf("odod history = %+v", cliHist)
	}

	// Rollback: v1 again.
	var rolled protocol.ComponentRollbackResult
	e.mustCall(5*time.Minute, protocol.MethodComponentRollback, protocol.ComponentRollbackParams{WorkspaceID: wsID}, &rolled)
	if rolled.RolledBackTo.Revision != 1 || deployedImage() != v1Image {
		t.Fatalf("rollback = %+v, Deployment runs %s", rolled, deployedImage())
	}
	if got := answer(rolled.Pod); got != "site v1" {
		t.Fatalf("app answered %q after rollback, want site v1", got)
	}
	runningPod := rolled.Pod

	// odod/component/build: an image of HEAD (v2), nothing deployed.
	var built protocol.ComponentBuildResult
	e.mustCall(10*time.Minute, protocol.MethodComponentBuild, protocol.ComponentBuildParams{WorkspaceID: wsID}, &built)
	t.Logf("odod/component/build: %s in %d ms", built.Image, built.DurationMs)
	ref, err := cluster.ParseImageRef(built.Image)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(ref); err != nil {
		t.Fatalf("built image %s is not in the registry: %v", built.Image, err)
	}
	if deployedImage() != v1Image {
		t.Fatal("odod/component/build deployed")
	}

	// odod build of a local component: the workspace's files in the image.
	local := t.TempDir()
	writeWorkspaceFile(t, local, "index.html", "local v1\n")
	odod(t, c.Kubeconfig, "create", "test-builder", "page", "--context", local, "--project", ns, "--registry", c.Registry+"/odod-e2e")
	var cliBuilt protocol.ComponentBuildResult
	if err := json.Unmarshal([]byte(odod(t, c.Kubeconfig, "build", "--context", local, "-o", "json")), &cliBuilt); err != nil {
		t.Fatal(err)
	}
	if got := fileInImage(t, cliBuilt.Image, "opt/app-root/src/index.html"); got != "local v1\n" {
		t.Fatalf("odod build: %s holds index.html %q", cliBuilt.Image, got)
	}

	// Failed builds end the push with the build's reason; the app stays.
	repo.Commit("broken", map[string]string{"build.sh": "echo 'boom: cannot build' >&2\nexit 3\n"})
	for _, tc := range []struct {
		name   string
		edit   func(s *config.ComponentSettings)
		reason string
		in     string
	}{
		{"unreachable URL", func(s *config.ComponentSettings) { s.SourceLocation, s.Ref = "http://127.0.0.1:1/none.git", "" }, "FetchFailed", "cannot fetch"},
		{"missing ref", func(s *config.ComponentSettings) { s.SourceLocation, s.Ref = repoURL, "no-such-branch" }, "RefNotFound", "no-such-branch"},
		{"failing assemble", func(s *config.ComponentSettings) { s.SourceLocation, s.Ref = repoURL, "" }, "AssembleFailed", "boom: cannot build"},
	} {
		cfg, err := config.Load(ws)
		if err != nil {
			t.Fatal(err)
		}
		tc.edit(&cfg.ComponentSettings)
		if err := config.Save(ws, cfg); err != nil {
			t.Fatal(err)
		}
		_, _, err = push()
		var rpcErr *jsonrpc2.Error
		if !errors.As(err, &rpcErr) || rpcErr.Code != protocol.CodeBuildFailed || !strings.Contains(rpcErr.Message, tc.in) {
			t.Fatalf("%s: push error %v, want code %d with %q", tc.name, err, protocol.CodeBuildFailed, tc.in)
		}
		var data protocol.ErrorData
		if rpcErr.Data == nil || json.Unmarshal(*rpcErr.Data, &data) != nil || data.Reason != tc.reason || len(data.Suggestions) == 0 {
			t.Fatalf("%s: error data %s, want reason %s and a suggestion", tc.name, string(deref(rpcErr.Data)), tc.reason)
		}
		if img := deployedImage(); img != v1Image {
			t.Fatalf("%s: the Deployment now runs %s", tc.name, img)
		}
		if got := answer(runningPod); got != "site v1" {
			t.Fatalf("%s: the running app answered %q", tc.name, got)
		}
	}
	// Every build pod is gone.
	deadline := time.Now().Add(time.Minute)
	for {
		pods, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: cluster.LabelBuildOf})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d build pods left, e.g. %s", len(pods.Items), pods.Items[0].Name)
		}
		time.Sleep(time.Second)
	}
	e.mustCall(time.Minute, protocol.MethodShutdown, nil, nil)
	_ = e.conn.Notify(context.Background(), protocol.MethodExit, nil)
}

// fileInImage reads a file from the top layer of an image.
func fileInImage(t *testing.T, image, name string) string {
	t.Helper()
	ref, err := cluster.ParseImageRef(image)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("layers of %s: %v", image, err)
	}
	rc, err := layers[len(layers)-1].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the top layer of %s: %v", name, image, err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			b, _ := io.ReadAll(tr)
			return string(b)
		}
	}
}

func joinLogs(logs []protocol.LogParams) string {
	var b strings.Builder
	for _, l := range logs {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

func deref(m *json.RawMessage) []byte {
	if m == nil {
		return nil
	}
	return *m
}
