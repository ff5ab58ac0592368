package indexer

import (
	"fmt"
	"os"
	"path/filepath"
)

// openDirInRoot opens the directory at rel under root for listing without
// following a symlink: os.Root refuses a path that escapes root, and the
// lstat/fstat comparison refuses a directory swapped for a link after its
// parent was listed (the walk would otherwise index, and the push upload,
// whatever the link points at).
func openDirInRoot(root, rel string) (*os.File, error) {
	if rel == "" {
		return os.Open(root)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	name := filepath.FromSlash(rel)
	f, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	opened, err := f.Stat()
	if err == nil {
		var linfo os.FileInfo
		if linfo, err = r.Lstat(name); err == nil && (!linfo.IsDir() || !os.SameFile(linfo, opened)) {
			err = fmt.Errorf("%s is no longer the directory that was listed (now %s); not following it", rel, linfo.Mode().Type())
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}
