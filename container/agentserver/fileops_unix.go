//go:build unix

package agentserver

import (
	"fmt"
	"golang.org/x/sys/unix"
	"io/fs"
	"os"
)

// dirHandle is an open directory below the root (opened through it, so
// confined). Puts create, write and rename their files relative to its
// descriptor with raw system calls, names of one component and
// O_NOFOLLOW|O_EXCL: nothing is resolved outside it, and a file costs
// four or five system calls (Go's os.File adds poller registration and
// blocking-mode switches, as many again).
type dirHandle struct {
	f  *os.File
	fd int
}

// putFile is a temporary file being written; fd is -1 when closed.
type putFile struct{ fd int }

var noPutFile = putFile{fd: -1}

func openDirHandle(root *os.Root, dir string) (*dirHandle, error) {
	f, err := root.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	d := &dirHandle{f: f, fd: -1}
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { d.fd = int(fd) })
	}
	if d.fd < 0 {
		_ = f.Close()
		return nil, fmt.Errorf("open directory %s: no descriptor", dir)
	}
	return d, nil
}

func (d *dirHandle) close() { _ = d.f.Close() }

// create makes name, which must not exist, in the directory.
func (d *dirHandle) create(name string, mode fs.FileMode) (putFile, error) {
	for {
		fd, err := unix.Openat(d.fd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(mode))
		if err != unix.EINTR {
			if err != nil {
				return noPutFile, err
			}
			return putFile{fd: fd}, nil
		}
	}
}

func (d *dirHandle) unlink(name string) { _ = unix.Unlinkat(d.fd, name, 0) }

// rename replaces to with from; both are single components in the
// directory, so it follows nothing (a symlink at to is replaced).
func (d *dirHandle) rename(from, to string) error { return unix.Renameat(d.fd, from, d.fd, to) }

func (p putFile) open() bool { return p.fd >= 0 }

func (p putFile) write(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(p.fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func (p putFile) chmod(mode fs.FileMode) error { return unix.Fchmod(p.fd, uint32(mode)) }

func (p putFile) close() error { return unix.Close(p.fd) }
