// Command pushbench measures odod's push on the local cluster: the first
// push of testdata/nodejs-app, the latency of a one-file push (request to
// confirmed) and its transfer alone, the bytes sent for it, beside
// `tar c FILE | kubectl exec -i POD -- tar x -C /tmp/src` on the same pod
// in the same run. It needs the local cluster (make cluster-up).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/protocol"
)

// countingCluster counts the bytes odod writes into exec streams.
type countingCluster struct {
	*cluster.Client
	sent *atomic.Int64
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c countingCluster) Exec(ctx context.Context, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if stdin != nil {
		stdin = countingReader{r: stdin, n: c.sent}
	}
	return c.Client.Exec(ctx, pod, container, argv, stdin, stdout, stderr)
}

func main() {
	kubeconfig := flag.String("kubeconfig", defaultKubeconfig(), "kubeconfig of the local cluster")
	rounds := flag.Int("rounds", 10, "one-file pushes to time")
	flag.Parse()
	if err := run(*kubeconfig, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "pushbench:", err)
		os.Exit(1)
	}
}

func defaultKubeconfig() string {
	if k := os.Getenv("KUBECONFIG"); k != "" {
		return k
	}
	return filepath.Join("hack", ".state", "kubeconfig")
}

func run(kubeconfig string, rounds int) error {
	ctx := context.Background()
	restCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w (run make cluster-up)", kubeconfig, err)
	}
	kube := kubernetes.NewForConfigOrDie(restCfg)
	ns, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "odod-bench-"}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	defer func() {
		_ = kube.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	}()
	// Pods need the namespace's default ServiceAccount.
	for i := 0; i < 100; i++ {
		if _, err := kube.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	ws, err := os.MkdirTemp("", "odod-pushbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ws)
	if err := exec.Command("cp", "-r", "testdata/nodejs-app/.", ws).Run(); err != nil {
		return fmt.Errorf("copy testdata/nodejs-app (run from the repository root): %w", err)
	}
	cfg := config.New("bench", "nodejs")
	cfg.ComponentSettings.Ports = []string{"8080"}
	cfg.ComponentSettings.Project = ns.Name
	if err := config.Save(ws, cfg); err != nil {
		return err
	}

	cl, err := cluster.Connect(ctx, cluster.Options{Kubeconfig: kubeconfig, Namespace: ns.Name})
	if err != nil {
		return err
	}
	var sent atomic.Int64
	counting := countingCluster{Client: cl, sent: &sent}
	idx, err := indexer.Open(ctx, ws, indexer.Options{})
	if err != nil {
		return err
	}
	defer idx.Close()
	var uploadStart, buildStart time.Time
	comp := component.New(component.Options{
		Index:     idx,
		Connect:   func(context.Context, string) (component.Cluster, error) { return counting, nil },
		InitImage: initimage.DefaultRef(),
		Version:   "bench",
		Hooks: component.Hooks{Progress: func(p protocol.PushProgressParams) {
			switch p.Phase {
			case protocol.PhaseUpload:
				if uploadStart.IsZero() {
					uploadStart = time.Now()
				}
			case protocol.PhaseBuild:
				if buildStart.IsZero() {
					buildStart = time.Now()
				}
			}
		}},
	})
	defer comp.Close()

	start := time.Now()
	first, err := comp.Push(ctx, component.PushOptions{})
	if err != nil {
		return fmt.Errorf("first push: %w", err)
	}
	firstDur := time.Since(start)
	fmt.Printf("first push: %s (%d files, %d bytes, pod %s, transport %s)\n", firstDur.Round(time.Millisecond), first.FilesCopied, first.Bytes, first.Pod, first.Transport)

	target := filepath.Join(ws, "lib", "greeting.js")
	var totals, transfers []time.Duration
	var bytesSent []int64
	for i := 0; i < rounds; i++ {
		content := fmt.Sprintf("exports.greeting = () => 'Hello from odod round %d';\n", i)
		if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
			return err
		}
		// Wait for the watcher, as an editor's push would follow its event.
		for deadline := time.Now().Add(5 * time.Second); idx.Pending().Empty() && time.Now().Before(deadline); {
			time.Sleep(2 * time.Millisecond)
		}
		uploadStart, buildStart = time.Time{}, time.Time{}
		before := sent.Load()
		t0 := time.Now()
		res, err := comp.Push(ctx, component.PushOptions{})
		if err != nil {
			return fmt.Errorf("one-file push %d: %w", i, err)
		}
		totals = append(totals, time.Since(t0))
		transfers = append(transfers, buildStart.Sub(uploadStart))
		bytesSent = append(bytesSent, sent.Load()-before)
		if res.FilesCopied != 1 {
			return fmt.Errorf("one-file push %d copied %d files", i, res.FilesCopied)
		}
	}

	// The baseline: tar of the same file into the same pod with kubectl.
	var tars []time.Duration
	for i := 0; i < rounds; i++ {
		t0 := time.Now()
		cmd := exec.Command("sh", "-c", fmt.Sprintf("tar c -C %s lib/greeting.js | kubectl --kubeconfig %s -n %s exec -i %s -c %s -- tar x -C /tmp/src",
			ws, kubeconfig, ns.Name, first.Pod, cluster.ComponentRef{Name: "bench", App: "app"}.ObjectName()))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("tar | kubectl exec: %v: %s", err, out)
		}
		tars = append(tars, time.Since(t0))
	}

	fmt.Printf("one-file push, request to confirmed (sync + assemble-and-restart): p50 %s, min %s over %d rounds\n", p50(totals), minOf(totals), rounds)
	fmt.Printf("one-file push, transfer only (agent stream kept open): p50 %s, min %s\n", p50(transfers), minOf(transfers))
	fmt.Printf("tar c FILE | kubectl exec -i POD -- tar x -C /tmp/src: p50 %s, min %s\n", p50(tars), minOf(tars))
	sort.Slice(bytesSent, func(i, j int) bool { return bytesSent[i] < bytesSent[j] })
	fmt.Printf("bytes odod sent into the pod for a one-file push (incl. the build command): median %d\n", bytesSent[len(bytesSent)/2])
	return nil
}

func p50(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2].Round(100 * time.Microsecond)
}

func minOf(d []time.Duration) time.Duration {
	m := d[0]
	for _, x := range d {
		m = min(m, x)
	}
	return m.Round(100 * time.Microsecond)
}
