package indexer

import (
	"io/fs"
	"path"
	"runtime"
	"strings"
	"time"

	"github.com/odod-dev/odod/indexer/relpath"
)

// Entry is one indexed path as the push sees it.
type Entry struct {
	// Path is slash-separated and relative to the workspace root.
	Path string
	// Mode holds the type bits (fs.ModeDir, fs.ModeSymlink; none for a
	// regular file) and the permission bits.
	Mode fs.FileMode
	// Size is the length in bytes (regular files; for others what lstat says).
	Size    int64
	ModTime time.Time
	// LinkTarget is the target stored in a symlink, unresolved.
	LinkTarget string
	// OutsideWorkspace marks a symlink whose target is absolute or climbs
	// out of the workspace: push it as a link, never follow it.
	OutsideWorkspace bool
	// Hash is the xxh3-64 of a regular file's content; valid when Hashed.
	Hash   uint64
	Hashed bool
}

// IsDir reports whether the entry is a directory.
func (e Entry) IsDir() bool { return e.Mode.IsDir() }

// IsSymlink reports whether the entry is a symbolic link.
func (e Entry) IsSymlink() bool { return e.Mode&fs.ModeSymlink != 0 }

// IsRegular reports whether the entry is a regular file.
func (e Entry) IsRegular() bool { return e.Mode.IsRegular() }

type stateFlags uint8

const (
	flagExists stateFlags = 1 << iota
	flagHashed
	flagOutside
)

// state is the compact in-memory form of an Entry without its path; the
// zero value means "absent". It is kept small because there is one per
// file (and a second one for the few changed since the last push) for
// trees of 100k files.
type state struct {
	size   int64
	mtime  int64 // Unix nanoseconds
	hash   uint64
	mode   fs.FileMode
	flags  stateFlags
	target string
}

// kindOf is the type of an existing state: a change of it (file to
// directory, …) is a delete of the old entry and an add of the new one.
func (s state) kind() fs.FileMode { return s.mode & fs.ModeType }

func (s state) exists() bool { return s.flags&flagExists != 0 }
func (s state) hashed() bool { return s.flags&flagHashed != 0 }
func (s state) isDir() bool  { return s.exists() && s.mode.IsDir() }
func (s state) isRegular() bool {
	return s.exists() && s.mode.IsRegular()
}

func (s state) withHash(h uint64) state {
	s.hash = h
	s.flags |= flagHashed
	return s
}

func (s state) entry(p string) Entry {
	e := Entry{
		Path:             p,
		Mode:             s.mode,
		Size:             s.size,
		ModTime:          time.Unix(0, s.mtime),
		LinkTarget:       s.target,
		OutsideWorkspace: s.flags&flagOutside != 0,
		Hash:             s.hash,
		Hashed:           s.hashed(),
	}
	return e
}

// indexable reports whether a file of this type can be indexed and pushed;
// sockets, pipes and devices cannot.
func indexable(m fs.FileMode) bool {
	return m.IsRegular() || m.IsDir() || m&fs.ModeSymlink != 0
}

// stateFromInfo converts an lstat result. The link target is filled in by
// the caller, which knows the absolute path to read it from.
func stateFromInfo(fi fs.FileInfo) state {
	return state{
		size:  fi.Size(),
		mtime: fi.ModTime().UnixNano(),
		mode:  hostMode(runtime.GOOS, fi.Mode()&(fs.ModeType|fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)),
		flags: flagExists,
	}
}

// hostMode is the mode the container gets for a file whose lstat on the
// host (goos) says m. Windows has no execute bit: Go reports 0666, or 0444
// for read-only files, so a script would arrive without +x and a read-only
// file unwritable by the build. As Docker does for a build context sent from
// Windows, files and directories are recorded as 0755 there.
func hostMode(goos string, m fs.FileMode) fs.FileMode {
	if goos == "windows" && (m.IsRegular() || m.IsDir()) {
		return m&^fs.ModePerm | 0o755
	}
	return m
}

func (s state) withLink(rel, target string) state {
	s.target = target
	if linkLeavesWorkspace(rel, target) {
		s.flags |= flagOutside
	}
	return s
}

// linkLeavesWorkspace decides lexically whether a link at rel pointing at
// target resolves outside the workspace. Absolute targets always count as
// outside: the workspace lives at another path in the container.
func linkLeavesWorkspace(rel, target string) bool {
	if target == "" || strings.HasPrefix(target, "/") {
		return true
	}
	joined := path.Join(path.Dir(rel), target)
	return joined == ".." || strings.HasPrefix(joined, "../")
}

// sameStat reports whether lstat saw no change, so a stored hash is reused.
func sameStat(a, b state) bool {
	return a.exists() && b.exists() && a.mode == b.mode && a.size == b.size && a.mtime == b.mtime && a.target == b.target
}

// sameContent reports whether pushing b over a would change nothing in the
// container. Directories compare by mode only (their mtime moves whenever a
// child changes); files by hash when both sides have one (a touch or a
// same-content rewrite is not a change), else by size and mtime as odo did.
func sameContent(a, b state) bool {
	if a.exists() != b.exists() {
		return false
	}
	if !a.exists() {
		return true
	}
	if a.mode != b.mode {
		return false
	}
	switch {
	case a.mode.IsDir():
		return true
	case a.mode&fs.ModeSymlink != 0:
		return a.target == b.target
	case a.size != b.size:
		return false
	case a.hashed() && b.hashed():
		return a.hash == b.hash
	default:
		return a.mtime == b.mtime
	}
}

// Unix st_mode file-type bits, used in the persisted index so that it does
// not depend on Go's fs.FileMode encoding.
const (
	unixTypeDir     = 0o040000
	unixTypeRegular = 0o100000
	unixTypeSymlink = 0o120000
	unixTypeMask    = 0o170000
)

func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	switch {
	case m.IsDir():
		u |= unixTypeDir
	case m&fs.ModeSymlink != 0:
		u |= unixTypeSymlink
	default:
		u |= unixTypeRegular
	}
	return u
}

// fileModeFromUnix is the inverse of unixMode; ok is false for types the
// index never holds.
func fileModeFromUnix(u uint32) (fs.FileMode, bool) {
	m := fs.FileMode(u & 0o777)
	if u&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if u&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if u&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	switch u & unixTypeMask {
	case unixTypeDir:
		m |= fs.ModeDir
	case unixTypeSymlink:
		m |= fs.ModeSymlink
	case unixTypeRegular:
	default:
		return 0, false
	}
	return m, true
}

// validRelPath reports whether p is a clean, slash-separated path inside
// the workspace, the only form the index stores.
func validRelPath(p string) bool {
	if p == "" || p == "." || strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
		return false
	}
	if path.Clean(p) != p {
		return false
	}
	return p != ".." && !strings.HasPrefix(p, "../")
}

// parentDir returns the parent of a relative path; "" is the root.
func parentDir(p string) string { return relpath.Parent(p) }

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
