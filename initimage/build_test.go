package initimage

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// testBinary builds odod-init once for all tests of the package (the
// slow part; Go's build cache makes later runs fast).
var testBinary = sync.OnceValues(func() (string, error) {
	path, _, err := InitBinary(context.Background(), "", runtime.GOARCH, nil)
	return path, err // the temp dir is left to the OS: it is shared by every test
})

func binary(t *testing.T) string {
	t.Helper()
	path, err := testBinary()
	if err != nil {
		t.Fatalf("build odod-init: %v", err)
	}
	return path
}

func buildImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := Build(context.Background(), BuildOptions{InitBinary: binary(t)})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

type tarEntry struct {
	typ      byte
	mode     int64
	linkname string
	size     int64
}

func layerEntries(t *testing.T, img v1.Image) map[string]tarEntry {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]tarEntry{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(hdr.Name, "/")] = tarEntry{typ: hdr.Typeflag, mode: hdr.Mode, linkname: hdr.Linkname, size: hdr.Size}
	}
}

func TestBuildContent(t *testing.T) {
	img := buildImage(t)
	entries := layerEntries(t, img)
	bin := entries["opt/odo-init/bin/odod-init"]
	if bin.typ != tar.TypeReg || bin.mode != 0o755 || bin.size < 1<<20 {
		t.Errorf("odod-init entry %+v", bin)
	}
	for _, role := range RoleLinks {
		if e := entries["opt/odo-init/bin/"+role]; e.typ != tar.TypeSymlink || e.linkname != BinaryName {
			t.Errorf("%s entry %+v", role, e)
		}
	}
	if e := entries["usr/bin/cp"]; e.typ != tar.TypeSymlink || e.linkname != "/opt/odo-init/bin/odod-init" {
		t.Errorf("/usr/bin/cp entry %+v", e)
	}
	for _, script := range []string{"bin/s2i-setup", "bin/assemble-and-restart", "bin/run", "language-scripts/nodejs/dev-assemble", "language-scripts/nodejs/dev-run", "language-scripts/java/dev-run"} {
		if e := entries["opt/odo-init/"+script]; e.typ != tar.TypeReg || e.mode != 0o755 {
			t.Errorf("%s entry %+v", script, e)
		}
	}
	for _, conf := range []string{"conf/supervisor.conf", "conf/s2i-env.sh"} {
		if e := entries["opt/odo-init/"+conf]; e.typ != tar.TypeReg || e.mode != 0o644 {
			t.Errorf("%s entry %+v", conf, e)
		}
	}
	for _, dir := range []string{"opt", "opt/odo-init", "opt/odo-init/bin", "opt/odo-init/language-scripts/nodejs", "usr/bin"} {
		if e := entries[dir]; e.typ != tar.TypeDir || e.mode != 0o755 {
			t.Errorf("directory %s entry %+v", dir, e)
		}
	}
	// The init container's command runs a file the image has.
	if cmd := InitContainerCommand(); entries[strings.TrimPrefix(cmd[0], "/")].typ != tar.TypeReg {
		t.Errorf("init container command %v names a missing file", cmd)
	}

	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH || !slices.Equal(cfg.Config.Cmd, InitContainerCommand()) || cfg.Config.User == "" || cfg.Config.User == "0" {
		t.Errorf("config %+v", cfg)
	}
	mt, _ := img.MediaType()
	if mt != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("media type %s", mt)
	}
}

func TestBuildIsReproducible(t *testing.T) {
	a, _ := buildImage(t).Digest()
	b, _ := buildImage(t).Digest()
	if a != b {
		t.Fatalf("two builds from the same binary differ: %s vs %s", a, b)
	}
}

func TestWriteLayoutTar(t *testing.T) {
	img := buildImage(t)
	const ref = "127.0.0.1:5000/odod/odod-init:latest"
	var buf bytes.Buffer
	if err := WriteLayoutTar(&buf, img, ref); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, hdr.Name)
		if hdr.Typeflag == tar.TypeDir {
			_ = os.MkdirAll(target, 0o755)
			continue
		}
		_ = os.MkdirAll(filepath.Dir(target), 0o755)
		data, _ := io.ReadAll(tr)
		if err := os.WriteFile(target, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil || json.Unmarshal(data, &index) != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %s %v", data, err)
	}
	if a := index.Manifests[0].Annotations; a["io.containerd.image.name"] != ref || a["org.opencontainers.image.ref.name"] != "latest" {
		t.Errorf("annotations %v", a)
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		t.Error("no oci-layout file")
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	back, err := p.Image(want)
	if err != nil {
		t.Fatalf("image not readable from the layout: %v", err)
	}
	if got, _ := back.Digest(); got != want || index.Manifests[0].Digest != want.String() {
		t.Errorf("layout digest %s, want %s", got, want)
	}
}

func TestPushToRegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	ref := u.Host + "/odod/odod-init:test" // 127.0.0.1:PORT: plain HTTP without asking
	img := buildImage(t)
	digest, err := Push(context.Background(), img, ref, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if digest != want {
		t.Errorf("Push returned %s, want %s", digest, want)
	}
	parsed, _ := name.ParseReference(ref, name.Insecure)
	pulled, err := remote.Image(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := pulled.Digest(); got != want {
		t.Errorf("registry has %s, want %s", got, want)
	}
	if _, err := Push(context.Background(), img, "not a reference!", PushOptions{}); err == nil {
		t.Error("Push accepted a malformed reference")
	}
}

func TestInitBinaryChecks(t *testing.T) {
	if _, _, err := InitBinary(context.Background(), binary(t), "arm64", nil); runtime.GOARCH == "amd64" && (err == nil || !strings.Contains(err.Error(), "GOARCH=arm64")) {
		t.Errorf("wrong architecture accepted: %v", err)
	}
	if sh, err := filepath.EvalSymlinks("/bin/sh"); err == nil {
		if _, _, err := InitBinary(context.Background(), sh, runtime.GOARCH, nil); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
			t.Errorf("dynamically linked %s accepted: %v", sh, err)
		}
	}
	notELF := filepath.Join(t.TempDir(), "odod-init")
	_ = os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755)
	if _, _, err := InitBinary(context.Background(), notELF, runtime.GOARCH, nil); err == nil {
		t.Error("a script accepted as odod-init")
	}
}

func TestDefaultRef(t *testing.T) {
	t.Setenv(EnvImage, "")
	if DefaultRef() != DefaultReference {
		t.Errorf("DefaultRef() = %s", DefaultRef())
	}
	t.Setenv(EnvImage, "quay.io/me/odod-init:v1")
	if DefaultRef() != "quay.io/me/odod-init:v1" {
		t.Errorf("DefaultRef() ignores %s", EnvImage)
	}
}

func TestCommands(t *testing.T) {
	cmd, args := AppContainerCommand()
	if !slices.Equal(cmd, []string{"/opt/odo/bin/go-init"}) ||
		!slices.Equal(args, []string{"-pre", "/opt/odo/bin/s2i-setup", "-main", "/opt/odo/bin/supervisord -c /opt/app-root/conf/supervisor.conf"}) {
		t.Errorf("app container command %v %v", cmd, args)
	}
	if got := InitContainerCommand(); !slices.Equal(got, []string{"/opt/odo-init/bin/odod-init", "cp", "-r", "/opt/odo-init/.", "/opt/odo/"}) {
		t.Errorf("init container command %v", got)
	}
	if got := AgentCommand("/tmp/src"); !slices.Equal(got, []string{"/opt/odo/bin/agent", "--root", "/tmp/src"}) {
		t.Errorf("agent command %v", got)
	}
}
