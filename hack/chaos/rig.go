//go:build linux

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/internal/treesum"
	"github.com/odod-dev/odod/protocol"
)

// workDir is the builder images' working dir, where assemble copies the
// sources; buildOutputs are what the Node.js build adds there (npm's
// cache and lock file, the dependencies).
const workDir = "/opt/app-root/src"

var buildOutputs = []string{"node_modules", ".npm", "package-lock.json"}

// rig is what the campaign runs on: one throwaway namespace of the local
// cluster, odod's kubeconfig through the proxy, odod built once, the
// planted secrets and every log odod wrote.
type rig struct {
	o               options
	admin           *rest.Config
	kube            kubernetes.Interface
	cl              *cluster.Client
	ns              string
	proxy           *proxy
	proxyKubeconfig string
	ododBin         string
	initImage       string
	tmp             string
	logDir          string
	// planted are values odod must never log or notify: the bearer token
	// and client key of its kubeconfig, a Secret's value.
	planted map[string]string

	mu      sync.Mutex
	daemons int
}

func newRig(ctx context.Context, o options) (*rig, error) {
	admin, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w (run make cluster-up, or set KUBECONFIG)", o.kubeconfig, err)
	}
	admin.QPS, admin.Burst = 50, 100
	kube, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "odod-chaos-")
	if err != nil {
		return nil, err
	}
	r := &rig{o: o, admin: admin, kube: kube, tmp: tmp, initImage: o.initImage, planted: map[string]string{}}
	r.logDir = filepath.Join(tmp, "logs")
	if o.logDir != "" {
		r.logDir = o.logDir
	}
	if err := os.MkdirAll(r.logDir, 0o755); err != nil {
		return nil, err
	}
	r.ododBin = filepath.Join(tmp, "odod")
	build := exec.CommandContext(ctx, "go", "build", "-o", r.ododBin, "./cmd/odod")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build odod (run from the repository root): %w", err)
	}
	ns, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "odod-chaos-", Labels: map[string]string{"odod.dev/test": "true"},
	}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create a namespace: %w", err)
	}
	r.ns = ns.Name
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := kube.CoreV1().ServiceAccounts(r.ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		r.close()
		return nil, fmt.Errorf("namespace %s has no default ServiceAccount: %w", r.ns, err)
	}
	if r.cl, err = cluster.Connect(ctx, cluster.Options{Kubeconfig: o.kubeconfig, Namespace: r.ns}); err != nil {
		r.close()
		return nil, err
	}
	if r.proxy, err = newProxy(admin); err != nil {
		r.close()
		return nil, err
	}
	if err := r.plant(ctx); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// plant writes odod's kubeconfig (the proxy's address, a bearer token and
// a client certificate that the proxy takes) and a Secret with the
// component's labels, and remembers their values for the scan.
func (r *rig) plant(ctx context.Context) error {
	token := "chaos-token-" + randomHex(16)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "chaos"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["chaos"] = &clientcmdapi.Cluster{Server: r.proxy.url(), CertificateAuthorityData: r.proxy.caPEM}
	cfg.AuthInfos["chaos"] = &clientcmdapi.AuthInfo{Token: token,
		ClientCertificateData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ClientKeyData: keyPEM}
	cfg.Contexts["chaos"] = &clientcmdapi.Context{Cluster: "chaos", AuthInfo: "chaos", Namespace: r.ns}
	cfg.CurrentContext = "chaos"
	r.proxyKubeconfig = filepath.Join(r.tmp, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, r.proxyKubeconfig); err != nil {
		return err
	}
	r.planted["bearer token"] = token
	// The key's body: its base64 lines, any of which must not appear.
	body := strings.Split(strings.TrimSpace(string(keyPEM)), "\n")
	r.planted["client key"] = body[1]
	if adminKey := r.admin.KeyData; len(adminKey) > 0 {
		r.planted["admin client key"] = strings.Split(strings.TrimSpace(string(adminKey)), "\n")[1]
	} else if r.admin.KeyFile != "" {
		if b, err := os.ReadFile(r.admin.KeyFile); err == nil {
			if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) > 1 {
				r.planted["admin client key"] = lines[1]
			}
		}
	}
	value := "chaos-secret-" + randomHex(16)
	_, err = r.kube.CoreV1().Secrets(r.ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "chaos-planted", Labels: map[string]string{
			cluster.LabelInstance: "chaos", "app.kubernetes.io/part-of": "app"}},
		StringData: map[string]string{"password": value},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("plant a Secret: %w", err)
	}
	r.planted["Secret value"] = value
	return nil
}

func (r *rig) close() {
	if r.proxy != nil {
		r.proxy.close()
	}
	if r.ns != "" && !r.o.keep {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		policy := metav1.DeletePropagationBackground
		err := r.kube.CoreV1().Namespaces().Delete(ctx, r.ns, metav1.DeleteOptions{PropagationPolicy: &policy})
		if err != nil && !apierrors.IsNotFound(err) {
			fmt.Fprintf(os.Stderr, "chaos: delete namespace %s: %v\n", r.ns, err)
		}
	}
	if !r.o.keep && r.o.logDir == "" {
		_ = os.RemoveAll(r.tmp)
	} else {
		fmt.Fprintf(os.Stderr, "chaos: kept %s\n", r.tmp)
	}
}

// workspace is a copy of testdata/nodejs-app that a component is made
// of.
type workspace struct {
	root, name string
	// id is its workspace id in the current daemon.
	id string
	// seq numbers the campaign's edits.
	seq int
}

func (r *rig) newWorkspace(name string) (*workspace, error) {
	root := filepath.Join(r.tmp, "ws-"+name)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	if out, err := exec.Command("cp", "-r", "testdata/nodejs-app/.", root).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copy testdata/nodejs-app (run from the repository root): %w: %s", err, out)
	}
	return &workspace{root: root, name: name}, nil
}

func (w *workspace) container() string { return w.name + "-app" }

// create makes the workspace's component and starts its watch (the first
// push), through d.
func (w *workspace) create(ctx context.Context, d *daemon) error {
	id, err := d.open(ctx, w.root)
	if err != nil {
		return err
	}
	w.id = id
	if err := d.call(ctx, time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{
		WorkspaceID: id, Type: "nodejs", Name: w.name, Ports: []string{"8080"},
	}, nil); err != nil {
		return err
	}
	return w.startWatch(ctx, d)
}

func (w *workspace) startWatch(ctx context.Context, d *daemon) error {
	debounce := 100
	return d.call(ctx, time.Minute, protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: w.id, DebounceMs: &debounce}, nil)
}

func (w *workspace) write(rel string, data []byte) error {
	p := filepath.Join(w.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// edit changes the workspace as a developer does between saves: files
// added, changed and deleted under chaos/, the greeting changed, and with
// big > 0 a large file rewritten, so that an upload lasts.
func (w *workspace) edit(big int) error {
	w.seq++
	n := w.seq
	for i := 0; i < 3; i++ {
		if err := w.write(fmt.Sprintf("chaos/r%03d/f%d.txt", n, i), []byte(fmt.Sprintf("run %d file %d %s\n", n, i, randomHex(8)))); err != nil {
			return err
		}
	}
	if n > 1 {
		if err := w.write(fmt.Sprintf("chaos/r%03d/f0.txt", n-1), []byte("changed in run "+fmt.Sprint(n)+"\n")); err != nil {
			return err
		}
	}
	if n > 2 {
		if err := os.RemoveAll(filepath.Join(w.root, "chaos", fmt.Sprintf("r%03d", n-2))); err != nil {
			return err
		}
	}
	greeting := fmt.Sprintf("exports.greeting = () => 'Hello from chaos run %d';\n", n)
	if err := w.write("lib/greeting.js", []byte(greeting)); err != nil {
		return err
	}
	if big > 0 {
		b := make([]byte, big)
		_, _ = rand.Read(b)
		if err := w.write("chaos/big.bin", b); err != nil {
			return err
		}
	}
	return nil
}

// pod is the component's running pod.
func (r *rig) pod(ctx context.Context, w *workspace) (*corev1.Pod, error) {
	ps, err := r.cl.PodStatus(ctx, cluster.ComponentRef{Name: w.name, App: "app"})
	if err != nil {
		return nil, err
	}
	if ps.State != cluster.StateRunning || ps.Pod == "" {
		return nil, fmt.Errorf("pod %+v", ps)
	}
	return r.kube.CoreV1().Pods(r.ns).Get(ctx, ps.Pod, metav1.GetOptions{})
}

// compare lists what differs between the workspace and the pod's /tmp/src
// and working dir: missing are workspace files the container lacks (or
// holds with other content), extra what it holds beyond them.
func (r *rig) compare(ctx context.Context, w *workspace, pod string) (missing, extra []string, err error) {
	want, err := treesum.Local(w.root)
	if err != nil {
		return nil, nil, err
	}
	for _, dir := range []string{"/tmp/src", workDir} {
		got, err := treesum.Remote(ctx, r.cl, pod, w.container(), dir, buildOutputs...)
		if err != nil {
			return nil, nil, err
		}
		m, e := treesum.Diff(want, got)
		for _, l := range m {
			missing = append(missing, dir+": "+l)
		}
		for _, l := range e {
			extra = append(extra, dir+": "+l)
		}
	}
	return missing, extra, nil
}

// outcome is how a run ended.
type outcome struct {
	converged bool
	took      time.Duration
	// saves is how many edits the campaign made after the fault for the
	// watch to push again (0: it recovered by itself).
	saves int
	// lost and leaked are files missing from / left in the container when
	// the run gave up.
	lost, leaked int
	// indexLies are files the persisted index claims the container holds
	// while it does not.
	indexLies int
	detail    string
}

// converge waits until d's watch of w is at rest and the container holds
// exactly the workspace. A watch that rests on an error that does not
// retry by itself gets an edit (the developer's next save), at most
// maxSaves times.
func (r *rig) converge(ctx context.Context, d *daemon, w *workspace, since time.Time, timeout time.Duration) outcome {
	const maxSaves = 2
	var o outcome
	deadline := time.Now().Add(timeout)
	var stuckSince time.Time
	var last string
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(300 * time.Millisecond)
		st, err := d.watch(ctx, w.id)
		if err != nil {
			last = err.Error()
			continue
		}
		if !st.Active {
			last = fmt.Sprintf("the watch stopped: %+v", st)
			break
		}
		if st.Pushing || st.Retrying {
			stuckSince = time.Time{}
			last = fmt.Sprintf("watch %+v", st)
			continue
		}
		if st.LastError != "" {
			last = "watch rests on: " + st.LastError
			if stuckSince.IsZero() {
				stuckSince = time.Now()
			} else if time.Since(stuckSince) > 5*time.Second && o.saves < maxSaves {
				o.saves++
				stuckSince = time.Time{}
				if err := w.write(fmt.Sprintf("chaos/save-%d.txt", w.seq), []byte(randomHex(4)+"\n")); err != nil {
					last = err.Error()
				}
			}
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		pod, err := r.pod(cctx, w)
		if err != nil {
			cancel()
			last = err.Error()
			continue
		}
		missing, extra, err := r.compare(cctx, w, pod.Name)
		cancel()
		if err != nil {
			last = err.Error()
			continue
		}
		if len(missing) == 0 && len(extra) == 0 {
			o.converged, o.took = true, time.Since(since)
			return o
		}
		o.lost, o.leaked = len(missing), len(extra)
		last = fmt.Sprintf("pod %s: lost %s; leaked %s", pod.Name, short(missing), short(extra))
	}
	o.detail = last
	return o
}

func short(l []string) string {
	if len(l) > 4 {
		return strings.Join(l[:4], ", ") + fmt.Sprintf(" … (%d)", len(l))
	}
	return strings.Join(l, ", ")
}

// indexLies lists what the persisted index at root claims the running
// container holds while it does not: files the index records as pushed
// (not pending) for the pod it names, that /tmp/src or the working dir
// lack or hold with other content. An index of another pod claims
// nothing (the next push resyncs).
func (r *rig) indexLies(ctx context.Context, w *workspace, root string) ([]string, error) {
	rep, err := indexer.Compare(ctx, root, indexer.Options{})
	if err != nil {
		return nil, err
	}
	if rep.IndexState != indexer.IndexLoaded {
		return nil, nil
	}
	pod, err := r.pod(ctx, w)
	if err != nil {
		return nil, err
	}
	if string(pod.UID) != rep.PodUID {
		return nil, nil
	}
	pending := map[string]bool{}
	for _, l := range [][]string{rep.Changes.Added, rep.Changes.Modified, rep.Changes.Deleted} {
		for _, p := range l {
			pending[p] = true
		}
	}
	local, err := treesum.Local(root)
	if err != nil {
		return nil, err
	}
	var lies []string
	for _, dir := range []string{"/tmp/src", workDir} {
		got, err := treesum.Remote(ctx, r.cl, pod.Name, w.container(), dir, buildOutputs...)
		if err != nil {
			return nil, err
		}
		held := map[string]bool{}
		for _, l := range got {
			held[l] = true
		}
		paths := treesum.Paths(local)
		for i, l := range local {
			if !pending[paths[i]] && !held[l] {
				lies = append(lies, dir+": "+l)
			}
		}
	}
	return lies, nil
}
