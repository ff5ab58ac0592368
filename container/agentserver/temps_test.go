//go:build linux

package agentserver

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/odod-dev/odod/agent"
)

// A workspace file named like the agent's temporaries is listed (else a
// resync resends it every time); the temporaries a killed agent left are
// removed when the next one starts, unless recent (a put may be running).
func TestTempNamesListingAndStaleCleanup(t *testing.T) {
	root := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	files := map[string]time.Time{
		agent.TempPrefix + "notes":                      old,        // a workspace file
		"d/" + agent.TempPrefix + "app.js.0123456789ab": old,        // stale temporary
		agent.TempPrefix + "big.bin.abcdef012345":       time.Now(), // a put in progress
	}
	for name, mtime := range files {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	h := startAgentAt(t, root)
	entries, err := h.client.List(context.Background(), ".")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.Path] = true
	}
	if !listed[agent.TempPrefix+"notes"] {
		t.Errorf("workspace file %snotes not listed: %v", agent.TempPrefix, listed)
	}
	if listed[agent.TempPrefix+"big.bin.abcdef012345"] {
		t.Error("a temporary file was listed")
	}
	stale := filepath.Join(root, "d", agent.TempPrefix+"app.js.0123456789ab")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Lstat(stale); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stale temporary file was not removed")
		}
	}
	for _, keep := range []string{agent.TempPrefix + "notes", agent.TempPrefix + "big.bin.abcdef012345"} {
		if _, err := os.Lstat(filepath.Join(root, keep)); err != nil {
			t.Errorf("%s was removed: %v", keep, err)
		}
	}
}
