package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/config"
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
		git, ref, contextDir   string
		registry               string
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
  odod create 127.0.0.1:5000/odod/nodejs-builder:latest api --project dev
  odod create nodejs web --git https://github.com/org/web.git --ref v2 --registry quay.io/me`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.validate(); err != nil {
				return err
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return fmt.Errorf("--context %s: %w", dir, err)
			}
			req := component.CreateRequest{
				Type: args[0], Project: project, App: app, Ports: ports, Env: envs,
				MinMemory: minMem, MaxMemory: maxMem, MinCPU: minCPU, MaxCPU: maxCPU,
				DebugPort: debugPort, Binary: binary, Force: force,
				Git: git, Ref: ref, ContextDir: contextDir, Registry: registry,
			}
			if len(args) == 2 {
				req.Name = args[1]
			}
			connect := func(ctx context.Context, ns string) (component.Cluster, error) { return flags.connect(ctx, ns) }
			defaultNamespace := func() string {
				_, ns, _ := cluster.LoadConfig(flags.options(""))
				return ns
			}
			created, err := component.Create(cmd.Context(), abs, req, connect, defaultNamespace)
			if err != nil {
				return err
			}
			report := createReport{Path: created.Path, Settings: created.Settings, Image: created.Image, Warning: created.Warning}
			name, s := created.Settings.Name, created.Settings
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
	f.StringVar(&git, "git", "", "build the component from this git repository (https, http or git URL) instead of the workspace's files")
	f.StringVar(&ref, "ref", "", "git branch, tag or commit to build (with --git; default the repository's default branch)")
	f.StringVar(&contextDir, "context-dir", "", "directory of the sources inside the repository (with --git)")
	f.StringVar(&registry, "registry", "", "registry odod's builds push images to on a cluster without a build API, host[:port][/path]; the cluster must pull from it")
	f.BoolVarP(&force, "force", "f", false, "replace existing component settings")
	out.register(cmd)
	flags.register(cmd)
	return cmd
}
