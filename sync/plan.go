// Package sync turns a workspace's changes into operations on the
// component's container and applies them through a Transport: the odod
// agent over one long-lived exec stream (default), or tar over exec where no
// agent is present.
package sync

import (
	"io/fs"
	"path"
	"sort"

	"github.com/odod-dev/odod/agent"
	"github.com/odod-dev/odod/indexer/relpath"
)

// Entry is a local path as a push sees it (from the workspace index).
type Entry struct {
	// Path is slash-separated and relative to the workspace root.
	Path string
	Size int64
	// Mode has Go's type bits (fs.ModeDir, fs.ModeSymlink) and permissions.
	Mode fs.FileMode
	// LinkTarget is a symlink's target.
	LinkTarget string
	// OutsideLink marks a symlink that points outside the workspace: it is
	// never followed, and never pushed.
	OutsideLink bool
	// Hash is the content hash (agent.HashBytes), when known.
	Hash string
}

// HashString formats a workspace index content hash (xxh3-64) the way the
// agent reports hashes (agent.HashBytes), so a resync can compare them.
func HashString(h uint64) string { return agent.HashUint64(h) }

// OpKind is what an operation does.
type OpKind int

// Operation kinds, in the order a plan applies them.
const (
	OpDelete OpKind = iota
	OpMkdir
	OpPut
	OpSymlink
)

func (k OpKind) String() string {
	switch k {
	case OpDelete:
		return "delete"
	case OpMkdir:
		return "mkdir"
	case OpPut:
		return "put"
	case OpSymlink:
		return "symlink"
	}
	return "unknown"
}

// Op is one operation on the container, relative to the sync root.
type Op struct {
	Kind  OpKind
	Path  string
	Entry Entry // for mkdir, put, symlink
}

// Plan is what a push will do: deletions first, then directories (parents
// before children), then files and symlinks.
type Plan struct {
	Ops []Op
	// Files counts puts and symlinks; Bytes the bytes of the puts.
	Files int
	Bytes int64
	// Deletes counts delete operations (a deleted directory counts once).
	Deletes int
	// Skipped lists symlinks pointing outside the workspace, left out.
	Skipped []string
}

// Empty is true when the plan does nothing.
func (p Plan) Empty() bool { return len(p.Ops) == 0 }

// Changes are the paths a push must send, as the workspace index reports
// them (slash-separated, relative).
type Changes struct {
	Added, Modified, Deleted []string
}

// PlanChanges plans an incremental push. lookup returns the current entry of
// an added or modified path; a path it no longer knows (deleted since the
// changes were taken) is skipped: the index still lists it as pending, so
// the next push deletes it. Directories that were merely modified (their
// mtime changes whenever an entry is added or removed) need nothing.
func PlanChanges(ch Changes, lookup func(path string) (Entry, bool)) Plan {
	var p Plan
	for _, d := range topmost(ch.Deleted) {
		p.Ops = append(p.Ops, Op{Kind: OpDelete, Path: d})
		p.Deletes++
	}
	var dirs, files []Op
	add := func(rel string, isNew bool) {
		e, ok := lookup(rel)
		if !ok {
			return
		}
		switch {
		case e.Mode.IsDir():
			if isNew {
				dirs = append(dirs, Op{Kind: OpMkdir, Path: rel, Entry: e})
			}
		case e.Mode&fs.ModeSymlink != 0:
			if e.OutsideLink {
				p.Skipped = append(p.Skipped, rel)
				return
			}
			files = append(files, Op{Kind: OpSymlink, Path: rel, Entry: e})
		case e.Mode.IsRegular():
			files = append(files, Op{Kind: OpPut, Path: rel, Entry: e})
		}
	}
	for _, a := range ch.Added {
		add(a, true)
	}
	for _, m := range ch.Modified {
		add(m, false)
	}
	p.appendSorted(dirs, files)
	return p
}

// PlanFull plans sending every entry (a first push, or a forced one). With
// remote (the container's listing, from a Lister), only what differs is sent
// and what the container has but the workspace does not is deleted: the
// resync after a new pod or a restart.
func PlanFull(local []Entry, remote []Entry) Plan {
	var p Plan
	localByPath := make(map[string]Entry, len(local))
	for _, e := range local {
		localByPath[e.Path] = e
	}
	remoteByPath := make(map[string]Entry, len(remote))
	var extra []string
	for _, r := range remote {
		remoteByPath[r.Path] = r
		if l, ok := localByPath[r.Path]; !ok || kindOf(l.Mode) != kindOf(r.Mode) {
			extra = append(extra, r.Path)
		}
	}
	for _, d := range topmost(extra) {
		p.Ops = append(p.Ops, Op{Kind: OpDelete, Path: d})
		p.Deletes++
	}
	deleted := map[string]bool{}
	for _, op := range p.Ops {
		deleted[op.Path] = true
	}
	var dirs, files []Op
	for _, e := range local {
		r, onRemote := remoteByPath[e.Path]
		if onRemote && relpath.UnderAny(e.Path, deleted) {
			onRemote = false
		}
		switch {
		case e.Mode.IsDir():
			if !onRemote {
				dirs = append(dirs, Op{Kind: OpMkdir, Path: e.Path, Entry: e})
			}
		case e.Mode&fs.ModeSymlink != 0:
			if e.OutsideLink {
				p.Skipped = append(p.Skipped, e.Path)
				continue
			}
			if !onRemote || r.LinkTarget != e.LinkTarget {
				files = append(files, Op{Kind: OpSymlink, Path: e.Path, Entry: e})
			}
		case e.Mode.IsRegular():
			same := onRemote && r.Size == e.Size && e.Hash != "" && r.Hash == e.Hash && r.Mode.Perm() == e.Mode.Perm()
			if !same {
				files = append(files, Op{Kind: OpPut, Path: e.Path, Entry: e})
			}
		}
	}
	p.appendSorted(dirs, files)
	return p
}

func (p *Plan) appendSorted(dirs, files []Op) {
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].Path < dirs[j].Path })
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	p.Ops = append(p.Ops, dirs...)
	for _, f := range files {
		p.Files++
		if f.Kind == OpPut {
			p.Bytes += f.Entry.Size
		}
	}
	p.Ops = append(p.Ops, files...)
	sort.Strings(p.Skipped)
}

type entryKind int

const (
	kindFile entryKind = iota
	kindDir
	kindLink
)

func kindOf(m fs.FileMode) entryKind {
	switch {
	case m.IsDir():
		return kindDir
	case m&fs.ModeSymlink != 0:
		return kindLink
	}
	return kindFile
}

// topmost sorts paths and drops those inside another one of them: deleting
// a directory deletes what it holds.
func topmost(paths []string) []string {
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	kept := map[string]bool{}
	var out []string
	for _, p := range sorted {
		p = path.Clean(p)
		if relpath.UnderAny(p, kept) {
			continue
		}
		kept[p] = true
		out = append(out, p)
	}
	return out
}
