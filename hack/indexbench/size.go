//go:build unix

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/odod-dev/odod/indexer"
)

// indexSize indexes dir (hashes on), confirms a push of everything so that
// the index is written, and prints its size a file beside the size of the
// same entries in odo's own format (odo v1's FileIndex, written with
// encoding/json: size and mtime only, no hashes).
func indexSize(ctx context.Context, dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	_ = os.RemoveAll(filepath.Join(dir, ".odo"))
	w, err := indexer.Open(ctx, dir, indexer.Options{NoWatch: true})
	if err != nil {
		return err
	}
	stats := w.Stats()
	snap := w.Snapshot()
	if err := w.Confirm(w.Pending(), indexer.ConfirmMeta{PodUID: "bench"}); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	fi, err := os.Stat(filepath.Join(dir, indexer.IndexFile))
	if err != nil {
		return err
	}
	type fileData struct {
		Size             int64
		LastModifiedDate time.Time
	}
	odo := struct {
		Kind       string              `json:"kind"`
		APIVersion string              `json:"apiVersion"`
		Files      map[string]fileData `json:"Files"`
	}{Kind: "FileIndex", APIVersion: "v1", Files: make(map[string]fileData, len(snap))}
	for _, e := range snap {
		odo.Files[e.Path] = fileData{Size: e.Size, LastModifiedDate: e.ModTime}
	}
	odoBytes, err := json.Marshal(odo)
	if err != nil {
		return err
	}
	perFile := func(n int64) float64 { return float64(n) / float64(stats.Files) }
	fmt.Printf("%d files, %d dirs: odod's index %d bytes (%.1f a file), odo's format of the same entries %d bytes (%.1f a file)\n",
		stats.Files, stats.Dirs, fi.Size(), perFile(fi.Size()), len(odoBytes), perFile(int64(len(odoBytes))))
	return nil
}
