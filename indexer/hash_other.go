//go:build !unix

package indexer

import (
	"io"
	"os"

	"github.com/zeebo/xxh3"
)

// hashFile returns the xxh3-64 of a regular file's content.
func hashFile(abs string, size int64, buf []byte) (uint64, error) {
	_ = size // read to EOF: portable and simple
	f, err := os.Open(abs)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := xxh3.New()
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf); err != nil {
		return 0, err
	}
	return h.Sum64(), nil
}
