//go:build !unix

package agentserver

import (
	"io/fs"
	"os"
	"path"
)

// The agent runs in a Linux container; elsewhere it runs only as the
// in-process fake container of the daemon's tests. There the same
// operations go through the root by path: slower, as confined.

type dirHandle struct {
	root *os.Root
	dir  string
}

type putFile struct{ f *os.File }

var noPutFile = putFile{}

func openDirHandle(root *os.Root, dir string) (*dirHandle, error) {
	fi, err := root.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: fs.ErrInvalid}
	}
	return &dirHandle{root: root, dir: dir}, nil
}

func (d *dirHandle) close() {}

func (d *dirHandle) create(name string, mode fs.FileMode) (putFile, error) {
	f, err := d.root.OpenFile(path.Join(d.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return noPutFile, err
	}
	return putFile{f: f}, nil
}

func (d *dirHandle) unlink(name string) { _ = d.root.Remove(path.Join(d.dir, name)) }

func (d *dirHandle) rename(from, to string) error {
	return d.root.Rename(path.Join(d.dir, from), path.Join(d.dir, to))
}

func (p putFile) open() bool { return p.f != nil }

func (p putFile) write(b []byte) error { _, err := p.f.Write(b); return err }

func (p putFile) chmod(mode fs.FileMode) error { return p.f.Chmod(mode) }

func (p putFile) close() error { return p.f.Close() }
