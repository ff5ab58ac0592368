package cluster

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	oappsv1 "github.com/openshift/api/apps/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/odod-dev/odod/config"
)

func gitSpec() ComponentSpec {
	spec := nodejsSpec()
	spec.Settings.SourceType, spec.Settings.SourceLocation, spec.Settings.Ref = config.Git, "https://example.com/shop/frontend.git", "main"
	spec.Settings.Storage = nil
	return spec
}

var testBuilt = BuiltImage{Image: "127.0.0.1:5000/dev/dev/frontend-shop@sha256:" + strings.Repeat("ab", 32),
	Cause: "odod push: https://example.com/shop/frontend.git at main (0123456789ab)", SourceURL: "https://example.com/shop/frontend.git", SourceRef: "0123456789abcdef"}

func TestForBuiltImageGolden(t *testing.T) {
	spec := gitSpec()
	objs, err := Desired(spec)
	if err != nil {
		t.Fatal(err)
	}
	ForBuiltImage(&objs, spec.Ref(), testBuilt)
	got := renderObjects(t, objs)
	file := filepath.Join("testdata", "git-deployment.golden.yaml")
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./cluster -run TestForBuiltImageGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("differs from %s (rerun with -update if intended):\n%s", file, firstDiff(string(want), string(got)))
	}
	d := objs.Deployment
	pod := d.Spec.Template.Spec
	if len(pod.InitContainers) != 0 || pod.Containers[0].Image != testBuilt.Image || pod.Containers[0].Command != nil ||
		d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || len(objs.PVCs) != 0 {
		t.Fatalf("deployment %+v, PVCs %d", d.Spec, len(objs.PVCs))
	}
	for _, m := range pod.Containers[0].VolumeMounts {
		t.Errorf("mount %s left", m.Name)
	}
}

func TestForBuiltImageKeepsStorageAndRecreates(t *testing.T) {
	spec := nodejsSpec()
	spec.Settings.SourceType, spec.Settings.SourceLocation = config.Git, "https://example.com/r.git"
	objs, err := Desired(spec)
	if err != nil {
		t.Fatal(err)
	}
	ForBuiltImage(&objs, spec.Ref(), testBuilt)
	if len(objs.PVCs) != 1 || objs.PVCs[0].Name != spec.Ref().StoragePVCName("cache") {
		t.Fatalf("PVCs %v", objs.PVCs)
	}
	if objs.Deployment.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Fatal("a ReadWriteOnce volume needs Recreate")
	}
	if m := objs.Deployment.Spec.Template.Spec.Containers[0].VolumeMounts; len(m) != 1 || m[0].MountPath != "/cache" {
		t.Fatalf("mounts %v", m)
	}

	dcSpec := javaDCSpec()
	dcSpec.Settings.SourceType, dcSpec.Settings.SourceLocation = config.Git, "https://example.com/r.git"
	dcObjs, err := Desired(dcSpec)
	if err != nil {
		t.Fatal(err)
	}
	ForBuiltImage(&dcObjs, dcSpec.Ref(), testBuilt)
	dc := dcObjs.DeploymentConfig
	if len(dc.Spec.Triggers) != 1 || dc.Spec.Triggers[0].Type != oappsv1.DeploymentTriggerOnConfigChange || dc.Spec.Template.Spec.Containers[0].Image != testBuilt.Image {
		t.Fatalf("deployment config %+v", dc.Spec)
	}
}

func TestBuildPodIsNotTheComponentsPod(t *testing.T) {
	ref := ComponentRef{Name: "frontend", App: "shop"}
	p := BuildPodObject("dev", BuildPodSpec{Ref: ref, Image: "b:1"})
	if ref.Selector().Matches(labels.Set(p.Labels)) {
		t.Fatalf("build pod labels %v match the component's selector", p.Labels)
	}
	if p.Labels[LabelBuildOf] != "frontend-shop" || p.Spec.RestartPolicy != "Never" || p.Spec.Containers[0].Image != "b:1" {
		t.Fatalf("pod %+v", p)
	}
}

func TestCommitImageAppendsOneLayer(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	base, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	builderRef, _ := ParseImageRef(host + "/odod/builder:latest")
	if err := remote.Write(builderRef, base); err != nil {
		t.Fatal(err)
	}
	layer := filepath.Join(t.TempDir(), "layer.tar")
	if err := os.WriteFile(layer, tarOf(t, map[string]string{"opt/app-root/src/index.html": "v1\n"}), 0o600); err != nil {
		t.Fatal(err)
	}
	image, err := CommitImage(context.Background(), CommitOptions{Builder: host + "/odod/builder:latest", LayerFile: layer,
		Repository: host + "/dev/web-app", Cmd: []string{"/usr/libexec/s2i/run"}, Labels: map[string]string{"io.openshift.build.commit.id": "abc"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(image, host+"/dev/web-app@sha256:") {
		t.Fatalf("image %s", image)
	}
	ref, _ := ParseImageRef(image)
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	cf, _ := img.ConfigFile()
	if len(layers) != 3 || strings.Join(cf.Config.Cmd, " ") != "/usr/libexec/s2i/run" || cf.Config.Labels["io.openshift.build.commit.id"] != "abc" {
		t.Fatalf("%d layers, config %+v", len(layers), cf.Config)
	}
	tagged, _ := ParseImageRef(host + "/dev/web-app:latest")
	if d, err := remote.Head(tagged); err != nil || !strings.HasSuffix(image, d.Digest.String()) {
		t.Fatalf("latest tag: %v %v", d, err)
	}
	// A builder that cannot be read is the image's error, said as such.
	if _, err := CommitImage(context.Background(), CommitOptions{Builder: host + "/odod/none:latest", LayerFile: layer, Repository: host + "/dev/x"}); KindOf(err) != KindImage {
		t.Fatalf("missing builder: %v", err)
	}
}

func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestStartBuildPodFailsWithThePullReasonAndCleansUp(t *testing.T) {
	c, f := newFakeClient(t, "dev", false)
	f.kube.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		p.Name = p.GenerateName + "x1"
		p.Status = corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: BuildContainerName,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "not found"}}}}}
		return false, p, nil // the tracker stores it, named
	})
	_, err := c.StartBuildPod(context.Background(), BuildPodSpec{Ref: ComponentRef{Name: "web", App: "app"}, Image: "127.0.0.1:5000/none:1"})
	var e *Error
	if !errors.As(err, &e) || e.Reason != "ImagePullBackOff" || !strings.Contains(e.Message, "build pod") || !strings.Contains(e.Message, "127.0.0.1:5000/none:1") {
		t.Fatalf("%v", err)
	}
	pods, _ := f.kube.CoreV1().Pods("dev").List(context.Background(), metav1.ListOptions{})
	if len(pods.Items) != 0 {
		t.Fatalf("build pod %s left", pods.Items[0].Name)
	}
}

func TestStartBuildPodAnswersTheRunningPod(t *testing.T) {
	c, f := newFakeClient(t, "dev", false)
	f.kube.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		p.Name = p.GenerateName + "x2"
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: BuildContainerName, Ready: true,
			ContainerID: "containerd://abc", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}
		return false, p, nil
	})
	pod, err := c.StartBuildPod(context.Background(), BuildPodSpec{Ref: ComponentRef{Name: "web", App: "app"}, Image: "b:1"})
	if err != nil || pod.Name != "web-app-build-x2" || pod.Container != BuildContainerName {
		t.Fatalf("%+v %v", pod, err)
	}
	c.DeleteBuildPod(pod.Name)
	if _, err := f.kube.CoreV1().Pods("dev").Get(context.Background(), pod.Name, metav1.GetOptions{}); err == nil {
		t.Fatal("not deleted")
	}
}
