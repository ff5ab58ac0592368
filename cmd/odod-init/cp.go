//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// runCp is the `cp` the init image needs (it has no coreutils): the
// copy-supervisord init container runs `odod-init cp -r /opt/odo-init/.
// /opt/odo/`, and the scripts use it where the builder image may lack
// rsync. It behaves like GNU `cp -r --no-dereference`: "SRC/." copies the
// contents of SRC into DST, symlinks are copied as symlinks (replacing
// what is there rather than writing through it), permission bits are kept.
func runCp(ctx context.Context, args []string, _, stderr io.Writer) int {
	recursive, parents := false, false
	var operands []string
	flagsDone := false
	for _, a := range args {
		if flagsDone || !strings.HasPrefix(a, "-") || a == "-" {
			operands = append(operands, a)
			continue
		}
		if a == "--" {
			flagsDone = true
			continue
		}
		if a == "--parents" {
			// GNU's: DST/SRC, parents created; a push copies just the
			// files that changed, each to its place in the working dir.
			parents = true
			continue
		}
		for _, c := range a[1:] {
			switch c {
			case 'r', 'R', 'a':
				recursive = true
			case 'f', 'p', 'P', 'd', 'v':
				// -f: files are always replaced; -p: modes are always kept;
				// -P/-d: links are never followed; -v: quiet anyway.
			default:
				fmt.Fprintf(stderr, "cp: unsupported option -%c; supported: -r -R -a -f -p -P -d\n", c)
				return 2
			}
		}
	}
	if len(operands) < 2 {
		fmt.Fprintln(stderr, "usage: cp [-r] SRC... DST")
		return 2
	}
	srcs, dst := operands[:len(operands)-1], operands[len(operands)-1]
	dstInfo, err := os.Stat(dst)
	dstIsDir := err == nil && dstInfo.IsDir()
	if len(srcs) > 1 && !dstIsDir {
		fmt.Fprintf(stderr, "cp: target %s is not a directory\n", dst)
		return 1
	}
	c := copier{ctx: ctx, recursive: recursive, stderr: stderr}
	if parents {
		if !dstIsDir {
			fmt.Fprintf(stderr, "cp: with --parents, the target %s must be a directory\n", dst)
			return 1
		}
		for _, src := range srcs {
			rel := filepath.Clean(src)
			if filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
				c.fail("--parents: %s is not a path below the current directory", src)
				continue
			}
			target := filepath.Join(dst, rel)
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				c.fail("%v", err)
				continue
			}
			if info, err := os.Lstat(src); err == nil && info.IsDir() && !recursive {
				// A directory named in a change list is a new (empty)
				// one: made, not copied with what it holds.
				if err := os.MkdirAll(target, info.Mode().Perm()|0o700); err != nil {
					c.fail("%v", err)
				}
				continue
			}
			c.copy(src, target)
		}
		if c.failed {
			return 1
		}
		return 0
	}
	for _, src := range srcs {
		target := dst
		switch {
		case filepath.Base(src) == "." || strings.HasSuffix(src, "/."):
			target = dst // "SRC/." merges SRC's contents into DST
		case dstIsDir:
			target = filepath.Join(dst, filepath.Base(src))
		}
		c.copy(src, target)
	}
	if c.failed {
		return 1
	}
	return 0
}

type copier struct {
	ctx       context.Context
	recursive bool
	stderr    io.Writer
	failed    bool
}

func (c *copier) fail(format string, args ...any) {
	fmt.Fprintf(c.stderr, "cp: "+format+"\n", args...)
	c.failed = true
}

func (c *copier) copy(src, dst string) {
	if err := c.ctx.Err(); err != nil {
		c.fail("interrupted: %v", err)
		return
	}
	info, err := os.Lstat(src)
	if err != nil {
		c.fail("%v", err)
		return
	}
	switch mode := info.Mode(); {
	case mode&fs.ModeSymlink != 0:
		c.copySymlink(src, dst)
	case mode.IsDir():
		c.copyDir(src, dst, mode.Perm())
	case mode.IsRegular():
		if err := copyFile(src, dst, mode.Perm()); err != nil {
			c.fail("%v", err)
		}
	default:
		fmt.Fprintf(c.stderr, "cp: skipping %s: not a regular file, directory or symlink\n", src)
	}
}

func (c *copier) copySymlink(src, dst string) {
	target, err := os.Readlink(src)
	if err != nil {
		c.fail("%v", err)
		return
	}
	if info, err := os.Lstat(dst); err == nil {
		if info.IsDir() {
			c.fail("cannot overwrite directory %s with symlink %s", dst, src)
			return
		}
		_ = os.Remove(dst)
	}
	if err := os.Symlink(target, dst); err != nil {
		c.fail("%v", err)
	}
}

func (c *copier) copyDir(src, dst string, perm fs.FileMode) {
	if !c.recursive {
		c.fail("-r not specified; omitting directory %s", src)
		return
	}
	absSrc, err1 := filepath.Abs(src)
	absDst, err2 := filepath.Abs(dst)
	if err1 == nil && err2 == nil && absDst != absSrc && strings.HasPrefix(absDst+"/", absSrc+"/") {
		c.fail("cannot copy directory %s into itself (%s)", src, dst)
		return
	}
	info, err := os.Lstat(dst)
	created := errors.Is(err, fs.ErrNotExist)
	if err == nil && !info.IsDir() {
		c.fail("cannot overwrite non-directory %s with directory %s", dst, src)
		return
	}
	// A directory cp creates is owner-writable while it is filled and gets
	// the source's bits afterwards; an existing one (the emptyDir the init
	// container copies into) keeps its own, as with GNU cp.
	if err := os.MkdirAll(dst, perm|0o700); err != nil {
		c.fail("%v", err)
		return
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		c.fail("%v", err)
		return
	}
	for _, e := range entries {
		c.copy(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
	}
	if created {
		if err := os.Chmod(dst, perm); err != nil {
			c.fail("%v", err)
		}
	}
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if info, err := os.Lstat(dst); err == nil && !info.Mode().IsRegular() {
		if info.IsDir() {
			return fmt.Errorf("cannot overwrite directory %s with file %s", dst, src)
		}
		_ = os.Remove(dst) // a symlink is replaced, never written through
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if errors.Is(err, syscall.ETXTBSY) {
		// A running binary: unlink it (the process keeps its copy).
		_ = os.Remove(dst)
		out, err = os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	}
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := out.Chmod(perm); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
