package cluster

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	oappsv1 "github.com/openshift/api/apps/v1"
	buildv1 "github.com/openshift/api/build/v1"
	appsfake "github.com/openshift/client-go/apps/clientset/versioned/fake"
	buildfake "github.com/openshift/client-go/build/clientset/versioned/fake"
	imagefake "github.com/openshift/client-go/image/clientset/versioned/fake"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"
)

// openshiftGitSpec is a git component whose builder came from the
// nodejs ImageStream in openshift.
func openshiftGitSpec() ComponentSpec {
	spec := gitSpec()
	spec.Workload = WorkloadDeploymentConfig
	spec.Builder.ImageStream = &ImageStreamTagRef{Namespace: "openshift", Name: "nodejs", Tag: "latest"}
	return spec
}

func TestOpenShiftGitObjectsGolden(t *testing.T) {
	spec := openshiftGitSpec()
	b := DesiredBuild(spec, GitSource{URL: "https://example.com/shop/frontend.git", Ref: "main", ContextDir: "web"})
	objs, err := Desired(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := ForImageStream(&objs, spec.Ref(), "", "odod push: https://example.com/shop/frontend.git"); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, o := range []any{b.ImageStream, b.BuildConfig} {
		y, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		got.Write(y)
		got.WriteString("---\n")
	}
	got.Write(renderObjects(t, objs))
	file := filepath.Join("testdata", "git-openshift.golden.yaml")
	if *update {
		if err := os.WriteFile(file, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./cluster -run TestOpenShiftGitObjectsGolden -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("differs from %s (rerun with -update if intended):\n%s", file, firstDiff(string(want), got.String()))
	}
	bc := b.BuildConfig.Spec
	if bc.Strategy.SourceStrategy.From.Kind != "ImageStreamTag" || bc.Strategy.SourceStrategy.From.Name != "nodejs:latest" ||
		bc.Output.To.Name != "frontend-shop:latest" || bc.Source.Git.Ref != "main" || bc.Source.ContextDir != "web" {
		t.Fatalf("BuildConfig %+v", bc)
	}
	dc := objs.DeploymentConfig.Spec
	if len(dc.Triggers) != 2 || dc.Triggers[1].Type != oappsv1.DeploymentTriggerOnImageChange || dc.Triggers[1].ImageChangeParams.From.Name != "frontend-shop:latest" ||
		dc.Template.Spec.Containers[0].Image != " " {
		t.Fatalf("DeploymentConfig %+v", dc)
	}
	// Without an ImageStream for the builder: the builder image itself.
	plain := gitSpec()
	if from := DesiredBuild(plain, GitSource{URL: "u"}).BuildConfig.Spec.Strategy.SourceStrategy.From; from.Kind != "DockerImage" || from.Name != plain.Builder.Image {
		t.Fatalf("from %+v", from)
	}
	if err := ForImageStream(&Objects{}, plain.Ref(), "", ""); KindOf(err) != KindInvalid {
		t.Fatalf("a Deployment: %v", err)
	}
}

type openshiftFakes struct {
	kube  *kubefake.Clientset
	apps  *appsfake.Clientset
	image *imagefake.Clientset
	build *buildfake.Clientset
}

func newOpenShiftBuildClient(t *testing.T) (*Client, openshiftFakes) {
	t.Helper()
	f := openshiftFakes{kubefake.NewClientset(), appsfake.NewClientset(), imagefake.NewClientset(), buildfake.NewClientset()}
	sets := Clientsets{Kube: f.kube, Apps: f.apps, Image: f.image, Build: f.build}
	return New(sets, "dev", Platform{DeploymentConfig: true, ImageStream: true, Build: true}, WithImageInspector(&FakeImageInspector{})), f
}

func TestEnsureBuildObjectsCreatesThenUpdates(t *testing.T) {
	c, f := newOpenShiftBuildClient(t)
	ctx := context.Background()
	spec := openshiftGitSpec()
	if err := c.EnsureBuildObjects(ctx, DesiredBuild(spec, GitSource{URL: "https://example.com/a.git"})); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureBuildObjects(ctx, DesiredBuild(spec, GitSource{URL: "https://example.com/a.git", Ref: "v2"})); err != nil {
		t.Fatal(err)
	}
	bc, err := f.build.BuildV1().BuildConfigs("dev").Get(ctx, "frontend-shop", metav1.GetOptions{})
	if err != nil || bc.Spec.Source.Git.Ref != "v2" {
		t.Fatalf("BuildConfig %+v %v", bc, err)
	}
	if _, err := f.image.ImageV1().ImageStreams("dev").Get(ctx, "frontend-shop", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if img, err := c.TagImage(ctx, "frontend-shop:latest"); err != nil || img != "" {
		t.Fatalf("no build yet: %q %v", img, err)
	}
}

// scriptedBuild makes Instantiate create build web-1 in phase New, and
// each later read of it advance to the next of phases.
func scriptedBuild(f openshiftFakes, phases []buildv1.Build) {
	var mu sync.Mutex
	n := 0
	f.build.PrependReactor("create", "buildconfigs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "instantiate" {
			return false, nil, nil
		}
		return true, &buildv1.Build{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "dev"}, Status: buildv1.BuildStatus{Phase: buildv1.BuildPhaseNew}}, nil
	})
	f.build.PrependReactor("get", "builds", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		b := phases[min(n, len(phases)-1)].DeepCopy()
		n++
		b.Name, b.Namespace = "web-1", "dev"
		return true, b, nil
	})
}

func phase(p buildv1.BuildPhase) buildv1.Build {
	return buildv1.Build{Status: buildv1.BuildStatus{Phase: p}}
}

func TestRunBuildFollowsThePhases(t *testing.T) {
	c, f := newOpenShiftBuildClient(t)
	done := phase(buildv1.BuildPhaseComplete)
	done.Status.Output.To = &buildv1.BuildStatusOutputTo{ImageDigest: "sha256:feed"}
	scriptedBuild(f, []buildv1.Build{phase(buildv1.BuildPhasePending), phase(buildv1.BuildPhaseRunning), phase(buildv1.BuildPhaseRunning), done})
	var seen []string
	st, err := c.RunBuild(context.Background(), "web", BuildOptions{Poll: 1, OnPhase: func(s BuildStatus) { seen = append(seen, string(s.Phase)) }})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(seen, " "); got != "New Pending Running Complete" || st.Image != "sha256:feed" {
		t.Fatalf("phases %s, status %+v", got, st)
	}
}

func TestRunBuildEndsWithTheBuildsReason(t *testing.T) {
	for _, p := range []buildv1.BuildPhase{buildv1.BuildPhaseFailed, buildv1.BuildPhaseError, buildv1.BuildPhaseCancelled} {
		c, f := newOpenShiftBuildClient(t)
		end := phase(p)
		end.Status.Reason, end.Status.Message = "GenericBuildFailed", "Generic Build failure - check logs for details."
		scriptedBuild(f, []buildv1.Build{phase(buildv1.BuildPhaseRunning), end})
		st, err := c.RunBuild(context.Background(), "web", BuildOptions{Poll: 1})
		var e *Error
		if !errors.As(err, &e) || e.Reason != "Build"+string(p) || !strings.Contains(e.Message, "GenericBuildFailed") || e.Suggestion == "" || st.Phase != p {
			t.Fatalf("%s: %v (%+v)", p, err, st)
		}
	}
}

func TestWaitDeploymentConfigVersion(t *testing.T) {
	c, f := newOpenShiftBuildClient(t)
	ctx := context.Background()
	dc := &oappsv1.DeploymentConfig{ObjectMeta: metav1.ObjectMeta{Name: "web-app", Namespace: "dev"}, Status: oappsv1.DeploymentConfigStatus{LatestVersion: 3}}
	if _, err := f.apps.AppsV1().DeploymentConfigs("dev").Create(ctx, dc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if v, err := c.DeploymentConfigVersion(ctx, "web-app"); err != nil || v != 3 {
		t.Fatalf("%d %v", v, err)
	}
	if v, err := c.WaitDeploymentConfigVersion(ctx, "web-app", 2, 0); err != nil || v != 3 {
		t.Fatalf("%d %v", v, err)
	}
	if _, err := c.WaitDeploymentConfigVersion(ctx, "web-app", 3, 1); KindOf(err) != KindTimeout {
		t.Fatalf("no new version: %v", err)
	}
}
