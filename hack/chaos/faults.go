//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/odod-dev/odod/protocol"
)

// campaign holds what the faults share: the rig, the daemon an editor
// would hold and the component it watches.
type campaign struct {
	r  *rig
	d  *daemon
	w  *workspace
	rt time.Duration // converge timeout of a run
	// setups are the faults' own daemons and workspaces, made once.
	extra map[string]*side
	// pf is the main component's port-forward address, once made.
	pf string
	// spdy: the proxy refuses WebSocket upgrades.
	spdy bool
}

// side is a daemon and a component of their own, for the faults that need
// a daemon started otherwise or a pod changed.
type side struct {
	d   *daemon
	w   *workspace
	pid int
}

// injected is what an injection reports.
type injected struct {
	since time.Time
	// lies are files the persisted index claimed at the moment of the
	// fault while the container did not hold them.
	lies []string
	// d and w are the daemon and workspace to converge (default the
	// campaign's).
	d    *daemon
	w    *workspace
	note string
	// after runs once the run converged or gave up (undo the fault),
	// and may fail the run.
	after func(ctx context.Context, o *outcome) error
}

// fault is one kind of fault injected at random moments.
type fault struct {
	name  string
	what  string
	short bool
	// inject makes a change and injects the fault at a moment of its push.
	inject func(ctx context.Context, c *campaign) (injected, error)
}

const bigFile = 24 << 20

// phaseIs picks the progress notifications of phase; with data, only
// while bytes remain to be sent.
func phaseIs(phase protocol.PushPhase, data bool) func(protocol.PushProgressParams) bool {
	return func(p protocol.PushProgressParams) bool {
		return p.Phase == phase && (!data || p.BytesDone < p.BytesTotal)
	}
}

// jitter sleeps a random time below max: the moment within the phase.
func jitter(max time.Duration) {
	if max > 0 {
		time.Sleep(rand.N(max))
	}
}

// atPhase edits the workspace (with a large file when big), waits until
// the watch's push reaches the phase, then a random moment within window.
func (c *campaign) atPhase(ctx context.Context, d *daemon, w *workspace, big bool, pred func(protocol.PushProgressParams) bool, window time.Duration) error {
	mark := d.mark()
	size := 0
	if big {
		size = bigFile
	}
	if err := w.edit(size); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := d.waitPhase(wctx, mark, pred); err != nil {
		return err
	}
	jitter(window)
	return nil
}

func daemonKill(phase protocol.PushPhase, big bool, window time.Duration, name string) fault {
	when := "as it starts"
	if window > 0 {
		when = fmt.Sprintf("within %s of its start", window)
	}
	if big {
		when += fmt.Sprintf(", a %d MiB file in it", bigFile>>20)
	}
	return fault{
		name:  name,
		what:  fmt.Sprintf("odod serve SIGKILLed in a watch push's %s phase (%s), then started again: the watch resumes", phase, when),
		short: phase == protocol.PhaseBuild,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			pred := phaseIs(phase, big && phase == protocol.PhaseUpload)
			if err := c.atPhase(ctx, c.d, c.w, big, pred, window); err != nil {
				return injected{}, err
			}
			return c.killAndRestart(ctx)
		},
	}
}

// killAndRestart kills the campaign's daemon, checks what its index
// claims, and starts another that opens the workspace.
func (c *campaign) killAndRestart(ctx context.Context) (injected, error) {
	c.d.kill()
	in := injected{since: time.Now()}
	lies, err := c.r.indexLies(ctx, c.w, c.w.root)
	if err != nil {
		in.note = "index check: " + err.Error()
	}
	in.lies = lies
	d, err := c.r.startDaemon(ctx, daemonOptions{})
	if err != nil {
		return in, err
	}
	c.d = d
	if c.w.id, err = d.open(ctx, c.w.root); err != nil {
		return in, err
	}
	st, err := d.watch(ctx, c.w.id)
	if err != nil {
		return in, err
	}
	if !st.Active {
		in.note = "the watch was not resumed"
		if err := c.w.startWatch(ctx, d); err != nil {
			return in, err
		}
	}
	return in, nil
}

// killIndexWrite kills the daemon while it writes the index: once the
// push is confirmed, at a random moment around the persister's delay.
func killIndexWrite() fault {
	return fault{
		name:  "daemon SIGKILL: index write",
		what:  "odod serve SIGKILLed 240–290 ms after a push's confirm, when the persister (250 ms delay) writes .odo/odo-file-index.json",
		short: false,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			if err := c.atPhase(ctx, c.d, c.w, false, phaseIs(protocol.PhaseDone, false), 0); err != nil {
				return injected{}, err
			}
			time.Sleep(240*time.Millisecond + rand.N(50*time.Millisecond))
			return c.killAndRestart(ctx)
		},
	}
}

func podDelete(phase protocol.PushPhase, window time.Duration) fault {
	return fault{
		name:  "pod deleted (grace 0): " + string(phase),
		what:  fmt.Sprintf("the component's pod deleted with grace period 0 during a push's %s", phase),
		short: phase == protocol.PhaseUpload,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			pod, err := c.r.pod(ctx, c.w)
			if err != nil {
				return injected{}, err
			}
			if err := c.atPhase(ctx, c.d, c.w, phase == protocol.PhaseUpload, phaseIs(phase, phase == protocol.PhaseUpload), window); err != nil {
				return injected{}, err
			}
			zero := int64(0)
			if err := c.r.kube.CoreV1().Pods(c.r.ns).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
				return injected{}, err
			}
			return injected{since: time.Now()}, nil
		},
	}
}

// killScript kills, inside the container, the processes whose command
// line contains $1$2 (given in two halves so that the script's own
// command line does not hold it).
const killScript = `pat="$1$2"; n=0
for d in /proc/[0-9]*; do
  p=${d#/proc/}; [ "$p" = "$$" ] && continue
  c=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null) || continue
  case "$c" in *"$pat"*) kill -9 "$p" 2>/dev/null && n=$((n+1));; esac
done
echo "$n"`

func (c *campaign) killInPod(ctx context.Context, w *workspace, a, b string) (int, error) {
	pod, err := c.r.pod(ctx, w)
	if err != nil {
		return 0, err
	}
	var out, errOut strings.Builder
	if err := c.r.cl.Exec(ctx, pod.Name, w.container(), []string{"sh", "-c", killScript, "sh", a, b}, nil, &out, &errOut); err != nil {
		return 0, fmt.Errorf("kill %s%s in %s: %w: %s", a, b, pod.Name, err, errOut.String())
	}
	return strconv.Atoi(strings.TrimSpace(out.String()))
}

func agentKill() fault {
	return fault{
		name:  "agent killed: large put",
		what:  fmt.Sprintf("the sync agent (inside the pod) killed with SIGKILL while it receives a %d MiB file", bigFile>>20),
		short: true,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			if err := c.atPhase(ctx, c.d, c.w, true, phaseIs(protocol.PhaseUpload, true), 0); err != nil {
				return injected{}, err
			}
			n, err := c.killInPod(ctx, c.w, "/opt/odo/bin/ag", "ent ")
			in := injected{since: time.Now()}
			if err == nil && n == 0 {
				in.note = "no agent process found to kill"
			}
			return in, err
		},
	}
}

func assembleKill() fault {
	return fault{
		name:  "assemble killed",
		what:  "assemble-and-restart (and dev-assemble) killed with SIGKILL inside the pod during a push's build; package.json changed, so that the build runs npm install and lasts",
		short: false,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			pkg := fmt.Sprintf(`{"name":"odod-hello","version":"1.0.%d","main":"server.js","scripts":{"start":"node server.js"},"license":"Apache-2.0"}`+"\n", c.w.seq+1)
			if err := c.w.write("package.json", []byte(pkg)); err != nil {
				return injected{}, err
			}
			if err := c.atPhase(ctx, c.d, c.w, false, phaseIs(protocol.PhaseBuild, false), 300*time.Millisecond); err != nil {
				return injected{}, err
			}
			n, err := c.killInPod(ctx, c.w, "assemble-and", "-restart")
			if err != nil {
				return injected{}, err
			}
			m, err := c.killInPod(ctx, c.w, "dev-ass", "emble")
			in := injected{since: time.Now()}
			if err == nil && n+m == 0 {
				in.note = "the build ended before the kill"
			}
			return in, err
		},
	}
}

func execCut(phase protocol.PushPhase) fault {
	return fault{
		name:  "exec session cut: " + string(phase),
		what:  fmt.Sprintf("every connection of odod to the API server (the exec streams) closed by the proxy during a push's %s", phase),
		short: false,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			big := phase == protocol.PhaseUpload
			if err := c.atPhase(ctx, c.d, c.w, big, phaseIs(phase, big), 100*time.Millisecond); err != nil {
				return injected{}, err
			}
			c.r.proxy.cutAll()
			return injected{since: time.Now()}, nil
		},
	}
}

// pid1Kill kills the container's PID 1 from the host (inside its own PID
// namespace init ignores SIGKILL) at the end of a push's upload: the
// kubelet starts a new container in the same pod, with an empty /tmp/src.
func pid1Kill() fault {
	return fault{
		name:  "PID 1 killed: upload→build",
		what:  "the container's PID 1 (go-init) SIGKILLed from the host as the upload ends: a new container in the same pod; assemble must not run in a container the push did not fill",
		short: true,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			pod, err := c.r.pod(ctx, c.w)
			if err != nil {
				return injected{}, err
			}
			cid := containerID(pod, c.w.container())
			pred := func(p protocol.PushProgressParams) bool {
				return p.Phase == protocol.PhaseBuild || p.Phase == protocol.PhaseUpload && p.FilesTotal > 0 && p.FilesDone == p.FilesTotal
			}
			if err := c.atPhase(ctx, c.d, c.w, false, pred, 0); err != nil {
				return injected{}, err
			}
			pid, err := hostPID1(cid)
			if err != nil {
				return injected{}, err
			}
			if err := syscallKill(pid); err != nil {
				return injected{}, fmt.Errorf("kill PID 1 (host pid %d): %w", pid, err)
			}
			return injected{since: time.Now(), after: func(ctx context.Context, o *outcome) error {
				p, err := c.r.pod(ctx, c.w)
				if err != nil {
					return err
				}
				if p.Name == pod.Name && containerID(p, c.w.container()) == cid {
					return errors.New("the container was not replaced")
				}
				return nil
			}}, nil
		},
	}
}

func containerID(pod *corev1.Pod, name string) string {
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == name {
			_, id, _ := strings.Cut(s.ContainerID, "://")
			return id
		}
	}
	return ""
}

// hostPID1 finds the host pid of the container's init: a process whose
// cgroup names the container and that is pid 1 in its own namespace.
func hostPID1(cid string) (int, error) {
	if cid == "" {
		return 0, errors.New("the container has no id yet")
	}
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	for _, d := range dirs {
		cg, err := os.ReadFile(filepath.Join(d, "cgroup"))
		if err != nil || !strings.Contains(string(cg), cid) {
			continue
		}
		status, err := os.ReadFile(filepath.Join(d, "status"))
		if err != nil {
			continue
		}
		s := bufio.NewScanner(strings.NewReader(string(status)))
		for s.Scan() {
			if f := strings.Fields(s.Text()); len(f) >= 2 && f[0] == "NSpid:" && f[len(f)-1] == "1" {
				pid, _ := strconv.Atoi(filepath.Base(d))
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no process of container %s is its PID 1 (is the cluster's node this machine?)", cid)
}

// apiDown makes the API server unreachable for odod for 2–8 s during a
// push's upload.
func apiDownPush() fault {
	return fault{
		name:  "API server unreachable: push",
		what:  "the proxy closes odod's connections to the API server and refuses new ones for 2–8 s during a push's upload",
		short: true,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			if err := c.atPhase(ctx, c.d, c.w, true, phaseIs(protocol.PhaseUpload, true), 0); err != nil {
				return injected{}, err
			}
			since := time.Now()
			if err := c.r.proxy.outage(2*time.Second + rand.N(6*time.Second)); err != nil {
				return injected{}, err
			}
			return injected{since: since}, nil
		},
	}
}

// apiDownLogs: a logs/follow subscription outlives the API server being
// unreachable for 2–8 s: after, the app's lines arrive again.
func apiDownLogs() fault {
	return fault{
		name:  "API server unreachable: logs/follow",
		what:  "the API server unreachable for 2–8 s during a logs/follow; converged = the app's lines of the next push arrive on the same subscription",
		short: false,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			var sub protocol.LogsFollowResult
			none := int64(0)
			if err := c.d.call(ctx, time.Minute, protocol.MethodLogsFollow, protocol.LogsFollowParams{WorkspaceID: c.w.id, TailLines: &none}, &sub); err != nil {
				return injected{}, err
			}
			time.Sleep(time.Second)
			since := time.Now()
			if err := c.r.proxy.outage(2*time.Second + rand.N(6*time.Second)); err != nil {
				return injected{}, err
			}
			mark := c.d.mark()
			if err := c.w.edit(0); err != nil {
				return injected{}, err
			}
			return injected{since: since, after: func(ctx context.Context, o *outcome) error {
				defer func() {
					_ = c.d.call(ctx, time.Minute, protocol.MethodLogsStop, protocol.LogsStopParams(sub), nil)
				}()
				wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
				defer cancel()
				_, err := c.d.waitNote(wctx, mark, protocol.MethodLog, func(raw json.RawMessage) bool {
					var p protocol.LogParams
					return json.Unmarshal(raw, &p) == nil && p.SubscriptionID == sub.SubscriptionID && p.Source == protocol.LogApp && strings.Contains(p.Text, "listening")
				})
				if err != nil {
					return fmt.Errorf("no app line on the subscription after the API server came back: %w", err)
				}
				o.took = time.Since(since)
				return nil
			}}, nil
		},
	}
}

// apiDownPortForward: the pod is deleted, so the port-forward reopens to
// the next one, and the API server is unreachable for 2–8 s of that.
func apiDownPortForward() fault {
	return fault{
		name:  "API server unreachable: port-forward reopen",
		what:  "the pod deleted, then the API server unreachable for 2–8 s while the port-forward reopens; converged = the forward answers with the workspace's greeting",
		short: false,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			if c.pf == "" {
				var pf protocol.PortForwardResult
				if err := c.d.call(ctx, time.Minute, protocol.MethodPortForward, protocol.PortForwardParams{WorkspaceID: c.w.id, RemotePort: 8080}, &pf); err != nil {
					return injected{}, err
				}
				c.pf = pf.Address
			}
			if err := c.w.edit(0); err != nil {
				return injected{}, err
			}
			if o := c.r.converge(ctx, c.d, c.w, time.Now(), c.rt); !o.converged {
				return injected{}, fmt.Errorf("before the fault: %s", o.detail)
			}
			pod, err := c.r.pod(ctx, c.w)
			if err != nil {
				return injected{}, err
			}
			zero := int64(0)
			since := time.Now()
			if err := c.r.kube.CoreV1().Pods(c.r.ns).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
				return injected{}, err
			}
			if err := c.r.proxy.outage(2*time.Second + rand.N(6*time.Second)); err != nil {
				return injected{}, err
			}
			want := fmt.Sprintf("Hello from chaos run %d", c.w.seq)
			return injected{since: since, after: func(ctx context.Context, o *outcome) error {
				last, err := getUntil(ctx, "http://"+c.pf+"/", want, 2*time.Minute)
				if err != nil {
					return fmt.Errorf("the port-forward %s: %w (last answer %q)", c.pf, err, last)
				}
				o.took = time.Since(since)
				return nil
			}}, nil
		},
	}
}

func getUntil(ctx context.Context, u, want string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := client.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			last = strings.TrimSpace(string(b))
			if last == want {
				return last, nil
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// halfOpen makes odod's connections half-open during a push's phase,
// over WebSocket or, with the proxy refusing WebSocket, over SPDY.
func halfOpen(proto string, phase protocol.PushPhase) fault {
	return fault{
		name:  fmt.Sprintf("half-open (%s): %s", proto, phase),
		what:  fmt.Sprintf("every connection of odod to the API server stops forwarding without closing (exec over %s) during a push's %s", proto, phase),
		short: false,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			spdy := proto == "spdy"
			if c.spdy != spdy {
				// The streams open now go on over the other protocol:
				// close them, and let a push open them again.
				c.spdy = spdy
				c.r.proxy.setNoWebSocket(spdy)
				c.r.proxy.cutAll()
				if err := c.w.edit(0); err != nil {
					return injected{}, err
				}
				if o := c.r.converge(ctx, c.d, c.w, time.Now(), c.rt); !o.converged {
					return injected{}, fmt.Errorf("after switching to %s: %s", proto, o.detail)
				}
			}
			before := c.r.proxy.upgraded()
			big := phase == protocol.PhaseUpload
			if err := c.atPhase(ctx, c.d, c.w, big, phaseIs(phase, big), 100*time.Millisecond); err != nil {
				return injected{}, err
			}
			n := c.r.proxy.dropAll()
			in := injected{since: time.Now(), after: func(ctx context.Context, o *outcome) error {
				c.r.proxy.closeDropped()
				after := c.r.proxy.upgraded()
				key := "websocket"
				if spdy {
					key = "spdy/3.1"
				}
				if after[key] == before[key] && !o.converged {
					return fmt.Errorf("no %s stream was opened", key)
				}
				return nil
			}}
			if n == 0 {
				in.note = "no connection to drop"
			}
			return in, nil
		},
	}
}

// The ENOSPC and inotify faults have daemons and components of their own.

// sideDaemon gives fault name its daemon (started with wrap) and
// component, made on first use.
func (c *campaign) sideDaemon(ctx context.Context, name string, o daemonOptions, prepare func(w *workspace) error) (*side, error) {
	if s := c.extra[name]; s != nil {
		return s, nil
	}
	w, err := c.r.newWorkspace(name)
	if err != nil {
		return nil, err
	}
	if prepare != nil {
		if err := prepare(w); err != nil {
			return nil, err
		}
	}
	d, err := c.r.startDaemon(ctx, o)
	if err != nil {
		return nil, err
	}
	s := &side{d: d, w: w, pid: d.cmd.Process.Pid}
	c.extra[name] = s
	if err := w.create(ctx, d); err != nil {
		return nil, err
	}
	if o := c.r.converge(ctx, d, w, time.Now(), 10*time.Minute); !o.converged {
		return nil, fmt.Errorf("the %s component did not come up: %s", name, o.detail)
	}
	return s, nil
}

// enospcSrc: /tmp/src is a 16 MiB tmpfs (an emptyDir of medium Memory,
// added to odod's Deployment by the campaign); a 24 MiB file does not
// fit. The push fails saying so, and once the file is gone the container
// converges.
func enospcSrc() fault {
	return fault{
		name:  "ENOSPC in /tmp/src",
		what:  "/tmp/src a 16 MiB tmpfs (emptyDir medium Memory, sizeLimit 16Mi); a 24 MiB file pushed, then deleted",
		short: false,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			s, err := c.sideDaemon(ctx, "chaossmall", daemonOptions{}, nil)
			if err != nil {
				return injected{}, err
			}
			if err := c.smallSrc(ctx, s); err != nil {
				return injected{}, err
			}
			if err := s.w.edit(bigFile); err != nil {
				return injected{}, err
			}
			since := time.Now()
			wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			var said string
			for said == "" {
				st, err := s.d.watch(wctx, s.w.id)
				if err != nil {
					return injected{}, err
				}
				if st.LastError != "" {
					said = st.LastError
				}
				time.Sleep(200 * time.Millisecond)
			}
			in := injected{since: since, d: s.d, w: s.w}
			if !strings.Contains(strings.ToLower(said), "no space") && !strings.Contains(strings.ToLower(said), "space left") {
				in.note = "the error does not say the disk is full: " + said
			}
			if err := os.Remove(filepath.Join(s.w.root, "chaos", "big.bin")); err != nil {
				return in, err
			}
			return in, nil
		},
	}
}

// smallSrc gives the side component's Deployment a 16 MiB tmpfs at
// /tmp/src and waits for its pod to have it.
func (c *campaign) smallSrc(ctx context.Context, s *side) error {
	if s.w.seq > 0 {
		return nil
	}
	dep := s.w.name + "-app"
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"volumes":[{"name":"chaos-src","emptyDir":{"medium":"Memory","sizeLimit":"16Mi"}}],"containers":[{"name":%q,"volumeMounts":[{"name":"chaos-src","mountPath":"/tmp/src"}]}]}}}}`, s.w.container())
	if _, err := c.r.kube.AppsV1().Deployments(c.r.ns).Patch(ctx, dep, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "odod-chaos"}); err != nil {
		return fmt.Errorf("patch deployment %s: %w", dep, err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		pod, err := c.r.pod(ctx, s.w)
		if err != nil {
			continue
		}
		var df strings.Builder
		if c.r.cl.Exec(ctx, pod.Name, s.w.container(), []string{"df", "-k", "/tmp/src"}, nil, &df, &df) == nil && strings.Contains(df.String(), "tmpfs") {
			o := c.r.converge(ctx, s.d, s.w, time.Now(), 5*time.Minute)
			if !o.converged {
				return fmt.Errorf("after the tmpfs: %s", o.detail)
			}
			return nil
		}
	}
	return errors.New("the pod has no tmpfs at /tmp/src after 5 min")
}

// enospcOdo: the workspace's .odo is a 256 KiB tmpfs, full, in odod's own
// mount namespace (a user namespace: nothing on the host changes). The
// pushes go on, odod says the index cannot be written, and once there is
// room it is written and claims nothing false.
func enospcOdo() fault {
	return fault{
		name:  "ENOSPC in .odo",
		what:  "the workspace's .odo a full 256 KiB tmpfs (odod in a user and mount namespace); an edit pushed, then room made and another edit pushed: the index is written and claims nothing false",
		short: false,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			name := "chaosodo"
			var stash string
			wrap := func(w *workspace) []string {
				return []string{"unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
					`set -e; ws=$1; stash=$2; shift 2; mkdir -p "$ws/.odo"; mount -t tmpfs -o size=256k chaos-odo "$ws/.odo"; cp "$stash" "$ws/.odo/config.yaml"; exec "$@"`,
					"sh", w.root, stash}
			}
			s := c.extra[name]
			if s == nil {
				// The component is made by an ordinary daemon, then served
				// by one whose .odo is the tmpfs.
				w, err := c.r.newWorkspace(name)
				if err != nil {
					return injected{}, err
				}
				d, err := c.r.startDaemon(ctx, daemonOptions{})
				if err != nil {
					return injected{}, err
				}
				if err := w.create(ctx, d); err != nil {
					d.stop()
					return injected{}, err
				}
				o := c.r.converge(ctx, d, w, time.Now(), 10*time.Minute)
				d.stop()
				if !o.converged {
					return injected{}, fmt.Errorf("the %s component did not come up: %s", name, o.detail)
				}
				stash = filepath.Join(c.r.tmp, name+"-config.yaml")
				b, err := os.ReadFile(filepath.Join(w.root, ".odo", "config.yaml"))
				if err != nil {
					return injected{}, err
				}
				if err := os.WriteFile(stash, b, 0o600); err != nil {
					return injected{}, err
				}
				d, err = c.r.startDaemon(ctx, daemonOptions{wrap: wrap(w)})
				if err != nil {
					return injected{}, err
				}
				s = &side{d: d, w: w, pid: d.cmd.Process.Pid}
				c.extra[name] = s
				if w.id, err = d.open(ctx, w.root); err != nil {
					return injected{}, err
				}
				if st, err := d.watch(ctx, w.id); err != nil || !st.Active {
					if err := w.startWatch(ctx, d); err != nil {
						return injected{}, err
					}
				}
			}
			odo := filepath.Join(fmt.Sprintf("/proc/%d/root", s.pid), s.w.root, ".odo")
			fill := filepath.Join(odo, "fill")
			f, err := os.Create(fill)
			if err != nil {
				return injected{}, fmt.Errorf("fill %s: %w", odo, err)
			}
			_, err = f.Write(make([]byte, 1<<20))
			_ = f.Close()
			if err == nil {
				return injected{}, fmt.Errorf("%s is not full after 1 MiB", odo)
			}
			mark := s.d.mark()
			if err := s.w.edit(0); err != nil {
				return injected{}, err
			}
			since := time.Now()
			return injected{since: since, d: s.d, w: s.w, after: func(ctx context.Context, o *outcome) error {
				if !o.converged {
					return nil
				}
				wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				if _, err := s.d.waitNote(wctx, mark, protocol.MethodShowMessage, func(raw json.RawMessage) bool {
					return strings.Contains(strings.ToLower(string(raw)), "space")
				}); err != nil {
					return fmt.Errorf("odod did not say the index cannot be written: %w", err)
				}
				if err := os.Remove(fill); err != nil {
					return err
				}
				if err := s.w.edit(0); err != nil {
					return err
				}
				if o2 := c.r.converge(ctx, s.d, s.w, since, c.rt); !o2.converged {
					*o = o2
					return errors.New("after room was made: " + o2.detail)
				}
				// The persister writes 250 ms after the confirm.
				time.Sleep(time.Second)
				// The index as odod sees it, beside a copy of the workspace
				// (its .odo is in odod's mount namespace only).
				index, err := os.ReadFile(filepath.Join(odo, "odo-file-index.json"))
				if err != nil {
					return fmt.Errorf("the index was not written once there was room: %w", err)
				}
				scratch := filepath.Join(c.r.tmp, fmt.Sprintf("%s-view-%d", name, s.w.seq))
				if out, err := exec.Command("cp", "-a", s.w.root+"/.", scratch).CombinedOutput(); err != nil {
					return fmt.Errorf("copy the workspace: %v: %s", err, out)
				}
				defer os.RemoveAll(scratch)
				if err := os.WriteFile(filepath.Join(scratch, ".odo", "odo-file-index.json"), index, 0o600); err != nil {
					return err
				}
				lies, err := c.r.indexLies(ctx, s.w, scratch)
				if err != nil {
					return err
				}
				o.indexLies += len(lies)
				return nil
			}}, nil
		},
	}
}

// inotifyLimit: odod runs in a user namespace whose inotify watch limit is
// 100 (the host's is left alone) and a burst of 300 files in 150 new
// directories arrives: past the limit, directories are polled; nothing is
// lost.
func inotifyLimit() fault {
	return fault{
		name:  "inotify limit: burst",
		what:  "odod in a user namespace with max_inotify_watches 100; a burst of 300 files in 150 new directories (the previous burst's removed)",
		short: false,
		inject: func(ctx context.Context, c *campaign) (injected, error) {
			wrap := []string{"unshare", "--user", "--map-root-user", "sh", "-c",
				`echo 100 > /proc/sys/user/max_inotify_watches; exec "$@"`, "sh"}
			s, err := c.sideDaemon(ctx, "chaosino", daemonOptions{wrap: wrap}, nil)
			if err != nil {
				return injected{}, err
			}
			s.w.seq++
			n := s.w.seq
			if err := os.RemoveAll(filepath.Join(s.w.root, "burst", fmt.Sprint(n-1))); err != nil {
				return injected{}, err
			}
			since := time.Now()
			for i := 0; i < 150; i++ {
				for j := 0; j < 2; j++ {
					if err := s.w.write(fmt.Sprintf("burst/%d/d%03d/f%d.txt", n, i, j), []byte(randomHex(8))); err != nil {
						return injected{}, err
					}
				}
			}
			return injected{since: since, d: s.d, w: s.w}, nil
		},
	}
}

func allFaults() []fault {
	return []fault{
		daemonKill(protocol.PhaseApply, false, 0, "daemon SIGKILL: apply"),
		daemonKill(protocol.PhaseWait, false, 0, "daemon SIGKILL: wait"),
		daemonKill(protocol.PhaseUpload, true, 150*time.Millisecond, "daemon SIGKILL: upload"),
		daemonKill(protocol.PhaseBuild, false, 500*time.Millisecond, "daemon SIGKILL: build"),
		daemonKill(protocol.PhaseDone, false, 200*time.Millisecond, "daemon SIGKILL: confirm→persist"),
		killIndexWrite(),
		podDelete(protocol.PhaseUpload, 0),
		podDelete(protocol.PhaseBuild, 300*time.Millisecond),
		agentKill(),
		execCut(protocol.PhaseUpload),
		assembleKill(),
		execCut(protocol.PhaseBuild),
		pid1Kill(),
		apiDownPush(),
		apiDownLogs(),
		apiDownPortForward(),
		halfOpen("websocket", protocol.PhaseUpload),
		halfOpen("websocket", protocol.PhaseBuild),
		halfOpen("spdy", protocol.PhaseUpload),
		halfOpen("spdy", protocol.PhaseBuild),
		enospcSrc(),
		enospcOdo(),
		inotifyLimit(),
	}
}

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
