package config

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Problem is one thing wrong in a config.
type Problem struct {
	// Field is the key's path, e.g. "ComponentSettings.Ports[1]".
	Field string
	// Message says what is wrong and what is expected.
	Message string
}

// ValidationError lists every problem Validate found.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid component settings: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Field)
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	b.WriteString(": fix .odo/config.yaml (or recreate it with `odod create`)")
	return b.String()
}

// Port is one parsed component port.
type Port struct {
	Number   int32
	Protocol string // "TCP", "UDP" or "SCTP"
}

// Name is the port's name as odo gave it: "<port>-<proto>" in lower case.
func (p Port) Name() string { return fmt.Sprintf("%d-%s", p.Number, strings.ToLower(p.Protocol)) }

// ParsePort parses "8080", "8080/TCP" or "53/udp" (odo's format).
func ParsePort(s string) (Port, error) {
	num, proto, hasProto := strings.Cut(strings.TrimSpace(s), "/")
	p := Port{Protocol: "TCP"}
	if hasProto {
		p.Protocol = strings.ToUpper(strings.TrimSpace(proto))
		switch p.Protocol {
		case "TCP", "UDP", "SCTP":
		default:
			return Port{}, fmt.Errorf("port %q: protocol %q is not TCP, UDP or SCTP", s, proto)
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil {
		return Port{}, fmt.Errorf("port %q: not a number: write it as PORT or PORT/PROTOCOL, e.g. 8080/TCP", s)
	}
	if msgs := validation.IsValidPortNum(n); len(msgs) > 0 {
		return Port{}, fmt.Errorf("port %q: %s", s, strings.Join(msgs, ", "))
	}
	p.Number = int32(n)
	return p, nil
}

// ParsedPorts returns the configured ports, parsed; it fails on the first
// bad one (Validate reports all).
func (s ComponentSettings) ParsedPorts() ([]Port, error) {
	ports := make([]Port, 0, len(s.Ports))
	for _, raw := range s.Ports {
		p, err := ParsePort(raw)
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// Validate checks the config as odod will use it and returns a
// *ValidationError listing every problem, or nil.
func (c *LocalConfig) Validate() error {
	var v validator
	if c.Kind != "" && c.Kind != Kind {
		v.add("kind", "is %q, expected %q", c.Kind, Kind)
	}
	if c.APIVersion != "" && c.APIVersion != APIVersion {
		v.add("apiversion", "is %q, expected %q", c.APIVersion, APIVersion)
	}
	s := c.ComponentSettings
	const cs = "ComponentSettings."
	if s.Name == "" {
		v.add(cs+"Name", "is empty: give the component a name (lower case letters, digits and '-')")
	} else {
		v.dns1123(cs+"Name", s.Name)
	}
	if s.Application != "" {
		v.dns1123(cs+"Application", s.Application)
	}
	if s.Project != "" {
		v.dns1123(cs+"Project", s.Project)
	}
	if strings.TrimSpace(s.Type) == "" {
		v.add(cs+"Type", "is empty: name a builder from `odod catalog` or an image reference")
	}
	switch s.Workload {
	case "", "Deployment", "DeploymentConfig":
	default:
		v.add(cs+"Workload", "is %q: use Deployment or DeploymentConfig", s.Workload)
	}
	switch s.Strategy {
	case "", StrategyRecreate, StrategyRolling:
	default:
		v.add(cs+"Strategy", "is %q: use Recreate or Rolling", s.Strategy)
	}
	seen := map[string]bool{}
	for _, t := range s.Triggers {
		switch {
		case t != TriggerConfigChange && t != TriggerImageChange:
			v.add(cs+"Triggers", "has %q: use ConfigChange, ImageChange or both", t)
		case seen[t]:
			v.add(cs+"Triggers", "lists %s twice", t)
		}
		seen[t] = true
	}
	switch s.SourceType {
	case "", Local, Binary:
	case Git:
		v.git(s)
	default:
		v.add(cs+"SourceType", "is %q: use local, binary or git", s.SourceType)
	}
	v.build(s)
	if s.SourceType == Binary && s.SourceLocation == "" {
		v.add(cs+"SourceLocation", "is empty: a binary component names its artifact (e.g. target/app.jar)")
	}
	portSet := map[int32]bool{}
	seenPort := map[string]bool{}
	for i, raw := range s.Ports {
		field := fmt.Sprintf("%sPorts[%d]", cs, i)
		p, err := ParsePort(raw)
		if err != nil {
			v.add(field, "%v", err)
			continue
		}
		if seenPort[p.Name()] {
			v.add(field, "%s is listed twice", p.Name())
		}
		seenPort[p.Name()] = true
		portSet[p.Number] = true
	}
	if s.DebugPort != 0 {
		if msgs := validation.IsValidPortNum(s.DebugPort); len(msgs) > 0 {
			v.add(cs+"DebugPort", "%s", strings.Join(msgs, ", "))
		}
	}
	v.minMax(cs+"MinCPU", s.MinCPU, cs+"MaxCPU", s.MaxCPU)
	v.minMax(cs+"MinMemory", s.MinMemory, cs+"MaxMemory", s.MaxMemory)
	v.storage(s.Storage)
	v.urls(s.URL, portSet)
	v.links(s.Link, s.Name)
	seenEnv := map[string]bool{}
	for i, e := range s.Envs {
		field := fmt.Sprintf("%sEnvs[%d]", cs, i)
		if msgs := validation.IsEnvVarName(e.Name); len(msgs) > 0 {
			v.add(field, "name %q: %s", e.Name, strings.Join(msgs, ", "))
		}
		if seenEnv[e.Name] {
			v.add(field, "%s is set twice", e.Name)
		}
		seenEnv[e.Name] = true
	}
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

type validator struct{ problems []Problem }

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) dns1123(field, value string) {
	if msgs := validation.IsDNS1123Label(value); len(msgs) > 0 {
		v.add(field, "%q is not a DNS-1123 label: %s", value, strings.Join(msgs, ", "))
	}
}

// quantity parses an optional quantity; ok is false when it is set and bad.
func (v *validator) quantity(field, value string) (resource.Quantity, bool) {
	if value == "" {
		return resource.Quantity{}, true
	}
	q, err := resource.ParseQuantity(value)
	if err != nil {
		v.add(field, "%q is not a quantity (e.g. 500m, 1, 256Mi, 1Gi)", value)
		return q, false
	}
	if q.Sign() < 0 {
		v.add(field, "%q is negative", value)
		return q, false
	}
	return q, true
}

func (v *validator) minMax(minField, minValue, maxField, maxValue string) {
	lo, okLo := v.quantity(minField, minValue)
	hi, okHi := v.quantity(maxField, maxValue)
	if okLo && okHi && minValue != "" && maxValue != "" && lo.Cmp(hi) > 0 {
		v.add(minField, "%s is more than %s %s", minValue, maxField, maxValue)
	}
}

// reservedMounts are where odod mounts its own volumes.
var reservedMounts = []string{"/opt/odo", "/opt/app-root"}

func (v *validator) storage(list []ComponentStorageSettings) {
	names := map[string]bool{}
	paths := map[string]bool{}
	for i, st := range list {
		field := fmt.Sprintf("ComponentSettings.Storage[%d]", i)
		if st.Name == "" {
			v.add(field+".Name", "is empty")
		} else {
			v.dns1123(field+".Name", st.Name)
		}
		if names[st.Name] {
			v.add(field+".Name", "storage %q is listed twice", st.Name)
		}
		names[st.Name] = true
		if st.Size == "" {
			v.add(field+".Size", "is empty: give a size such as 1Gi")
		} else if q, ok := v.quantity(field+".Size", st.Size); ok && q.Sign() == 0 {
			v.add(field+".Size", "is zero")
		}
		if !path.IsAbs(st.Path) {
			v.add(field+".Path", "%q is not an absolute path in the container", st.Path)
			continue
		}
		clean := path.Clean(st.Path)
		for _, r := range reservedMounts {
			if clean == r || strings.HasPrefix(clean, r+"/") || strings.HasPrefix(r, clean+"/") || clean == "/" {
				v.add(field+".Path", "%q overlaps %s, where odod mounts its own volume: choose another path", st.Path, r)
				break
			}
		}
		if paths[clean] {
			v.add(field+".Path", "%q is used by another storage", st.Path)
		}
		paths[clean] = true
	}
}

func (v *validator) urls(list []ConfigURL, ports map[int32]bool) {
	names := map[string]bool{}
	for i, u := range list {
		field := fmt.Sprintf("ComponentSettings.Url[%d]", i)
		if u.Name == "" {
			v.add(field+".Name", "is empty")
		} else {
			v.dns1123(field+".Name", u.Name)
		}
		if names[u.Name] {
			v.add(field+".Name", "URL %q is listed twice", u.Name)
		}
		names[u.Name] = true
		if msgs := validation.IsValidPortNum(u.Port); len(msgs) > 0 {
			v.add(field+".Port", "%s", strings.Join(msgs, ", "))
		} else if len(ports) > 0 && !ports[int32(u.Port)] {
			v.add(field+".Port", "%d is not one of the component's Ports", u.Port)
		}
		switch u.Kind {
		case URLKindAuto, URLKindRoute, URLKindIngress:
		default:
			v.add(field+".Kind", "is %q: use route or ingress", u.Kind)
		}
		if u.Host != "" {
			if msgs := validation.IsDNS1123Subdomain(u.Host); len(msgs) > 0 {
				v.add(field+".Host", "%q is not a host name: %s", u.Host, strings.Join(msgs, ", "))
			}
		}
	}
}

// ErrStorageNotFound and ErrURLNotFound are matched (errors.Is) by the
// errors the remove helpers return for an unknown name.
var (
	ErrStorageNotFound = errors.New("no such storage")
	ErrURLNotFound     = errors.New("no such URL")
	// ErrExists is matched when an add helper finds the name taken.
	ErrExists = errors.New("already exists")
)

// AddStorage adds a storage mount; it is created on the next push, as
// odo did. The result must still Validate.
func (c *LocalConfig) AddStorage(st ComponentStorageSettings) error {
	for _, existing := range c.ComponentSettings.Storage {
		if existing.Name == st.Name {
			return fmt.Errorf("storage %q: %w: remove it first or choose another name", st.Name, ErrExists)
		}
	}
	next := *c
	next.ComponentSettings.Storage = append(append([]ComponentStorageSettings(nil), c.ComponentSettings.Storage...), st)
	if err := next.Validate(); err != nil {
		return err
	}
	*c = next
	return nil
}

// RemoveStorage removes a storage mount by name; its PVC is deleted on
// the next push.
func (c *LocalConfig) RemoveStorage(name string) error {
	list := c.ComponentSettings.Storage
	for i, st := range list {
		if st.Name == name {
			c.ComponentSettings.Storage = append(append([]ComponentStorageSettings(nil), list[:i]...), list[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("storage %q: %w: list them with storage/list", name, ErrStorageNotFound)
}

// AddURL adds a URL; the Route or Ingress is created on the next push.
func (c *LocalConfig) AddURL(u ConfigURL) error {
	for _, existing := range c.ComponentSettings.URL {
		if existing.Name == u.Name {
			return fmt.Errorf("URL %q: %w: delete it first or choose another name", u.Name, ErrExists)
		}
	}
	next := *c
	next.ComponentSettings.URL = append(append([]ConfigURL(nil), c.ComponentSettings.URL...), u)
	if err := next.Validate(); err != nil {
		return err
	}
	*c = next
	return nil
}

// RemoveURL removes a URL by name; its object is deleted on the next push.
func (c *LocalConfig) RemoveURL(name string) error {
	list := c.ComponentSettings.URL
	for i, u := range list {
		if u.Name == name {
			c.ComponentSettings.URL = append(append([]ConfigURL(nil), list[:i]...), list[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("URL %q: %w: list them with url/list", name, ErrURLNotFound)
}

// SetEnv sets an environment variable, keeping its place if it exists.
func (c *LocalConfig) SetEnv(name, value string) {
	for i := range c.ComponentSettings.Envs {
		if c.ComponentSettings.Envs[i].Name == name {
			c.ComponentSettings.Envs[i].Value = value
			return
		}
	}
	c.ComponentSettings.Envs = append(c.ComponentSettings.Envs, EnvVar{Name: name, Value: value})
}

// UnsetEnv removes an environment variable; it reports whether it was set.
func (c *LocalConfig) UnsetEnv(name string) bool {
	for i, e := range c.ComponentSettings.Envs {
		if e.Name == name {
			c.ComponentSettings.Envs = append(c.ComponentSettings.Envs[:i:i], c.ComponentSettings.Envs[i+1:]...)
			return true
		}
	}
	return false
}
