package cluster

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestRegistryInspectorPlainHTTPLocal pushes an S2I-labelled image to an
// in-process registry on 127.0.0.1 (plain HTTP, as the local cluster's)
// and reads it back.
func TestRegistryInspectorPlainHTTPLocal(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{
		Labels:       map[string]string{LabelS2IScriptsURL: "image:///usr/libexec/s2i", LabelBuilderName: "odod/nodejs-builder"},
		WorkingDir:   "/opt/app-root/src",
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "3000/tcp": {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/odod/nodejs-builder:latest"
	parsed, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(parsed, img); err != nil {
		t.Fatal(err)
	}
	ri := NewRegistryInspector()
	info, err := ri.Inspect(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if info.Labels[LabelBuilderName] != "odod/nodejs-builder" || info.WorkingDir != "/opt/app-root/src" ||
		strings.Join(info.ExposedPorts, ",") != "3000/tcp,8080/tcp" || !strings.HasPrefix(info.Digest, "sha256:") {
		t.Fatalf("info %+v", info)
	}
	// Cached: a second call does not need the registry.
	srv.Close()
	if again, err := ri.Inspect(context.Background(), ref); err != nil || again.Digest != info.Digest {
		t.Fatalf("cache: %v", err)
	}
	_, err = NewRegistryInspector().Inspect(context.Background(), host+"/odod/missing:1")
	if !errors.Is(err, ErrImage) {
		t.Fatalf("missing image: %v", err)
	}
	if _, err := ri.Inspect(context.Background(), "Not A Ref"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad ref: %v", err)
	}
}

func TestIsLocalRegistry(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1:5000": true, "localhost:5000": true, "localhost": true, "[::1]:5000": true, "quay.io": false, "10.0.0.1:5000": false} {
		if IsLocalRegistry(host) != want {
			t.Errorf("IsLocalRegistry(%q) != %v", host, want)
		}
	}
}

func TestBuilderNameFallsBackToTheRepository(t *testing.T) {
	for ref, want := range map[string]string{
		"127.0.0.1:5000/odod/nodejs-builder:latest":       "odod/nodejs-builder",
		"registry.example.com/ubi8/nodejs-14@sha256:abcd": "ubi8/nodejs-14",
		"centos/nodejs-8-centos7":                         "centos/nodejs-8-centos7",
		"localhost/x:1":                                   "x",
	} {
		p, err := S2IPathsFromImage(ImageInfo{Ref: ref, Labels: map[string]string{}})
		if err != nil || p.BuilderImageName != want {
			t.Errorf("%s: builder name %q (%v), want %q", ref, p.BuilderImageName, err, want)
		}
	}
	p, _ := S2IPathsFromImage(ImageInfo{Ref: "a/b:c", Labels: map[string]string{LabelBuilderName: "centos/nodejs-8-centos7"}})
	if p.BuilderImageName != "centos/nodejs-8-centos7" {
		t.Errorf("the name label must win: %q", p.BuilderImageName)
	}
}
