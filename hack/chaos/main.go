//go:build linux

// Command chaos is odod's fault campaign on the local cluster (odod issue
// 13): it runs odod serve as an editor does, with a component watched,
// injects faults at random moments of its pushes — the daemon killed in
// each phase, the pod deleted, the agent, assemble or PID 1 killed inside
// the pod, the exec session cut, the API server unreachable or the
// connections half-open (through a proxy of its own between odod and the
// API server: the shared API server is never touched), ENOSPC in
// /tmp/src and in .odo, the inotify limit lowered — and after each checks
// that the container's /tmp/src and working dir hold exactly the
// workspace (by checksum) and that the persisted index never claimed what
// the container did not hold. It prints a table per fault, then scans
// everything odod logged and notified for the planted secrets.
//
// With -load it runs the load instead: many workspaces in one odod serve,
// each watched and edited (see load.go).
//
//	go run ./hack/chaos            # every fault, -n 20 runs each
//	go run ./hack/chaos -short     # a few faults, 2 runs each (make test)
//	go run ./hack/chaos -faults 'pod,agent' -n 5
//	go run ./hack/chaos -load -workspaces 20 -duration 10m
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/internal/testcluster"
)

type options struct {
	kubeconfig string
	initImage  string
	n          int
	short      bool
	faults     string
	keep       bool
	logDir     string
	timeout    time.Duration

	load       bool
	workspaces int
	duration   time.Duration
	editEvery  time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", defaultKubeconfig(), "admin kubeconfig of the local cluster")
	flag.StringVar(&o.initImage, "init-image", os.Getenv(initimage.EnvImage), "the init image odod uses (default odod's)")
	flag.IntVar(&o.n, "n", 20, "runs per fault")
	flag.BoolVar(&o.short, "short", false, "a few faults, 2 runs each (make test)")
	flag.StringVar(&o.faults, "faults", "", "only the faults whose name matches this regular expression")
	flag.BoolVar(&o.keep, "keep", false, "keep the namespace and the temporary directory")
	flag.StringVar(&o.logDir, "logs", "", "keep odod's logs and notifications in this directory")
	flag.DurationVar(&o.timeout, "run-timeout", 3*time.Minute, "how long a run may take to converge")
	list := flag.Bool("list", false, "list the faults (a Markdown table) and exit")
	flag.BoolVar(&o.load, "load", false, "run the load instead of the faults")
	flag.IntVar(&o.workspaces, "workspaces", 20, "load: workspaces in one odod serve")
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "load: how long the workspaces are edited")
	flag.DurationVar(&o.editEvery, "edit-every", 5*time.Second, "load: each workspace's mean time between edits")
	flag.Parse()
	if *list {
		fmt.Println("| fault | in -short | what is injected |\n|---|---|---|")
		for _, f := range allFaults() {
			short := ""
			if f.short {
				short = "yes"
			}
			fmt.Printf("| %s | %s | %s |\n", f.name, short, f.what)
		}
		return
	}
	if o.short && !isFlagSet("n") {
		o.n = 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if o.load {
		err = runLoad(ctx, o)
	} else {
		err = runCampaign(ctx, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

func isFlagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func defaultKubeconfig() string {
	if k := os.Getenv("KUBECONFIG"); k != "" {
		return k
	}
	return filepath.Join(testcluster.StateDir("."), "kubeconfig")
}

// result is one fault's runs.
type result struct {
	f    fault
	runs []outcome
	// errs are runs whose injection itself failed (not counted as runs).
	errs []string
}

func runCampaign(ctx context.Context, o options) error {
	var faults []fault
	var only *regexp.Regexp
	if o.faults != "" {
		var err error
		if only, err = regexp.Compile(o.faults); err != nil {
			return fmt.Errorf("-faults: %w", err)
		}
	}
	for _, f := range allFaults() {
		if only != nil && !only.MatchString(f.name) || only == nil && o.short && !f.short {
			continue
		}
		faults = append(faults, f)
	}
	if len(faults) == 0 {
		return fmt.Errorf("no fault matches -faults %q", o.faults)
	}
	r, err := newRig(ctx, o)
	if err != nil {
		return err
	}
	defer r.close()
	start := time.Now()
	fmt.Fprintf(os.Stderr, "chaos: namespace %s, odod's logs in %s\n", r.ns, r.logDir)
	c := &campaign{r: r, rt: o.timeout, extra: map[string]*side{}}
	if c.w, err = r.newWorkspace("chaos"); err != nil {
		return err
	}
	if c.d, err = r.startDaemon(ctx, daemonOptions{}); err != nil {
		return err
	}
	defer func() {
		c.d.stop()
		for _, s := range c.extra {
			s.d.stop()
		}
	}()
	if err := c.w.create(ctx, c.d); err != nil {
		return err
	}
	if out := r.converge(ctx, c.d, c.w, time.Now(), 10*time.Minute); !out.converged {
		return fmt.Errorf("the first push did not converge: %s", out.detail)
	}
	var results []*result
	for _, f := range faults {
		res := &result{f: f}
		results = append(results, res)
		for i := 0; i < o.n && ctx.Err() == nil; i++ {
			out, err := c.run(ctx, f)
			if err != nil {
				res.errs = append(res.errs, err.Error())
				fmt.Fprintf(os.Stderr, "chaos: %s run %d: injection failed: %v\n", f.name, i+1, err)
				// Leave the component at rest for the next run.
				if err := r.proxy.setDown(false); err != nil {
					return err
				}
				r.proxy.closeDropped()
				if o := r.converge(ctx, c.d, c.w, time.Now(), c.rt); !o.converged {
					fmt.Fprintf(os.Stderr, "chaos: not at rest after a failed injection: %s\n", o.detail)
				}
				continue
			}
			res.runs = append(res.runs, out)
			state := "converged"
			if !out.converged {
				state = "NOT converged: " + out.detail
			}
			fmt.Fprintf(os.Stderr, "chaos: %s run %d: %s in %s (saves %d, index lies %d) %s\n", f.name, i+1, state, out.took.Round(10*time.Millisecond), out.saves, out.indexLies, out.detail)
		}
	}
	c.r.proxy.setNoWebSocket(false)
	printTable(os.Stdout, results)
	fmt.Printf("\n%d faults, %s in all; namespace %s\n", len(results), time.Since(start).Round(time.Second), r.ns)
	leaks, scanned, err := scan(r.logDir, r.planted)
	if err != nil {
		return err
	}
	fmt.Printf("log scan: %d files, %d bytes of odod's logs and notifications: %d planted secrets found (bearer token, client keys, Secret value)\n", scanned.files, scanned.bytes, len(leaks))
	for _, l := range leaks {
		fmt.Println("  LEAK:", l)
	}
	failed := len(leaks) > 0
	for _, res := range results {
		for _, out := range res.runs {
			failed = failed || !out.converged || out.indexLies > 0
		}
		failed = failed || len(res.errs) > 0
	}
	if failed {
		return fmt.Errorf("the campaign found faults that did not converge, an index that lied, a failed injection or a leak (odod's logs: %s)", r.logDir)
	}
	return nil
}

// run makes one run of f: inject, converge, undo.
func (c *campaign) run(ctx context.Context, f fault) (outcome, error) {
	in, err := f.inject(ctx, c)
	if err != nil {
		return outcome{}, err
	}
	d, w := in.d, in.w
	if d == nil {
		d, w = c.d, c.w
	}
	o := c.r.converge(ctx, d, w, in.since, c.rt)
	o.indexLies = len(in.lies)
	if len(in.lies) > 0 {
		o.detail = strings.TrimSpace(o.detail + " index claimed: " + short(in.lies))
	}
	if in.after != nil {
		if err := in.after(ctx, &o); err != nil {
			o.converged = false
			o.detail = strings.TrimSpace(o.detail + " " + err.Error())
		}
	}
	if in.note != "" {
		o.detail = strings.TrimSpace(o.detail + " (" + in.note + ")")
	}
	return o, nil
}

func printTable(out *os.File, results []*result) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\truns\tconverged\tp50\tmax\tneeded a save\tlost\tleaked\tindex lies\tinjection failed")
	for _, res := range results {
		var took []time.Duration
		conv, saves, lost, leaked, lies := 0, 0, 0, 0, 0
		for _, o := range res.runs {
			if o.converged {
				conv++
				took = append(took, o.took)
			} else {
				lost += o.lost
				leaked += o.leaked
			}
			if o.saves > 0 {
				saves++
			}
			lies += o.indexLies
		}
		p50, max := "-", "-"
		if len(took) > 0 {
			slices.Sort(took)
			p50 = fmtDur(took[len(took)/2])
			max = fmtDur(took[len(took)-1])
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", res.f.name, len(res.runs), conv, p50, max, saves, lost, leaked, lies, len(res.errs))
	}
	_ = tw.Flush()
	for _, res := range results {
		for i, o := range res.runs {
			if !o.converged || o.indexLies > 0 || o.detail != "" {
				fmt.Fprintf(out, "  %s run %d: %s\n", res.f.name, i+1, o.detail)
			}
		}
		for _, e := range res.errs {
			fmt.Fprintf(out, "  %s: injection failed: %s\n", res.f.name, e)
		}
	}
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}

type scanned struct {
	files int
	bytes int64
}

// scan greps every file under dir for the planted values.
func scan(dir string, planted map[string]string) ([]string, scanned, error) {
	var leaks []string
	var s scanned
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s.files++
		s.bytes += int64(len(b))
		for what, v := range planted {
			if v != "" && strings.Contains(string(b), v) {
				leaks = append(leaks, fmt.Sprintf("%s in %s", what, p))
			}
		}
		return nil
	})
	return leaks, s, err
}
