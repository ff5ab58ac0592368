package cluster

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ImageInfo is what odod reads from a builder image's config.
type ImageInfo struct {
	// Ref is the reference that was read.
	Ref string
	// Digest is the manifest digest ("sha256:…").
	Digest string
	// Labels are the image config's labels.
	Labels map[string]string
	// WorkingDir is the image config's WorkingDir.
	WorkingDir string
	// ExposedPorts are "PORT/proto" ("8080/tcp"), sorted.
	ExposedPorts []string
}

// ImageInspector reads an image's config from its registry.
type ImageInspector interface {
	Inspect(ctx context.Context, ref string) (ImageInfo, error)
}

// RegistryInspector reads image configs with go-containerregistry, with
// the Docker keychain's credentials. Registries on localhost/127.0.0.1
// are spoken to in plain HTTP, as the local test registry needs. Results
// are cached for CacheTTL so that a push does not ask the registry each
// time.
type RegistryInspector struct {
	// Keychain supplies credentials; nil means authn.DefaultKeychain.
	Keychain authn.Keychain
	// CacheTTL is how long a result is reused; 0 means 2 minutes.
	CacheTTL time.Duration
	// RemoteOptions are added to every remote call (tests set a
	// transport).
	RemoteOptions []remote.Option

	mu    sync.Mutex
	cache map[string]cachedImage
	now   func() time.Time
}

type cachedImage struct {
	info ImageInfo
	at   time.Time
}

// NewRegistryInspector returns a RegistryInspector with defaults.
func NewRegistryInspector() *RegistryInspector { return &RegistryInspector{} }

// IsLocalRegistry says whether a registry host is this machine, which is
// spoken to in plain HTTP.
func IsLocalRegistry(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// ParseImageRef parses an image reference, marking local registries
// insecure (plain HTTP).
func ParseImageRef(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if IsLocalRegistry(r.Context().RegistryStr()) {
		return name.ParseReference(ref, name.Insecure)
	}
	return r, nil
}

// Inspect reads the image config of ref.
func (ri *RegistryInspector) Inspect(ctx context.Context, ref string) (ImageInfo, error) {
	ttl := ri.CacheTTL
	if ttl == 0 {
		ttl = 2 * time.Minute
	}
	now := time.Now
	if ri.now != nil {
		now = ri.now
	}
	ri.mu.Lock()
	if c, ok := ri.cache[ref]; ok && now().Sub(c.at) < ttl {
		ri.mu.Unlock()
		return c.info, nil
	}
	ri.mu.Unlock()

	parsed, err := ParseImageRef(ref)
	if err != nil {
		return ImageInfo{}, &Error{Kind: KindInvalid, Message: fmt.Sprintf("%q is not an image reference", ref), Err: err,
			Suggestion: "use a catalog type from `odod catalog` or a reference such as registry.example.com/ns/image:tag"}
	}
	keychain := ri.Keychain
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	opts := append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(keychain)}, ri.RemoteOptions...)
	img, err := remote.Image(parsed, opts...)
	if err != nil {
		return ImageInfo{}, &Error{Kind: KindImage, Message: fmt.Sprintf("cannot read builder image %s", ref), Err: err,
			Suggestion: "check that the image exists and that its registry is reachable (for a private registry, log in with docker login)"}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return ImageInfo{}, &Error{Kind: KindImage, Message: fmt.Sprintf("cannot read the config of builder image %s", ref), Err: err,
			Suggestion: "check that the image is a valid OCI/Docker image"}
	}
	digest, err := img.Digest()
	if err != nil {
		return ImageInfo{}, &Error{Kind: KindImage, Message: fmt.Sprintf("cannot read the digest of builder image %s", ref), Err: err}
	}
	info := ImageInfo{Ref: ref, Digest: digest.String(), Labels: map[string]string{}}
	for k, v := range cfg.Config.Labels {
		info.Labels[k] = v
	}
	info.WorkingDir = cfg.Config.WorkingDir
	for p := range cfg.Config.ExposedPorts {
		info.ExposedPorts = append(info.ExposedPorts, p)
	}
	sort.Strings(info.ExposedPorts)
	ri.mu.Lock()
	if ri.cache == nil {
		ri.cache = map[string]cachedImage{}
	}
	ri.cache[ref] = cachedImage{info: info, at: now()}
	ri.mu.Unlock()
	return info, nil
}

// FakeImageInspector answers from a map; unknown refs are KindImage errors.
type FakeImageInspector struct {
	Images map[string]ImageInfo
	mu     sync.Mutex
	calls  []string
}

// Inspect returns the configured ImageInfo.
func (f *FakeImageInspector) Inspect(_ context.Context, ref string) (ImageInfo, error) {
	f.mu.Lock()
	f.calls = append(f.calls, ref)
	f.mu.Unlock()
	info, ok := f.Images[ref]
	if !ok {
		return ImageInfo{}, &Error{Kind: KindImage, Message: fmt.Sprintf("cannot read builder image %s", ref), Suggestion: "check that the image exists"}
	}
	info.Ref = ref
	return info, nil
}

// Calls are the refs asked for, in order.
func (f *FakeImageInspector) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// S2I image labels and odo's env vars.
const (
	LabelS2IScriptsURL  = "io.openshift.s2i.scripts-url"
	LabelS2IDestination = "io.openshift.s2i.destination"
	LabelBuilderName    = "name"

	EnvS2IScriptsURL      = "ODO_S2I_SCRIPTS_URL"
	EnvS2IScriptsProtocol = "ODO_S2I_SCRIPTS_PROTOCOL"
	EnvS2ISrcOrBinPath    = "ODO_S2I_SRC_BIN_PATH"
	EnvS2IDeploymentDir   = "ODO_S2I_DEPLOYMENT_DIR"
	EnvS2IWorkingDir      = "ODO_S2I_WORKING_DIR"
	EnvS2IBuilderImage    = "ODO_S2I_BUILDER_IMG"
	EnvSrcBackupDir       = "ODO_SRC_BACKUP_DIR"
	EnvDebugPort          = "DEBUG_PORT"

	// DefaultS2ISrcOrBinPath is used when the image has no destination
	// label (odo's default, S2I's too).
	DefaultS2ISrcOrBinPath = "/tmp"
	// DefaultS2IScriptsPath is used when the image has no scripts-url
	// label: S2I's conventional location.
	DefaultS2IScriptsPath = "/usr/libexec/s2i"
	// DefaultSrcBackupDir is odo's source backup directory.
	DefaultSrcBackupDir = "/opt/app-root/src-backup"
	// AppRootDir is where the s2idata PVC is mounted.
	AppRootDir = "/opt/app-root"
)

// deploymentDirLabels are tried in order, as odo's S2IDeploymentsDir.
var deploymentDirLabels = []string{"com.redhat.deployments-dir", "org.jboss.deployments-dir", "org.jboss.container.deployments-dir"}

// S2IPaths are what odo derives from a builder image's labels.
type S2IPaths struct {
	ScriptsProtocol  string // "image://", "file://" or "http(s)://"
	ScriptsPath      string // the scripts URL without image:// or file://
	SrcOrBinPath     string
	DeploymentDir    string
	WorkingDir       string
	BuilderImageName string
	SrcBackupDir     string
}

// S2IPathsFromImage derives odo's S2I paths from a builder image, as odo
// v1's GetS2IMetaInfoFromBuilderImg: image:// and file:// are stripped
// from the scripts URL, http(s) URLs are kept whole, the source path
// defaults to /tmp. Where odo gave up (no labels at all, or no scripts
// URL) odod uses S2I's defaults instead, /usr/libexec/s2i over image://,
// which is where assemble-and-restart looks last anyway. A scripts URL of
// another scheme is an error.
func S2IPathsFromImage(info ImageInfo) (S2IPaths, error) {
	labels := info.Labels
	p := S2IPaths{
		SrcOrBinPath:     labels[LabelS2IDestination],
		WorkingDir:       info.WorkingDir,
		BuilderImageName: labels[LabelBuilderName],
		SrcBackupDir:     DefaultSrcBackupDir,
	}
	if p.SrcOrBinPath == "" {
		p.SrcOrBinPath = DefaultS2ISrcOrBinPath
	}
	if p.BuilderImageName == "" && info.Ref != "" {
		// No name label: the repository still says what the builder is
		// (odo-init's getlanguage maps e.g. ".../nodejs-builder" to nodejs).
		p.BuilderImageName = repository(info.Ref)
	}
	for _, l := range deploymentDirLabels {
		if v, ok := labels[l]; ok {
			p.DeploymentDir = v
			break
		}
	}
	url := labels[LabelS2IScriptsURL]
	switch {
	case url == "":
		p.ScriptsProtocol, p.ScriptsPath = "image://", DefaultS2IScriptsPath
	case strings.HasPrefix(url, "image://"):
		p.ScriptsProtocol, p.ScriptsPath = "image://", strings.TrimPrefix(url, "image://")
	case strings.HasPrefix(url, "file://"):
		p.ScriptsProtocol, p.ScriptsPath = "file://", strings.TrimPrefix(url, "file://")
	case strings.HasPrefix(url, "http://"), strings.HasPrefix(url, "https://"):
		p.ScriptsProtocol, p.ScriptsPath = "http(s)://", url
	default:
		return S2IPaths{}, &Error{Kind: KindInvalid, Message: fmt.Sprintf("builder image %s has an unknown %s %q", info.Ref, LabelS2IScriptsURL, url),
			Suggestion: "use a builder image whose scripts URL starts with image://, file:// or http(s)://"}
	}
	return p, nil
}

// repository is an image reference without its registry host, tag and
// digest: "127.0.0.1:5000/odod/nodejs-builder:latest" → "odod/nodejs-builder".
func repository(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	if i := strings.Index(ref, "/"); i >= 0 {
		host := ref[:i]
		if strings.ContainsAny(host, ".:") || host == "localhost" {
			ref = ref[i+1:]
		}
	}
	return ref
}
