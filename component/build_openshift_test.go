package component

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	buildv1 "github.com/openshift/api/build/v1"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// openshiftCluster serves build.openshift.io: its build goes through
// phases, writes a log, and a Complete build bumps the DeploymentConfig's
// version as its ImageChange trigger would.
type openshiftCluster struct {
	*buildCluster
	phases  []cluster.BuildStatus
	ensured []cluster.BuildObjects
	version int64
}

func (o *openshiftCluster) Platform() cluster.Platform {
	return cluster.Platform{Build: true, DeploymentConfig: true, ImageStream: true}
}
func (o *openshiftCluster) EnsureBuildObjects(_ context.Context, objs cluster.BuildObjects) error {
	o.ensured = append(o.ensured, objs)
	return nil
}
func (o *openshiftCluster) Apply(_ context.Context, objs cluster.Objects, _ cluster.ApplyOptions) (cluster.ApplyResult, error) {
	dc := objs.DeploymentConfig
	if dc == nil || len(dc.Spec.Triggers) != 2 || dc.Spec.Template.Spec.Containers[0].Image != " " {
		return cluster.ApplyResult{}, &cluster.Error{Kind: cluster.KindInvalid, Message: "want a DeploymentConfig with an ImageChange trigger"}
	}
	return cluster.ApplyResult{Created: []cluster.ObjectRef{{Kind: "DeploymentConfig", Name: dc.Name}}}, nil
}
func (o *openshiftCluster) TagImage(context.Context, string) (string, error) { return "", nil }
func (o *openshiftCluster) RunBuild(_ context.Context, bc string, opts cluster.BuildOptions) (cluster.BuildStatus, error) {
	var last cluster.BuildStatus
	for _, st := range o.phases {
		opts.OnPhase(st)
		_, _ = io.WriteString(opts.Log, "step "+string(st.Phase)+"\n")
		last = st
	}
	if last.Phase != buildv1.BuildPhaseComplete {
		return last, &cluster.Error{Kind: cluster.KindAPI, Reason: "Build" + string(last.Phase), Message: "build " + bc + "-1 " + string(last.Phase) + ": " + last.Reason, Suggestion: "read the log"}
	}
	o.version++
	return last, nil
}
func (o *openshiftCluster) DeploymentConfigVersion(context.Context, string) (int64, error) {
	return o.version, nil
}
func (o *openshiftCluster) WaitDeploymentConfigVersion(_ context.Context, _ string, since int64, _ time.Duration) (int64, error) {
	if o.version <= since {
		return 0, &cluster.Error{Kind: cluster.KindTimeout, Message: "no rollout"}
	}
	return o.version, nil
}

func openshiftHarness(t *testing.T, phases ...buildv1.BuildPhase) (*Component, *openshiftCluster, *recorder) {
	c, b, _, rec := gitHarness(t, func(s *config.ComponentSettings) {
		s.SourceType, s.SourceLocation, s.Ref = config.Git, "https://example.com/web.git", "main"
	})
	o := &openshiftCluster{buildCluster: b}
	for _, p := range phases {
		o.phases = append(o.phases, cluster.BuildStatus{Name: "web-app-1", Phase: p, Reason: "GenericBuildFailed"})
	}
	c.opts.Connect = func(context.Context, string) (Cluster, error) { return o, nil }
	c.Settings.connect = c.opts.Connect
	return c, o, rec
}

func TestOpenShiftGitPushBuildsWithABuildConfig(t *testing.T) {
	c, o, rec := openshiftHarness(t, buildv1.BuildPhaseNew, buildv1.BuildPhasePending, buildv1.BuildPhaseRunning, buildv1.BuildPhaseComplete)
	res, err := c.Push(context.Background(), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.BuildExitCode == nil || *res.BuildExitCode != 0 || res.Pod == "" {
		t.Fatalf("result %+v", res)
	}
	if len(o.ensured) != 1 || o.ensured[0].BuildConfig.Spec.Source.Git.URI != "https://example.com/web.git" || len(o.started) != 0 {
		t.Fatalf("ensured %d, build pods %d: the cluster builds, not odod", len(o.ensured), len(o.started))
	}
	logs := strings.Join(rec.logs, "\n")
	if !strings.Contains(logs, "build:step Running") {
		t.Fatalf("log %s", logs)
	}
	if states := strings.Join(rec.states, " "); !strings.Contains(states, "Building Building Building Building") || !strings.HasSuffix(states, "Running") {
		t.Fatalf("states %s", states)
	}
}

func TestOpenShiftGitPushFailsWithTheBuildsReason(t *testing.T) {
	for _, p := range []buildv1.BuildPhase{buildv1.BuildPhaseFailed, buildv1.BuildPhaseCancelled} {
		c, o, _ := openshiftHarness(t, buildv1.BuildPhaseNew, buildv1.BuildPhaseRunning, p)
		_, err := c.Push(context.Background(), PushOptions{})
		e := Coded(err)
		if e.Code != protocol.CodeBuildFailed || e.Reason != "Build"+string(p) || !strings.Contains(e.Message, "GenericBuildFailed") {
			t.Fatalf("%s: %+v", p, e)
		}
		if o.version != 0 {
			t.Fatal("rolled out after a failed build")
		}
	}
}
