package protocol_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/odod-dev/odod/protocol/internal/metamodel"
)

// TestGeneratedFilesAreCurrent regenerates metaModel.json and everything
// made from it in memory: a Go type, field, doc comment or method changed
// without go generate ./protocol fails here.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	files, err := metamodel.Generate("..")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("the generator made no files")
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./protocol)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./protocol and commit the result", name)
		}
	}
}
