package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// s2iScripts holds each builder's /usr/libexec/s2i scripts.
//
//go:embed s2i
var s2iScripts embed.FS

// recipeVersion changes the cache keys of every image: bump it when the way
// images are put together changes in a way their inputs do not show.
const recipeVersion = "1"

// imageTime is every image's creation time and every generated file's
// modification time, so that the same inputs give the same digests and an
// unchanged image is never pushed twice.
var imageTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	pauseImageName = "registry.k8s.io/pause:3.10"
	appUID         = 1001 // the S2I convention: non-root, group root
	appRoot        = "/opt/app-root"
	appSource      = appRoot + "/src"
)

// fileEntry is one entry of a generated layer.
type fileEntry struct {
	name     string // relative, no leading slash; directories end in "/"
	mode     int64
	uid, gid int
	linkname string // for symlinks
	body     []byte
}

// tarLayer builds a layer from entries, in order.
func tarLayer(entries []fileEntry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{
			Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			ModTime: imageTime, Format: tar.FormatPAX,
		}
		switch {
		case strings.HasSuffix(e.name, "/"):
			hdr.Typeflag = tar.TypeDir
		case e.linkname != "":
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.linkname
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("write layer entry %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("write layer entry %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close layer: %w", err)
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithCompressionLevel(gzip.BestSpeed))
}

// imageFrom makes an image of layers with config.
func imageFrom(config v1.Config, layers ...v1.Layer) (v1.Image, error) {
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Created:      v1.Time{Time: imageTime},
		Config:       config,
	})
	if err != nil {
		return nil, fmt.Errorf("set image config: %w", err)
	}
	for _, layer := range layers {
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:   layer,
			History: v1.History{Created: v1.Time{Time: imageTime}, CreatedBy: "odod hack/imagebuild"},
		})
		if err != nil {
			return nil, fmt.Errorf("append layer: %w", err)
		}
	}
	return img, nil
}

// writePauseLayout writes the pause image as an OCI layout that
// `ctr images import` names registry.k8s.io/pause:3.10.
func writePauseLayout(binary, out string) error {
	body, err := os.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("read the pause binary: %w", err)
	}
	layer, err := tarLayer([]fileEntry{{name: "pause", mode: 0o755, body: body}})
	if err != nil {
		return err
	}
	img, err := imageFrom(v1.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"}, layer)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return fmt.Errorf("clear %s: %w", out, err)
	}
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		return fmt.Errorf("create OCI layout %s: %w", out, err)
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          pauseImageName,
		"org.opencontainers.image.ref.name": "3.10",
	}))
}

type buildersOptions struct {
	Registry     string
	CacheDir     string
	Busybox      string
	NodejsRootfs string
	// JavaRootfs is the Java builder's rootfs; no Java builder when "".
	JavaRootfs string
	// CABundle, when set, is the machine's CA bundle, trusted by Node.js and
	// npm in the Node.js builder (NODE_EXTRA_CA_CERTS): a machine behind a
	// TLS-inspecting proxy reaches the npm registry only through its CAs.
	CABundle string
	Log      io.Writer
}

// builder is one builder image: how to make it and what identifies its
// inputs for the cache.
type builder struct {
	stream string // ImageStream name in namespace openshift
	repo   string // repository under the registry
	inputs []string
	build  func() (v1.Image, error)
}

func buildAndPushBuilders(ctx context.Context, opts buildersOptions, stdout io.Writer) error {
	builders := []builder{
		{
			stream: "nodejs", repo: "odod/nodejs-builder",
			inputs: nonEmpty(opts.NodejsRootfs, opts.CABundle),
			build:  func() (v1.Image, error) { return nodejsBuilder(opts.NodejsRootfs, opts.CABundle) },
		},
		{
			stream: "test-builder", repo: "odod/test-builder",
			inputs: []string{opts.Busybox},
			build:  func() (v1.Image, error) { return testBuilder(opts.Busybox) },
		},
	}
	if opts.JavaRootfs != "" {
		builders = append(builders, builder{
			stream: "java", repo: "odod/java-builder",
			inputs: []string{opts.JavaRootfs},
			build:  func() (v1.Image, error) { return javaBuilder(opts.JavaRootfs) },
		})
	}
	for _, b := range builders {
		img, err := cachedImage(filepath.Join(opts.CacheDir, b.stream), b, opts.Log)
		if err != nil {
			return fmt.Errorf("build %s: %w", b.repo, err)
		}
		ref := opts.Registry + "/" + b.repo + ":latest"
		digest, err := push(ctx, ref, img, opts.Log)
		if err != nil {
			return fmt.Errorf("push %s: %w (is the registry up? hack/cluster status)", ref, err)
		}
		fmt.Fprintf(stdout, "%s %s %s\n", b.stream, ref, digest)
	}
	return nil
}

// cacheKey identifies a builder's inputs: the files it is made of (by
// name, size and modification time; the rootfs tarball is itself cached by
// recipe), the embedded S2I scripts and the recipe version.
func cacheKey(b builder) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, recipeVersion, b.repo)
	for _, in := range b.inputs {
		info, err := os.Stat(in)
		if err != nil {
			return "", fmt.Errorf("input %s: %w", in, err)
		}
		fmt.Fprintln(h, in, info.Size(), info.ModTime().UnixNano())
	}
	scripts, err := s2iLayerEntries(b.stream)
	if err != nil {
		return "", err
	}
	for _, e := range scripts {
		fmt.Fprintln(h, e.name, e.mode, e.uid, e.gid)
		h.Write(e.body)
	}
	config, err := json.Marshal(builderConfig(b.stream))
	if err != nil {
		return "", fmt.Errorf("encode config: %w", err)
	}
	h.Write(config)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// cachedImage returns the builder's image from its OCI layout in dir when
// the inputs are unchanged, else builds it and replaces the layout.
func cachedImage(dir string, b builder, logw io.Writer) (v1.Image, error) {
	key, err := cacheKey(b)
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "odod-cache-key")
	if stored, err := os.ReadFile(keyFile); err == nil && string(stored) == key {
		if img, err := imageFromLayout(dir); err == nil {
			return img, nil
		}
	}
	fmt.Fprintf(logw, "imagebuild: building %s\n", b.repo)
	img, err := b.build()
	if err != nil {
		return nil, err
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("clear %s: %w", tmp, err)
	}
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return nil, fmt.Errorf("create OCI layout %s: %w", tmp, err)
	}
	if err := p.AppendImage(img); err != nil {
		return nil, fmt.Errorf("write image to %s: %w", tmp, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "odod-cache-key"), []byte(key), 0o644); err != nil {
		return nil, fmt.Errorf("record cache key: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("replace %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("replace %s: %w", dir, err)
	}
	return imageFromLayout(dir)
}

func imageFromLayout(dir string) (v1.Image, error) {
	index, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("read OCI layout %s: %w", dir, err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read OCI layout index %s: %w", dir, err)
	}
	if len(manifest.Manifests) != 1 {
		return nil, fmt.Errorf("OCI layout %s holds %d images, want 1", dir, len(manifest.Manifests))
	}
	return index.Image(manifest.Manifests[0].Digest)
}

// push writes img to ref unless the registry already has that digest.
func push(ctx context.Context, refName string, img v1.Image, logw io.Writer) (v1.Hash, error) {
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("digest: %w", err)
	}
	ref, err := name.ParseReference(refName, name.Insecure)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("parse reference: %w", err)
	}
	if desc, err := remote.Head(ref, remote.WithContext(ctx)); err == nil && desc.Digest == digest {
		fmt.Fprintf(logw, "imagebuild: %s is up to date\n", refName)
		return digest, nil
	}
	fmt.Fprintf(logw, "imagebuild: pushing %s\n", refName)
	// remote.Write sends its progress on updates and closes it when done.
	updates := make(chan v1.Update, 16)
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		reportPush(refName, updates, logw, 10*time.Second)
	}()
	err = remote.Write(ref, img, remote.WithContext(ctx), remote.WithProgress(updates))
	<-reported
	if err != nil {
		return v1.Hash{}, err
	}
	return digest, nil
}

// reportPush logs a push's progress from updates, at most once per every,
// and the total at the end.
func reportPush(refName string, updates <-chan v1.Update, logw io.Writer, every time.Duration) {
	var last v1.Update
	var printed time.Time
	start := time.Now()
	for u := range updates {
		if u.Error != nil {
			continue
		}
		last = u
		if time.Since(printed) < every || u.Total == 0 {
			continue
		}
		printed = time.Now()
		fmt.Fprintf(logw, "imagebuild: pushing %s: %d of %d MB\n", refName, u.Complete>>20, u.Total>>20)
	}
	if last.Total > 0 {
		fmt.Fprintf(logw, "imagebuild: pushed %s: %d MB in %s\n", refName, last.Total>>20, time.Since(start).Round(100*time.Millisecond))
	}
}

// builderConfig is a builder image's config: the S2I labels odod reads
// (scripts URL, destination), a non-root user and the S2I working dir.
func builderConfig(stream string) v1.Config {
	labels := map[string]string{
		"io.openshift.s2i.scripts-url":   "image:///usr/libexec/s2i",
		"io.openshift.s2i.destination":   "/tmp",
		"io.openshift.expose-services":   "8080:http",
		"io.k8s.display-name":            "odod local " + stream + " builder",
		"org.opencontainers.image.title": "odod local " + stream + " builder",
	}
	env := []string{"HOME=" + appSource}
	switch stream {
	case "nodejs":
		labels["io.openshift.tags"] = "builder,nodejs"
		labels["io.k8s.description"] = "Node.js and npm from Debian bookworm, built locally for odod's tests and demo"
		env = append(env,
			"PATH="+appSource+"/node_modules/.bin:"+appRoot+"/.npm-global/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"NPM_CONFIG_PREFIX="+appRoot+"/.npm-global",
			"NPM_RUN=start",
			"PORT=8080")
	case "java":
		labels["io.openshift.tags"] = "builder,java,openjdk"
		labels["io.k8s.description"] = "OpenJDK 17 from Debian bookworm (javac, no Maven), built locally for odod's tests and demo"
		env = append(env,
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64",
			"PORT=8080")
	default:
		labels["io.openshift.tags"] = "builder,test"
		labels["io.k8s.description"] = "busybox S2I builder for odod's tests"
		env = append(env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	}
	return v1.Config{
		User:         fmt.Sprint(appUID),
		WorkingDir:   appSource,
		Env:          env,
		Cmd:          []string{"/usr/libexec/s2i/usage"},
		Labels:       labels,
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
	}
}

// s2iLayerEntries are the layer every builder gets on top of its base:
// /usr/libexec/s2i scripts, and /opt/app-root owned by the app user.
func s2iLayerEntries(stream string) ([]fileEntry, error) {
	entries := []fileEntry{
		{name: "usr/", mode: 0o755},
		{name: "usr/libexec/", mode: 0o755},
		{name: "usr/libexec/s2i/", mode: 0o755},
	}
	for _, script := range []string{"assemble", "run", "usage"} {
		body, err := s2iScripts.ReadFile(path.Join("s2i", stream, script))
		if err != nil {
			return nil, fmt.Errorf("embedded S2I script %s/%s: %w", stream, script, err)
		}
		entries = append(entries, fileEntry{name: "usr/libexec/s2i/" + script, mode: 0o755, body: body})
	}
	return append(entries,
		fileEntry{name: "opt/", mode: 0o755},
		fileEntry{name: "opt/app-root/", mode: 0o775, uid: appUID},
		fileEntry{name: "opt/app-root/src/", mode: 0o775, uid: appUID},
	), nil
}

// nonEmpty returns the non-empty strings of ss.
func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// machineCAPath is where the Node.js builder keeps the machine's CA bundle.
const machineCAPath = "/etc/ssl/certs/odod-machine-cas.pem"

// rootfsLayers are a builder's Debian rootfs tarball and its S2I layer.
func rootfsLayers(stream, rootfs string) ([]v1.Layer, error) {
	base, err := tarball.LayerFromFile(rootfs, tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return nil, fmt.Errorf("rootfs layer from %s: %w", rootfs, err)
	}
	entries, err := s2iLayerEntries(stream)
	if err != nil {
		return nil, err
	}
	s2i, err := tarLayer(entries)
	if err != nil {
		return nil, err
	}
	return []v1.Layer{base, s2i}, nil
}

func nodejsBuilder(rootfs, caBundle string) (v1.Image, error) {
	layers, err := rootfsLayers("nodejs", rootfs)
	if err != nil {
		return nil, err
	}
	config := builderConfig("nodejs")
	if caBundle != "" {
		body, err := os.ReadFile(caBundle)
		if err != nil {
			return nil, fmt.Errorf("read the machine's CA bundle: %w", err)
		}
		cas, err := tarLayer([]fileEntry{
			{name: "etc/", mode: 0o755}, {name: "etc/ssl/", mode: 0o755}, {name: "etc/ssl/certs/", mode: 0o755},
			{name: strings.TrimPrefix(machineCAPath, "/"), mode: 0o644, body: body},
		})
		if err != nil {
			return nil, err
		}
		layers = append(layers, cas)
		config.Env = append(config.Env, "NODE_EXTRA_CA_CERTS="+machineCAPath)
	}
	return imageFrom(config, layers...)
}

// javaBuilder is the Debian OpenJDK 17 rootfs with the S2I layer.
func javaBuilder(rootfs string) (v1.Image, error) {
	layers, err := rootfsLayers("java", rootfs)
	if err != nil {
		return nil, err
	}
	return imageFrom(builderConfig("java"), layers...)
}

// testBuilder is a busybox system: the static busybox, a link per applet
// where `busybox --list-full` puts it, and passwd/group with the app user.
func testBuilder(busybox string) (v1.Image, error) {
	body, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("read busybox (apt-get install busybox-static): %w", err)
	}
	list, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("list busybox applets: %w", err)
	}
	entries := []fileEntry{
		{name: "bin/", mode: 0o755}, {name: "sbin/", mode: 0o755},
		{name: "usr/", mode: 0o755}, {name: "usr/bin/", mode: 0o755}, {name: "usr/sbin/", mode: 0o755},
		{name: "etc/", mode: 0o755}, {name: "root/", mode: 0o700}, {name: "tmp/", mode: 0o1777},
		{name: "var/", mode: 0o755}, {name: "var/tmp/", mode: 0o1777},
		{name: "bin/busybox", mode: 0o755, body: body},
		{name: "etc/passwd", mode: 0o644, body: []byte(
			"root:x:0:0:root:/root:/bin/sh\n" +
				fmt.Sprintf("default:x:%d:0:Default Application User:%s:/bin/sh\n", appUID, appSource) +
				"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{name: "etc/group", mode: 0o644, body: []byte("root:x:0:\nnogroup:x:65534:\n")},
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "bin/busybox" || strings.Count(applet, "/") > 2 {
			continue
		}
		entries = append(entries, fileEntry{name: applet, mode: 0o777, linkname: "/bin/busybox"})
	}
	base, err := tarLayer(entries)
	if err != nil {
		return nil, err
	}
	s2iEntries, err := s2iLayerEntries("test-builder")
	if err != nil {
		return nil, err
	}
	s2i, err := tarLayer(s2iEntries)
	if err != nil {
		return nil, err
	}
	return imageFrom(builderConfig("test-builder"), base, s2i)
}
