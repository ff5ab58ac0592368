//go:build integration

// Package clustertest checks that the local cluster does what odod needs,
// the way odod does it: client-go only. It deploys a component shaped like
// odo's (init container seeding a PVC from the Node.js builder, emptyDir,
// Secret, Service), uploads sources with a tar exec, runs the builder's
// assemble with streamed output, starts the app and follows its logs.
package clustertest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	imagev1 "github.com/openshift/api/image/v1"
	routev1 "github.com/openshift/api/route/v1"
	imageclient "github.com/openshift/client-go/image/clientset/versioned"
	routeclient "github.com/openshift/client-go/route/clientset/versioned"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/odod-dev/odod/internal/testcluster"
)

const appName = "smoke"

// The app: no dependencies, so npm install works without the npm registry.
var appFiles = map[string]string{
	"package.json": `{"name": "smoke", "version": "1.0.0", "scripts": {"start": "node server.js"}}` + "\n",
	"server.js": `const http = require("http");
http.createServer((req, res) => res.end("hello from odod smoke\n"))
  .listen(8080, () => console.log("smoke app listening on 8080"));
`,
}

func TestBuilderImagesInRegistry(t *testing.T) {
	c := testcluster.Require(t)
	ref, err := name.ParseReference(testcluster.NodejsBuilderImage, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	img, err := remote.Image(ref, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("read %s from the local registry: %v", ref, err)
	}
	config, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("read config of %s: %v", ref, err)
	}
	labels := config.Config.Labels
	if got := labels["io.openshift.s2i.scripts-url"]; got != "image:///usr/libexec/s2i" {
		t.Errorf("label io.openshift.s2i.scripts-url = %q", got)
	}
	if got := labels["io.openshift.s2i.destination"]; got != "/tmp" {
		t.Errorf("label io.openshift.s2i.destination = %q", got)
	}
	if config.Config.WorkingDir != "/opt/app-root/src" {
		t.Errorf("WorkingDir = %q, want /opt/app-root/src", config.Config.WorkingDir)
	}
	if config.Config.User == "" || config.Config.User == "0" || config.Config.User == "root" {
		t.Errorf("User = %q, want a non-root user", config.Config.User)
	}

	images, err := imageclient.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{"nodejs", "java", "test-builder"} {
		is, err := images.ImageV1().ImageStreams("openshift").Get(ctx, stream, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("ImageStream openshift/%s: %v", stream, err)
		}
		if !isBuilder(is) {
			t.Errorf("ImageStream openshift/%s has no tag 'latest' annotated tags=builder: %+v", stream, is.Spec.Tags)
		}
		if len(is.Status.Tags) == 0 || len(is.Status.Tags[0].Items) == 0 ||
			!strings.HasPrefix(is.Status.Tags[0].Items[0].DockerImageReference, c.Registry+"/odod/") {
			t.Errorf("ImageStream openshift/%s status does not record the pushed image: %+v", stream, is.Status)
		}
	}
}

func isBuilder(is *imagev1.ImageStream) bool {
	for _, tag := range is.Spec.Tags {
		if tag.Name != "latest" || tag.From == nil || tag.From.Kind != "DockerImage" {
			continue
		}
		for _, t := range strings.Split(tag.Annotations["tags"], ",") {
			if t == "builder" {
				return true
			}
		}
	}
	return false
}

func TestRouteCRD(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "route")
	routes, err := routeclient.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	route := &routev1.Route{
		ObjectMeta: metav1.ObjectMeta{Name: appName},
		Spec: routev1.RouteSpec{
			To:   routev1.RouteTargetReference{Kind: "Service", Name: appName},
			Port: &routev1.RoutePort{TargetPort: intstr.FromInt32(8080)},
		},
	}
	created, err := routes.RouteV1().Routes(ns).Create(ctx, route, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Route: %v", err)
	}
	if created.Spec.To.Name != appName || created.UID == "" {
		t.Fatalf("created Route = %+v", created)
	}
}

func TestComponentLifecycle(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "smoke")
	client := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	createComponent(ctx, t, client, ns)
	pod := waitForPod(ctx, t, client, ns)
	t.Logf("pod %s running on %s (%s)", pod.Name, pod.Spec.NodeName, pod.Status.PodIP)

	// The init container seeded the PVC from the image's /opt/app-root, and
	// the Secret is mounted.
	out := execOutput(ctx, t, c.Config, client, pod, "cat /opt/app-root/.seeded /etc/smoke-secret/token")
	if out != "seeded\ns3cret" {
		t.Fatalf("seeded marker and secret read %q", out)
	}

	// Upload the sources as odod's tar transport does.
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	for fileName, content := range appFiles {
		if err := tw.WriteHeader(&tar.Header{Name: fileName, Mode: 0o644, Size: int64(len(content)), ModTime: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if err := execIn(ctx, c.Config, client, pod, []string{"sh", "-c", "mkdir -p /tmp/src && tar xf - -C /tmp/src --no-same-owner"},
		&archive, io.Discard, &stderr); err != nil {
		t.Fatalf("tar upload: %v (stderr %q)", err, stderr.String())
	}

	// Run the builder's assemble, reading its output as it comes: a line
	// printed before a pause must arrive before the script ends.
	reader, writer := io.Pipe()
	type line struct {
		text string
		at   time.Time
	}
	lines := make(chan line, 100)
	go func() {
		defer close(lines)
		scanner := bufio.NewScanner(reader)
		for scanner.Scan() {
			lines <- line{scanner.Text(), time.Now()}
		}
	}()
	script := "echo streamed-first; sleep 2; /usr/libexec/s2i/assemble"
	execErr := execIn(ctx, c.Config, client, pod, []string{"sh", "-c", script}, nil, writer, writer)
	ended := time.Now()
	writer.Close()
	var output []string
	var firstAt time.Time
	for l := range lines {
		if l.text == "streamed-first" {
			firstAt = l.at
		}
		output = append(output, l.text)
	}
	if execErr != nil {
		t.Fatalf("assemble: %v\n%s", execErr, strings.Join(output, "\n"))
	}
	joined := strings.Join(output, "\n")
	for _, want := range []string{"---> Installing application source", "---> Installing dependencies", "---> Assemble done"} {
		if !strings.Contains(joined, want) {
			t.Errorf("assemble output lacks %q:\n%s", want, joined)
		}
	}
	if firstAt.IsZero() || ended.Sub(firstAt) < time.Second {
		t.Errorf("exec output was not streamed: first line at %v, exec ended %v", firstAt, ended)
	}

	// Start the app in the background with its output on the container's
	// log stream, as the supervisor does, then follow the logs.
	if out := execOutput(ctx, t, c.Config, client, pod,
		"cd /opt/app-root/src && (nohup /usr/libexec/s2i/run >/proc/1/fd/1 2>&1 &) && echo started"); out != "started" {
		t.Fatalf("starting the app printed %q", out)
	}
	followLogs(ctx, t, client, pod, "smoke app listening on 8080")
	if out := execOutput(ctx, t, c.Config, client, pod,
		`node -e 'require("http").get("http://127.0.0.1:8080", r => r.pipe(process.stdout))'`); out != "hello from odod smoke" {
		t.Fatalf("the app answered %q", out)
	}
	checkServiceEndpoints(ctx, t, client, ns, pod)
}

func createComponent(ctx context.Context, t *testing.T, client kubernetes.Interface, ns string) {
	t.Helper()
	labels := map[string]string{"app.kubernetes.io/instance": appName}
	_, err := client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: appName + "-secret"},
		StringData: map[string]string{"token": "s3cret"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Secret: %v", err)
	}
	_, err = client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: appName + "-s2idata"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create PVC: %v", err)
	}
	_, err = client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: appName},
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(8080)}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Service: %v", err)
	}
	replicas := int32(1)
	_, err = client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: appName, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{
						Name:            "copy-files-to-volume",
						Image:           testcluster.NodejsBuilderImage,
						ImagePullPolicy: corev1.PullIfNotPresent,
						Command: []string{"sh", "-c",
							"cp -R /opt/app-root/. /mnt/app-root/ && echo seeded > /mnt/app-root/.seeded && echo ok > /opt/odo/init-ran"},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "s2idata", MountPath: "/mnt/app-root", SubPath: "app-root"},
							{Name: "shared", MountPath: "/opt/odo"},
						},
					}},
					Containers: []corev1.Container{{
						Name:            appName,
						Image:           testcluster.NodejsBuilderImage,
						ImagePullPolicy: corev1.PullIfNotPresent,
						Command:         []string{"sh", "-c", "echo container started; exec sleep infinity"},
						Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "s2idata", MountPath: "/opt/app-root", SubPath: "app-root"},
							{Name: "shared", MountPath: "/opt/odo"},
							{Name: "secret", MountPath: "/etc/smoke-secret", ReadOnly: true},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "s2idata", VolumeSource: corev1.VolumeSource{
							PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: appName + "-s2idata"}}},
						{Name: "shared", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
						{Name: "secret", VolumeSource: corev1.VolumeSource{
							Secret: &corev1.SecretVolumeSource{SecretName: appName + "-secret"}}},
					},
				},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Deployment: %v", err)
	}
}

// waitForPod waits for the Deployment's pod to run, reporting the pod's
// last state if it does not.
func waitForPod(ctx context.Context, t *testing.T, client kubernetes.Interface, ns string) *corev1.Pod {
	t.Helper()
	started := time.Now()
	var pod *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + appName})
		if err != nil || len(pods.Items) == 0 {
			return false, nil
		}
		pod = &pods.Items[0]
		for _, cond := range pod.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		events, _ := client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		var lines []string
		for _, e := range events.Items {
			lines = append(lines, fmt.Sprintf("%s %s/%s: %s %s", e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message))
		}
		t.Fatalf("pod not ready: %v\npod status: %+v\nevents:\n%s", err, podStatus(pod), strings.Join(lines, "\n"))
	}
	t.Logf("Deployment rolled out in %v", time.Since(started).Round(time.Millisecond))
	return pod
}

func podStatus(pod *corev1.Pod) any {
	if pod == nil {
		return "no pod"
	}
	return pod.Status
}

func execIn(ctx context.Context, config *rest.Config, client kubernetes.Interface, pod *corev1.Pod, command []string,
	stdin io.Reader, stdout, stderr io.Writer) error {
	req := client.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: appName,
			Command:   command,
			Stdin:     stdin != nil,
			Stdout:    true,
			Stderr:    true,
		}, scheme.ParameterCodec)
	websocket, err := remotecommand.NewWebSocketExecutor(config, http.MethodGet, req.URL().String())
	if err != nil {
		return fmt.Errorf("websocket executor: %w", err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(config, http.MethodPost, req.URL())
	if err != nil {
		return fmt.Errorf("spdy executor: %w", err)
	}
	executor, err := remotecommand.NewFallbackExecutor(websocket, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return fmt.Errorf("fallback executor: %w", err)
	}
	return executor.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

func execOutput(ctx context.Context, t *testing.T, config *rest.Config, client kubernetes.Interface, pod *corev1.Pod, script string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := execIn(ctx, config, client, pod, []string{"sh", "-c", script}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("exec %q: %v (stdout %q, stderr %q)", script, err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// followLogs follows the app container's log until a line contains want.
func followLogs(ctx context.Context, t *testing.T, client kubernetes.Interface, pod *corev1.Pod, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	stream, err := client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: appName, Follow: true}).Stream(ctx)
	if err != nil {
		t.Fatalf("follow logs: %v", err)
	}
	defer stream.Close()
	var seen []string
	scanner := bufio.NewScanner(stream)
	for scanner.Scan() {
		seen = append(seen, scanner.Text())
		if strings.Contains(scanner.Text(), want) {
			return
		}
	}
	t.Fatalf("logs ended (%v) without %q; saw:\n%s", scanner.Err(), want, strings.Join(seen, "\n"))
}

func checkServiceEndpoints(ctx context.Context, t *testing.T, client kubernetes.Interface, ns string, pod *corev1.Pod) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		slices, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + appName})
		if err != nil {
			return false, nil
		}
		for _, slice := range slices.Items {
			for _, endpoint := range slice.Endpoints {
				for _, address := range endpoint.Addresses {
					if address == pod.Status.PodIP {
						return true, nil
					}
				}
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("Service %s never listed pod IP %s: %v", appName, pod.Status.PodIP, err)
	}
}
