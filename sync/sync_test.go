package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/odod-dev/odod/agent"
	"github.com/odod-dev/odod/container/agentserver"
	"github.com/odod-dev/odod/initimage"
)

func ops(p Plan) []string {
	var out []string
	for _, op := range p.Ops {
		out = append(out, op.Kind.String()+" "+op.Path)
	}
	return out
}

func TestPlanChanges(t *testing.T) {
	entries := map[string]Entry{
		"a.js":        {Path: "a.js", Size: 3, Mode: 0o644},
		"lib":         {Path: "lib", Mode: fs.ModeDir | 0o755},
		"lib/b.js":    {Path: "lib/b.js", Size: 5, Mode: 0o644},
		"link":        {Path: "link", Mode: fs.ModeSymlink | 0o777, LinkTarget: "a.js"},
		"escape":      {Path: "escape", Mode: fs.ModeSymlink | 0o777, LinkTarget: "../../etc/passwd", OutsideLink: true},
		"changed-dir": {Path: "changed-dir", Mode: fs.ModeDir | 0o755},
	}
	lookup := func(p string) (Entry, bool) { e, ok := entries[p]; return e, ok }
	p := PlanChanges(Changes{
		Added:    []string{"lib/b.js", "lib", "link", "escape", "vanished.js"},
		Modified: []string{"a.js", "changed-dir"},
		Deleted:  []string{"old/x.js", "old", "old-y", "z.js"},
	}, lookup)
	want := []string{"delete old", "delete old-y", "delete z.js", "mkdir lib", "put a.js", "put lib/b.js", "symlink link"}
	if got := ops(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("ops = %v\nwant %v", got, want)
	}
	if p.Files != 3 || p.Bytes != 8 || p.Deletes != 3 || !reflect.DeepEqual(p.Skipped, []string{"escape"}) {
		t.Fatalf("plan = files %d bytes %d deletes %d skipped %v", p.Files, p.Bytes, p.Deletes, p.Skipped)
	}
}

func TestTopmostKeepsSiblingsWithCommonPrefixes(t *testing.T) {
	got := topmost([]string{"a/b", "a-b", "a", "a-b/c", "ab"})
	want := []string{"a", "a-b", "ab"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("topmost = %v, want %v", got, want)
	}
}

func TestPlanFullSendsOnlyWhatDiffers(t *testing.T) {
	local := []Entry{
		{Path: "same.js", Size: 2, Mode: 0o644, Hash: "h1"},
		{Path: "changed.js", Size: 2, Mode: 0o644, Hash: "h2"},
		{Path: "new.js", Size: 4, Mode: 0o644, Hash: "h3"},
		{Path: "mode.sh", Size: 1, Mode: 0o755, Hash: "h4"},
		{Path: "dir", Mode: fs.ModeDir | 0o755},
		{Path: "dir/f", Size: 1, Mode: 0o644, Hash: "h5"},
		{Path: "was-file", Mode: fs.ModeDir | 0o755},
		{Path: "was-file/g", Size: 1, Mode: 0o644, Hash: "h6"},
	}
	remote := []Entry{
		{Path: "same.js", Size: 2, Mode: 0o644, Hash: "h1"},
		{Path: "changed.js", Size: 2, Mode: 0o644, Hash: "other"},
		{Path: "mode.sh", Size: 1, Mode: 0o644, Hash: "h4"},
		{Path: "stale", Mode: fs.ModeDir | 0o755},
		{Path: "stale/x", Size: 1, Mode: 0o644, Hash: "x"},
		{Path: "dir", Mode: fs.ModeDir | 0o755},
		{Path: "dir/f", Size: 1, Mode: 0o644, Hash: "h5"},
		{Path: "was-file", Size: 1, Mode: 0o644, Hash: "y"},
	}
	p := PlanFull(local, remote)
	want := []string{"delete stale", "delete was-file", "mkdir was-file", "put changed.js", "put mode.sh", "put new.js", "put was-file/g"}
	if got := ops(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("ops = %v\nwant %v", got, want)
	}
	// With no remote listing, everything is sent.
	if all := PlanFull(local, nil); all.Files != 6 {
		t.Fatalf("full plan without remote: %d files, want 6", all.Files)
	}
}

// localExecutor runs commands on this machine, standing in for a
// container: the agent in-process, anything else with os/exec.
type localExecutor struct {
	calls [][]string
}

func (l *localExecutor) Exec(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	l.calls = append(l.calls, argv)
	if argv[0] == initimage.AgentCommand("")[0] {
		return agentserver.Serve(ctx, stdin, stdout, agentserver.Options{Root: argv[2], Version: "test"})
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	// A non-zero exit is an *exec.ExitError, whose ExitCode the
	// transports read as they read *cluster.ExitError's.
	return cmd.Run()
}

// workspace makes a local tree and the entries of it.
func workspace(t *testing.T, files map[string]string) (string, map[string]Entry) {
	t.Helper()
	root := t.TempDir()
	entries := map[string]Entry{}
	for rel, content := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(content, "->") {
			if err := os.Symlink(strings.TrimPrefix(content, "->"), p); err != nil {
				t.Fatal(err)
			}
			entries[rel] = Entry{Path: rel, Mode: fs.ModeSymlink | 0o777, LinkTarget: strings.TrimPrefix(content, "->")}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		entries[rel] = Entry{Path: rel, Size: int64(len(content)), Mode: 0o644, Hash: agent.HashBytes([]byte(content))}
		for d := filepath.Dir(rel); d != "."; d = filepath.Dir(d) {
			entries[filepath.ToSlash(d)] = Entry{Path: filepath.ToSlash(d), Mode: fs.ModeDir | 0o755}
		}
	}
	return root, entries
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "->" + target
		case d.Type().IsRegular():
			b, _ := os.ReadFile(p)
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func addedChanges(entries map[string]Entry) Changes {
	var ch Changes
	for p := range entries {
		ch.Added = append(ch.Added, p)
	}
	sort.Strings(ch.Added)
	return ch
}

// transports returns each transport on a fresh target directory.
func transports(t *testing.T) map[string]func() (Transport, string) {
	return map[string]func() (Transport, string){
		"agent": func() (Transport, string) {
			target := filepath.Join(t.TempDir(), "src")
			tr, err := DialAgent(context.Background(), &localExecutor{}, target, "test", nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tr.Close() })
			return tr, target
		},
		"tar": func() (Transport, string) {
			target := filepath.Join(t.TempDir(), "src")
			tr, err := NewTarTransport(context.Background(), &localExecutor{}, target)
			if err != nil {
				t.Fatal(err)
			}
			return tr, target
		},
	}
}

func TestTransportsApplyPlans(t *testing.T) {
	for name, open := range transports(t) {
		t.Run(name, func(t *testing.T) {
			tr, target := open()
			root, entries := workspace(t, map[string]string{
				"server.js": "console.log(1)", "lib/util.js": "u", "lib/deep/x.js": "xx", "link.js": "->server.js",
			})
			lookup := func(p string) (Entry, bool) { e, ok := entries[p]; return e, ok }
			plan := PlanChanges(addedChanges(entries), lookup)
			var last Progress
			res, err := tr.Apply(context.Background(), plan, DirSource(root), func(p Progress) { last = p })
			if err != nil {
				t.Fatal(err)
			}
			if res.FilesCopied != 4 || res.Bytes != 17 || last.FilesDone != 4 || last.BytesDone != 17 || last.FilesTotal != 4 {
				t.Fatalf("result %+v, last progress %+v", res, last)
			}
			want := map[string]string{"server.js": "console.log(1)", "lib/util.js": "u", "lib/deep/x.js": "xx", "link.js": "->server.js"}
			if got := readTree(t, target); !reflect.DeepEqual(got, want) {
				t.Fatalf("container tree = %v, want %v", got, want)
			}

			// Edit one file, delete a directory and a file.
			if err := os.WriteFile(filepath.Join(root, "server.js"), []byte("console.log(2)"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Join(root, "lib")); err != nil {
				t.Fatal(err)
			}
			plan = PlanChanges(Changes{Modified: []string{"server.js"}, Deleted: []string{"lib", "lib/util.js", "link.js"}}, lookup)
			res, err = tr.Apply(context.Background(), plan, DirSource(root), nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.FilesCopied != 1 || res.FilesDeleted != 2 {
				t.Fatalf("second result %+v", res)
			}
			if got := readTree(t, target); !reflect.DeepEqual(got, map[string]string{"server.js": "console.log(2)"}) {
				t.Fatalf("container tree after edit and deletes = %v", got)
			}

			code, err := tr.Run(context.Background(), []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, nil, &strings.Builder{}, io.Discard)
			if err != nil || code != 3 {
				t.Fatalf("run: code %d, err %v", code, err)
			}
		})
	}
}

func TestAgentResyncListsAndSendsOnlyDifferences(t *testing.T) {
	target := filepath.Join(t.TempDir(), "src")
	tr, err := DialAgent(context.Background(), &localExecutor{}, target, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	root, entries := workspace(t, map[string]string{"a": "1", "b": "22", "c/d": "333"})
	all := func() []Entry {
		var out []Entry
		for _, e := range entries {
			out = append(out, e)
		}
		return out
	}
	if _, err := tr.Apply(context.Background(), PlanFull(all(), nil), DirSource(root), nil); err != nil {
		t.Fatal(err)
	}
	// The container gains a stray file and loses one (a restarted pod).
	if err := os.WriteFile(filepath.Join(target, "stray"), []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(target, "b")); err != nil {
		t.Fatal(err)
	}
	remote, err := tr.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	plan := PlanFull(all(), remote)
	if got := ops(plan); !reflect.DeepEqual(got, []string{"delete stray", "put b"}) {
		t.Fatalf("resync ops = %v", got)
	}
	if _, err := tr.Apply(context.Background(), plan, DirSource(root), nil); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, target); !reflect.DeepEqual(got, map[string]string{"a": "1", "b": "22", "c/d": "333"}) {
		t.Fatalf("after resync: %v", got)
	}
}

func TestAgentPutOfAVanishedFileFailsTheApply(t *testing.T) {
	target := filepath.Join(t.TempDir(), "src")
	tr, err := DialAgent(context.Background(), &localExecutor{}, target, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	root := t.TempDir()
	plan := PlanChanges(Changes{Added: []string{"gone.js"}}, func(string) (Entry, bool) { return Entry{Path: "gone.js", Size: 3, Mode: 0o644}, true })
	if _, err := tr.Apply(context.Background(), plan, DirSource(root), nil); err == nil || !strings.Contains(err.Error(), "push again") {
		t.Fatalf("apply of a vanished file: %v", err)
	}
}

func TestDialAgentWithoutAgentIsErrNoAgent(t *testing.T) {
	exec := execFunc(func(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
		_, _ = io.WriteString(stderr, "exec: \"/opt/odo/bin/agent\": stat /opt/odo/bin/agent: no such file or directory")
		return exitedWith(127)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := DialAgent(ctx, exec, "/tmp/src", "test", nil)
	if !errors.Is(err, ErrNoAgent) {
		t.Fatalf("dial without agent: %v, want ErrNoAgent", err)
	}
}

func TestTarTransportWithoutTarIsErrTarMissing(t *testing.T) {
	exec := execFunc(func(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
		return exitedWith(127)
	})
	if _, err := NewTarTransport(context.Background(), exec, "/tmp/src"); !errors.Is(err, ErrTarMissing) {
		t.Fatalf("got %v, want ErrTarMissing", err)
	}
}

type execFunc func(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) error

func (f execFunc) Exec(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return f(ctx, argv, stdin, stdout, stderr)
}

// exitedWith is the error of a command that exited with code, as an
// Executor reports it.
type exitedWith int

func (e exitedWith) Error() string { return fmt.Sprintf("command exited with code %d", int(e)) }
func (e exitedWith) ExitCode() int { return int(e) }
