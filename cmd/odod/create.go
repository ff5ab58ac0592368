package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/internal/config"
)

// createReport is what odod create -o json prints.
type createReport struct {
	Path     string                   `json:"path"`
	Settings config.ComponentSettings `json:"settings"`
	// Image is the builder image the type resolved to; "" when the
	// cluster could not be asked (it is resolved again on push).
	Image   string `json:"image,omitempty"`
	Warning string `json:"warning,omitempty"`
}

func newCreateCommand(streams stdio) *cobra.Command {
	var (
		out                    outputFlag
		flags                  clusterFlags
		dir, project, app      string
		ports, envs            []string
		minMem, maxMem         string
		minCPU, maxCPU, binary string
		debugPort              int
		force                  bool
	)
	cmd := &cobra.Command{
		Use:   "create <type> [<name>]",
		Short: "Create a component's settings (.odo/config.yaml) in a workspace",
		Long: `Create writes .odo/config.yaml, odo's LocalConfig, for a component of the
given type: a name from odod catalog (nodejs, nodejs:14, myproject/nodejs) or
an image reference (registry/repository:tag). Nothing reaches the cluster
until the first push, as with odo create.

The name defaults to the workspace directory's name. When the cluster is
reachable the type is checked against its catalog; when it is not, the
settings are written anyway and the type is resolved on push.`,
		Example: `  odod create nodejs
  odod create nodejs:14 frontend --app shop --port 8080 --port 9229/tcp
  odod create 127.0.0.1:5000/odod/nodejs-builder:latest api --project dev`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.validate(); err != nil {
				return err
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return fmt.Errorf("--context %s: %w", dir, err)
			}
			if _, err := config.Load(abs); err == nil && !force {
				return fmt.Errorf("%s already holds a component: edit it, or pass --force to replace it", config.Path(abs))
			} else if err != nil && !errors.Is(err, config.ErrNotFound) && !force {
				return fmt.Errorf("%w (pass --force to replace the file)", err)
			}
			name := defaultName(abs, args[0])
			if len(args) == 2 {
				name = args[1]
			}
			cfg := config.New(name, args[0])
			s := &cfg.ComponentSettings
			s.Application = app
			s.Project = project
			s.MinMemory, s.MaxMemory, s.MinCPU, s.MaxCPU = minMem, maxMem, minCPU, maxCPU
			s.DebugPort = debugPort
			for _, p := range ports {
				if p = strings.TrimSpace(p); p != "" {
					s.Ports = append(s.Ports, p)
				}
			}
			for _, e := range envs {
				k, v, ok := strings.Cut(e, "=")
				if !ok {
					return fmt.Errorf("--env %q: write it as NAME=VALUE", e)
				}
				cfg.SetEnv(k, v)
			}
			if binary != "" {
				s.SourceType, s.SourceLocation = config.Binary, binary
			}
			if err := cfg.Validate(); err != nil {
				return err
			}

			report := createReport{Path: config.Path(abs)}
			client, err := flags.connect(cmd.Context(), project)
			switch kind := cluster.KindOf(err); {
			case err == nil:
				if s.Project == "" {
					s.Project = client.Namespace()
				}
				builder, err := client.ResolveType(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				report.Image = builder.Image
			case kind == cluster.KindNoConfig || kind == cluster.KindUnreachable:
				report.Warning = fmt.Sprintf("type %q not checked: %v", args[0], err)
				if s.Project == "" {
					if _, ns, lerr := cluster.LoadConfig(flags.options("")); lerr == nil {
						s.Project = ns
					}
				}
			default:
				return err
			}
			if err := config.Save(abs, cfg); err != nil {
				return err
			}
			report.Settings = cfg.ComponentSettings
			if report.Warning != "" {
				fmt.Fprintln(streams.err, "Warning:", report.Warning)
			}
			if out.json() {
				return printJSON(streams, report)
			}
			fmt.Fprintf(streams.out, "Component %s of type %s (application %s) written to %s\n", name, args[0], s.App(), report.Path)
			fmt.Fprintln(streams.out, "Run odod push to create it on the cluster.")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "context", ".", "the component's workspace directory")
	f.StringVar(&project, "project", "", "namespace (default: the kubeconfig context's)")
	f.StringVar(&app, "app", config.DefaultApplication, "application the component belongs to")
	f.StringSliceVarP(&ports, "port", "p", nil, "port to expose, PORT[/PROTOCOL]; repeat or separate with commas (default: the image's)")
	f.StringArrayVarP(&envs, "env", "e", nil, "environment variable NAME=VALUE; repeatable")
	f.StringVar(&minMem, "min-memory", "", "memory request, e.g. 128Mi")
	f.StringVar(&maxMem, "max-memory", "", "memory limit, e.g. 512Mi")
	f.StringVar(&minCPU, "min-cpu", "", "CPU request, e.g. 100m")
	f.StringVar(&maxCPU, "max-cpu", "", "CPU limit, e.g. 1")
	f.IntVar(&debugPort, "debug-port", 0, fmt.Sprintf("debugger port in the container (default %d)", config.DefaultDebugPort))
	f.StringVar(&binary, "binary", "", "artifact to push instead of the sources (a binary component, e.g. target/app.jar)")
	f.BoolVarP(&force, "force", "f", false, "replace existing component settings")
	out.register(cmd)
	flags.register(cmd)
	return cmd
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// defaultName is the workspace directory's name as a DNS-1123 label, else
// the type's name.
func defaultName(dir, typ string) string {
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
