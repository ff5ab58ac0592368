package component

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/protocol"
)

// CreateRequest is what `odod create` and odod/component/create take.
type CreateRequest struct {
	// Type is a catalog type ("nodejs", "nodejs:14") or an image.
	Type string
	// Name defaults to the directory's name.
	Name, Project, App string
	Ports, Env         []string
	MinMemory          string
	MaxMemory          string
	MinCPU, MaxCPU     string
	DebugPort          int
	// Binary makes a binary component pushing that artifact.
	Binary string
	// Git makes a git component built from that repository, at Ref (a
	// branch, tag or commit; default its default branch), from ContextDir
	// inside it.
	Git, Ref, ContextDir string
	// Registry is where odod's builds push images (clusters without a
	// build API).
	Registry string
	// Force replaces existing settings.
	Force bool
}

// CreateResult is what Create wrote.
type CreateResult struct {
	Path     string                   `json:"path"`
	Settings config.ComponentSettings `json:"settings"`
	// Image is the resolved builder image, when the cluster answered.
	Image string `json:"image,omitempty"`
	// Warning says why the type was not checked (no cluster).
	Warning string `json:"warning,omitempty"`
}

// Create writes dir's .odo/config.yaml for a new component, as odo create
// did: nothing reaches the cluster. When the cluster answers, the type is
// checked against its catalog; when it cannot be reached, the settings are
// written anyway with a warning and the type is resolved at push.
func Create(ctx context.Context, dir string, req CreateRequest, connect Connector, defaultNamespace func() string) (CreateResult, error) {
	if strings.TrimSpace(req.Type) == "" {
		return CreateResult{}, invalid("type", errors.New("is required: name a type from the catalog (odod catalog) or an image"))
	}
	if err := checkWorkspaceDir(dir); err != nil {
		return CreateResult{}, err
	}
	if _, err := config.Load(dir); err == nil && !req.Force {
		return CreateResult{}, &Error{Code: protocol.CodeInvalidParams, Reason: "Exists",
			Message:    config.Path(dir) + " already holds a component",
			Suggestion: "edit it, or replace it (odod create --force, or force: true in odod/component/create)"}
	} else if err != nil && !errors.Is(err, config.ErrNotFound) && !req.Force {
		return CreateResult{}, fmt.Errorf("%w (replace the file with odod create --force)", err)
	}
	name := req.Name
	if name == "" {
		name = DefaultName(dir, req.Type)
	}
	cfg := config.New(name, req.Type)
	s := &cfg.ComponentSettings
	if req.App != "" {
		s.Application = req.App
	}
	s.Project = req.Project
	s.MinMemory, s.MaxMemory, s.MinCPU, s.MaxCPU = req.MinMemory, req.MaxMemory, req.MinCPU, req.MaxCPU
	s.DebugPort = req.DebugPort
	for _, p := range req.Ports {
		if p = strings.TrimSpace(p); p != "" {
			s.Ports = append(s.Ports, p)
		}
	}
	for _, e := range req.Env {
		k, v, ok := strings.Cut(e, "=")
		if !ok {
			return CreateResult{}, invalid("env", fmt.Errorf("%q: write it as NAME=VALUE", e))
		}
		cfg.SetEnv(k, v)
	}
	if req.Binary != "" {
		s.SourceType, s.SourceLocation = config.Binary, req.Binary
	}
	if req.Git != "" {
		if req.Binary != "" {
			return CreateResult{}, invalid("git", errors.New("and binary exclude each other: a component is built from a repository or pushes an artifact"))
		}
		s.SourceType, s.SourceLocation = config.Git, req.Git
	}
	s.Ref, s.ContextDir, s.Registry = req.Ref, req.ContextDir, req.Registry
	if err := cfg.Validate(); err != nil {
		return CreateResult{}, err
	}

	res := CreateResult{Path: config.Path(dir)}
	cl, err := connect(ctx, req.Project)
	switch kind := cluster.KindOf(err); {
	case err == nil:
		if s.Project == "" {
			s.Project = cl.Namespace()
		}
		builder, err := cl.ResolveType(ctx, req.Type)
		if err != nil {
			return CreateResult{}, err
		}
		res.Image = builder.Image
	case kind == cluster.KindNoConfig || kind == cluster.KindUnreachable:
		res.Warning = fmt.Sprintf("type %q not checked: %v", req.Type, err)
		if s.Project == "" && defaultNamespace != nil {
			s.Project = defaultNamespace()
		}
	default:
		return CreateResult{}, err
	}
	if err := config.Save(dir, cfg); err != nil {
		return CreateResult{}, err
	}
	if err := ensureGitignored(dir); err != nil {
		res.Warning = strings.TrimPrefix(res.Warning+"; ", "; ") + fmt.Sprintf("could not add %s to .gitignore: %v", indexer.IndexFile, err)
	}
	res.Settings = cfg.ComponentSettings
	return res, nil
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// DefaultName is the directory's name as a DNS-1123 label, else the type's
// name.
func DefaultName(dir, typ string) string {
	for _, candidate := range []string{filepath.Base(dir), typeBaseName(typ)} {
		n := strings.Trim(notDNS.ReplaceAllString(strings.ToLower(candidate), "-"), "-")
		if len(n) > 40 {
			n = strings.Trim(n[:40], "-")
		}
		if n != "" && n[0] >= 'a' && n[0] <= 'z' {
			return n
		}
	}
	return "component"
}

func typeBaseName(typ string) string {
	typ = typ[strings.LastIndex(typ, "/")+1:]
	if i := strings.IndexAny(typ, ":@"); i >= 0 {
		typ = typ[:i]
	}
	return typ
}
