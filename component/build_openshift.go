package component

import (
	"context"
	"fmt"
	"time"

	buildv1 "github.com/openshift/api/build/v1"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
	odsync "github.com/odod-dev/odod/sync"
)

// openshiftBuilder is the cluster role of a git component on OpenShift:
// the cluster builds (BuildConfig) and rolls out (ImageChange trigger).
// *cluster.Client is one.
type openshiftBuilder interface {
	EnsureBuildObjects(ctx context.Context, objs cluster.BuildObjects) error
	TagImage(ctx context.Context, tag string) (string, error)
	RunBuild(ctx context.Context, buildConfig string, opts cluster.BuildOptions) (cluster.BuildStatus, error)
	DeploymentConfigVersion(ctx context.Context, name string) (int64, error)
	WaitDeploymentConfigVersion(ctx context.Context, name string, since int64, timeout time.Duration) (int64, error)
}

// rolloutTimeout bounds the wait for a finished build's rollout to start.
const rolloutTimeout = 2 * time.Minute

// pushOpenShiftGit is a git component's push where the cluster serves
// build.openshift.io: odo v1's objects (the component's ImageStream, a
// BuildConfig with the S2I strategy from the builder's ImageStreamTag and
// output <component>-<app>:latest, a DeploymentConfig with an ImageChange
// trigger on that tag), then a build instantiated and followed phase by
// phase with its log streamed, and the rollout its trigger starts awaited.
func (c *Component) pushOpenShiftGit(ctx context.Context, cl Cluster, ob openshiftBuilder, cfg *config.LocalConfig, run pushRun) (protocol.PushResult, error) {
	var res protocol.PushResult
	timings := &protocol.PushTimings{}
	res.Timings = timings
	lap := stopwatch()
	run.report(protocol.PhaseApply, odsync.Progress{})
	spec, _, err := c.spec(ctx, cl, cfg)
	if err != nil {
		return res, err
	}
	spec.Workload = cluster.WorkloadDeploymentConfig
	s := cfg.ComponentSettings
	ref := spec.Ref()
	if err := ob.EnsureBuildObjects(ctx, cluster.DesiredBuild(spec, cluster.GitSource{URL: s.SourceLocation, Ref: s.Ref, ContextDir: s.ContextDir})); err != nil {
		return res, err
	}
	image, err := ob.TagImage(ctx, cluster.OutputTag(ref))
	if err != nil {
		return res, err
	}
	objs, err := cluster.Desired(spec)
	if err != nil {
		return res, err
	}
	if err := cluster.ForImageStream(&objs, ref, image, "odod push: "+s.SourceLocation); err != nil {
		return res, err
	}
	if _, err := cl.Apply(ctx, objs, cluster.ApplyOptions{}); err != nil {
		return res, err
	}
	before, err := ob.DeploymentConfigVersion(ctx, ref.ObjectName())
	if err != nil {
		return res, err
	}
	timings.ObjectsMs = lap()

	run.report(protocol.PhaseBuild, odsync.Progress{})
	log := c.lineWriter(protocol.LogBuild, "stdout", "", run.id)
	st, err := ob.RunBuild(ctx, ref.ObjectName(), cluster.BuildOptions{
		Log: log,
		OnPhase: func(st cluster.BuildStatus) {
			c.setState(protocol.StateBuilding, "Build"+string(st.Phase), fmt.Sprintf("build %s: %s %s", st.Name, st.Phase, st.Message))
		},
	})
	log.Flush()
	timings.BuildMs = lap()
	if err != nil {
		coded := Coded(err)
		if st.Phase == buildv1.BuildPhaseFailed || st.Phase == buildv1.BuildPhaseError || st.Phase == buildv1.BuildPhaseCancelled {
			coded.Code = protocol.CodeBuildFailed
		}
		return res, coded
	}
	zero := 0
	res.BuildExitCode = &zero
	c.setState(protocol.StateStarting, "RollingOut", "the ImageChange trigger rolls out "+st.Image)
	if _, err := ob.WaitDeploymentConfigVersion(ctx, ref.ObjectName(), before, rolloutTimeout); err != nil {
		return res, err
	}
	pod, err := c.awaitPod(ctx, cl, cfg, true, run)
	timings.PodMs = lap()
	if err != nil {
		return res, err
	}
	res.Pod = pod.Name
	c.setState(protocol.StateRunning, "", "running build "+st.Name)
	run.report(protocol.PhaseDone, odsync.Progress{})
	return res, nil
}
