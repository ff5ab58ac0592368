package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odod-dev/odod/indexer"
)

func runIndex(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"index"}, args...), stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, root, p, content string) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestIndexCommandJSONAgainstPersistedIndex(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, ".gitignore", "dist/\n")
	writeFile(t, root, "a.js", "a")
	writeFile(t, root, "b.js", "bb")
	writeFile(t, root, "dist/out.js", "o")

	// A confirmed push of the current tree.
	w, err := indexer.Open(context.Background(), root, indexer.Options{NoWatch: true, PersistDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Confirm(w.Pending(), indexer.ConfirmMeta{PodUID: "pod-42"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(root, indexer.IndexFile))

	writeFile(t, root, "a.js", "changed")
	writeFile(t, root, "c.js", "c")
	if err := os.Remove(filepath.Join(root, "b.js")); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := runIndex(t, root, "-o", "json", "-v")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	// files, bytes, ignored are top-level fields.
	want := map[string]float64{"files": 3, "bytes": float64(len("dist/\n") + len("changed") + 1), "ignored": 2, "added": 1, "modified": 1, "deleted": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if got["podUID"] != "pod-42" || got["indexState"] != "loaded" {
		t.Errorf("podUID %v, indexState %v", got["podUID"], got["indexState"])
	}
	changes, _ := got["changes"].(map[string]any)
	if changes == nil || len(changes["added"].([]any)) != 1 || changes["added"].([]any)[0] != "c.js" ||
		changes["modified"].([]any)[0] != "a.js" || changes["deleted"].([]any)[0] != "b.js" {
		t.Errorf("changes = %v", got["changes"])
	}
	after, _ := os.ReadFile(filepath.Join(root, indexer.IndexFile))
	if !bytes.Equal(before, after) {
		t.Error("odod index changed the persisted index")
	}

	// Without -v, no paths.
	stdout, _, _ = runIndex(t, root, "-o", "json")
	if strings.Contains(stdout, `"changes"`) {
		t.Errorf("paths listed without -v:\n%s", stdout)
	}
}

func TestIndexCommandText(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "src/main.go", "package main\n")
	t.Chdir(root)
	stdout, stderr, code := runIndex(t, "-v")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"1 file, 1 directory", "no persisted index", "2 added, 0 modified, 0 deleted", "  A src\n", "  A src/main.go\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(root, ".odo")); !os.IsNotExist(err) {
		t.Error("odod index created .odo")
	}
}

func TestIndexCommandErrors(t *testing.T) {
	if _, stderr, code := runIndex(t, filepath.Join(t.TempDir(), "nope")); code == 0 || !strings.Contains(stderr, "open an existing folder") {
		t.Errorf("missing dir: exit %d, %q", code, stderr)
	}
	if _, stderr, code := runIndex(t, t.TempDir(), "-o", "yaml"); code == 0 || !strings.Contains(stderr, "json") {
		t.Errorf("bad -o: exit %d, %q", code, stderr)
	}
	root := t.TempDir()
	writeFile(t, root, ".odo/odo-file-index.json", "{broken")
	writeFile(t, root, "a", "a")
	stdout, _, code := runIndex(t, root)
	if code != 0 || !strings.Contains(stdout, "is corrupt") {
		t.Errorf("corrupt index: exit %d\n%s", code, stdout)
	}
}
