// Package config reads, validates and writes a component's settings,
// `.odo/config.yaml`, in odo v1's LocalConfig schema so that a workspace
// created by odo opens in odod and the other way round.
//
// Compatibility notes (odo v1 wrote this file with gopkg.in/yaml.v2):
//   - the API version key is `apiversion`, lower case, as odo wrote it;
//     reading also accepts `apiVersion` (keys match case-insensitively);
//   - the keys inside ComponentSettings are odo's (`Type`, `Ports`, `Url`…);
//   - keys are written in alphabetical order (sigs.k8s.io/yaml goes through
//     JSON), where odo kept the struct's order; YAML readers do not care;
//   - unknown keys are ignored on read, so files from later odo versions
//     load, but they are not kept on write.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"sigs.k8s.io/yaml"
)

// Schema constants, as odo v1.
const (
	Kind       = "LocalConfig"
	APIVersion = "odo.openshift.io/v1alpha1"

	// DirName and FileName locate the file inside a workspace.
	DirName  = ".odo"
	FileName = "config.yaml"

	// DefaultApplication is the application a component belongs to when
	// none is named (odo's default).
	DefaultApplication = "app"
	// DefaultDebugPort is the port the debugger listens on in the pod
	// (odo's DefaultDebugPort; the DEBUG_PORT env var).
	DefaultDebugPort = 5858
	// DefaultSourceLocation is where a local component's sources are,
	// relative to the workspace.
	DefaultSourceLocation = "./"
)

// SrcType is where a component's sources come from.
type SrcType string

// Source types, odo's values.
const (
	// Local: the workspace's files are pushed into the container.
	Local SrcType = "local"
	// Binary: one artifact (WAR/JAR) in the workspace is pushed.
	Binary SrcType = "binary"
	// Git: the cluster builds an image from a Git repository
	// (SourceLocation, Ref, ContextDir) and the workload runs it: a
	// BuildConfig on OpenShift, odod's own build pod on Kubernetes.
	Git SrcType = "git"
)

// LocalConfig is the whole of `.odo/config.yaml`.
type LocalConfig struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiversion"`
	// ComponentSettings holds everything about the component.
	ComponentSettings ComponentSettings `json:"ComponentSettings"`
}

// ComponentSettings are odo's component settings; the JSON names are
// odo's YAML keys. Empty fields are omitted on write, as odo did with nil
// pointers.
type ComponentSettings struct {
	// Type is the builder: a catalog name with an optional tag
	// ("nodejs", "nodejs:14") or a direct image reference.
	Type string `json:"Type,omitempty"`
	// SourceLocation is the source directory (local) or the artifact
	// (binary), relative to the workspace.
	SourceLocation string `json:"SourceLocation,omitempty"`
	// Ref is the Git ref (branch, tag or commit) of a Git component; empty
	// means the repository's default branch.
	Ref string `json:"Ref,omitempty"`
	// SourceType is local, binary or git; empty means local.
	SourceType SrcType `json:"SourceType,omitempty"`
	// Ports are "PORT" or "PORT/PROTOCOL" (TCP, UDP, SCTP), e.g. "8080/TCP".
	// Empty: the builder image's exposed ports.
	Ports []string `json:"Ports,omitempty"`
	// Application groups components; empty means DefaultApplication.
	Application string `json:"Application,omitempty"`
	// Project is the namespace; empty means the kubeconfig's.
	Project string `json:"Project,omitempty"`
	// Name is the component's name, a DNS-1123 label.
	Name string `json:"Name,omitempty"`
	// MinMemory, MaxMemory, MinCPU, MaxCPU are Kubernetes quantities
	// ("256Mi", "500m") for the app container's requests and limits.
	MinMemory string `json:"MinMemory,omitempty"`
	MaxMemory string `json:"MaxMemory,omitempty"`
	// DebugPort is the debugger's port; 0 means DefaultDebugPort.
	DebugPort int `json:"DebugPort,omitempty"`
	// Storage lists the PVCs mounted into the app container.
	Storage []ComponentStorageSettings `json:"Storage,omitempty"`
	// Ignore says whether .odoignore is honoured (odo's flag; kept).
	Ignore *bool  `json:"Ignore,omitempty"`
	MinCPU string `json:"MinCPU,omitempty"`
	MaxCPU string `json:"MaxCPU,omitempty"`
	// Envs are the app container's environment variables, in order.
	Envs EnvVarList `json:"Envs,omitempty"`
	// URL lists the component's URLs (Route or Ingress).
	URL []ConfigURL `json:"Url,omitempty"`
	// Workload is odod's own setting: "Deployment" (the default) or
	// "DeploymentConfig" (OpenShift's, with ConfigChange and ImageChange
	// triggers, where the cluster serves apps.openshift.io/v1). odo ignores
	// keys it does not know, so the file stays readable by odo.
	Workload string `json:"Workload,omitempty"`
	// ContextDir is the directory of a Git component's sources inside the
	// repository (relative; empty means its root). odod's own key, as
	// odo's BuildConfig contextDir.
	ContextDir string `json:"ContextDir,omitempty"`
	// Registry is where images built by odod go on a cluster without a
	// build API (host[:port][/path], e.g. 127.0.0.1:5000/me); the cluster
	// must be able to pull from it. odod's own key.
	Registry string `json:"Registry,omitempty"`
	// Link lists the components and Services this one links to (odod's
	// own setting, see ComponentLink).
	Link []ComponentLink `json:"Link,omitempty"`
	// Strategy is how a new revision replaces the running pod (odod's own
	// key): "Recreate" (the default, as odo's DeploymentConfig: the old pod
	// is gone before the new one starts, so two supervisors never share the
	// s2idata volume) or "Rolling" (the new pod is ready before the old one
	// stops: no gap in service, at the cost of both running for a moment).
	Strategy string `json:"Strategy,omitempty"`
	// Triggers lists what rolls out a DeploymentConfig on its own (odod's
	// own key; DeploymentConfigs only): "ConfigChange" (a changed pod
	// template) and "ImageChange" (a new image in the builder's or, for a
	// git component, the component's image stream tag). Empty means both.
	Triggers []string `json:"Triggers,omitempty"`
}

// Strategies a component may use.
const (
	StrategyRecreate = "Recreate"
	StrategyRolling  = "Rolling"
)

// Triggers a DeploymentConfig may have.
const (
	TriggerConfigChange = "ConfigChange"
	TriggerImageChange  = "ImageChange"
)

// EffectiveStrategy is Strategy with its default.
func (s ComponentSettings) EffectiveStrategy() string {
	if s.Strategy == "" {
		return StrategyRecreate
	}
	return s.Strategy
}

// HasTrigger says whether a DeploymentConfig of these settings has the
// trigger t (every trigger when none is listed).
func (s ComponentSettings) HasTrigger(t string) bool {
	return len(s.Triggers) == 0 || slices.Contains(s.Triggers, t)
}

// ComponentStorageSettings is one storage mount, as odo's.
type ComponentStorageSettings struct {
	// Name is a DNS-1123 label; the PVC is "<Name>-<app>-pvc".
	Name string `json:"Name,omitempty"`
	// Size is a Kubernetes quantity ("1Gi").
	Size string `json:"Size,omitempty"`
	// Path is where the volume is mounted in the app container.
	Path string `json:"Path,omitempty"`
}

// ConfigURL is one URL of the component. Name and Port are odo v1's keys;
// Secure, Host and Kind come from odo 1.2's URL settings and are needed
// where there is no Route (an Ingress needs a host).
type ConfigURL struct {
	// Name is a DNS-1123 label; the Route or Ingress is "<Name>-<app>".
	Name string `json:"Name,omitempty"`
	// Port is the component port the URL reaches.
	Port int `json:"Port,omitempty"`
	// Secure asks for TLS (edge termination on a Route).
	Secure bool `json:"Secure,omitempty"`
	// Host is the Ingress host; a Route lets the router choose when empty.
	Host string `json:"Host,omitempty"`
	// Kind is "route" or "ingress"; empty means a Route where the cluster
	// serves them, else an Ingress.
	Kind URLKind `json:"Kind,omitempty"`
}

// URLKind is the kind of object a URL becomes.
type URLKind string

// URL kinds.
const (
	URLKindAuto    URLKind = ""
	URLKindRoute   URLKind = "route"
	URLKindIngress URLKind = "ingress"
)

// EnvVar is one environment variable, as odo's.
type EnvVar struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// EnvVarList keeps the order the user gave.
type EnvVarList []EnvVar

// ErrNotFound is matched (errors.Is) by the error Load returns when the
// workspace has no .odo/config.yaml.
var ErrNotFound = errors.New("component settings not found")

// NotFoundError says which file is missing and what to do.
type NotFoundError struct {
	Path string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no component settings at %s: run `odod create <type> [<name>]` in the workspace (or component/create from the editor) to create them", e.Path)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ParseError is a config file that is not valid YAML or does not fit the
// schema.
type ParseError struct {
	Path string
	// Line is 1-based; 0 when the parser did not say.
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	where := e.Path
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	return fmt.Sprintf("%s: cannot read component settings: %v: fix the YAML there (it is odo's LocalConfig format: kind, apiversion, ComponentSettings), or delete the file and run `odod create` again", where, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Path is the settings file of the workspace dir.
func Path(dir string) string { return filepath.Join(dir, DirName, FileName) }

// New returns the settings `odod create` writes: odo's defaults filled in.
func New(name, componentType string) *LocalConfig {
	return &LocalConfig{
		Kind:       Kind,
		APIVersion: APIVersion,
		ComponentSettings: ComponentSettings{
			Type:           componentType,
			SourceLocation: DefaultSourceLocation,
			SourceType:     Local,
			Application:    DefaultApplication,
			Name:           name,
		},
	}
}

// Load reads and parses dir/.odo/config.yaml. It does not validate: call
// Validate, so that a caller can show every problem at once. A missing
// file gives a *NotFoundError (errors.Is ErrNotFound); bad YAML a
// *ParseError.
func Load(dir string) (*LocalConfig, error) {
	path := Path(dir)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &NotFoundError{Path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("read component settings %s: %w: check the file's permissions", path, err)
	}
	return Parse(data, path)
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// Parse parses the content of a config file; path is only for messages.
func Parse(data []byte, path string) (*LocalConfig, error) {
	var cfg LocalConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		perr := &ParseError{Path: path, Err: err}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			perr.Line, _ = strconv.Atoi(m[1])
		}
		return nil, perr
	}
	if cfg.Kind == "" && cfg.APIVersion == "" && isEmptySettings(cfg.ComponentSettings) {
		return nil, &ParseError{Path: path, Err: errors.New("the file holds no LocalConfig (no kind, apiversion or ComponentSettings)")}
	}
	return &cfg, nil
}

func isEmptySettings(s ComponentSettings) bool {
	return s.Type == "" && s.Name == "" && s.Application == "" && s.Project == "" &&
		len(s.Ports) == 0 && len(s.Storage) == 0 && len(s.URL) == 0 && len(s.Envs) == 0
}

// Marshal renders the config as YAML, with kind and apiversion filled in.
func Marshal(cfg *LocalConfig) ([]byte, error) {
	out := *cfg
	if out.Kind == "" {
		out.Kind = Kind
	}
	if out.APIVersion == "" {
		out.APIVersion = APIVersion
	}
	data, err := yaml.Marshal(&out)
	if err != nil {
		return nil, fmt.Errorf("render component settings: %w", err)
	}
	return data, nil
}

// Save validates cfg and writes it to dir/.odo/config.yaml atomically (a
// temporary file in the same directory, fsync, rename), so a crash leaves
// the old file or the new one, never half of one. An invalid config is
// not written.
func Save(dir string, cfg *LocalConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	data, err := Marshal(cfg)
	if err != nil {
		return err
	}
	odoDir := filepath.Join(dir, DirName)
	if err := os.MkdirAll(odoDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w: check that the workspace is writable", odoDir, err)
	}
	// 0600 as the file index: the config holds env values.
	return writeFileAtomic(filepath.Join(odoDir, FileName), data, 0o600)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w: check that %s is writable", path, err, dir)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w: check free disk space", path, err)
	}
	if err = tmp.Chmod(mode); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w: check free disk space", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Persist the rename itself; best effort, some filesystems refuse.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// App is the component's application, defaulted.
func (s ComponentSettings) App() string {
	if s.Application == "" {
		return DefaultApplication
	}
	return s.Application
}

// EffectiveDebugPort is the debug port, defaulted.
func (s ComponentSettings) EffectiveDebugPort() int {
	if s.DebugPort == 0 {
		return DefaultDebugPort
	}
	return s.DebugPort
}

// EffectiveSourceType is the source type, defaulted to local.
func (s ComponentSettings) EffectiveSourceType() SrcType {
	if s.SourceType == "" {
		return Local
	}
	return s.SourceType
}
