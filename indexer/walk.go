package indexer

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"go.uber.org/zap"
)

// scanned is one path a walk found, with its state.
type scanned struct {
	path string
	st   state
}

// walkResult is what a walk of one directory's subtree found. The start
// directory itself is not in entries.
type walkResult struct {
	entries []scanned
	dirs    []string          // directories read, the start included
	ignored []string          // ignored paths where the walk stopped
	rules   map[string][]rule // parsed ignore file of each directory that has one
	scratch []scanned         // one directory's entries, reused
}

// walker walks a subtree in parallel. It never follows a symlink and never
// descends into an ignored directory.
type walker struct {
	root    string // absolute, symlinks resolved
	ig      *ignorer
	workers int
	hash    bool
	logger  *zap.Logger
	// prior returns what is already known about a path, so that a file whose
	// lstat did not change keeps its hash instead of being read again.
	prior func(rel string) (state, bool)
	// beforeRead is called for each directory before it is listed: a watch
	// added there sees every change the listing might miss.
	beforeRead func(rel string)
	// progress receives the running count of entries found.
	progress func(done int)
	// bufs recycles read buffers between walks and batches (may be nil).
	bufs *sync.Pool
	// badName, when set, is told of a path left out because its name is
	// not valid UTF-8.
	badName func(rel string)
	// emit, when set, receives each directory's entries (from several
	// goroutines; it must not keep the slice) instead of the result
	// collecting them: Open builds the index without a second copy.
	emit func(entries []scanned)
}

const readBufSize = 128 << 10

func (w *walker) getBuf() []byte {
	if w.bufs != nil {
		if b, ok := w.bufs.Get().(*[]byte); ok {
			return *b
		}
	}
	return make([]byte, readBufSize)
}

func (w *walker) putBuf(b []byte) {
	if w.bufs != nil {
		w.bufs.Put(&b)
	}
}

func defaultWorkers() int {
	n := 2 * runtime.GOMAXPROCS(0)
	if n < 4 {
		n = 4
	}
	return n
}

type dirTask struct {
	rel   string
	comps []string
	chain *ruleChain
}

// walk lists start's subtree; chain holds the rules of start's ancestors
// (start reads its own ignore file). It fails only when ctx is cancelled;
// unreadable directories and vanished files are logged and skipped.
func (w *walker) walk(ctx context.Context, start string, chain *ruleChain) (*walkResult, error) {
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		queue   = []dirTask{{rel: start, comps: splitRel(start), chain: chain}}
		busy    int
		done    bool
		found   int
		results []*walkResult
	)
	reportEvery := 1024
	lastReported := 0
	report := func(n int) {
		if w.progress == nil {
			return
		}
		mu.Lock()
		found += n
		now := found
		due := now-lastReported >= reportEvery
		if due {
			lastReported = now
		}
		mu.Unlock()
		if due {
			w.progress(now)
		}
	}

	workers := w.workers
	if workers <= 0 {
		workers = defaultWorkers()
	}
	var wg sync.WaitGroup
	for range workers {
		res := &walkResult{rules: map[string][]rule{}}
		results = append(results, res)
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := w.getBuf()
			defer w.putBuf(buf)
			for {
				mu.Lock()
				for len(queue) == 0 && !done {
					cond.Wait()
				}
				if done {
					mu.Unlock()
					return
				}
				task := queue[len(queue)-1]
				queue = queue[:len(queue)-1]
				busy++
				mu.Unlock()

				var subdirs []dirTask
				if ctx.Err() == nil {
					subdirs = w.readDir(task, res, buf, report)
				}

				mu.Lock()
				busy--
				queue = append(queue, subdirs...)
				if (len(queue) == 0 && busy == 0) || ctx.Err() != nil {
					done = true
				}
				cond.Broadcast()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	merged := results[0]
	for _, r := range results[1:] {
		merged.entries = append(merged.entries, r.entries...)
		merged.dirs = append(merged.dirs, r.dirs...)
		merged.ignored = append(merged.ignored, r.ignored...)
		for k, v := range r.rules {
			merged.rules[k] = v
		}
	}
	if w.progress != nil && found != lastReported {
		w.progress(found)
	}
	return merged, nil
}

func splitRel(rel string) []string {
	if rel == "" {
		return nil
	}
	return strings.Split(rel, "/")
}

func (w *walker) abs(rel string) string {
	if rel == "" {
		return w.root
	}
	return w.root + string(filepath.Separator) + filepath.FromSlash(rel)
}

// readDir lists one directory into res and returns its subdirectories.
func (w *walker) readDir(task dirTask, res *walkResult, buf []byte, report func(int)) []dirTask {
	if w.beforeRead != nil {
		w.beforeRead(task.rel)
	}
	absDir := w.abs(task.rel)
	f, err := openDirInRoot(w.root, task.rel)
	if err != nil {
		w.logSkip("cannot open directory; its content is not indexed", task.rel, err)
		return nil
	}
	list, err := f.ReadDir(-1)
	_ = f.Close()
	if err != nil {
		w.logSkip("cannot list directory; its content is not indexed", task.rel, err)
		return nil
	}
	res.dirs = append(res.dirs, task.rel)

	chain := task.chain
	if name := w.ig.ignoreFileFor(func(n string) bool { return hasRegularEntry(list, n) }); name != "" {
		data, err := os.ReadFile(filepath.Join(absDir, name))
		if err != nil {
			w.logSkip("cannot read ignore file; its rules are not applied", joinRel(task.rel, name), err)
		} else if rules := parseRules(data); len(rules) > 0 {
			res.rules[task.rel] = rules
			chain = chain.push(len(task.comps), rules)
		}
	}

	var subdirs []dirTask
	found := res.scratch[:0]
	comps := make([]string, len(task.comps)+1)
	copy(comps, task.comps)
	for _, d := range list {
		name := d.Name()
		rel := joinRel(task.rel, name)
		if !validName(name) {
			w.logger.Warn("file name is not valid UTF-8; not indexed", zap.String("path", rel))
			if w.badName != nil {
				w.badName(rel)
			}
			continue
		}
		comps[len(comps)-1] = name
		isDir := d.IsDir()
		if w.ig.ignored(chain, comps, isDir) {
			res.ignored = append(res.ignored, rel)
			continue
		}
		info, err := d.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.logSkip("cannot stat; not indexed", rel, err)
			}
			continue
		}
		if !indexable(info.Mode()) {
			w.logger.Debug("not a file, directory or symlink; not indexed", zap.String("path", rel), zap.Stringer("mode", info.Mode()))
			continue
		}
		st := w.complete(rel, stateFromInfo(info), buf, false)
		if !st.exists() {
			continue
		}
		found = append(found, scanned{path: rel, st: st})
		if st.isDir() {
			sub := make([]string, len(comps))
			copy(sub, comps)
			subdirs = append(subdirs, dirTask{rel: rel, comps: sub, chain: chain})
		}
	}
	if w.emit != nil {
		// In name order, each record is appended to its directory's
		// records rather than inserted among them.
		slices.SortFunc(found, func(a, b scanned) int { return strings.Compare(a.path, b.path) })
		w.emit(found)
		res.scratch = found[:0]
	} else {
		res.entries = append(res.entries, found...)
		res.scratch = found[:0]
	}
	report(len(list))
	return subdirs
}

// hasRegularEntry looks name up in a listing (in directory order, unsorted).
func hasRegularEntry(list []fs.DirEntry, name string) bool {
	for _, d := range list {
		if d.Name() == name {
			return d.Type().IsRegular()
		}
	}
	return false
}

// complete fills what lstat does not give: a link's target, and a regular
// file's hash (reused from prior when lstat saw no change, unless force).
// A path that vanished meanwhile comes back absent.
func (w *walker) complete(rel string, st state, buf []byte, force bool) state {
	switch {
	case st.mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(w.abs(rel))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return state{}
			}
			w.logSkip("cannot read symlink target", rel, err)
		}
		return st.withLink(rel, target)
	case st.isRegular() && w.hash:
		if !force && w.prior != nil {
			if old, ok := w.prior(rel); ok && old.hashed() && sameStat(old, st) {
				return st.withHash(old.hash)
			}
		}
		h, err := hashFile(w.abs(rel), st.size, buf)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return state{}
			}
			w.logSkip("cannot read file to hash it; changes are detected by size and mtime only", rel, err)
			return st
		}
		return st.withHash(h)
	}
	return st
}

func (w *walker) logSkip(msg, rel string, err error) {
	w.logger.Warn(msg, zap.String("path", rel), zap.Error(err))
}
