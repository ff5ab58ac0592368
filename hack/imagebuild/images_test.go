package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// layerEntries reads a layer back into name → header.
func layerEntries(t *testing.T, entries []fileEntry) map[string]*tar.Header {
	t.Helper()
	layer, err := tarLayer(entries)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	headers := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return headers
		}
		if err != nil {
			t.Fatal(err)
		}
		headers[hdr.Name] = hdr
	}
}

func TestS2ILayerOwnsAppRootByAppUser(t *testing.T) {
	for _, stream := range []string{"nodejs", "test-builder"} {
		entries, err := s2iLayerEntries(stream)
		if err != nil {
			t.Fatalf("%s: %v", stream, err)
		}
		headers := layerEntries(t, entries)
		for _, dir := range []string{"opt/app-root/", "opt/app-root/src/"} {
			hdr := headers[dir]
			if hdr == nil || hdr.Typeflag != tar.TypeDir || hdr.Uid != appUID || hdr.Gid != 0 {
				t.Errorf("%s: %s = %+v, want a directory owned by %d:0", stream, dir, hdr, appUID)
			}
		}
		for _, script := range []string{"assemble", "run", "usage"} {
			hdr := headers["usr/libexec/s2i/"+script]
			if hdr == nil || hdr.Mode&0o111 == 0 || hdr.Size == 0 {
				t.Errorf("%s: script %s = %+v, want a non-empty executable", stream, script, hdr)
			}
		}
	}
}

func TestBuilderConfigCarriesS2IMetadata(t *testing.T) {
	for _, stream := range []string{"nodejs", "test-builder"} {
		config := builderConfig(stream)
		if got := config.Labels["io.openshift.s2i.scripts-url"]; got != "image:///usr/libexec/s2i" {
			t.Errorf("%s: scripts-url label = %q", stream, got)
		}
		if got := config.Labels["io.openshift.s2i.destination"]; got != "/tmp" {
			t.Errorf("%s: destination label = %q", stream, got)
		}
		if config.WorkingDir != "/opt/app-root/src" || config.User != "1001" {
			t.Errorf("%s: WorkingDir %q User %q, want /opt/app-root/src and 1001", stream, config.WorkingDir, config.User)
		}
	}
}

func TestCacheKeyFollowsInputs(t *testing.T) {
	dir := t.TempDir()
	input := dir + "/rootfs.tar"
	writeInput := func(content string) {
		t.Helper()
		if err := os.WriteFile(input, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeInput("one")
	b := builder{stream: "nodejs", repo: "odod/nodejs-builder", inputs: []string{input}}
	first, err := cacheKey(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := cacheKey(b)
	if err != nil || again != first {
		t.Fatalf("cacheKey not stable: %s then %s (%v)", first, again, err)
	}
	writeInput("a longer content")
	changed, err := cacheKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if changed == first {
		t.Fatal("cacheKey did not change with its input")
	}
	if _, err := cacheKey(builder{stream: "nodejs", inputs: []string{dir + "/missing"}}); err == nil {
		t.Fatal("cacheKey of a missing input did not fail")
	}
}

func TestReportPushSaysProgressAndTotal(t *testing.T) {
	updates := make(chan v1.Update, 4)
	updates <- v1.Update{Total: 4 << 20, Complete: 1 << 20}
	updates <- v1.Update{Total: 4 << 20, Complete: 2 << 20}
	updates <- v1.Update{Total: 4 << 20, Complete: 4 << 20}
	close(updates)
	var out strings.Builder
	reportPush("r/img:latest", updates, &out, time.Hour)
	want := "imagebuild: pushing r/img:latest: 1 of 4 MB\nimagebuild: pushed r/img:latest: 4 MB in "
	if !strings.HasPrefix(out.String(), want) {
		t.Fatalf("reportPush wrote %q, want it to start with %q", out.String(), want)
	}
}
