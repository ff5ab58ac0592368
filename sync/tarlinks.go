package sync

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/odod-dev/odod/indexer/relpath"
)

// unlinkScript reads relative paths, one a line, and removes each that is a
// symlink in the sync root ($1). The plan writes at or under every one of
// them, so a link there is stale (an earlier push, a script in the
// container): tar would extract through it, out of the sync root, or (some
// tars) write a file through a link in the file's place.
const unlinkScript = `cd "$1" || exit 1
while IFS= read -r p; do
	if [ -L "./$p" ]; then rm -f -- "./$p" || exit 1; fi
done`

// pathsToUnlink lists where the container must not have a symlink before
// tar runs: every path the plan writes and each of its parents.
func pathsToUnlink(plan Plan) ([]string, error) {
	set := map[string]bool{}
	for _, op := range plan.Ops {
		if op.Kind == OpDelete {
			continue
		}
		if strings.ContainsAny(op.Path, "\n\r") {
			return nil, fmt.Errorf("%q: the tar fallback cannot sync a name with a line break safely; rename it or use odod's agent", op.Path)
		}
		for d := op.Path; d != ""; d = relpath.Parent(d) {
			if set[d] {
				break
			}
			set[d] = true
		}
	}
	dirs := make([]string, 0, len(set))
	for d := range set {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs, nil
}

// unlinkStaleLinks removes the container's symlinks where the plan writes,
// before tar runs: tar must never extract through a link.
func (t *TarTransport) unlinkStaleLinks(ctx context.Context, plan Plan) error {
	dirs, err := pathsToUnlink(plan)
	if err != nil || len(dirs) == 0 {
		return err
	}
	var stderr bytes.Buffer
	list := strings.NewReader(strings.Join(dirs, "\n") + "\n")
	if err := t.exec.Exec(ctx, []string{"sh", "-c", unlinkScript, "sh", t.target}, list, io.Discard, &stderr); err != nil {
		return fmt.Errorf("remove stale symlinks in %s: %w: %s", t.target, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
