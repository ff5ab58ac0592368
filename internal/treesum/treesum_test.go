package treesum

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLocalSkipsOdodAndGitAndListsLinks(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a.txt", "a")
	write(t, root, "sub/b.txt", "b")
	write(t, root, ".odo/odo-file-index.json", "{}")
	write(t, root, "sub/.git/HEAD", "ref")
	if err := os.Symlink("sub", filepath.Join(root, "link")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	got, err := Local(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a.txt ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
		"link -> sub",
		"sub/b.txt 3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Local = %q, want %q", got, want)
	}
	if p := Paths(got); !slices.Equal(p, []string{"a.txt", "link", "sub/b.txt"}) {
		t.Fatalf("Paths = %q", p)
	}
}

// shExecer runs the command on this machine, as the container would.
type shExecer struct{}

func (shExecer) Exec(ctx context.Context, _, _ string, argv []string, _ io.Reader, stdout, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

func TestRemoteListsAsLocalDoes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the container's listing uses GNU find, as on Linux")
	}
	root := t.TempDir()
	write(t, root, "a b.txt", "with a space")
	write(t, root, "sub/c.txt", "c")
	write(t, root, "node_modules/x/index.js", "built")
	if err := os.Symlink("../a b.txt", filepath.Join(root, "sub", "l")); err != nil {
		t.Fatal(err)
	}
	got, err := Remote(context.Background(), shExecer{}, "pod", "ctr", root, "node_modules")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "node_modules")); err != nil {
		t.Fatal(err)
	}
	want, err := Local(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Remote = %q\nLocal = %q", got, want)
	}
}

func TestDiff(t *testing.T) {
	missing, extra := Diff([]string{"a 1", "b 2", "c 3"}, []string{"a 1", "b 9", "d 4"})
	if !slices.Equal(missing, []string{"b 2", "c 3"}) || !slices.Equal(extra, []string{"b 9", "d 4"}) {
		t.Fatalf("Diff: missing %q extra %q", missing, extra)
	}
}
