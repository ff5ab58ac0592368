package relpath

import "strings"

// MaxLinkHops bounds how many symlinks one resolution follows. A longer
// chain (or a cycle) resolves nowhere: the kernel gives up with ELOOP after
// a similar number, so it cannot lead out either.
const MaxLinkHops = 40

// LinkLeaves resolves a symlink at link (a relative, slash-separated path)
// pointing at target, component by component, following the links that
// readlink knows (it returns a path's link target, and whether the path is
// a symlink), and reports whether it ends outside the root. Checking each
// link lexically on its own is not enough: with sub/up -> .. and
// x -> sub/up/.., each looks inside, but x resolves to the root's parent.
// The index (the workspace's links) and the in-container agent (the links
// under its sync root) both decide with it.
func LinkLeaves(link, target string, readlink func(p string) (target string, isLink bool)) bool {
	if target == "" || strings.HasPrefix(target, "/") || strings.HasPrefix(target, `\`) {
		return true
	}
	// The link's own directory is taken as real: callers never follow links
	// to reach it.
	var stack []string
	if dir := Parent(link); dir != "" {
		stack = strings.Split(dir, "/")
	}
	pending := strings.Split(target, "/")
	hops := 0
	for len(pending) > 0 {
		comp := pending[0]
		pending = pending[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return true
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, comp)
		next, isLink := readlink(strings.Join(stack, "/"))
		if !isLink {
			continue
		}
		if hops++; hops > MaxLinkHops {
			return false
		}
		if next == "" || strings.HasPrefix(next, "/") {
			return true
		}
		stack = stack[:len(stack)-1]
		pending = append(strings.Split(next, "/"), pending...)
	}
	return false
}
