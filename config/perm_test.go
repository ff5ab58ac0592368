//go:build !windows

package config

import (
	"os"
	"testing"
)

// The config holds env values (often secrets): it is private to its owner,
// as the file index is.
func TestSaveWritesAPrivateFile(t *testing.T) {
	dir := t.TempDir()
	cfg := New("frontend", "nodejs")
	cfg.SetEnv("TOKEN", "s3cret")
	if err := Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf(".odo/config.yaml mode %v, want 0600", perm)
	}
}
