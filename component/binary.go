package component

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/protocol"
)

// pushable is what a push takes of the index's pending changes: all of
// them, or for a binary component only its artifact (odo's PushLocal of
// the one file): the workspace's other files are not synced, and stay
// pending.
func (c *Component) pushable(cs indexer.ChangeSet) (indexer.ChangeSet, error) {
	cfg, err := c.load()
	if err != nil {
		return cs, err
	}
	if cfg.ComponentSettings.EffectiveSourceType() != config.Binary {
		return cs, nil
	}
	rel, err := artifactPath(c.root, cfg.ComponentSettings.SourceLocation)
	if err != nil {
		return cs, err
	}
	return cs.Only(rel), nil
}

// artifactPath is a binary component's artifact relative to the
// workspace, slash-separated; it must be a file inside the workspace.
func artifactPath(root, location string) (string, error) {
	abs := location
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(root, location)
	}
	rel, err := filepath.Rel(root, abs)
	if err == nil && (rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))) {
		err = fmt.Errorf("it is not inside the workspace %s", root)
	}
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(abs); err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("it is not a file")
		}
	}
	if err != nil {
		return "", &Error{Code: protocol.CodeInvalidConfig, Reason: "NoArtifact",
			Message:    fmt.Sprintf("the binary component's artifact %s cannot be pushed: %v", location, err),
			Suggestion: "build the artifact (e.g. the JAR) in the workspace first, or point SourceLocation at it (odod config set SourceLocation path/to/app.jar)", Err: err}
	}
	return filepath.ToSlash(rel), nil
}
