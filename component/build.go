package component

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
	odsync "github.com/odod-dev/odod/sync"
)

// builderCluster is what odod's own S2I build needs of a cluster without
// a build API: a build pod from the builder image, exec into it.
// *cluster.Client is one.
type builderCluster interface {
	Resolver
	Execer
	StartBuildPod(ctx context.Context, spec cluster.BuildPodSpec) (cluster.Pod, error)
	DeleteBuildPod(name string)
}

// builtImage is a build's result.
type builtImage struct {
	image  string // by digest
	commit string // git commit, for git sources
	pod    string // the build pod
}

// s2iBuild runs an S2I build in the cluster: a build pod from the builder
// image, the sources copied into its source dir (tar over exec, the sync's
// tar transport), the builder's assemble run there with its output in the
// build log, the assembled working dir (and deployments dir) read back as
// a tar, appended to the builder image as one layer and pushed to the
// component's registry. Nothing of the running component is touched.
func (c *Component) s2iBuild(ctx context.Context, cl builderCluster, cfg *config.LocalConfig, src buildSource, pushID string) (builtImage, error) {
	s := cfg.ComponentSettings
	if s.Registry == "" {
		return builtImage{}, &Error{Code: protocol.CodeInvalidConfig, Reason: "NoRegistry",
			Message:    "this cluster has no build API, so odod builds the image itself and needs a registry to push it to, which the cluster pulls from",
			Suggestion: "set one: odod create ... --registry host[:port][/path] (Registry in .odo/config.yaml), e.g. 127.0.0.1:5000/dev on odod's local cluster"}
	}
	spec, paths, err := c.spec(ctx, cl, cfg)
	if err != nil {
		return builtImage{}, err
	}
	if p := paths.ScriptsProtocol; p != "" && p != "image://" && p != "file://" {
		return builtImage{}, &Error{Code: protocol.CodeBuildFailed, Reason: "ScriptsURLUnsupported",
			Message:    fmt.Sprintf("builder %s keeps its S2I scripts at %s%s, which odod's build cannot fetch", spec.Builder.Image, p, paths.ScriptsPath),
			Suggestion: "use a builder image whose io.openshift.s2i.scripts-url is image:// (the scripts inside the image)"}
	}
	ref := spec.Ref()
	var env []corev1.EnvVar
	for _, e := range s.Envs {
		env = append(env, corev1.EnvVar{Name: e.Name, Value: e.Value})
	}
	c.setState(protocol.StateBuilding, "BuildPodStarting", "starting a build pod from "+spec.Builder.Image)
	pod, err := cl.StartBuildPod(ctx, cluster.BuildPodSpec{Ref: ref, Image: spec.Builder.Image, Env: env, Timeout: c.opts.PodTimeout})
	if err != nil {
		return builtImage{}, err
	}
	defer cl.DeleteBuildPod(pod.Name)
	out := c.lineWriter(protocol.LogBuild, "stdout", pod.Name, pushID)
	errw := c.lineWriter(protocol.LogBuild, "stderr", pod.Name, pushID)
	defer out.Flush()
	defer errw.Flush()

	exec := odsync.ContainerExecutor{Execer: cl, Pod: pod.Name, Container: pod.Container}
	srcDir := path.Join(paths.SrcOrBinPath, "src")
	c.setState(protocol.StateBuilding, "Uploading", fmt.Sprintf("copying %d sources into the build pod", len(src.entries)))
	tr, err := odsync.NewTarTransport(ctx, exec, srcDir)
	if err != nil {
		return builtImage{}, buildStepFailed("Upload", err)
	}
	if _, err := tr.Apply(ctx, odsync.PlanFull(src.entries, nil), src.src, nil); err != nil {
		return builtImage{}, buildStepFailed("Upload", err)
	}

	c.setState(protocol.StateBuilding, "Assembling", "running the builder's assemble")
	assemble := path.Join(paths.ScriptsPath, "assemble")
	script := `if [ -x "$1/.s2i/bin/assemble" ]; then exec "$1/.s2i/bin/assemble"; fi; exec "$2"`
	code, err := tr.Run(ctx, []string{"sh", "-c", script, "sh", srcDir, assemble}, nil, out, errw)
	out.Flush()
	errw.Flush()
	if err != nil {
		return builtImage{}, buildStepFailed("Assemble", err)
	}
	if code != 0 {
		return builtImage{}, &Error{Code: protocol.CodeBuildFailed, Reason: "AssembleFailed",
			Message:    fmt.Sprintf("assemble exited with status %d%s", code, errw.Tail()),
			Suggestion: "read the build output (odod/log, source build), fix the sources and build again; the running application was not changed"}
	}

	c.setState(protocol.StateBuilding, "Committing", "reading the assembled application back")
	layer, err := c.readAssembled(ctx, cl, pod, spec.Image.WorkingDir, paths.DeploymentDir)
	if err != nil {
		return builtImage{}, buildStepFailed("Commit", err)
	}
	defer func() { _ = os.Remove(layer) }()
	repo := strings.TrimSuffix(s.Registry, "/") + "/" + spec.Namespace + "/" + ref.ObjectName()
	c.setState(protocol.StateBuilding, "Pushing", "pushing the image to "+repo)
	labels := map[string]string{"io.openshift.build.image": spec.Builder.Image}
	envs := []string{"OPENSHIFT_BUILD_NAMESPACE=" + spec.Namespace}
	if src.url != "" {
		labels["io.openshift.build.source-location"] = src.url
		labels["io.openshift.build.commit.id"] = src.commit
		labels["io.openshift.build.commit.ref"] = src.ref
		labels["io.openshift.build.source-context-dir"] = src.contextDir
		envs = append(envs, "OPENSHIFT_BUILD_SOURCE="+src.url, "OPENSHIFT_BUILD_COMMIT="+src.commit)
	}
	commit := c.opts.CommitImage
	if commit == nil {
		commit = cluster.CommitImage
	}
	image, err := commit(ctx, cluster.CommitOptions{
		Builder: spec.Builder.Image, LayerFile: layer, Repository: repo,
		Cmd: []string{path.Join(paths.ScriptsPath, "run")}, Labels: labels, Env: envs,
	})
	if err != nil {
		return builtImage{}, err
	}
	fmt.Fprintf(out, "---> Pushed %s\n", image)
	return builtImage{image: image, commit: src.commit, pod: pod.Name}, nil
}

// readAssembled tars the directories assemble writes (the image's working
// dir, and the deployments dir where the builder has one) out of the build
// pod into a temporary file: the new layer.
func (c *Component) readAssembled(ctx context.Context, ex Execer, pod cluster.Pod, dirs ...string) (string, error) {
	var rels []string
	for _, d := range dirs {
		if d = strings.TrimPrefix(path.Clean("/"+d), "/"); d != "" {
			rels = append(rels, d)
		}
	}
	if len(rels) == 0 {
		return "", errors.New("the builder image names no working directory to take the application from")
	}
	f, err := os.CreateTemp("", "odod-layer-*.tar")
	if err != nil {
		return "", fmt.Errorf("make a file for the layer: %w", err)
	}
	var stderr strings.Builder
	argv := append([]string{"tar", "-c", "-f", "-", "-C", "/"}, rels...)
	err = ex.Exec(ctx, pod.Name, pod.Container, argv, nil, f, &stderr)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("tar %s in the build pod: %w: %s", strings.Join(rels, " "), err, strings.TrimSpace(stderr.String()))
	}
	return f.Name(), nil
}

func buildStepFailed(step string, err error) error {
	var e *Error
	if errors.As(err, &e) || errors.Is(err, context.Canceled) {
		return err
	}
	return &Error{Code: protocol.CodeBuildFailed, Reason: step + "Failed", Message: fmt.Sprintf("build: %s: %v", strings.ToLower(step), err),
		Suggestion: "build again; if it keeps failing, check the builder image (it needs sh and tar)", Err: err}
}

// asBuilder is the cluster's build role, or an error saying it has none.
func asBuilder(cl Cluster) (builderCluster, error) {
	b, ok := cl.(builderCluster)
	if !ok {
		return nil, &Error{Code: protocol.CodeRequestFailed, Reason: "BuildUnsupported", Message: "this cluster connection cannot run builds"}
	}
	return b, nil
}

// pushGit is a git component's push: build an image from the repository
// (in the cluster), then roll the workload to it by digest and wait for
// its pod. A failed build or rollout keeps what runs. A dry run has no
// files to plan: it answers no operations.
func (c *Component) pushGit(ctx context.Context, cfg *config.LocalConfig, run pushRun, opts PushOptions) (protocol.PushResult, error) {
	var res protocol.PushResult
	if opts.DryRun {
		return protocol.PushResult{Operations: []protocol.Operation{}}, nil
	}
	timings := &protocol.PushTimings{}
	res.Timings = timings
	lap := stopwatch()
	run.report(protocol.PhaseBuild, odsync.Progress{})
	cl, err := c.connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		return res, err
	}
	if p := cl.Platform(); p.Build && p.DeploymentConfig && p.ImageStream {
		if ob, ok := cl.(openshiftBuilder); ok {
			return c.pushOpenShiftGit(ctx, cl, ob, cfg, run)
		}
	}
	b, err := asBuilder(cl)
	if err != nil {
		return res, err
	}
	s := cfg.ComponentSettings
	c.setState(protocol.StateBuilding, "Fetching", "fetching "+s.SourceLocation)
	log := c.lineWriter(protocol.LogBuild, "stdout", "", run.id)
	src, err := gitSource(ctx, s.SourceLocation, s.Ref, s.ContextDir, log)
	log.Flush()
	if err != nil {
		return res, err
	}
	defer src.close()
	built, err := c.s2iBuild(ctx, b, cfg, src, run.id)
	timings.BuildMs = lap()
	if err != nil {
		return res, err
	}
	zero := 0
	res.BuildExitCode = &zero

	run.report(protocol.PhaseApply, odsync.Progress{})
	spec, _, err := c.spec(ctx, cl, cfg)
	if err != nil {
		return res, err
	}
	objs, err := cluster.Desired(spec)
	if err != nil {
		return res, err
	}
	short := built.commit
	if len(short) > 12 {
		short = short[:12]
	}
	cluster.ForBuiltImage(&objs, spec.Ref(), cluster.BuiltImage{Image: built.image, SourceURL: src.url, SourceRef: built.commit, Strategy: spec.Settings.Strategy,
		Cause: fmt.Sprintf("odod push: %s at %s (%s)", src.url, nonEmpty(src.ref, "default branch"), short)})
	// Force: a rollback changed the template behind odod's recorded hash.
	if _, err := cl.Apply(ctx, objs, cluster.ApplyOptions{Force: true}); err != nil {
		return res, err
	}
	timings.ObjectsMs = lap()
	pod, err := c.awaitPod(ctx, cl, cfg, true, run)
	timings.PodMs = lap()
	if err != nil {
		return res, err
	}
	res.Pod = pod.Name
	c.setState(protocol.StateRunning, "", "running "+built.image)
	run.report(protocol.PhaseDone, odsync.Progress{})
	return res, nil
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// BuildResult is what Build made.
type BuildResult struct {
	// Image is the pushed image by digest.
	Image      string `json:"image"`
	DurationMs int64  `json:"durationMs"`
}

// Build turns the workspace's files (as the index lists them, ignore
// rules applied) into an image with the same in-cluster S2I build a git
// component gets, and pushes it to the component's registry. It deploys
// nothing: the running component is not touched.
func (c *Component) Build(ctx context.Context) (BuildResult, error) {
	select {
	case <-c.pushSlot:
	case <-ctx.Done():
		return BuildResult{}, ctx.Err()
	}
	defer func() { c.pushSlot <- struct{}{} }()
	start := time.Now()
	cfg, err := c.load()
	if err != nil {
		return BuildResult{}, err
	}
	if err := cfg.Validate(); err != nil {
		return BuildResult{}, err
	}
	cl, err := c.connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		return BuildResult{}, err
	}
	b, err := asBuilder(cl)
	if err != nil {
		return BuildResult{}, err
	}
	var src buildSource
	if cfg.ComponentSettings.SourceType == config.Git {
		s := cfg.ComponentSettings
		log := c.lineWriter(protocol.LogBuild, "stdout", "", "")
		src, err = gitSource(ctx, s.SourceLocation, s.Ref, s.ContextDir, log)
		log.Flush()
	} else {
		src, err = c.workspaceSource(ctx)
	}
	if err != nil {
		return BuildResult{}, err
	}
	defer src.close()
	prev := c.State()
	built, err := c.s2iBuild(ctx, b, cfg, src, "")
	c.setState(prev, "", "")
	if err != nil {
		return BuildResult{}, err
	}
	return BuildResult{Image: built.image, DurationMs: time.Since(start).Milliseconds()}, nil
}

var _ io.Writer = (*lineWriter)(nil)
