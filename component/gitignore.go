package component

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/odod-dev/odod/indexer"
)

// ensureGitignored adds the file index to the workspace's .gitignore,
// creating it if missing, as odo did from v1.1: the index is per machine
// and must not be committed. A line already naming it is left alone.
func ensureGitignored(root string) error {
	p := filepath.Join(root, ".gitignore")
	data, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		switch string(bytes.TrimSpace(line)) {
		case indexer.IndexFile, "/" + indexer.IndexFile, ".odo", ".odo/", "/.odo", "/.odo/":
			return nil
		}
	}
	var add []byte
	if len(data) > 0 && data[len(data)-1] != '\n' {
		add = append(add, '\n')
	}
	add = append(add, indexer.IndexFile+"\n"...)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(add); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("add %s to %s: %w", indexer.IndexFile, p, err)
	}
	return nil
}
