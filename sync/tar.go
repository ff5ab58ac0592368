package sync

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Executor runs a command in the component's container, as `kubectl exec
// -i`: the error of a command that exited non-zero has an ExitCode() int
// method in its chain (*cluster.ExitError has).
type Executor interface {
	Exec(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// PodExecer runs a command in a container of a pod; *cluster.Client is one.
type PodExecer interface {
	Exec(ctx context.Context, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// ContainerExecutor binds a PodExecer to one container.
type ContainerExecutor struct {
	Execer    PodExecer
	Pod       string
	Container string
}

// Exec implements Executor.
func (c ContainerExecutor) Exec(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return c.Execer.Exec(ctx, c.Pod, c.Container, argv, stdin, stdout, stderr)
}

// TarTransport is the fallback for containers odod did not set up: tar
// over exec, as odo and kubectl cp do, and rm -rf for deletions.
type TarTransport struct {
	exec   Executor
	target string
}

// maxRmArgBytes bounds one rm command line.
const maxRmArgBytes = 64 << 10

// NewTarTransport checks that the container has tar and creates target.
func NewTarTransport(ctx context.Context, exec Executor, target string) (*TarTransport, error) {
	var stderr bytes.Buffer
	script := `command -v tar >/dev/null || exit 127; mkdir -p "$1"`
	if err := exec.Exec(ctx, []string{"sh", "-c", script, "sh", target}, nil, io.Discard, &stderr); err != nil {
		if code, ok := exitStatus(err); ok && (code == 127 || code == 126) {
			return nil, ErrTarMissing
		}
		return nil, fmt.Errorf("prepare %s in the container: %w: %s", target, err, strings.TrimSpace(stderr.String()))
	}
	return &TarTransport{exec: exec, target: target}, nil
}

// Name implements Transport.
func (t *TarTransport) Name() string { return "tar" }

// Apply implements Transport.
func (t *TarTransport) Apply(ctx context.Context, plan Plan, src Source, report func(Progress)) (Result, error) {
	var res Result
	progress := newProgressCounter(plan, report)
	var deletes []string
	for _, op := range plan.Ops {
		if op.Kind == OpDelete {
			deletes = append(deletes, op.Path)
		}
	}
	if err := t.remove(ctx, deletes); err != nil {
		return res, err
	}
	for _, d := range deletes {
		res.FilesDeleted++
		progress.done(d, 0)
	}
	if plan.Files == 0 && !hasKind(plan, OpMkdir) {
		return res, nil
	}
	if err := t.unlinkStaleLinks(ctx, plan); err != nil {
		return res, err
	}

	pr, pw := io.Pipe()
	writeErr := make(chan error, 1)
	go func() {
		err := writeTar(pw, plan, src, func(path string, n int64) {
			res.FilesCopied++
			res.Bytes += n
			progress.done(path, n)
		})
		_ = pw.CloseWithError(err)
		writeErr <- err
	}()
	var stderr bytes.Buffer
	err := t.exec.Exec(ctx, []string{"tar", "-x", "-o", "-f", "-", "-C", t.target}, pr, io.Discard, &stderr)
	_ = pr.CloseWithError(errors.New("tar in the container ended"))
	werr := <-writeErr
	if werr != nil {
		return res, werr
	}
	if err != nil {
		return res, fmt.Errorf("tar into %s: %w: %s", t.target, err, strings.TrimSpace(stderr.String()))
	}
	return res, nil
}

func hasKind(p Plan, k OpKind) bool {
	for _, op := range p.Ops {
		if op.Kind == k {
			return true
		}
	}
	return false
}

// remove runs rm -rf on the deleted paths, in as few commands as the
// argument limit allows.
func (t *TarTransport) remove(ctx context.Context, rels []string) error {
	for len(rels) > 0 {
		argv := []string{"rm", "-rf", "--"}
		size := 0
		for len(rels) > 0 && size < maxRmArgBytes {
			p := path.Join(t.target, rels[0])
			argv = append(argv, p)
			size += len(p) + 1
			rels = rels[1:]
		}
		var stderr bytes.Buffer
		if err := t.exec.Exec(ctx, argv, nil, io.Discard, &stderr); err != nil {
			return fmt.Errorf("delete in %s: %w: %s", t.target, err, strings.TrimSpace(stderr.String()))
		}
	}
	return nil
}

// writeTar writes the plan's directories, files and symlinks as a tar
// stream. Names are the plan's relative paths, which the index keeps
// clean (no "..", no absolute paths).
func writeTar(w io.Writer, plan Plan, src Source, done func(path string, n int64)) error {
	tw := tar.NewWriter(w)
	for _, op := range plan.Ops {
		switch op.Kind {
		case OpMkdir:
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: op.Path + "/", Mode: int64(op.Entry.Mode.Perm() | 0o700)}); err != nil {
				return err
			}
		case OpSymlink:
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: op.Path, Linkname: op.Entry.LinkTarget, Mode: 0o777}); err != nil {
				return err
			}
			done(op.Path, 0)
		case OpPut:
			if err := writeTarFile(tw, src, op); err != nil {
				return err
			}
			done(op.Path, op.Entry.Size)
		}
	}
	return tw.Close()
}

func writeTarFile(tw *tar.Writer, src Source, op Op) error {
	f, err := src.Open(op.Path)
	if err != nil {
		return fmt.Errorf("read %s: %w (it changed during the push; push again)", op.Path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: op.Path, Size: info.Size(), Mode: int64(op.Entry.Mode.Perm() | 0o600), ModTime: info.ModTime()}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, f, info.Size()); err != nil {
		return fmt.Errorf("read %s: %w (it changed during the push; push again)", op.Path, err)
	}
	return nil
}

// Run implements Transport.
func (t *TarTransport) Run(ctx context.Context, argv, env []string, stdout, stderr io.Writer) (int, error) {
	if len(env) > 0 {
		argv = append(append([]string{"env"}, env...), argv...)
	}
	err := t.exec.Exec(ctx, argv, nil, stdout, stderr)
	if code, ok := exitStatus(err); ok {
		return code, nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

// Close implements Transport.
func (t *TarTransport) Close() error { return nil }
