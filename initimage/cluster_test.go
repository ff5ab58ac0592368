//go:build integration

package initimage

import (
	"bytes"
	"context"
	"errors"
	"github.com/odod-dev/odod/internal/lockedbuf"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/odod-dev/odod/agent"
	"github.com/odod-dev/odod/internal/testcluster"
)

// seedScript is odo's copy-files-to-volume logic, reduced to what a fresh
// PVC needs: seed the builder's /opt/app-root into the volume once.
const seedScript = `
SRC=/opt/app-root
DEST=/mnt/app-root
if [ -d "$DEST" ]; then exit 0; fi
mkdir -p "$DEST.setup-volume"
tar -C "$SRC" -cf - . | tar -C "$DEST.setup-volume" -xf -
mv "$DEST.setup-volume" "$DEST"
`

type podExec struct {
	t         *testing.T
	config    *rest.Config
	client    kubernetes.Interface
	ns, pod   string
	container string
}

// run execs argv in the app container (WebSocket, SPDY fallback), as odod
// does, and returns the exit status.
func (e *podExec) run(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	req := e.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(e.ns).Name(e.pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: e.container, Command: argv, Stdin: stdin != nil, Stdout: stdout != nil, Stderr: stderr != nil,
		}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(e.config, "GET", req.URL().String())
	if err != nil {
		return -1, err
	}
	spdy, err := remotecommand.NewSPDYExecutor(e.config, "POST", req.URL())
	if err != nil {
		return -1, err
	}
	executor, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool { return true })
	if err != nil {
		return -1, err
	}
	err = executor.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Stderr: stderr})
	var exitErr utilexec.CodeExitError
	if errors.As(err, &exitErr) {
		return exitErr.Code, nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

func (e *podExec) output(ctx context.Context, argv ...string) (int, string) {
	e.t.Helper()
	// stdout and stderr arrive on two goroutines: one locked buffer.
	out := &lockedbuf.Buffer{}
	code, err := e.run(ctx, argv, nil, out, out)
	if err != nil {
		e.t.Fatalf("exec %v: %v", argv, err)
	}
	return code, out.String()
}

func (e *podExec) logs(ctx context.Context) string {
	b, err := e.client.CoreV1().Pods(e.ns).GetLogs(e.pod, &corev1.PodLogOptions{Container: e.container}).DoRaw(ctx)
	if err != nil {
		return "(logs unavailable: " + err.Error() + ")"
	}
	return string(b)
}

var statusPID = regexp.MustCompile(`RUNNING\s+pid (\d+)`)

// runPID is run's pid once it is RUNNING (a restart answers while it is
// STARTING, before startsecs), or 0 when it does not get there.
func (e *podExec) runPID(ctx context.Context) int {
	_, out := e.output(ctx, SupervisorCtlCommand("status", "run")...)
	for deadline := time.Now().Add(20 * time.Second); strings.Contains(out, "STARTING") && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		_, out = e.output(ctx, SupervisorCtlCommand("status", "run")...)
	}
	m := statusPID.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

func (e *podExec) eventually(ctx context.Context, what string, cond func() bool) {
	e.t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		e.t.Fatalf("timed out waiting for %s; container log:\n%s", what, e.logs(context.Background()))
	}
}

// agentConn joins an exec's stdin and stdout into the agent client's stream.
type agentConn struct {
	io.Reader
	w *io.PipeWriter
}

func (c agentConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c agentConn) Close() error                { return c.w.Close() }

func TestInitImageOnCluster(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "initimage")
	client := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// The image under test, pushed under a tag of its own digest so that
	// nothing else using the shared tag is disturbed.
	img := buildImage(t)
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := c.Registry + "/odod/odod-init:it-" + digest.Hex[:12]
	if _, err := Push(ctx, img, ref, PushOptions{}); err != nil {
		t.Fatal(err)
	}

	const name = "demo-app"
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-s2idata"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if _, err := client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	command, args := AppContainerCommand()
	initCommand := InitContainerCommand()
	shared := corev1.VolumeMount{Name: VolumeName, MountPath: MountPath + "/"}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{
				{Name: VolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: name + "-s2idata", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.Name}}},
			},
			InitContainers: []corev1.Container{
				{
					Name: "copy-files-to-volume", Image: testcluster.NodejsBuilderImage, ImagePullPolicy: corev1.PullIfNotPresent,
					Command:      []string{"sh", "-c", seedScript},
					VolumeMounts: []corev1.VolumeMount{{Name: name + "-s2idata", MountPath: "/mnt"}},
				},
				{
					Name: InitContainerName, Image: ref, ImagePullPolicy: corev1.PullIfNotPresent,
					Command: initCommand[:1], Args: initCommand[1:], VolumeMounts: []corev1.VolumeMount{shared},
				},
			},
			Containers: []corev1.Container{{
				Name: name, Image: testcluster.NodejsBuilderImage, ImagePullPolicy: corev1.PullIfNotPresent,
				Command: command, Args: args,
				Env: []corev1.EnvVar{
					{Name: "DEBUG_PORT", Value: "5858"},
					{Name: "ODO_S2I_SCRIPTS_URL", Value: "/usr/libexec/s2i"},
					{Name: "ODO_S2I_SCRIPTS_PROTOCOL", Value: "image://"},
					{Name: "ODO_S2I_SRC_BIN_PATH", Value: "/tmp"},
					{Name: "ODO_S2I_DEPLOYMENT_DIR", Value: ""},
					{Name: "ODO_S2I_WORKING_DIR", Value: "/opt/app-root/src"},
					{Name: "ODO_S2I_BUILDER_IMG", Value: "odod/nodejs-builder"},
					{Name: "ODO_SRC_BACKUP_DIR", Value: "/opt/app-root/src-backup"},
					{Name: "npm_config_update_notifier", Value: "false"},
				},
				VolumeMounts: []corev1.VolumeMount{
					shared,
					{Name: name + "-s2idata", MountPath: "/opt/app-root", SubPath: "app-root"},
				},
			}},
		},
	}
	if _, err := client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := &podExec{t: t, config: c.Config, client: client, ns: ns, pod: name, container: name}
	testcluster.WaitPodRunning(t, ctx, client, ns, name, 4*time.Minute)

	// go-init is PID 1; supervisord waits for the first build.
	if _, out := e.output(ctx, "cat", "/proc/1/cmdline"); !strings.Contains(out, "go-init") {
		t.Fatalf("PID 1 is %q, want go-init", out)
	}
	e.eventually(ctx, "the supervisor", func() bool {
		code, out := e.output(ctx, SupervisorCtlCommand("status", "run")...)
		return code == 3 && strings.Contains(out, "STOPPED")
	})

	// Push the sources through the agent over one exec stream.
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	agentCtx, stopAgent := context.WithCancel(ctx)
	defer stopAgent()
	execDone := make(chan error, 1)
	var agentErr bytes.Buffer
	go func() {
		_, err := e.run(agentCtx, AgentCommand("/tmp/src"), stdinR, stdoutW, &agentErr)
		_ = stdoutW.CloseWithError(io.EOF)
		execDone <- err
	}()
	ac, err := agent.NewClient(ctx, agentConn{Reader: stdoutR, w: stdinW}, agent.ClientOptions{Name: "cluster-test"})
	if err != nil {
		t.Fatalf("agent handshake over exec: %v (stderr %s)", err, agentErr.String())
	}
	put := func(path, content string) {
		t.Helper()
		if err := ac.PutFile(ctx, path, 0o644, strings.NewReader(content), int64(len(content))); err != nil {
			t.Fatalf("put %s: %v", path, err)
		}
	}
	const pkg = `{"name":"demo","version":"1.0.0","scripts":{"start":"node server.js"}}`
	server := func(v string) string {
		return `require("fs").writeFileSync("/tmp/app.pid", String(process.pid));
require("http").createServer((q, s) => s.end("` + v + `")).listen(8080, () => console.log("node app ` + v + ` up"));`
	}
	put("package.json", pkg)
	put("server.js", server("v1"))
	entries, err := ac.List(ctx, ".")
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]string{}
	for _, en := range entries {
		hashes[en.Path] = en.Hash
	}
	if hashes["server.js"] != agent.HashBytes([]byte(server("v1"))) || hashes["package.json"] != agent.HashBytes([]byte(pkg)) {
		t.Fatalf("agent listing %+v", entries)
	}

	build := func(wantCode int, wantOutput ...string) {
		t.Helper()
		code, out := e.output(ctx, AssembleAndRestartCommand()...)
		if (wantCode == 0) != (code == 0) {
			t.Fatalf("assemble-and-restart: exit %d, want %d\n%s", code, wantCode, out)
		}
		for _, want := range wantOutput {
			if !strings.Contains(out, want) {
				t.Fatalf("assemble-and-restart output lacks %q:\n%s", want, out)
			}
		}
	}
	build(0, "language-scripts/nodejs/dev-assemble", "(npm install)", "run: started")
	e.eventually(ctx, "node app v1 in the container log", func() bool { return strings.Contains(e.logs(ctx), "node app v1 up") })
	if _, out := e.output(ctx, "node", "-e", `require("http").get("http://127.0.0.1:8080", r => r.pipe(process.stdout))`); out != "v1" {
		t.Errorf("the app answered %q, want v1", out)
	}

	// Kill the app (node, under npm under run): the supervisor restarts it.
	first := e.runPID(ctx)
	if first == 0 {
		t.Fatal("run is not RUNNING after the build")
	}
	if code, out := e.output(ctx, "sh", "-c", "kill -9 $(cat /tmp/app.pid)"); code != 0 {
		t.Fatalf("kill: %d %s", code, out)
	}
	e.eventually(ctx, "the app restarted after kill -9", func() bool {
		pid := e.runPID(ctx)
		return pid != 0 && pid != first && strings.Count(e.logs(ctx), "node app v1 up") >= 2
	})

	// An incremental push: npm install is skipped, the app restarts with v2.
	put("server.js", server("v2"))
	build(0, "package.json unchanged: skipping npm install", "run: started")
	e.eventually(ctx, "node app v2", func() bool { return strings.Contains(e.logs(ctx), "node app v2 up") })

	// A push as odod's engine runs the build: with the change list only
	// server.js is copied, and the build returns once the app accepts
	// connections on its port again, so it answers v3 at once.
	put("server.js", server("v3"))
	env := AssembleAndRestartEnv(BuildInput{Incremental: true, Changed: []string{"server.js"}, Ports: []int{8080}})
	code, out := e.output(ctx, append(append([]string{"env"}, env...), AssembleAndRestartCommand()...)...)
	if code != 0 || !strings.Contains(out, "Installing changed sources") || !strings.Contains(out, "run: accepting connections on port 8080") {
		t.Fatalf("incremental build: exit %d\n%s", code, out)
	}
	if _, out := e.output(ctx, "node", "-e", `require("http").get("http://127.0.0.1:8080", r => r.pipe(process.stdout))`); out != "v3" {
		t.Errorf("right after the build returned, the app answered %q, want v3", out)
	}

	// A failing build exits non-zero with npm's complaint; the app keeps running.
	running := e.runPID(ctx)
	put("package.json", `{"name": "demo", broken`)
	build(1, "the build failed")
	if pid := e.runPID(ctx); pid != running {
		t.Errorf("a failed build restarted the app (%d -> %d)", running, pid)
	}

	_ = ac.Close()
	stopAgent()
	if err := <-execDone; err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("agent exec ended with %v", err)
	}
}
