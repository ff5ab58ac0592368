package initimage

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"go.uber.org/zap"

	"github.com/odod-dev/odod/internal/version"
)

// modulePath identifies a checkout of odod, where odod-init can be built.
const modulePath = "github.com/odod-dev/odod"

// BuildOptions configure Build.
type BuildOptions struct {
	// InitBinary is a prebuilt static odod-init for Arch. Empty: use the
	// odod-init next to the running executable, else build one with
	// `go build` from the odod checkout around the working directory.
	InitBinary string
	// Arch is the image's GOARCH (default: this machine's).
	Arch string
	// Logger receives progress. Nil: no logs.
	Logger *zap.Logger
}

// Build assembles the init image: one layer with SourceDir and /usr/bin/cp,
// reproducible (fixed times and order) for a given odod-init binary.
func Build(ctx context.Context, opts BuildOptions) (v1.Image, error) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	arch := opts.Arch
	if arch == "" {
		arch = runtime.GOARCH
	}
	binary, cleanup, err := InitBinary(ctx, opts.InitBinary, arch, log)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	entries, err := tree(binary)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := layerTar(&buf, entries); err != nil {
		return nil, fmt.Errorf("write the init image layer: %w", err)
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("init image layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: epoch}, CreatedBy: "odod init-image build", Comment: "odod-init and the S2I scripts",
	}})
	if err != nil {
		return nil, fmt.Errorf("init image: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("init image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS, cfg.Created = arch, "linux", v1.Time{Time: epoch}
	cfg.Config = v1.Config{
		Cmd: InitContainerCommand(),
		Env: []string{"PATH=" + SourceDir + "/bin:/usr/bin"},
		// Not root by default; nothing in the copy needs it.
		User: "65532:65532",
		Labels: map[string]string{
			"org.opencontainers.image.title":       "odod-init",
			"org.opencontainers.image.description": "odod's init image: go-init, supervisord, the sync agent and the S2I scripts, copied into /opt/odo by the copy-supervisord init container",
			"org.opencontainers.image.version":     version.String(),
			"org.opencontainers.image.source":      "https://" + modulePath,
		},
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("init image config: %w", err)
	}
	if digest, err := img.Digest(); err == nil {
		log.Info("built init image", zap.String("digest", digest.String()), zap.String("arch", arch))
	}
	return img, nil
}

// InitBinary finds (or builds) the static odod-init to put in the image
// and checks that it is a static Linux executable for arch. cleanup
// removes a binary built for the occasion.
func InitBinary(ctx context.Context, explicit, arch string, log *zap.Logger) (path string, cleanup func(), err error) {
	noop := func() {}
	if log == nil {
		log = zap.NewNop()
	}
	if explicit != "" {
		if err := checkBinary(explicit, arch); err != nil {
			return "", noop, err
		}
		return explicit, noop, nil
	}
	if exe, err := os.Executable(); err == nil {
		candidate := filepath.Join(filepath.Dir(exe), BinaryName)
		if _, statErr := os.Stat(candidate); statErr == nil {
			if err := checkBinary(candidate, arch); err == nil {
				log.Info("using odod-init next to odod", zap.String("path", candidate))
				return candidate, noop, nil
			} else {
				log.Warn("ignoring odod-init next to odod", zap.Error(err))
			}
		}
	}
	root, err := findCheckout()
	if err != nil {
		return "", noop, err
	}
	dir, err := os.MkdirTemp("", "odod-init-build")
	if err != nil {
		return "", noop, fmt.Errorf("build odod-init: %w", err)
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	out := filepath.Join(dir, BinaryName)
	ldflags := "-s -w"
	if v := version.String(); v != "devel" {
		ldflags += " -X " + modulePath + "/internal/version.version=" + v
	}
	log.Info("building odod-init", zap.String("checkout", root), zap.String("arch", arch))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, "./cmd/odod-init")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if output, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", noop, fmt.Errorf("go build ./cmd/odod-init in %s: %w\n%s", root, err, output)
	}
	if err := checkBinary(out, arch); err != nil {
		cleanup()
		return "", noop, err
	}
	return out, cleanup, nil
}

// findCheckout walks up from the working directory to odod's go.mod.
func findCheckout() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(data), "module "+modulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no odod-init binary: pass --init-binary PATH, install odod-init next to odod, or run from a checkout of odod so it can be built")
		}
		dir = parent
	}
}

var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM,
	"ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "riscv64": elf.EM_RISCV,
}

// checkBinary makes sure the binary can run in the app container: a
// static Linux ELF executable (the image has no libc) for arch.
func checkBinary(path, arch string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("odod-init binary %s: %w; it must be a Linux executable", path, err)
	}
	defer f.Close()
	if want, ok := elfMachines[arch]; ok && f.Machine != want {
		return fmt.Errorf("odod-init binary %s is built for %s, the image is for %s; rebuild it with GOARCH=%s", path, f.Machine, arch, arch)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("odod-init binary %s is dynamically linked; the app image may lack its libc: rebuild it with CGO_ENABLED=0", path)
		}
	}
	return nil
}

// WriteLayoutTar writes img as an OCI image layout in a tar stream, named
// ref (annotations io.containerd.image.name and
// org.opencontainers.image.ref.name), ready for `ctr images import`.
func WriteLayoutTar(w io.Writer, img v1.Image, ref string) error {
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", ref, err)
	}
	dir, err := os.MkdirTemp("", "odod-init-layout")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("OCI layout: %w", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          parsed.Name(),
		"org.opencontainers.image.ref.name": parsed.Identifier(),
	})); err != nil {
		return fmt.Errorf("OCI layout: %w", err)
	}
	tw := tar.NewWriter(w)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name, hdr.ModTime, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = filepath.ToSlash(rel), epoch, 0, 0, "", ""
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("write the layout tar: %w", err)
	}
	return tw.Close()
}

// PushOptions configure Push.
type PushOptions struct {
	// Insecure allows plain HTTP. Registries on loopback addresses get it
	// without asking (the local cluster's runs on 127.0.0.1:5000).
	Insecure bool
	// Keychain resolves credentials (default: the Docker config, as
	// docker/podman login leave it).
	Keychain authn.Keychain
	Logger   *zap.Logger
}

// Push writes img to ref in a registry and returns the pushed digest.
func Push(ctx context.Context, img v1.Image, ref string, opts PushOptions) (v1.Hash, error) {
	var nameOpts []name.Option
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image reference %q: %w; use HOST[:PORT]/REPOSITORY[:TAG]", ref, err)
	}
	if opts.Insecure || isLoopback(parsed.Context().RegistryStr()) {
		nameOpts = append(nameOpts, name.Insecure)
		if parsed, err = name.ParseReference(ref, nameOpts...); err != nil {
			return v1.Hash{}, err
		}
	}
	keychain := opts.Keychain
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	if opts.Logger != nil {
		opts.Logger.Info("pushing init image", zap.String("ref", parsed.String()))
	}
	if err := remote.Write(parsed, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(keychain)); err != nil {
		return v1.Hash{}, fmt.Errorf("push %s: %w; check that the registry is reachable and you are logged in (docker login / podman login)", parsed, err)
	}
	return img.Digest()
}

func isLoopback(registry string) bool {
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
