package agentserver

import (
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/odod-dev/odod/agent"
)

// maxLinkHops bounds how many symlinks one resolution follows; past it the
// kernel fails with ELOOP, so the chain leads nowhere.
const maxLinkHops = 40

// linkLeavesRoot resolves a symlink to be created at name (clean, relative)
// with target, component by component through the links already in root,
// and reports whether it would point outside root. Such a link is never
// pushed by odod (the index marks it outside the workspace); created, it
// would lead tar or the scripts in the container out of the sync root.
func linkLeavesRoot(root *os.Root, name, target string) bool {
	if target == "" || strings.HasPrefix(target, "/") || strings.HasPrefix(target, `\`) {
		return true
	}
	var stack []string
	pending := append(splitPath(path.Dir(name)), splitPath(target)...)
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
		p := strings.Join(stack, "/")
		info, err := root.Lstat(p)
		if err != nil || info.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		if hops++; hops > maxLinkHops {
			return false
		}
		next, err := root.Readlink(p)
		if err != nil {
			continue
		}
		if next == "" || strings.HasPrefix(next, "/") {
			return true
		}
		stack = stack[:len(stack)-1]
		pending = append(splitPath(next), pending...)
	}
	return false
}

func splitPath(p string) []string {
	if p == "." || p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// escapingLink is the reply to a symlink whose target leaves the root.
func escapingLink(name, target string) *agent.ErrorReply {
	return &agent.ErrorReply{Code: agent.CodeEscapesRoot, Message: "symlink " + name + " -> " + target + " would point outside the sync root"}
}
