// Package relpath answers "is this path under that directory" for the
// slash-separated, relative paths of a workspace index, where "" is the
// workspace root. It is a leaf package so that the index and the sync plans
// share one definition.
package relpath

import "strings"

// Parent returns the directory holding p; the parent of a top-level path
// is "" (the root).
func Parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// Under reports whether p is dir or inside it. Every path is under "".
func Under(p, dir string) bool {
	if dir == "" {
		return true
	}
	return p == dir || (len(p) > len(dir) && p[len(dir)] == '/' && p[:len(dir)] == dir)
}

// UnderAny reports whether p or one of its ancestors, the root "" included,
// is a key of dirs.
func UnderAny[V any](p string, dirs map[string]V) bool {
	if len(dirs) == 0 {
		return false
	}
	return UnderAnyFunc(p, func(dir string) bool {
		_, ok := dirs[dir]
		return ok
	})
}

// UnderAnyFunc reports whether is holds for p or one of its ancestors,
// tried from p up to the root "".
func UnderAnyFunc(p string, is func(dir string) bool) bool {
	for dir := p; ; dir = Parent(dir) {
		if is(dir) {
			return true
		}
		if dir == "" {
			return false
		}
	}
}
