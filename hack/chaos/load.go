//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/odod-dev/odod/protocol"
)

// The load: o.workspaces components in one odod serve, each watched and
// edited every ~o.editEvery for o.duration by a bounded generator (one
// goroutine a workspace, one edit at a time). It samples the daemon's
// RSS and goroutines every 10 s (and reports their slope), measures each
// edit's latency to the end of the push that carried it, and at the end
// checks by checksum that every container holds its workspace: no change
// lost.

type sample struct {
	at         time.Duration
	rssKB      int64
	goroutines int
}

func runLoad(ctx context.Context, o options) error {
	r, err := newRig(ctx, o)
	if err != nil {
		return err
	}
	defer r.close()
	fmt.Fprintf(os.Stderr, "chaos -load: namespace %s, odod's logs in %s\n", r.ns, r.logDir)
	// Straight to the API server: the load measures odod, not the proxy.
	d, err := r.startDaemon(ctx, daemonOptions{kubeconfig: o.kubeconfig})
	if err != nil {
		return err
	}
	defer d.stop()
	ws := make([]*workspace, o.workspaces)
	for i := range ws {
		if ws[i], err = r.newWorkspace(fmt.Sprintf("load%02d", i)); err != nil {
			return err
		}
	}
	// Create them a few at a time: the first pushes pull and start pods.
	start := time.Now()
	sem := make(chan struct{}, 4)
	errs := make(chan error, len(ws))
	for _, w := range ws {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			err := w.create(ctx, d)
			if err == nil {
				if out := r.converge(ctx, d, w, time.Now(), 10*time.Minute); !out.converged {
					err = fmt.Errorf("%s did not come up: %s", w.name, out.detail)
				}
			}
			errs <- err
		}()
	}
	for range ws {
		if err := <-errs; err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "chaos -load: %d components up in %s\n", len(ws), time.Since(start).Round(time.Second))
	byID := map[string]*workspace{}
	for _, w := range ws {
		byID[w.id] = w
	}

	var samples []sample
	pid := d.cmd.Process.Pid
	sampleNow := func(at time.Duration) {
		var st protocol.StatusResult
		if err := d.call(ctx, 30*time.Second, protocol.MethodStatus, nil, &st); err != nil {
			return
		}
		s := sample{at: at, rssKB: rssKB(pid), goroutines: st.Goroutines}
		samples = append(samples, s)
		fmt.Fprintf(os.Stderr, "chaos -load: %ds: RSS %.1f MiB, %d goroutines\n", int(at.Seconds()), float64(s.rssKB)/1024, s.goroutines)
	}
	loadStart := time.Now()
	sampleNow(0)
	mark := d.mark()

	// The edits: each workspace's times of edits not yet seen pushed.
	var mu sync.Mutex
	edits := map[string][]time.Time{}
	var latencies []time.Duration
	lctx, stop := context.WithTimeout(ctx, o.duration)
	defer stop()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-lctx.Done():
					return
				case <-time.After(o.editEvery/2 + rand.N(o.editEvery)):
				}
				mu.Lock()
				err := w.edit(0)
				edits[w.id] = append(edits[w.id], time.Now())
				mu.Unlock()
				if err != nil {
					fmt.Fprintf(os.Stderr, "chaos -load: edit %s: %v\n", w.name, err)
				}
			}
		}()
	}
	// A push's start means the changes before it are in it: its end is
	// their latency. The watch's pushes report apply first, done last.
	wg.Add(1)
	go func() {
		defer wg.Done()
		pushStart := map[string]time.Time{}
		for {
			raw, next, err := d.nextNote(ctx, mark, protocol.MethodPushProgress, func(json.RawMessage) bool { return true })
			if err != nil {
				return
			}
			mark = next
			var p protocol.PushProgressParams
			if json.Unmarshal(raw, &p) != nil {
				continue
			}
			mu.Lock()
			switch p.Phase {
			case protocol.PhaseApply:
				pushStart[p.WorkspaceID] = p.Time
			case protocol.PhaseDone:
				began := pushStart[p.WorkspaceID]
				var left []time.Time
				for _, e := range edits[p.WorkspaceID] {
					if e.Before(began) {
						latencies = append(latencies, p.Time.Sub(e))
					} else {
						left = append(left, e)
					}
				}
				edits[p.WorkspaceID] = left
			}
			done := lctx.Err() != nil && func() bool {
				for _, l := range edits {
					if len(l) > 0 {
						return false
					}
				}
				return true
			}()
			mu.Unlock()
			if done {
				return
			}
		}
	}()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
sampling:
	for {
		select {
		case <-lctx.Done():
			break sampling
		case <-tick.C:
			sampleNow(time.Since(loadStart))
		}
	}
	mu.Lock()
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		fmt.Fprintf(os.Stderr, "chaos -load: %d edits pushed: latency p50 %s, p99 %s\n", n,
			fmtDur(latencies[n/2]), fmtDur(latencies[min(n-1, n*99/100)]))
	}
	mu.Unlock()
	// Every workspace converges: nothing lost.
	lost := 0
	var failures []string
	for _, w := range ws {
		out := r.converge(ctx, d, w, time.Now(), 2*time.Minute)
		fmt.Fprintf(os.Stderr, "chaos -load: %s converged %v %s\n", w.name, out.converged, out.detail)
		if !out.converged {
			lost += out.lost + out.leaked
			failures = append(failures, w.name+": "+out.detail)
		}
	}
	stopWait := make(chan struct{})
	go func() { wg.Wait(); close(stopWait) }()
	select {
	case <-stopWait:
	case <-time.After(30 * time.Second):
	}
	sampleNow(time.Since(loadStart))
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	pct := func(q float64) string {
		if len(latencies) == 0 {
			return "-"
		}
		return fmtDur(latencies[min(len(latencies)-1, int(q*float64(len(latencies))))])
	}
	rssSlope := slope(samples, func(s sample) float64 { return float64(s.rssKB) / 1024 })
	grSlope := slope(samples, func(s sample) float64 { return float64(s.goroutines) })
	first, last := samples[0], samples[len(samples)-1]
	fmt.Printf("load: %d workspaces in one odod serve, edited every %s ± 50%% for %s\n", len(ws), o.editEvery, o.duration)
	fmt.Printf("  edits pushed: %d; push latency (edit → push done) p50 %s, p99 %s, max %s\n", len(latencies), pct(0.5), pct(0.99), pct(1))
	fmt.Printf("  RSS %.1f → %.1f MiB, slope %+.2f MiB/min; goroutines %d → %d, slope %+.2f /min (%d samples)\n",
		float64(first.rssKB)/1024, float64(last.rssKB)/1024, rssSlope, first.goroutines, last.goroutines, grSlope, len(samples))
	fmt.Printf("  lost or leaked files at the end: %d\n", lost)
	var line []string
	for _, s := range samples {
		line = append(line, fmt.Sprintf("%ds:%.0fMiB/%dg", int(s.at.Seconds()), float64(s.rssKB)/1024, s.goroutines))
	}
	fmt.Printf("  samples: %s\n", strings.Join(line, " "))
	leaks, sc, err := scan(r.logDir, r.planted)
	if err != nil {
		return err
	}
	fmt.Printf("  log scan: %d files, %d bytes: %d planted secrets found\n", sc.files, sc.bytes, len(leaks))
	if lost > 0 || len(failures) > 0 || len(leaks) > 0 {
		return fmt.Errorf("load: %d lost, %q, leaks %q", lost, failures, leaks)
	}
	return nil
}

// slope is the least-squares slope of f over the samples, per minute.
func slope(samples []sample, f func(sample) float64) float64 {
	n := float64(len(samples))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, s := range samples {
		x := s.at.Minutes()
		y := f(s)
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

// rssKB is the process's resident set in KiB (Linux).
func rssKB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}
