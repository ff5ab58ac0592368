// Package treesum lists a tree's files with their SHA-256, on the host
// and inside a container, so that tests and the fault campaign
// (hack/chaos) can tell whether a container holds exactly a workspace.
//
// A listing is sorted lines: "path sha256" for a regular file and
// "path -> target" for a symlink, paths slash-separated and relative to
// the root. Directories are not listed (an empty one is not a file).
package treesum

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SkipDirs are the directory names a push never sends: odod's own and git's.
var SkipDirs = []string{".odo", ".git"}

// Local lists the workspace at root as a push sends it: directories named
// in SkipDirs are left out at any depth.
func Local(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && skipped(d.Name()) {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, rel+" -> "+target)
		case d.Type().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			_ = f.Close()
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			out = append(out, rel+" "+hex.EncodeToString(h.Sum(nil)))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	sort.Strings(out)
	return out, nil
}

func skipped(name string) bool {
	for _, s := range SkipDirs {
		if name == s {
			return true
		}
	}
	return false
}

// Execer runs a command in a container (cluster.Client is one).
type Execer interface {
	Exec(ctx context.Context, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// Remote lists dir inside the container as Local lists a workspace, with
// sha256sum and find; the top-level directories named in prune (a build's
// outputs, such as node_modules) are left out.
func Remote(ctx context.Context, ex Execer, pod, container, dir string, prune ...string) ([]string, error) {
	pruneExpr := ""
	for _, p := range prune {
		pruneExpr += fmt.Sprintf("-path %s -prune -o ", shellQuote("./"+p))
	}
	script := fmt.Sprintf(`cd %s && { find . %s-type f -exec sha256sum {} + | sed -E 's|^([0-9a-f]{64})  \./(.*)$|\2 \1|'; find . %s-type l -printf '%%P -> %%l\n'; } | sort`,
		shellQuote(dir), pruneExpr, pruneExpr)
	var stdout, stderr strings.Builder
	if err := ex.Exec(ctx, pod, container, []string{"sh", "-c", script}, nil, &stdout, &stderr); err != nil {
		return nil, fmt.Errorf("list %s in %s/%s: %w: %s", dir, pod, container, err, stderr.String())
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out, nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Diff compares a listing got with the listing want: missing are want's
// lines got lacks (a file lost or with other content), extra are got's
// lines want lacks (a file leaked, or the other content).
func Diff(want, got []string) (missing, extra []string) {
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || i < len(want) && want[i] < got[j]:
			missing = append(missing, want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			extra = append(extra, got[j])
			j++
		default:
			i++
			j++
		}
	}
	return missing, extra
}

// Paths are the paths of a listing's lines.
func Paths(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if i := strings.Index(l, " -> "); i >= 0 {
			out = append(out, l[:i])
		} else if i := strings.LastIndexByte(l, ' '); i >= 0 {
			out = append(out, l[:i])
		}
	}
	return out
}
