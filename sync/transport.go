package sync

import (
	"context"
	"errors"
	"io"
	"os"
)

// Transport applies plans to one container and runs commands there.
type Transport interface {
	// Name is "agent" or "tar", for logs and results.
	Name() string
	// Apply carries out plan, reading file content from src, and calls
	// progress as operations complete. It stops at the first failure:
	// the caller must not confirm the changes then.
	Apply(ctx context.Context, plan Plan, src Source, progress func(Progress)) (Result, error)
	// Run runs argv in the container, streaming its output as it comes,
	// and returns its exit status.
	Run(ctx context.Context, argv, env []string, stdout, stderr io.Writer) (int, error)
	// Close releases the transport (ends the exec stream).
	Close() error
}

// Lister is implemented by transports that can list the container's files
// with content hashes, which makes a resync send only what differs.
type Lister interface {
	List(ctx context.Context) ([]Entry, error)
}

// Source opens local files for a push.
type Source interface {
	// Open opens the file at a slash-separated relative path.
	Open(rel string) (*os.File, error)
}

// DirSource reads files from a workspace root, never through a symlink.
type DirSource string

// Open implements Source.
func (d DirSource) Open(rel string) (*os.File, error) {
	return openRegularInRoot(string(d), rel)
}

// Progress is how far a push's transfer is.
type Progress struct {
	FilesDone, FilesTotal int
	BytesDone, BytesTotal int64
	// Path is the last path done.
	Path string
}

// Result is what Apply did.
type Result struct {
	FilesCopied  int
	FilesDeleted int
	Bytes        int64
}

// ErrTarMissing is returned by the tar transport when the container has no
// tar.
var ErrTarMissing = errors.New("the container has no tar: odod's agent (in its init image) is the way to sync into images without tar")

// exitCoder is what an Executor's error for a command that ran and exited
// non-zero has in its chain: *cluster.ExitError is one, and so is
// *exec.ExitError of os/exec.
type exitCoder interface {
	ExitCode() int
}

// exitStatus is the status of a command that ran and exited non-zero, from
// err's chain; ok is false for any other failure.
func exitStatus(err error) (code int, ok bool) {
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode(), true
	}
	return 0, false
}

// progressCounter accumulates a plan's progress.
type progressCounter struct {
	p      Progress
	report func(Progress)
}

func newProgressCounter(plan Plan, report func(Progress)) *progressCounter {
	if report == nil {
		report = func(Progress) {}
	}
	return &progressCounter{p: Progress{FilesTotal: plan.Files + plan.Deletes, BytesTotal: plan.Bytes}, report: report}
}

func (c *progressCounter) done(path string, bytes int64) {
	c.p.FilesDone++
	c.p.BytesDone += bytes
	c.p.Path = path
	c.report(c.p)
}
