package initimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// entry is one file, directory or symlink of the image's tree.
type entry struct {
	path       string // relative to the image root, no leading slash
	mode       fs.FileMode
	linkTarget string // symlinks
	content    func() (io.ReadCloser, int64, error)
}

// epoch is every entry's mtime: the same inputs give the same image digest.
var epoch = time.Unix(946684800, 0).UTC() // 2000-01-01

// tree lists the image's content: SourceDir with the binary, its role
// links and the embedded files, plus /usr/bin/cp. Every file is
// world-readable and executables world-executable, so the copy works
// whatever UID the cluster assigns to either container.
func tree(binary string) ([]entry, error) {
	src := strings.TrimPrefix(SourceDir, "/")
	dirs := map[string]bool{}
	var entries []entry
	addDirs := func(p string) {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	addFile := func(p string, mode fs.FileMode, open func() (io.ReadCloser, int64, error)) {
		addDirs(p)
		entries = append(entries, entry{path: p, mode: mode, content: open})
	}
	addLink := func(p, target string) {
		addDirs(p)
		entries = append(entries, entry{path: p, mode: fs.ModeSymlink | 0o777, linkTarget: target})
	}

	info, err := os.Stat(binary)
	if err != nil {
		return nil, fmt.Errorf("odod-init binary: %w", err)
	}
	addFile(path.Join(src, "bin", BinaryName), 0o755, func() (io.ReadCloser, int64, error) {
		f, err := os.Open(binary)
		return f, info.Size(), err
	})
	for _, role := range RoleLinks {
		addLink(path.Join(src, "bin", role), BinaryName)
	}
	addLink("usr/bin/cp", path.Join(SourceDir, "bin", BinaryName))

	files := Files()
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if strings.HasPrefix(p, "bin/") || strings.HasPrefix(p, "language-scripts/") {
			mode = 0o755
		}
		addFile(path.Join(src, p), mode, func() (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded init image files: %w", err)
	}
	for d := range dirs {
		entries = append(entries, entry{path: d, mode: fs.ModeDir | 0o755})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].path < entries[j].path })
	return entries, nil
}

// layerTar writes the tree as an image layer (a tar stream).
func layerTar(w io.Writer, entries []entry) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.path, Mode: int64(e.mode.Perm()), ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case e.mode.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, e.path+"/"
		case e.mode&fs.ModeSymlink != 0:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.linkTarget
		default:
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Typeflag != tar.TypeReg {
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		}
		r, size, err := e.content()
		if err != nil {
			return fmt.Errorf("%s: %w", e.path, err)
		}
		hdr.Size = size
		if err := tw.WriteHeader(hdr); err != nil {
			r.Close()
			return err
		}
		_, err = io.Copy(tw, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", e.path, err)
		}
	}
	return tw.Close()
}

// WriteTree lays the image's SourceDir content out under dir (bin/,
// conf/, language-scripts/), exactly as the init container's copy leaves
// it in MountPath. Tests use it to run the runtime outside a cluster.
func WriteTree(dir, binary string) error {
	entries, err := tree(binary)
	if err != nil {
		return err
	}
	prefix := strings.TrimPrefix(SourceDir, "/") + "/"
	for _, e := range entries {
		rel, ok := strings.CutPrefix(e.path, prefix)
		if !ok {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		switch {
		case e.mode.IsDir():
			err = os.MkdirAll(target, 0o755)
		case e.mode&fs.ModeSymlink != 0:
			_ = os.Remove(target)
			err = os.Symlink(e.linkTarget, target)
		default:
			err = writeEntry(target, e)
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", target, err)
		}
	}
	return nil
}

func writeEntry(target string, e entry) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	r, _, err := e.content()
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, e.mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(e.mode.Perm()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
