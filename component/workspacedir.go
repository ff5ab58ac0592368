package component

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/odod-dev/odod/protocol"
)

// checkWorkspaceDir refuses a workspace directory that does not exist or
// is not a directory: a mistyped --context must not silently become a new,
// empty workspace.
func checkWorkspaceDir(dir string) error {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Error{Code: protocol.CodeInvalidParams, Reason: "NoWorkspace",
			Message:    fmt.Sprintf("the workspace directory %s does not exist", dir),
			Suggestion: fmt.Sprintf("check the path, or create it first (mkdir -p %s)", dir), Err: err}
	case err != nil:
		return fmt.Errorf("workspace directory %s: %w", dir, err)
	case !info.IsDir():
		return &Error{Code: protocol.CodeInvalidParams, Reason: "NoWorkspace",
			Message:    fmt.Sprintf("%s is not a directory", dir),
			Suggestion: "give the component's workspace directory (--context)"}
	}
	return nil
}
