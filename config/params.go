package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnknownParameter is returned for a parameter odo config set did not
// have.
var ErrUnknownParameter = errors.New("unknown parameter")

// parameter is one of odo config set's parameters: how to read, set and
// clear it.
type parameter struct {
	name  string
	get   func(s *ComponentSettings) string
	set   func(s *ComponentSettings, v string) error
	unset func(s *ComponentSettings)
}

func stringParam(name string, field func(s *ComponentSettings) *string) parameter {
	return parameter{name: name,
		get:   func(s *ComponentSettings) string { return *field(s) },
		set:   func(s *ComponentSettings, v string) error { *field(s) = v; return nil },
		unset: func(s *ComponentSettings) { *field(s) = "" }}
}

// listParam is a list set as comma-separated values ("8080,8443").
func listParam(name string, field func(s *ComponentSettings) *[]string) parameter {
	return parameter{name: name,
		get: func(s *ComponentSettings) string { return strings.Join(*field(s), ",") },
		set: func(s *ComponentSettings, v string) error {
			var list []string
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					list = append(list, item)
				}
			}
			*field(s) = list
			return nil
		},
		unset: func(s *ComponentSettings) { *field(s) = nil }}
}

// both sets a pair (Memory: MinMemory and MaxMemory) as odo did.
func both(name string, lo, hi func(s *ComponentSettings) *string) parameter {
	return parameter{name: name,
		get: func(s *ComponentSettings) string {
			if *lo(s) == *hi(s) {
				return *lo(s)
			}
			return ""
		},
		set:   func(s *ComponentSettings, v string) error { *lo(s), *hi(s) = v, v; return nil },
		unset: func(s *ComponentSettings) { *lo(s), *hi(s) = "", "" }}
}

// parameters are odo v1's config parameters, in odo config view's order,
// and odod's Workload.
var parameters = []parameter{
	stringParam("Type", func(s *ComponentSettings) *string { return &s.Type }),
	stringParam("Name", func(s *ComponentSettings) *string { return &s.Name }),
	stringParam("Application", func(s *ComponentSettings) *string { return &s.Application }),
	stringParam("Project", func(s *ComponentSettings) *string { return &s.Project }),
	{name: "SourceType",
		get:   func(s *ComponentSettings) string { return string(s.SourceType) },
		set:   func(s *ComponentSettings, v string) error { s.SourceType = SrcType(v); return nil },
		unset: func(s *ComponentSettings) { s.SourceType = "" }},
	stringParam("SourceLocation", func(s *ComponentSettings) *string { return &s.SourceLocation }),
	stringParam("Ref", func(s *ComponentSettings) *string { return &s.Ref }),
	listParam("Ports", func(s *ComponentSettings) *[]string { return &s.Ports }),
	stringParam("MinMemory", func(s *ComponentSettings) *string { return &s.MinMemory }),
	stringParam("MaxMemory", func(s *ComponentSettings) *string { return &s.MaxMemory }),
	both("Memory", func(s *ComponentSettings) *string { return &s.MinMemory }, func(s *ComponentSettings) *string { return &s.MaxMemory }),
	stringParam("MinCPU", func(s *ComponentSettings) *string { return &s.MinCPU }),
	stringParam("MaxCPU", func(s *ComponentSettings) *string { return &s.MaxCPU }),
	both("CPU", func(s *ComponentSettings) *string { return &s.MinCPU }, func(s *ComponentSettings) *string { return &s.MaxCPU }),
	{name: "DebugPort",
		get: func(s *ComponentSettings) string {
			if s.DebugPort == 0 {
				return ""
			}
			return strconv.Itoa(s.DebugPort)
		},
		set: func(s *ComponentSettings, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 65535 {
				return fmt.Errorf("the debug port %q: want a port number between 1 and 65535", v)
			}
			s.DebugPort = n
			return nil
		},
		unset: func(s *ComponentSettings) { s.DebugPort = 0 }},
	{name: "Ignore",
		get: func(s *ComponentSettings) string {
			if s.Ignore == nil {
				return ""
			}
			return strconv.FormatBool(*s.Ignore)
		},
		set: func(s *ComponentSettings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("the ignore flag %q: want true or false", v)
			}
			s.Ignore = &b
			return nil
		},
		unset: func(s *ComponentSettings) { s.Ignore = nil }},
	stringParam("Workload", func(s *ComponentSettings) *string { return &s.Workload }),
	stringParam("ContextDir", func(s *ComponentSettings) *string { return &s.ContextDir }),
	stringParam("Registry", func(s *ComponentSettings) *string { return &s.Registry }),
	stringParam("Strategy", func(s *ComponentSettings) *string { return &s.Strategy }),
	listParam("Triggers", func(s *ComponentSettings) *[]string { return &s.Triggers }),
}

func findParameter(name string) (parameter, error) {
	for _, p := range parameters {
		if strings.EqualFold(p.name, name) {
			return p, nil
		}
	}
	names := make([]string, len(parameters))
	for i, p := range parameters {
		names[i] = p.name
	}
	return parameter{}, fmt.Errorf("%q: %w: use one of %s", name, ErrUnknownParameter, strings.Join(names, ", "))
}

// Parameter is a parameter's name and value as odo config view showed it
// ("" when not set).
type Parameter struct {
	Name  string
	Value string
}

// Parameters lists every parameter with its value, in odo's order.
func (c *LocalConfig) Parameters() []Parameter {
	out := make([]Parameter, len(parameters))
	for i, p := range parameters {
		out[i] = Parameter{Name: p.name, Value: p.get(&c.ComponentSettings)}
	}
	return out
}

// Set sets a parameter by odo's name (case-insensitive). The result is
// not validated: Save validates the whole.
func (c *LocalConfig) Set(name, value string) error {
	p, err := findParameter(name)
	if err != nil {
		return err
	}
	return p.set(&c.ComponentSettings, value)
}

// Unset clears a parameter by odo's name (case-insensitive).
func (c *LocalConfig) Unset(name string) error {
	p, err := findParameter(name)
	if err != nil {
		return err
	}
	p.unset(&c.ComponentSettings)
	return nil
}
