package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/odod-dev/odod/initimage"
)

func runInitImage(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"init-image"}, args...), stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return out.String(), errb.String(), code
}

func TestInitImageBuildAndPush(t *testing.T) {
	// Built from this checkout, as `odod init-image build` does without --init-binary.
	binary, cleanup, err := initimage.InitBinary(context.Background(), "", runtime.GOARCH, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()

	tarPath := filepath.Join(t.TempDir(), "init.tar")
	stdout, stderr, code := runInitImage(t, "build", "--init-binary", binary, "--out", tarPath, "--ref", "example.com/odod-init:t", "-o", "json")
	if code != 0 {
		t.Fatalf("build: exit %d: %s", code, stderr)
	}
	var built initImageResult
	if err := json.Unmarshal([]byte(stdout), &built); err != nil || !strings.HasPrefix(built.Digest, "sha256:") || built.Out != tarPath || built.Ref != "example.com/odod-init:t" {
		t.Fatalf("build output %q: %v", stdout, err)
	}
	if info, err := os.Stat(tarPath); err != nil || info.Size() < 1<<20 {
		t.Fatalf("layout tar: %v %v", info, err)
	}

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	ref := u.Host + "/odod/odod-init:latest"
	stdout, stderr, code = runInitImage(t, "push", ref, "--init-binary", binary)
	if code != 0 {
		t.Fatalf("push: exit %d: %s", code, stderr)
	}
	if want := "pushed " + ref + "@" + built.Digest + "\n"; stdout != want {
		t.Errorf("push printed %q, want %q (the same digest as build)", stdout, want)
	}
}

func TestInitImageErrors(t *testing.T) {
	if _, stderr, code := runInitImage(t, "push"); code == 0 || !strings.Contains(stderr, "accepts 1 arg") {
		t.Errorf("push without REF: %d %q", code, stderr)
	}
	if _, stderr, code := runInitImage(t, "build", "--init-binary", "/bin/sh", "--out", filepath.Join(t.TempDir(), "x.tar")); code == 0 || !strings.Contains(stderr, "odod-init binary") {
		t.Errorf("build with a dynamic binary: %d %q", code, stderr)
	}
	if _, stderr, code := runInitImage(t, "build", "-o", "yaml"); code == 0 || !strings.Contains(stderr, "json") {
		t.Errorf("build -o yaml: %d %q", code, stderr)
	}
}
