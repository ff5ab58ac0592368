// Command pushbench measures odod's inner loop on the local cluster (odod
// issue 9): in one component's pod, with workspaces of testdata/nodejs-app
// plus 0, 5,000 and 20,000 small source files, the time from a one-file
// edit to the app serving the new answer, four ways in the same run: the
// `odod push` command (a new process per edit), the daemon's watch
// (`odod serve` over JSON-RPC, odod/watch/start), the engine in this
// process (Push, with the per-phase timings it reports), and odo v1's way
// (`tar c FILE | kubectl exec -i POD -- tar x -C /tmp/src`, then
// `kubectl exec POD -- /opt/odo/bin/assemble-and-restart`); and the bulk
// transfer of the whole tree into an empty /tmp/src beside
// `tar c . | kubectl exec -i POD -- tar x`. It needs the local cluster
// (make cluster-up) and reaches the app at its pod IP (the cluster's node
// is this machine).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/daemon"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/internal/ododserve"
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

type options struct {
	odod       string
	kubeconfig string
	rounds     int
	sizes      []int
	bulkRounds int
	burst      int
	pause      time.Duration
	noStandby  bool
	initImage  string
}

func main() {
	var o options
	flag.StringVar(&o.odod, "odod", "", "the odod binary (default: built from this tree, with version "+benchVersion+")")
	flag.StringVar(&o.kubeconfig, "kubeconfig", defaultKubeconfig(), "kubeconfig of the local cluster")
	flag.IntVar(&o.rounds, "rounds", 20, "one-file edits to time per workspace size and way")
	sizes := flag.String("sizes", "0,5000,20000", "extra source files in the workspace, comma-separated, ascending")
	flag.IntVar(&o.bulkRounds, "bulk-rounds", 3, "bulk transfers of the largest tree to time per way")
	flag.IntVar(&o.burst, "burst", 10000, "files written at once (a checkout), then pushed: time from the first write to synced (0: skip)")
	flag.DurationVar(&o.pause, "pause", 500*time.Millisecond, "wait between an edit's answer and the next edit (a person's pace; the app's standby process starts meanwhile)")
	flag.BoolVar(&o.noStandby, "no-standby", false, "run the component with ODOD_STANDBY=false (no standby process: restarts spawn the app)")
	flag.StringVar(&o.initImage, "init-image", initimage.DefaultRef(), "the init image (push yours with odod init-image push)")
	flag.Parse()
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 || len(o.sizes) > 0 && n < o.sizes[len(o.sizes)-1] {
			fmt.Fprintln(os.Stderr, "pushbench: -sizes must be ascending non-negative numbers")
			os.Exit(2)
		}
		o.sizes = append(o.sizes, n)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "pushbench:", err)
		os.Exit(1)
	}
}

// benchVersion is the version of the odod binary the benchmark builds and
// of its own engine: it is a label of the pod template, so the three
// would otherwise roll the pod over each other.
const benchVersion = "bench"

// buildOdod builds odod into dir.
func buildOdod(dir string) (string, error) {
	bin := filepath.Join(dir, "odod")
	cmd := exec.Command("go", "build", "-ldflags", "-X github.com/odod-dev/odod/internal/version.version="+benchVersion, "-o", bin, "./cmd/odod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build odod (run from the repository root): %w\n%s", err, out)
	}
	return bin, nil
}

func defaultKubeconfig() string {
	if k := os.Getenv("KUBECONFIG"); k != "" {
		return k
	}
	// Absolute: the odod processes run in the workspace.
	if abs, err := filepath.Abs(filepath.Join("hack", ".state", "kubeconfig")); err == nil {
		return abs
	}
	return filepath.Join("hack", ".state", "kubeconfig")
}

// phases records when a push entered its upload and build phases.
type phases struct {
	mu            sync.Mutex
	upload, build time.Time
}

func (p *phases) hook(pp protocol.PushProgressParams) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	switch pp.Phase {
	case protocol.PhaseUpload:
		if p.upload.IsZero() {
			p.upload = now
		}
	case protocol.PhaseBuild:
		if p.build.IsZero() {
			p.build = now
		}
	}
}

func (p *phases) reset() {
	p.mu.Lock()
	p.upload, p.build = time.Time{}, time.Time{}
	p.mu.Unlock()
}

func (p *phases) buildStart() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.build
}

func (p *phases) transfer() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.build.Sub(p.upload)
}

type bench struct {
	o          options
	ctx        context.Context
	ododBin    string
	serve      *ododserve.Process
	ododEnv    []string
	sockets    string
	ws         string
	ns, pod    string
	container  string
	appURL     string
	idx        *indexer.Workspace
	comp       *component.Component
	phases     *phases
	kubectlEnv []string
	// Of the engine's edits: Push alone, and its transfer phase.
	pushTimes, transfers, builds []time.Duration
	// The engine's own account of where each push's time went.
	timings []protocol.PushTimings
}

func run(o options) error {
	ctx := context.Background()
	restCfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w (run make cluster-up)", o.kubeconfig, err)
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
	ododBin := o.odod
	if ododBin == "" {
		binDir, err := os.MkdirTemp("", "odod-pushbench-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(binDir)
		if ododBin, err = buildOdod(binDir); err != nil {
			return err
		}
	}
	// The daemon and the terminal's odod push find each other's workspace
	// socket here.
	sockets, err := os.MkdirTemp("", "odod-pb-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(sockets)
	ododEnv := append(os.Environ(), "KUBECONFIG="+o.kubeconfig, initimage.EnvImage+"="+o.initImage, daemon.SocketDirEnv+"="+sockets)
	serve, err := ododserve.Start(ctx, ododBin, ododserve.Options{Args: []string{"--log-level=warn"}, Env: ododEnv, Stderr: os.Stderr})
	if err != nil {
		return err
	}
	defer func() { _ = serve.Close() }()
	if err := serve.Conn.Call(ctx, protocol.MethodInitialize, protocol.InitializeParams{
		InitializationOptions: &protocol.InitializationOptions{Kubeconfig: o.kubeconfig, InitImage: o.initImage},
	}, nil); err != nil {
		return fmt.Errorf("initialize odod serve: %w", err)
	}
	_ = serve.Conn.Notify(ctx, protocol.MethodInitialized, struct{}{})
	if err := exec.Command("cp", "-r", "testdata/nodejs-app/.", ws).Run(); err != nil {
		return fmt.Errorf("copy testdata/nodejs-app (run from the repository root): %w", err)
	}
	cfg := config.New("bench", "nodejs")
	cfg.ComponentSettings.Ports = []string{"8080"}
	cfg.ComponentSettings.Project = ns.Name
	if o.noStandby {
		cfg.ComponentSettings.Envs = config.EnvVarList{{Name: "ODOD_STANDBY", Value: "false"}}
	}
	if err := config.Save(ws, cfg); err != nil {
		return err
	}

	cl, err := cluster.Connect(ctx, cluster.Options{Kubeconfig: o.kubeconfig, Namespace: ns.Name})
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
	ph := &phases{}
	comp := component.New(component.Options{
		Index:     idx,
		Connect:   func(context.Context, string) (component.Cluster, error) { return counting, nil },
		InitImage: o.initImage,
		Version:   benchVersion,
		Hooks:     component.Hooks{Progress: ph.hook},
	})
	defer comp.Close()

	start := time.Now()
	first, err := comp.Push(ctx, component.PushOptions{})
	if err != nil {
		return fmt.Errorf("first push: %w", err)
	}
	fmt.Printf("first push of the app: %s (%d files, %d bytes, pod %s, transport %s, init image %s)\n",
		time.Since(start).Round(time.Millisecond), first.FilesCopied, first.Bytes, first.Pod, first.Transport, o.initImage)
	pod, err := kube.CoreV1().Pods(ns.Name).Get(ctx, first.Pod, metav1.GetOptions{})
	if err != nil {
		return err
	}
	b := &bench{
		o: o, ctx: ctx, ododBin: ododBin, serve: serve, ododEnv: ododEnv, sockets: sockets, ws: ws, ns: ns.Name, pod: first.Pod, container: pod.Spec.Containers[0].Name,
		appURL: "http://" + pod.Status.PodIP + ":8080/", idx: idx, comp: comp, phases: ph,
		kubectlEnv: append(os.Environ(), "KUBECONFIG="+o.kubeconfig),
	}
	if err := b.waitAnswer("Hello from odod v1", 2*time.Minute); err != nil {
		return fmt.Errorf("the app at %s after the first push: %w", b.appURL, err)
	}

	type row struct {
		extra                 int
		odod, cli, watch, odo []time.Duration
		cliServe              []time.Duration // odod push handed to odod serve
		cliBackground         []time.Duration // odod push handed to its background daemon
		backgroundStart       time.Duration   // the odod push that started it
		push, transfer, build []time.Duration
		timings               []protocol.PushTimings
		setup                 time.Duration
		setupN                int
	}
	var rows []row
	have := 0
	for _, size := range o.sizes {
		r := row{extra: size}
		if size > have {
			if err := generate(ws, have, size); err != nil {
				return err
			}
			b.waitPending(size - have)
			t0 := time.Now()
			res, err := comp.Push(ctx, component.PushOptions{})
			if err != nil {
				return fmt.Errorf("push of %d more files: %w", size-have, err)
			}
			r.setup, r.setupN = time.Since(t0), res.FilesCopied
			have = size
		}
		tag := fmt.Sprintf("w%d", size)
		b.pushTimes, b.transfers, b.builds, b.timings = nil, nil, nil, nil
		if r.odod, err = b.edits(tag+"-odod", b.editThroughEngine); err != nil {
			return err
		}
		r.push, r.transfer, r.build, r.timings = b.pushTimes, b.transfers, b.builds, b.timings
		// The CLI: one untimed push first, so that its index file holds
		// what the engine's pushes confirmed.
		if err := b.cliPush(); err != nil {
			return err
		}
		if r.cli, err = b.edits(tag+"-cli", b.saveThen(b.cliPush)); err != nil {
			return err
		}
		if r.cliServe, err = b.cliThroughServe(tag + "-cli-serve"); err != nil {
			return err
		}
		if r.cliBackground, r.backgroundStart, err = b.cliThroughBackground(tag + "-cli-bg"); err != nil {
			return err
		}
		if r.watch, err = b.watchEdits(tag + "-watch"); err != nil {
			return err
		}
		if r.odo, err = b.edits(tag+"-odo", b.editOdoWay); err != nil {
			return err
		}
		// Settle the engine's index (the other ways pushed past it).
		if _, err := comp.Push(ctx, component.PushOptions{}); err != nil {
			return err
		}
		fmt.Printf("workspace +%d files: p50 (p90) odod push --no-daemon %s (%s) | odod push → serve %s (%s) | odod push → background %s (%s) | watch %s (%s) | engine %s (%s) | odo v1 way %s (%s) | push/odo %.2f, push→serve/odo %.2f, push→background/odo %.2f, watch/odo %.2f\n",
			size, pct(r.cli, 50), pct(r.cli, 90), pct(r.cliServe, 50), pct(r.cliServe, 90), pct(r.cliBackground, 50), pct(r.cliBackground, 90), pct(r.watch, 50), pct(r.watch, 90), pct(r.odod, 50), pct(r.odod, 90), pct(r.odo, 50), pct(r.odo, 90),
			ratio(pct(r.cli, 50), pct(r.odo, 50)), ratio(pct(r.cliServe, 50), pct(r.odo, 50)), ratio(pct(r.cliBackground, 50), pct(r.odo, 50)), ratio(pct(r.watch, 50), pct(r.odo, 50)))
		rows = append(rows, r)
	}

	// A burst (a checkout of many files): written at once, one push, time
	// from the first write until the container holds them all.
	if o.burst > 0 {
		t0 := time.Now()
		for i := range o.burst {
			p := filepath.Join(b.ws, "burst", fmt.Sprintf("d%02d", i%100), fmt.Sprintf("f%05d.js", i))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(fmt.Sprintf("module.exports = %d;\n", i)), 0o644); err != nil {
				return err
			}
		}
		written := time.Since(t0)
		b.waitPending(o.burst)
		res, err := comp.Push(ctx, component.PushOptions{})
		if err != nil {
			return fmt.Errorf("burst push: %w", err)
		}
		synced := time.Since(t0)
		count := exec.Command("kubectl", "-n", b.ns, "exec", b.pod, "-c", b.container, "--", "sh", "-c", "find /tmp/src/burst -type f | wc -l")
		count.Env = b.kubectlEnv
		remote, err := count.Output()
		if err != nil {
			return fmt.Errorf("count the burst's files in the container: %w", err)
		}
		fmt.Printf("\n## Burst\n\n%d files written in %s; one push copied %d files; synced %s after the first write (the push itself %d ms); the container holds %s files of the burst\n",
			o.burst, written.Round(time.Millisecond), res.FilesCopied, synced.Round(time.Millisecond), res.DurationMs, strings.TrimSpace(string(remote)))
	}

	// Bulk: the whole tree into an empty directory, both ways, alternately.
	var ododBulk, ododBulkTotal, tarBulk []time.Duration
	var files int
	for i := 0; i < o.bulkRounds; i++ {
		if err := b.kubectl(nil, "exec", b.pod, "-c", b.container, "--", "sh", "-c", "find /tmp/src -mindepth 1 -delete"); err != nil {
			return err
		}
		ph.reset()
		t0 := time.Now()
		res, err := comp.Push(ctx, component.PushOptions{Force: true})
		if err != nil {
			return fmt.Errorf("forced full push: %w", err)
		}
		ododBulkTotal = append(ododBulkTotal, time.Since(t0))
		ododBulk = append(ododBulk, ph.transfer())
		files = res.FilesCopied
		if err := b.kubectl(nil, "exec", b.pod, "-c", b.container, "--", "sh", "-c", "rm -rf /tmp/tarcopy && mkdir /tmp/tarcopy"); err != nil {
			return err
		}
		t0 = time.Now()
		if err := b.shell(fmt.Sprintf("tar c -C %s --exclude=./.odo . | kubectl -n %s exec -i %s -c %s -- tar x -C /tmp/tarcopy", ws, b.ns, b.pod, b.container)); err != nil {
			return err
		}
		tarBulk = append(tarBulk, time.Since(t0))
	}
	_ = b.kubectl(nil, "exec", b.pod, "-c", b.container, "--", "rm", "-rf", "/tmp/tarcopy")

	fmt.Println()
	fmt.Printf("## One-file edit → new answer served (%d edits per cell, %s apart; pod %s)\n\n", o.rounds, o.pause, b.pod)
	fmt.Println("| Workspace | `odod push --no-daemon` p50 / p90 | `odod push` → odod serve p50 / p90 | `odod push` → background daemon p50 / p90 | watch (odod serve) p50 / p90 | engine in-process p50 / p90 | odo v1 way p50 / p90 | --no-daemon / odo v1 (p50) | → serve / odo v1 (p50) | → background / odo v1 (p50) | watch / odo v1 (p50) |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Printf("| app + %d files | %s / %s | %s / %s | %s / %s | %s / %s | %s / %s | %s / %s | %.2f | %.2f | %.2f | %.2f |\n", r.extra,
			pct(r.cli, 50), pct(r.cli, 90), pct(r.cliServe, 50), pct(r.cliServe, 90), pct(r.cliBackground, 50), pct(r.cliBackground, 90), pct(r.watch, 50), pct(r.watch, 90), pct(r.odod, 50), pct(r.odod, 90),
			pct(r.odo, 50), pct(r.odo, 90), ratio(pct(r.cli, 50), pct(r.odo, 50)), ratio(pct(r.cliServe, 50), pct(r.odo, 50)), ratio(pct(r.cliBackground, 50), pct(r.odo, 50)), ratio(pct(r.watch, 50), pct(r.odo, 50)))
	}
	if len(rows) > 1 {
		first, last := rows[0], rows[len(rows)-1]
		fmt.Printf("\nFlat: app + %d files / app + %d files (p50): odod push --no-daemon %.2f, odod push → serve %.2f, odod push → background daemon %.2f, watch %.2f, engine %.2f, odo v1 way %.2f\n", last.extra, first.extra,
			ratio(pct(last.cli, 50), pct(first.cli, 50)), ratio(pct(last.cliServe, 50), pct(first.cliServe, 50)), ratio(pct(last.cliBackground, 50), pct(first.cliBackground, 50)),
			ratio(pct(last.watch, 50), pct(first.watch, 50)), ratio(pct(last.odod, 50), pct(first.odod, 50)), ratio(pct(last.odo, 50), pct(first.odo, 50)))
	}
	fmt.Println()
	fmt.Println("| Workspace | odod: Push returned (p50, p90) | of which transfer (p50) | of which assemble-and-restart (p50) |")
	fmt.Println("|---|---:|---:|---:|")
	for _, r := range rows {
		fmt.Printf("| app + %d files | %s, %s | %s | %s |\n", r.extra, pct(r.push, 50), pct(r.push, 90), pct(r.transfer, 50), pct(r.build, 50))
	}
	fmt.Println()
	fmt.Println("| Workspace | engine phases, p50 of each: objects | pod | sync | build | confirm |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		phase := func(get func(protocol.PushTimings) int64) time.Duration {
			var ds []time.Duration
			for _, t := range r.timings {
				ds = append(ds, time.Duration(get(t))*time.Millisecond)
			}
			return pct(ds, 50)
		}
		fmt.Printf("| app + %d files | %s | %s | %s | %s | %s |\n", r.extra,
			phase(func(t protocol.PushTimings) int64 { return t.ObjectsMs }), phase(func(t protocol.PushTimings) int64 { return t.PodMs }),
			phase(func(t protocol.PushTimings) int64 { return t.SyncMs }), phase(func(t protocol.PushTimings) int64 { return t.BuildMs }),
			phase(func(t protocol.PushTimings) int64 { return t.ConfirmMs }))
	}
	fmt.Println()
	for _, r := range rows {
		fmt.Printf("app + %d files: the odod push that started the background daemon (it indexes the folder, nothing to sync): %s\n", r.extra, r.backgroundStart.Round(time.Millisecond))
	}
	for _, r := range rows {
		if r.setupN > 0 {
			fmt.Printf("adding %d files with one push (transfer + full build): %s\n", r.setupN, r.setup.Round(time.Millisecond))
		}
	}
	if o.bulkRounds == 0 {
		return nil // -bulk-rounds 0: not measured, so nothing to print
	}
	fmt.Printf("\n## Bulk: %d files into an empty /tmp/src (medians of %d)\n\n", files, o.bulkRounds)
	fmt.Printf("| Way | Time |\n|---|---:|\n")
	fmt.Printf("| odod agent transfer (list, plan, puts; stream already open) | %s |\n", pct(ododBulk, 50))
	fmt.Printf("| `tar c . \\| kubectl exec -i POD -- tar x` | %s |\n", pct(tarBulk, 50))
	fmt.Printf("| odod forced full push, request to confirmed (transfer + full build + restart) | %s |\n", pct(ododBulkTotal, 50))
	fmt.Printf("\ntar / odod transfer: %.2f×\n", ratio(pct(tarBulk, 50), pct(ododBulk, 50)))
	return nil
}

// edits times o.rounds one-file edits made one way.
func (b *bench) edits(tag string, way func(content string) error) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i < b.o.rounds; i++ {
		time.Sleep(b.o.pause)
		answer := fmt.Sprintf("Hello from %s round %d", tag, i)
		content := fmt.Sprintf("exports.greeting = () => '%s';\n", answer)
		t0 := time.Now()
		if err := way(content); err != nil {
			return nil, fmt.Errorf("%s edit %d: %w", tag, i, err)
		}
		if err := b.waitAnswer(answer, 3*time.Minute); err != nil {
			return nil, fmt.Errorf("%s edit %d: %w", tag, i, err)
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

// save writes the edit: the one file every way of pushing is timed on.
func (b *bench) save(content string) error {
	return os.WriteFile(filepath.Join(b.ws, "lib", "greeting.js"), []byte(content), 0o644)
}

// saveThen is an edit that saves the file, then pushes it with push.
func (b *bench) saveThen(push func() error) func(content string) error {
	return func(content string) error {
		if err := b.save(content); err != nil {
			return err
		}
		return push()
	}
}

// editThroughEngine saves the file and pushes as an editor's save does:
// once the watcher has seen it.
func (b *bench) editThroughEngine(content string) error {
	if err := b.save(content); err != nil {
		return err
	}
	b.waitPending(1)
	b.phases.reset()
	t0 := time.Now()
	res, err := b.comp.Push(b.ctx, component.PushOptions{})
	if err != nil {
		return err
	}
	b.pushTimes = append(b.pushTimes, time.Since(t0))
	if res.Timings != nil {
		b.timings = append(b.timings, *res.Timings)
	}
	b.transfers = append(b.transfers, b.phases.transfer())
	b.builds = append(b.builds, time.Since(b.phases.buildStart()))
	if res.FilesCopied != 1 {
		return fmt.Errorf("the push copied %d files, want 1", res.FilesCopied)
	}
	return nil
}

// cliPush runs `odod push --no-daemon` in the workspace: a process that
// pushes by itself.
func (b *bench) cliPush() error {
	_, err := b.runPush("--no-daemon")
	return err
}

func (b *bench) runPush(args ...string) (string, error) {
	cmd := exec.Command(b.ododBin, append([]string{"push"}, args...)...)
	cmd.Dir, cmd.Env = b.ws, b.ododEnv
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("odod push: %w\n%s", err, out)
	}
	return string(out), nil
}

// pushThrough is `odod push`, which must say it handed the push to by
// ("odod serve", "odod's background daemon").
func (b *bench) pushThrough(by string) func() error {
	return func() error {
		out, err := b.runPush()
		if err == nil && !strings.Contains(out, "(through "+by+")") {
			err = fmt.Errorf("odod push did not go through %s:\n%s", by, out)
		}
		return err
	}
}

// cliThroughServe opens the workspace in odod serve (an editor beside the
// terminal, no watch), then times edits each followed by `odod push`, which
// hands the push to the daemon.
func (b *bench) cliThroughServe(tag string) ([]time.Duration, error) {
	ctx, conn := b.ctx, b.serve.Conn
	var opened protocol.WorkspaceOpenResult
	if err := conn.Call(ctx, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: b.ws}).String()}, &opened); err != nil {
		return nil, fmt.Errorf("odod/workspace/open: %w", err)
	}
	defer func() {
		_ = conn.Call(ctx, protocol.MethodWorkspaceClose, protocol.WorkspaceCloseParams{WorkspaceID: opened.WorkspaceID}, nil)
	}()
	// One untimed push: the daemon's component is new (it applies the
	// objects once).
	push := b.pushThrough("odod serve")
	if err := push(); err != nil {
		return nil, err
	}
	return b.edits(tag, b.saveThen(push))
}

// cliThroughBackground times edits each followed by `odod push` with no
// editor: the first starts the folder's background daemon (timed apart:
// it indexes the folder), the others are handed to it. The daemon is
// stopped afterwards, and waited for, so that the other ways push alone.
func (b *bench) cliThroughBackground(tag string) ([]time.Duration, time.Duration, error) {
	push := b.pushThrough("odod's background daemon")
	t0 := time.Now()
	if err := push(); err != nil {
		return nil, 0, err
	}
	start := time.Since(t0)
	defer b.stopBackground()
	times, err := b.edits(tag, b.saveThen(push))
	return times, start, err
}

// stopBackground ends the workspace's background daemon and waits until it
// has logged its end.
func (b *bench) stopBackground() {
	cmd := exec.Command(b.ododBin, "daemon", "stop")
	cmd.Dir, cmd.Env = b.ws, b.ododEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "odod daemon stop: %v\n%s", err, out)
		return
	}
	logPath, err := daemon.BackgroundLog(b.sockets, b.ws)
	if err != nil {
		return
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if log, _ := os.ReadFile(logPath); strings.Contains(string(log), "background daemon ending") {
			return
		}
	}
	fmt.Fprintln(os.Stderr, "the background daemon did not end within 30 s")
}

// watchEdits opens the workspace in odod serve and starts its watch,
// waits for the watch's first push, then times edits that only save the
// file: the daemon does the rest. The watch stops and the workspace
// closes afterwards, so that the other ways push alone.
func (b *bench) watchEdits(tag string) ([]time.Duration, error) {
	ctx, conn := b.ctx, b.serve.Conn
	var opened protocol.WorkspaceOpenResult
	if err := conn.Call(ctx, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: b.ws}).String()}, &opened); err != nil {
		return nil, fmt.Errorf("odod/workspace/open: %w", err)
	}
	id := opened.WorkspaceID
	defer func() {
		_ = conn.Call(ctx, protocol.MethodWatchStop, protocol.WatchStopParams{WorkspaceID: id}, nil)
		_ = conn.Call(ctx, protocol.MethodWorkspaceClose, protocol.WorkspaceCloseParams{WorkspaceID: id}, nil)
	}()
	if err := conn.Call(ctx, protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: id}, nil); err != nil {
		return nil, fmt.Errorf("odod/watch/start: %w", err)
	}
	// The watch pushes once at start; the edits begin when it rests.
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var st protocol.StatusResult
		if err := conn.Call(ctx, protocol.MethodStatus, nil, &st); err != nil {
			return nil, err
		}
		var w protocol.WatchStatus
		for _, s := range st.Workspaces {
			if s.WorkspaceID == id {
				w = s.Watch
			}
		}
		if w.Pushes > 0 && !w.Pushing && !w.Retrying {
			if w.LastError != "" {
				return nil, fmt.Errorf("the watch's first push: %s", w.LastError)
			}
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the watch did not finish its first push: %+v", w)
		}
	}
	return b.edits(tag, b.save)
}

// editOdoWay saves the file and does what odo v1's push did.
func (b *bench) editOdoWay(content string) error {
	if err := b.save(content); err != nil {
		return err
	}
	if err := b.shell(fmt.Sprintf("tar c -C %s lib/greeting.js | kubectl -n %s exec -i %s -c %s -- tar x -C /tmp/src", b.ws, b.ns, b.pod, b.container)); err != nil {
		return err
	}
	return b.kubectl(nil, "exec", b.pod, "-c", b.container, "--", initimage.AssembleAndRestartCommand()[0])
}

func (b *bench) waitPending(n int) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if b.idx.Pending().Len() >= n {
			return
		}
	}
}

// waitAnswer polls the app until it answers with want.
func (b *bench) waitAnswer(want string, limit time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var last string
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		resp, err := client.Get(b.appURL)
		if err != nil {
			last = err.Error()
			continue
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if strings.Contains(string(body), want) {
			return nil
		}
		last = fmt.Sprintf("%s %q (read: %v)", resp.Status, strings.TrimSpace(string(body)), err)
	}
	logs, _ := exec.Command("kubectl", "-n", b.ns, "logs", "--tail", "40", b.pod, "-c", b.container).CombinedOutput()
	return fmt.Errorf("no answer %q within %s (last: %s); the container log ends:\n%s", want, limit, last, logs)
}

func (b *bench) kubectl(stdin io.Reader, args ...string) error {
	cmd := exec.Command("kubectl", append([]string{"-n", b.ns}, args...)...)
	cmd.Env, cmd.Stdin = b.kubectlEnv, stdin
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (b *bench) shell(script string) error {
	cmd := exec.Command("bash", "-o", "pipefail", "-c", script)
	cmd.Env = b.kubectlEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", script, err, out)
	}
	return nil
}

// generate writes the small source files [from, to) under src/gen, 100 to
// a directory.
func generate(ws string, from, to int) error {
	for i := from; i < to; i++ {
		dir := filepath.Join(ws, "src", "gen", fmt.Sprintf("d%03d", i/100))
		if i%100 == 0 || i == from {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		body := fmt.Sprintf("// generated module %d\nexports.value%d = () => %d;\nexports.name = 'gen-%d';\n", i, i, i*7, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("m%05d.js", i)), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	i = min(max(i-1, 0), len(s)-1)
	return s[i].Round(time.Millisecond)
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
