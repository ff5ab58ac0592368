package cluster

import (
	"context"
	"errors"
	"testing"

	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func stream(ns, name string, tags ...imagev1.TagReference) *imagev1.ImageStream {
	return &imagev1.ImageStream{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: imagev1.ImageStreamSpec{Tags: tags}}
}

func tagRef(name, tags, kind, from string) imagev1.TagReference {
	return imagev1.TagReference{Name: name, Annotations: map[string]string{"tags": tags}, From: &corev1.ObjectReference{Kind: kind, Name: from}}
}

func TestCatalogAndResolve(t *testing.T) {
	ctx := context.Background()
	c, f := newFakeClient(t, "dev", true)
	// No builder streams yet: the built-in list.
	entries, err := c.Catalog(ctx)
	if err != nil || len(entries) != 1 || entries[0].Source != SourceBuiltIn || entries[0].Name != "nodejs" {
		t.Fatalf("built-in catalog: %+v %v", entries, err)
	}
	b, err := c.ResolveType(ctx, "nodejs")
	if err != nil || b.Image != "127.0.0.1:5000/odod/nodejs-builder:latest" || b.ImageStream != nil || b.Tag != "latest" {
		t.Fatalf("built-in nodejs: %+v %v", b, err)
	}

	for _, is := range []*imagev1.ImageStream{
		stream("openshift", "nodejs",
			tagRef("14", "builder,nodejs", "DockerImage", "127.0.0.1:5000/odod/nodejs-builder:14"),
			tagRef("latest", "builder,nodejs", "ImageStreamTag", "14")),
		stream("openshift", "python", tagRef("3.9", "builder,hidden", "DockerImage", "py:3.9")),
		stream("openshift", "mysql", tagRef("8", "database", "DockerImage", "mysql:8")),
		stream("myproject", "custom", tagRef("1", "builder", "DockerImage", "reg.test/custom:1")),
	} {
		if _, err := f.image.ImageV1().ImageStreams(is.Namespace).Create(ctx, is, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	entries, err = c.Catalog(ctx)
	if err != nil || len(entries) != 1 || entries[0].Name != "nodejs" || entries[0].Source != SourceImageStream || len(entries[0].Tags) != 2 {
		t.Fatalf("stream catalog (hidden, non-builder and other namespaces left out): %+v %v", entries, err)
	}
	b, err = c.ResolveType(ctx, "nodejs")
	if err != nil || b.Image != "127.0.0.1:5000/odod/nodejs-builder:14" || b.Tag != "latest" || b.ImageStream == nil || b.ImageStream.Namespace != "openshift" {
		t.Fatalf("nodejs via latest → 14: %+v %v", b, err)
	}
	b, err = c.ResolveType(ctx, "myproject/custom:1")
	if err != nil || b.Image != "reg.test/custom:1" || b.Name != "custom" {
		t.Fatalf("namespaced type: %+v %v", b, err)
	}
	if _, err := c.ResolveType(ctx, "nodejs:99"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing tag: %v", err)
	}
	if _, err := c.ResolveType(ctx, "ruby"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown type: %v", err)
	}
	b, err = c.ResolveType(ctx, "127.0.0.1:5000/odod/nodejs-builder:latest")
	if err != nil || b.Name != "nodejs-builder" || b.Tag != "latest" || b.Image != "127.0.0.1:5000/odod/nodejs-builder:latest" {
		t.Fatalf("direct image: %+v %v", b, err)
	}
	b, err = c.ResolveType(ctx, "quay.io/team/py@sha256:"+"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err != nil || b.Tag != "0123456789ab" {
		t.Fatalf("digest image: %+v %v", b, err)
	}
}

func TestIsImageReference(t *testing.T) {
	for typ, want := range map[string]bool{
		"nodejs": false, "nodejs:14": false, "myproject/nodejs": false,
		"127.0.0.1:5000/odod/nodejs-builder:latest": true, "quay.io/a/b": true, "localhost/x": true, "x@sha256:00": true,
	} {
		if IsImageReference(typ) != want {
			t.Errorf("IsImageReference(%q) != %v", typ, want)
		}
	}
}
