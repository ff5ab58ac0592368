//go:build unix

// Command indexbench measures odod's workspace index on a node_modules-like
// tree, each figure beside the same work done by find and cat on the same
// tree in the same run (docs/performance.md, section Index).
//
//	indexbench gen  -dir /tmp/tree [-files 100000 -dirs 5000 -mb 400]
//	indexbench run  -dir /tmp/tree [-runs 3 -changes 20]
//	indexbench hold -dir /tmp/tree [-memprofile heap.pprof]   (child of run: RSS of an open, watched index)
//	indexbench serve -dir /tmp/tree [-odod bin/odod]   (RSS of odod serve watching the tree)
//	indexbench size -dir /tmp/tree   (bytes a file of the persisted index, beside odo's own format)
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/odod-dev/odod/indexer"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: indexbench gen|run|hold|serve|size -dir DIR [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fs.String("dir", "", "tree to generate or measure (required)")
	files := fs.Int("files", 100_000, "gen: number of files")
	dirs := fs.Int("dirs", 5000, "gen: number of directories")
	mb := fs.Int64("mb", 400, "gen: total size in MB")
	seed := fs.Uint64("seed", 1, "gen: random seed")
	runs := fs.Int("runs", 3, "run: repetitions of each timed step (the median is reported)")
	changes := fs.Int("changes", 20, "run: single-file changes timed")
	odod := fs.String("odod", "bin/odod", "serve: the odod binary")
	memProfile := fs.String("memprofile", "", "hold: write a heap profile (after a GC) to this file")
	_ = fs.Parse(os.Args[2:])
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "-dir is required")
		os.Exit(2)
	}
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "gen":
		start := time.Now()
		err = generate(*dir, genSpec{files: *files, dirs: *dirs, bytes: *mb << 20, seed: *seed})
		if err == nil {
			fmt.Printf("generated %s in %v\n", *dir, time.Since(start).Round(time.Millisecond))
		}
	case "run":
		err = measure(ctx, *dir, *runs, *changes)
	case "hold":
		err = hold(ctx, *dir, *memProfile)
	case "serve":
		err = serveRSS(ctx, *odod, *dir)
	case "size":
		err = indexSize(ctx, *dir)
	default:
		err = fmt.Errorf("unknown command %q: use gen, run, hold, serve or size", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "indexbench:", err)
		os.Exit(1)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

func timeIt(runs int, f func() error) (time.Duration, error) {
	var ds []time.Duration
	for range runs {
		start := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	return median(ds), nil
}

func shell(script string) func() error {
	return func() error {
		cmd := exec.Command("sh", "-c", script)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w: %s", script, err, stderr.String())
		}
		return nil
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func row(name string, d time.Duration, ref string, refD time.Duration) {
	ratio := ""
	if refD > 0 {
		ratio = fmt.Sprintf("%.2f× %s", float64(d)/float64(refD), ref)
	}
	fmt.Printf("  %-52s %10s   %s\n", name, d.Round(100*time.Microsecond), ratio)
}

func measure(ctx context.Context, dir string, runs, changes int) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	indexPath := filepath.Join(dir, indexer.IndexFile)
	_ = os.RemoveAll(filepath.Join(dir, ".odo"))
	q := strconv.Quote(dir)
	findCmd := shell("find " + q + " -printf '%s %T@\\n' > /dev/null")
	catCmd := shell("find " + q + " -type f -print0 | xargs -0 cat > /dev/null")

	// Warm the page cache: every figure below is with a warm cache.
	if err := catCmd(); err != nil {
		return err
	}
	fmt.Printf("indexbench: %s, %s, GOMAXPROCS %d, page cache warm\n", dir, runtime.Version(), runtime.GOMAXPROCS(0))

	findD, err := timeIt(runs, findCmd)
	if err != nil {
		return err
	}
	catD, err := timeIt(runs, catCmd)
	if err != nil {
		return err
	}

	var stats indexer.Stats
	coldD, err := timeIt(runs, func() error {
		w, err := indexer.Open(ctx, dir, indexer.Options{NoWatch: true})
		if err != nil {
			return err
		}
		stats = w.Stats()
		return w.Close()
	})
	if err != nil {
		return err
	}
	coldStatD, err := timeIt(runs, func() error {
		w, err := indexer.Open(ctx, dir, indexer.Options{NoWatch: true, Hashing: indexer.HashOff})
		if err != nil {
			return err
		}
		return w.Close()
	})
	if err != nil {
		return err
	}
	var coldWatchD time.Duration
	{
		start := time.Now()
		w, err := indexer.Open(ctx, dir, indexer.Options{})
		if err != nil {
			return err
		}
		coldWatchD = time.Since(start)
		// A confirmed first push: the index is persisted.
		if err := w.Confirm(w.Pending(), indexer.ConfirmMeta{PodUID: "bench"}); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	fi, err := os.Stat(indexPath)
	if err != nil {
		return err
	}

	warmD, err := timeIt(runs, func() error {
		w, err := indexer.Open(ctx, dir, indexer.Options{NoWatch: true})
		if err != nil {
			return err
		}
		if !w.Pending().Empty() {
			return errors.New("warm start found changes in an unchanged tree")
		}
		return w.Close()
	})
	if err != nil {
		return err
	}

	lat, cpu, pendingD, err := measureChanges(ctx, dir, changes)
	if err != nil {
		return err
	}
	rss, hwm, err := measureRSS(dir)
	if err != nil {
		return err
	}

	fmt.Printf("tree: %d files, %d directories, %.0f MB, %d ignored\n\n", stats.Files, stats.Dirs, float64(stats.Bytes)/(1<<20), stats.Ignored)
	fmt.Printf("  %-52s %10s\n", "reference: find -printf '%s %T@\\n' (walk + stat)", findD.Round(100*time.Microsecond))
	fmt.Printf("  %-52s %10s\n", "reference: find | xargs cat (walk + read all bytes)", catD.Round(100*time.Microsecond))
	row("cold index, hashes (walk + stat + read + xxh3)", coldD, "walk+read", catD)
	row("cold index, no hashes (walk + stat)", coldStatD, "find", findD)
	row("cold index, hashes, + watches on every directory", coldWatchD, "walk+read", catD)
	row("warm start from the persisted index (stat only)", warmD, "find", findD)
	fmt.Printf("  %-52s %10s   p90 %s (quiet window 50 ms)\n", "one change: event to ChangeSet (wall, median)", median(lat).Round(100*time.Microsecond), percentile(lat, 0.9).Round(100*time.Microsecond))
	fmt.Printf("  %-52s %10s   p90 %s\n", "one change: CPU used by the process meanwhile", median(cpu).Round(10*time.Microsecond), percentile(cpu, 0.9).Round(10*time.Microsecond))
	fmt.Printf("  %-52s %10s\n", "one change: Pending() (computing the ChangeSet)", pendingD.Round(100*time.Nanosecond))
	fmt.Printf("  %-52s %7.1f MiB   peak %.1f MiB\n", "RSS of a process holding the index + watcher", float64(rss)/(1<<20), float64(hwm)/(1<<20))
	fmt.Printf("  %-52s %10d   %.1f bytes/file (%d entries incl. directories: %.1f)\n", "persisted index size (bytes)", fi.Size(),
		float64(fi.Size())/float64(stats.Files), stats.Files+stats.Dirs, float64(fi.Size())/float64(stats.Files+stats.Dirs))
	return nil
}

// measureChanges edits one file at a time with the watcher running and
// times the path from the write to the batch that reports it.
func measureChanges(ctx context.Context, dir string, n int) (lat, cpu []time.Duration, pending time.Duration, err error) {
	batches := make(chan indexer.Batch, 64)
	w, err := indexer.Open(ctx, dir, indexer.Options{OnChange: func(b indexer.Batch) { batches <- b }})
	if err != nil {
		return nil, nil, 0, err
	}
	defer w.Close()
	snap := w.Snapshot()
	var targets []string
	for i := 0; i < len(snap) && len(targets) < n; i += len(snap)/n + 1 {
		if snap[i].IsRegular() {
			targets = append(targets, snap[i].Path)
		}
	}
	for i, p := range targets {
		time.Sleep(200 * time.Millisecond) // let the previous batch settle
		cpu0, t0 := cpuTime(), time.Now()
		if err := os.WriteFile(filepath.Join(dir, p), []byte(fmt.Sprintf("changed %d at %d\n", i, time.Now().UnixNano())), 0o644); err != nil {
			return nil, nil, 0, err
		}
	wait:
		for {
			select {
			case b := <-batches:
				for _, c := range b.Changes {
					if c.Path == p {
						break wait
					}
				}
			case <-time.After(10 * time.Second):
				return nil, nil, 0, fmt.Errorf("no batch reported %s", p)
			}
		}
		lat = append(lat, time.Since(t0))
		cpu = append(cpu, cpuTime()-cpu0)
		if i == len(targets)-1 {
			const calls = 1000
			start := time.Now()
			for range calls {
				if cs := w.Pending(); cs.Len() != len(targets) {
					return nil, nil, 0, fmt.Errorf("pending %d changes, want %d", cs.Len(), len(targets))
				}
			}
			pending = time.Since(start) / calls
		}
	}
	return lat, cpu, pending, nil
}

// measureRSS runs "indexbench hold" and reads its figures.
func measureRSS(dir string) (rss, hwm int64, err error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	out, err := exec.Command(self, "hold", "-dir", dir).Output()
	if err != nil {
		return 0, 0, fmt.Errorf("hold: %w", err)
	}
	_, err = fmt.Sscan(string(out), &rss, &hwm)
	return rss, hwm, err
}

// hold opens the workspace with its watcher from the persisted index, as
// odod serve does on workspace/open, waits, and prints VmRSS and VmHWM.
func hold(ctx context.Context, dir, memProfile string) error {
	if memProfile != "" {
		runtime.MemProfileRate = 4096 // fine-grained: the index is many small allocations
	}
	w, err := indexer.Open(ctx, dir, indexer.Options{})
	if err != nil {
		return err
	}
	defer w.Close()
	debug.FreeOSMemory()        // as odod serve does after workspace/open
	time.Sleep(5 * time.Second) // let the GC and the scavenger settle
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mib := func(n uint64) float64 { return float64(n) / (1 << 20) }
		fmt.Fprintf(os.Stderr, "heap: alloc %.1f MiB, in use %.1f (of spans), idle not released %.1f; stacks %.1f; GC metadata %.1f; spans %.1f; other %.1f\n",
			mib(ms.HeapAlloc), mib(ms.HeapInuse), mib(ms.HeapIdle-ms.HeapReleased), mib(ms.StackInuse), mib(ms.GCSys), mib(ms.MSpanInuse), mib(ms.OtherSys))
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	field := func(name string) int64 {
		for _, line := range strings.Split(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, name+":"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				return kb << 10
			}
		}
		return 0
	}
	fmt.Println(field("VmRSS"), field("VmHWM"))
	return nil
}
