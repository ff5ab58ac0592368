//go:build unix

package indexer

import (
	"errors"
	"io/fs"
	"syscall"

	"github.com/zeebo/xxh3"
)

// hashFile returns the xxh3-64 of a regular file's content. It uses raw
// system calls: os.Open's poller registration and fcntl cost as much as
// reading a small file, and most of a node_modules tree is small files.
// O_NOFOLLOW refuses a symlink swapped in since lstat (never read through
// a link), O_NONBLOCK a FIFO (never hang).
//
// It stops after size bytes, the size lstat gave, which saves the read
// that would only see EOF: the hash then matches the stat it is stored
// with, and a write after the lstat brings its own event.
func hashFile(abs string, size int64, buf []byte) (uint64, error) {
	if size == 0 {
		return xxh3.Hash(nil), nil
	}
	var fd int
	var err error
	for {
		fd, err = syscall.Open(abs, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return 0, &fs.PathError{Op: "open", Path: abs, Err: err}
	}
	defer syscall.Close(fd)
	var h *xxh3.Hasher
	filled := 0
	var total int64
	for total < size {
		want := buf[filled:]
		if rest := size - total; rest < int64(len(want)) {
			want = want[:rest]
		}
		n, err := syscall.Read(fd, want)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: abs, Err: err}
		}
		if n == 0 {
			break
		}
		filled += n
		total += int64(n)
		if filled == len(buf) {
			if h == nil {
				h = xxh3.New()
			}
			_, _ = h.Write(buf)
			filled = 0
		}
	}
	if h == nil {
		return xxh3.Hash(buf[:filled]), nil
	}
	_, _ = h.Write(buf[:filled])
	return h.Sum64(), nil
}
