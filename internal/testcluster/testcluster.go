// Package testcluster gives integration tests the real local Kubernetes
// cluster that hack/cluster runs: it reuses a running one or brings one up,
// and hands out throwaway namespaces.
//
// Integration tests carry the build tag "integration" and start with
//
//	c := testcluster.Require(t)
//	ns := c.Namespace(t, "sync")
//
// With ODOD_SKIP_CLUSTER=1 such tests skip, saying why; otherwise a test
// that cannot get a cluster fails, naming the log to read. ODOD_REQUIRE_CLUSTER=1
// (set by `make integration`) overrides ODOD_SKIP_CLUSTER.
package testcluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Registry is the local cluster's image registry (plain HTTP), from which
// its containerd pulls.
const Registry = "127.0.0.1:5000"

// Images pushed by hack/images to Registry.
const (
	NodejsBuilderImage = Registry + "/odod/nodejs-builder:latest"
	TestBuilderImage   = Registry + "/odod/test-builder:latest"
	InitImage          = Registry + "/odod/odod-init:latest"
)

const (
	// modulePath identifies the repository root's go.mod (hack/k8s has a
	// go.mod of its own).
	modulePath = "github.com/odod-dev/odod"
	// upTimeout covers a cold start: apt, building Kubernetes (~6 min),
	// debootstrap of the Node.js builder (~5 min).
	upTimeout = 30 * time.Minute
	// namespaceLabel marks the namespaces tests create, for cleaning up by
	// hand after an interrupted run.
	namespaceLabel = "odod.dev/test"
)

// Cluster is a reachable local cluster.
type Cluster struct {
	// Config is an admin (system:masters) client config.
	Config *rest.Config
	// Kubeconfig is the path of the admin kubeconfig, for code under test
	// that loads kubeconfigs as kubectl does.
	Kubeconfig string
	// Registry is the local registry's host:port.
	Registry string
}

// Require returns the local cluster, bringing it up with `hack/cluster up`
// when it is not running. It skips the test when ODOD_SKIP_CLUSTER=1 (and
// ODOD_REQUIRE_CLUSTER is not 1) and fails it when no cluster can be had.
func Require(t testing.TB) *Cluster {
	t.Helper()
	if os.Getenv("ODOD_SKIP_CLUSTER") == "1" && os.Getenv("ODOD_REQUIRE_CLUSTER") != "1" {
		t.Skip("skipped: this test needs the local Kubernetes cluster and ODOD_SKIP_CLUSTER=1 is set (unset it, or run `make cluster-up`)")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("testcluster: working directory: %v", err)
	}
	root, err := RepoRoot(wd)
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	kubeconfig := filepath.Join(StateDir(root), "kubeconfig")
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	if c, err := connect(ctx, kubeconfig); err == nil {
		return c
	}
	logPath := filepath.Join(os.TempDir(), "odod-testcluster-up.log")
	t.Logf("testcluster: no running cluster; running hack/cluster up (log: %s; a cold start takes ~15 min)", logPath)
	printed, err := up(ctx, root, logPath)
	if err != nil {
		t.Fatalf("testcluster: hack/cluster up failed: %v\n  log: %s\n  component logs: %s\n%s",
			err, logPath, filepath.Join(StateDir(root), "logs"), tail(logPath, 25))
	}
	if printed != "" {
		kubeconfig = printed
	}
	c, err := connect(ctx, kubeconfig)
	if err != nil {
		t.Fatalf("testcluster: hack/cluster up succeeded but the cluster is not reachable: %v\n  log: %s\n  component logs: %s",
			err, logPath, filepath.Join(StateDir(root), "logs"))
	}
	return c
}

// RepoRoot walks up from dir to the directory whose go.mod declares
// odod's module.
func RepoRoot(dir string) (string, error) {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && declaresModule(data, modulePath) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of module %s above %s: run the tests inside the odod checkout", modulePath, dir)
		}
	}
}

func declaresModule(goMod []byte, module string) bool {
	scanner := bufio.NewScanner(bytes.NewReader(goMod))
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == module
		}
	}
	return false
}

// StateDir is hack/cluster's state directory for the checkout at root.
func StateDir(root string) string {
	if dir := os.Getenv("ODOD_CLUSTER_STATE"); dir != "" {
		return dir
	}
	return filepath.Join(root, "hack", ".state")
}

// connect loads kubeconfig and checks that the API server is ready and the
// node Ready.
func connect(ctx context.Context, kubeconfig string) (*Cluster, error) {
	if _, err := os.Stat(kubeconfig); err != nil {
		return nil, fmt.Errorf("no kubeconfig: %w", err)
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
	}
	config.QPS, config.Burst = 50, 100
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	probeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(probeCtx); err != nil {
		return nil, fmt.Errorf("API server not ready: %w", err)
	}
	nodes, err := client.CoreV1().Nodes().List(probeCtx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	for _, node := range nodes.Items {
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return &Cluster{Config: config, Kubeconfig: kubeconfig, Registry: Registry}, nil
			}
		}
	}
	return nil, errors.New("no Ready node")
}

// up runs hack/cluster up, its output to logPath, and returns the
// kubeconfig path it prints last.
func up(ctx context.Context, root, logPath string) (string, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", logPath, err)
	}
	defer logFile.Close()
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "cluster"), "up")
	cmd.Dir = root
	cmd.Stdout = &stdout
	cmd.Stderr = logFile
	cmd.WaitDelay = 10 * time.Second
	runErr := cmd.Run()
	fmt.Fprintf(logFile, "---- stdout\n%s", stdout.String())
	if runErr != nil {
		return "", runErr
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  | " + strings.Join(lines, "\n  | ")
}

// Client returns a clientset for the cluster.
func (c *Cluster) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatalf("testcluster: create client: %v", err)
	}
	return client
}

// Namespace creates a namespace named prefix-<random> for the test, waits
// until its default ServiceAccount exists (pods cannot be created before),
// and deletes it when the test ends.
func (c *Cluster) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	client := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: strings.TrimSuffix(prefix, "-") + "-",
			Labels:       map[string]string{namespaceLabel: "true"},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("testcluster: create namespace %s-*: %v", prefix, err)
	}
	name := ns.Name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		policy := metav1.DeletePropagationBackground
		err := client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("testcluster: delete namespace %s: %v", name, err)
		}
	})
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("testcluster: namespace %s has no default ServiceAccount after a minute (is kube-controller-manager running? hack/cluster status): %v", name, err)
	}
	return name
}

// WaitPodRunning waits up to timeout for pod ns/name to run, and fails
// the test with the pod's status and the namespace's events when it does
// not (a failed pod ends the wait at once).
func WaitPodRunning(t testing.TB, ctx context.Context, kube kubernetes.Interface, ns, name string, timeout time.Duration) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		p, err := kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if p.Status.Phase == corev1.PodFailed {
			return false, fmt.Errorf("pod failed: %+v", p.Status)
		}
		return p.Status.Phase == corev1.PodRunning, nil
	})
	if err == nil {
		return
	}
	p, _ := kube.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	events, _ := kube.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	var lines []string
	for _, ev := range events.Items {
		lines = append(lines, ev.InvolvedObject.Name+": "+ev.Reason+": "+ev.Message)
	}
	t.Fatalf("pod %s/%s not running: %v\nstatus: %+v\nevents:\n%s", ns, name, err, p.Status, strings.Join(lines, "\n"))
}
