package sync

import (
	"fmt"
	"os"
	"path/filepath"
)

// openRegularInRoot opens the regular file at rel inside dir without
// following a symlink out of it: os.Root refuses a path that escapes, and
// the lstat/fstat comparison refuses a file swapped for a link (or for
// anything else) after it was indexed, so a push never uploads a file the
// index did not see, such as a link to ~/.ssh/id_rsa.
func openRegularInRoot(dir, rel string) (*os.File, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return openRegular(root, rel)
}

func openRegular(root *os.Root, rel string) (*os.File, error) {
	name := filepath.FromSlash(rel)
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	opened, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	linfo, err := root.Lstat(name)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !linfo.Mode().IsRegular() || !os.SameFile(linfo, opened) {
		_ = f.Close()
		return nil, fmt.Errorf("%s is no longer the regular file that was indexed (now %s); not sending it", rel, linfo.Mode().Type())
	}
	return f, nil
}

// RootSource is DirSource with the workspace root opened once, for a whole
// push (DirSource opens it for every file). Close it when the push ends.
type RootSource struct{ root *os.Root }

// OpenRootSource opens the workspace root dir.
func OpenRootSource(dir string) (*RootSource, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open the workspace %s: %w", dir, err)
	}
	return &RootSource{root: root}, nil
}

// Open implements Source.
func (s *RootSource) Open(rel string) (*os.File, error) { return openRegular(s.root, rel) }

// Close releases the root.
func (s *RootSource) Close() error { return s.root.Close() }
