package cluster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	oappsv1 "github.com/openshift/api/apps/v1"
	buildv1 "github.com/openshift/api/build/v1"
	imagev1 "github.com/openshift/api/image/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GitSource is a git component's repository.
type GitSource struct {
	URL, Ref, ContextDir string
}

// BuildObjects are what OpenShift builds a git component with, as odo v1
// made them: the component's ImageStream and a BuildConfig (S2I from the
// builder, output <component>-<app>:latest in that stream).
type BuildObjects struct {
	ImageStream *imagev1.ImageStream
	BuildConfig *buildv1.BuildConfig
}

// OutputTag is the ImageStreamTag a component's builds go to.
func OutputTag(ref ComponentRef) string { return ref.ObjectName() + ":latest" }

// DesiredBuild computes a git component's ImageStream and BuildConfig
// (pure). The builder is its ImageStreamTag where the type came from one,
// else the image itself.
func DesiredBuild(spec ComponentSpec, src GitSource) BuildObjects {
	ref := spec.Ref()
	name := ref.ObjectName()
	meta := metav1.ObjectMeta{Name: name, Namespace: spec.Namespace, Labels: componentLabels(spec),
		Annotations: map[string]string{AnnotationSourceType: string(spec.Settings.EffectiveSourceType())}}
	from := corev1.ObjectReference{Kind: "DockerImage", Name: spec.Builder.Image}
	if is := spec.Builder.ImageStream; is != nil {
		from = corev1.ObjectReference{Kind: "ImageStreamTag", Namespace: is.Namespace, Name: is.Name + ":" + is.Tag}
	}
	git := &buildv1.GitBuildSource{URI: src.URL, Ref: src.Ref}
	bcMeta := *meta.DeepCopy()
	bcMeta.Annotations[AnnotationVCSURI] = src.URL
	return BuildObjects{
		ImageStream: &imagev1.ImageStream{
			TypeMeta:   metav1.TypeMeta{APIVersion: imagev1.GroupVersion.String(), Kind: "ImageStream"},
			ObjectMeta: meta,
		},
		BuildConfig: &buildv1.BuildConfig{
			TypeMeta:   metav1.TypeMeta{APIVersion: buildv1.GroupVersion.String(), Kind: "BuildConfig"},
			ObjectMeta: bcMeta,
			Spec: buildv1.BuildConfigSpec{
				RunPolicy: buildv1.BuildRunPolicySerial,
				CommonSpec: buildv1.CommonSpec{
					Source:   buildv1.BuildSource{Type: buildv1.BuildSourceGit, Git: git, ContextDir: src.ContextDir},
					Strategy: buildv1.BuildStrategy{Type: buildv1.SourceBuildStrategyType, SourceStrategy: &buildv1.SourceBuildStrategy{From: from}},
					Output:   buildv1.BuildOutput{To: &corev1.ObjectReference{Kind: "ImageStreamTag", Name: OutputTag(ref)}},
				},
			},
		},
	}
}

// ForImageStream turns a component's desired DeploymentConfig into that
// of a git component on OpenShift: it runs the image its ImageStreamTag
// holds (image, " " until the first build), and an ImageChange trigger on
// that tag rolls out every new build, besides the ConfigChange trigger.
func ForImageStream(objs *Objects, ref ComponentRef, image string, cause string) error {
	dc := objs.DeploymentConfig
	if dc == nil {
		return &Error{Kind: KindInvalid, Message: "a git component built by OpenShift runs as a DeploymentConfig", Suggestion: "set Workload to DeploymentConfig"}
	}
	if image == "" {
		image = " "
	}
	ForBuiltImage(objs, ref, BuiltImage{Image: image, Cause: cause})
	dc.Spec.Triggers = oappsv1.DeploymentTriggerPolicies{
		{Type: oappsv1.DeploymentTriggerOnConfigChange},
		{Type: oappsv1.DeploymentTriggerOnImageChange, ImageChangeParams: &oappsv1.DeploymentTriggerImageChangeParams{
			Automatic:      true,
			ContainerNames: []string{ref.ObjectName()},
			From:           corev1.ObjectReference{Kind: "ImageStreamTag", Name: OutputTag(ref), Namespace: dc.Namespace},
		}},
	}
	return nil
}

// EnsureBuildObjects creates or updates the ImageStream and BuildConfig.
func (c *Client) EnsureBuildObjects(ctx context.Context, objs BuildObjects) error {
	if c.sets.Build == nil || c.sets.Image == nil {
		return &Error{Kind: KindInvalid, Message: "this cluster serves no build.openshift.io or image.openshift.io", Suggestion: "odod builds git components itself on such clusters"}
	}
	iss := c.sets.Image.ImageV1().ImageStreams(c.namespace)
	if _, err := iss.Get(ctx, objs.ImageStream.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		if _, err := iss.Create(ctx, objs.ImageStream, metav1.CreateOptions{FieldManager: ManagedBy}); err != nil {
			return classify(err, "create ImageStream "+objs.ImageStream.Name)
		}
	} else if err != nil {
		return classify(err, "read ImageStream "+objs.ImageStream.Name)
	}
	bcs := c.sets.Build.BuildV1().BuildConfigs(c.namespace)
	existing, err := bcs.Get(ctx, objs.BuildConfig.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := bcs.Create(ctx, objs.BuildConfig, metav1.CreateOptions{FieldManager: ManagedBy}); err != nil {
			return classify(err, "create BuildConfig "+objs.BuildConfig.Name)
		}
	case err != nil:
		return classify(err, "read BuildConfig "+objs.BuildConfig.Name)
	default:
		next := existing.DeepCopy()
		next.Labels, next.Annotations = objs.BuildConfig.Labels, objs.BuildConfig.Annotations
		next.Spec = objs.BuildConfig.Spec
		if _, err := bcs.Update(ctx, next, metav1.UpdateOptions{FieldManager: ManagedBy}); err != nil {
			return classify(err, "update BuildConfig "+objs.BuildConfig.Name)
		}
	}
	return nil
}

// TagImage is the image an ImageStreamTag points at now, "" when the tag
// has none yet.
func (c *Client) TagImage(ctx context.Context, tag string) (string, error) {
	ist, err := c.sets.Image.ImageV1().ImageStreamTags(c.namespace).Get(ctx, tag, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", classify(err, "read ImageStreamTag "+tag)
	}
	return ist.Image.DockerImageReference, nil
}

// BuildStatus is one observation of a build.
type BuildStatus struct {
	Name    string
	Phase   buildv1.BuildPhase
	Reason  string
	Message string
	// Image is the pushed image's digest reference once Complete.
	Image string
}

// BuildOptions tune RunBuild.
type BuildOptions struct {
	// OnPhase is called on each new phase.
	OnPhase func(BuildStatus)
	// Log receives the build's log, line by line (where the cluster
	// connection can stream it).
	Log io.Writer
	// Timeout bounds the build; default 30 minutes.
	Timeout time.Duration
	// Poll is how often the build is read; default 1 s.
	Poll time.Duration
}

// RunBuild instantiates the BuildConfig and follows the build through New
// → Pending → Running → Complete, streaming its log. Failed, Error and
// Cancelled end it with the build's reason and message.
func (c *Client) RunBuild(ctx context.Context, buildConfig string, opts BuildOptions) (BuildStatus, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Minute
	}
	if opts.Poll == 0 {
		opts.Poll = time.Second
	}
	b, err := c.sets.Build.BuildV1().BuildConfigs(c.namespace).Instantiate(ctx, buildConfig,
		&buildv1.BuildRequest{ObjectMeta: metav1.ObjectMeta{Name: buildConfig}}, metav1.CreateOptions{})
	if err != nil {
		return BuildStatus{}, classify(err, "start a build of "+buildConfig)
	}
	wctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		c.followBuildLog(wctx, b.Name, opts.Log)
	}()
	defer func() { cancel(); <-logDone }()
	var last buildv1.BuildPhase
	tick := time.NewTicker(opts.Poll)
	defer tick.Stop()
	for {
		st := BuildStatus{Name: b.Name, Phase: b.Status.Phase, Reason: string(b.Status.Reason), Message: b.Status.Message}
		if b.Status.Output.To != nil {
			st.Image = b.Status.Output.To.ImageDigest
		}
		if st.Phase != last && opts.OnPhase != nil {
			opts.OnPhase(st)
		}
		last = st.Phase
		switch st.Phase {
		case buildv1.BuildPhaseComplete:
			return st, nil
		case buildv1.BuildPhaseFailed, buildv1.BuildPhaseError, buildv1.BuildPhaseCancelled:
			return st, &Error{Kind: KindAPI, Reason: "Build" + string(st.Phase), Message: fmt.Sprintf("build %s %s: %s %s", b.Name, st.Phase, st.Reason, st.Message),
				Suggestion: "read the build log (odod/log, source build; oc logs build/" + b.Name + "), fix the sources or the BuildConfig and push again"}
		}
		select {
		case <-wctx.Done():
			if err := ctx.Err(); err != nil {
				return st, err
			}
			return st, &Error{Kind: KindTimeout, Message: fmt.Sprintf("build %s did not finish within %s (phase %s)", b.Name, opts.Timeout, st.Phase),
				Suggestion: "check the build: oc describe build/" + b.Name}
		case <-tick.C:
		}
		if b, err = c.sets.Build.BuildV1().Builds(c.namespace).Get(wctx, b.Name, metav1.GetOptions{}); err != nil {
			if wctx.Err() != nil {
				continue
			}
			return st, classify(err, "read build "+st.Name)
		}
	}
}

// followBuildLog streams builds/<name>/log?follow=true to w, line by line,
// retrying while the build pod is not running yet. Without a REST config
// (clients of fake clientsets) there is no log.
func (c *Client) followBuildLog(ctx context.Context, name string, w io.Writer) {
	if w == nil || c.rest == nil {
		return
	}
	for ctx.Err() == nil {
		rc, err := c.sets.Build.BuildV1().RESTClient().Get().Namespace(c.namespace).Resource("builds").Name(name).
			SubResource("log").Param("follow", "true").Stream(ctx)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(w, sc.Text())
		}
		_ = rc.Close()
		return
	}
}

// WaitDeploymentConfigVersion waits until the DeploymentConfig's latest
// version is past since (its ImageChange trigger rolled the new image out).
func (c *Client) WaitDeploymentConfigVersion(ctx context.Context, name string, since int64, timeout time.Duration) (int64, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		dc, err := c.sets.Apps.AppsV1().DeploymentConfigs(c.namespace).Get(wctx, name, metav1.GetOptions{})
		if err == nil && dc.Status.LatestVersion > since {
			return dc.Status.LatestVersion, nil
		}
		if err != nil && wctx.Err() == nil {
			return 0, classify(err, "read DeploymentConfig "+name)
		}
		select {
		case <-wctx.Done():
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			return 0, &Error{Kind: KindTimeout, Message: fmt.Sprintf("DeploymentConfig %s did not roll out the build within %s", name, timeout),
				Suggestion: "check its ImageChange trigger: oc describe dc/" + name}
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// DeploymentConfigVersion is a DeploymentConfig's latest version (0 when
// it does not exist yet).
func (c *Client) DeploymentConfigVersion(ctx context.Context, name string) (int64, error) {
	dc, err := c.sets.Apps.AppsV1().DeploymentConfigs(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, classify(err, "read DeploymentConfig "+name)
	}
	return dc.Status.LatestVersion, nil
}
