package agentserver

import (
	"io/fs"
	"os"

	"github.com/odod-dev/odod/agent"
	"github.com/odod-dev/odod/indexer/relpath"
)

// linkLeavesRoot reports whether a symlink to be created at name (clean,
// relative) with target would point outside root, its chain resolved
// through the links already in root. Such a link is never pushed by odod
// (the index marks it outside the workspace); created, it would lead tar
// or the scripts in the container out of the sync root.
func linkLeavesRoot(root *os.Root, name, target string) bool {
	return relpath.LinkLeaves(name, target, func(p string) (string, bool) {
		info, err := root.Lstat(p)
		if err != nil || info.Mode()&fs.ModeSymlink == 0 {
			return "", false
		}
		next, err := root.Readlink(p)
		if err != nil {
			return "", false
		}
		return next, true
	})
}

// escapingLink is the reply to a symlink whose target leaves the root.
func escapingLink(name, target string) *agent.ErrorReply {
	return &agent.ErrorReply{Code: agent.CodeEscapesRoot, Message: "symlink " + name + " -> " + target + " would point outside the sync root"}
}
