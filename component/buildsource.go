package component

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/indexer/relpath"
	"github.com/odod-dev/odod/protocol"
	odsync "github.com/odod-dev/odod/sync"
)

// buildSource is what a build copies into the build pod: a tree of files
// on this machine and where it came from.
type buildSource struct {
	// src opens the files; entries list them (paths relative to it).
	src     odsync.Source
	entries []odsync.Entry
	// url, ref, commit and contextDir describe a git source.
	url, ref, commit, contextDir string
	close                        func()
}

// gitSource fetches a git component's repository with go-git into a
// temporary directory on this machine (no git needed anywhere) and checks
// out ref: a branch, a tag or a commit; "" is the default branch. Its
// output goes to the build log.
func gitSource(ctx context.Context, url, ref, contextDir string, out io.Writer) (buildSource, error) {
	tmp, err := os.MkdirTemp("", "odod-git-")
	if err != nil {
		return buildSource{}, fmt.Errorf("make a directory for the clone: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	fail := func(err error) (buildSource, error) { cleanup(); return buildSource{}, err }
	fmt.Fprintf(out, "---> Fetching %s\n", url)
	opts := &git.CloneOptions{URL: url, NoCheckout: true, Tags: git.AllTags}
	if ref == "" {
		opts.Depth, opts.SingleBranch = 1, true
	}
	repo, err := git.PlainCloneContext(ctx, tmp, false, opts)
	if err != nil {
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		return fail(&Error{Code: protocol.CodeBuildFailed, Reason: "FetchFailed", Message: fmt.Sprintf("cannot fetch %s: %v", url, err), Err: err,
			Suggestion: "check the URL (SourceLocation in .odo/config.yaml) and that this machine reaches the repository; private repositories are not supported yet"})
	}
	hash, err := resolveRef(repo, ref)
	if err != nil {
		return fail(&Error{Code: protocol.CodeBuildFailed, Reason: "RefNotFound", Message: fmt.Sprintf("%s has no branch, tag or commit %q", url, ref), Err: err,
			Suggestion: "fix Ref in .odo/config.yaml (odod create --ref), or remove it to build the default branch"})
	}
	wt, err := repo.Worktree()
	if err != nil {
		return fail(fmt.Errorf("open the clone's worktree: %w", err))
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: hash, Force: true}); err != nil {
		return fail(fmt.Errorf("check out %s: %w", hash, err))
	}
	fmt.Fprintf(out, "---> Checked out %s\n", hash)
	root := tmp
	if contextDir != "" {
		if msg := config.CheckContextDir(contextDir); msg != "" {
			return fail(invalid("contextDir", errors.New(msg)))
		}
		// A context dir that is a link in the repository must not lead
		// out of it either.
		real, err := filepath.EvalSymlinks(filepath.Join(tmp, filepath.FromSlash(path.Clean(contextDir))))
		realTmp, _ := filepath.EvalSymlinks(tmp)
		rel, relErr := filepath.Rel(realTmp, real)
		if err == nil && (relErr != nil || rel == ".." || strings.HasPrefix(filepath.ToSlash(rel), "../")) {
			return fail(invalid("contextDir", fmt.Errorf("%q leads out of the repository through a symlink", contextDir)))
		}
		root = real
		if st, err := os.Stat(root); err != nil || !st.IsDir() {
			return fail(&Error{Code: protocol.CodeBuildFailed, Reason: "ContextDirNotFound", Message: fmt.Sprintf("%s at %s has no directory %s", url, hash.String()[:12], contextDir),
				Suggestion: "fix ContextDir in .odo/config.yaml (odod create --context-dir)"})
		}
	}
	entries, err := walkEntries(root)
	if err != nil {
		return fail(err)
	}
	return buildSource{src: odsync.DirSource(root), entries: entries, url: url, ref: ref, commit: hash.String(), contextDir: contextDir, close: cleanup}, nil
}

// resolveRef finds a branch (remote), a tag or a commit.
func resolveRef(repo *git.Repository, ref string) (plumbing.Hash, error) {
	if ref == "" {
		h, err := repo.Head()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		return h.Hash(), nil
	}
	var errs []error
	for _, rev := range []string{"refs/remotes/origin/" + ref, "refs/tags/" + ref, ref} {
		h, err := repo.ResolveRevision(plumbing.Revision(rev))
		if err == nil {
			return *h, nil
		}
		errs = append(errs, err)
	}
	return plumbing.ZeroHash, errors.Join(errs...)
}

// walkEntries lists a checked-out tree for a full sync plan, without .git.
func walkEntries(root string) ([]odsync.Entry, error) {
	var out []odsync.Entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, root+string(filepath.Separator)))
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := odsync.Entry{Path: rel, Mode: info.Mode(), Size: info.Size()}
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			e.LinkTarget = target
			e.OutsideLink = relpath.LinkLeaves(rel, filepath.ToSlash(target), func(q string) (string, bool) {
				t, err := os.Readlink(filepath.Join(root, filepath.FromSlash(q)))
				return filepath.ToSlash(t), err == nil
			})
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the checked-out sources: %w", err)
	}
	return out, nil
}

// snapshotter is an index that lists every current entry
// (*indexer.Workspace is one).
type snapshotter interface {
	Snapshot() []indexer.Entry
}

// workspaceSource is the workspace's files as the index knows them (its
// ignore rules applied), for odod build.
func (c *Component) workspaceSource(ctx context.Context) (buildSource, error) {
	idx, ok := c.opts.Index.(snapshotter)
	if !ok {
		return buildSource{}, errors.New("this workspace's index cannot list its files")
	}
	if err := c.opts.Index.Flush(ctx); err != nil {
		return buildSource{}, fmt.Errorf("take the workspace's latest changes: %w", err)
	}
	var entries []odsync.Entry
	for _, e := range idx.Snapshot() {
		entries = append(entries, toSyncEntry(e))
	}
	src, err := odsync.OpenRootSource(c.root)
	if err != nil {
		return buildSource{}, err
	}
	return buildSource{src: src, entries: entries, close: func() { _ = src.Close() }}, nil
}
