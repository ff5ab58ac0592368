package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/indexer"
)

// indexReport is what odod index -o json prints.
type indexReport struct {
	Root    string `json:"root"`
	Files   int    `json:"files"`
	Dirs    int    `json:"dirs"`
	Bytes   int64  `json:"bytes"`
	Ignored int    `json:"ignored"`

	IndexFile    string `json:"indexFile"`
	IndexState   string `json:"indexState"`
	IndexProblem string `json:"indexProblem,omitempty"`
	PodUID       string `json:"podUID,omitempty"`

	Added    int `json:"added"`
	Modified int `json:"modified"`
	Deleted  int `json:"deleted"`
	// Changes lists the paths, with -v only.
	Changes *indexChanges `json:"changes,omitempty"`
}

type indexChanges struct {
	Added    []string `json:"added"`
	Modified []string `json:"modified"`
	Deleted  []string `json:"deleted"`
}

func newIndexCommand(streams stdio) *cobra.Command {
	var (
		out     outputFlag
		verbose bool
		noHash  bool
	)
	cmd := &cobra.Command{
		Use:   "index [DIR]",
		Short: "Show a workspace's file index and what the next push would send",
		Long: `Index walks DIR (default: the current directory) with the workspace's ignore
rules (.odoignore, else .gitignore, in every directory; .git and .odo always
out) and compares it with the persisted index (.odo/odo-file-index.json),
which records what the last confirmed push left in the container.

It prints the totals and the changes since that push: counts, and the paths
with -v. It writes nothing.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.validate(); err != nil {
				return err
			}
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			opts := indexer.Options{}
			if noHash {
				opts.Hashing = indexer.HashOff
			}
			r, err := indexer.Compare(cmd.Context(), dir, opts)
			if err != nil {
				return err
			}
			rep := indexReport{
				Root: r.Root, Files: r.Stats.Files, Dirs: r.Stats.Dirs, Bytes: r.Stats.Bytes, Ignored: r.Stats.Ignored,
				IndexFile: r.IndexFile, IndexState: r.IndexState.String(), IndexProblem: r.IndexProblem, PodUID: r.PodUID,
				Added: len(r.Changes.Added), Modified: len(r.Changes.Modified), Deleted: len(r.Changes.Deleted),
			}
			if verbose {
				rep.Changes = &indexChanges{
					Added:    indexPaths(r.Changes.Added),
					Modified: indexPaths(r.Changes.Modified),
					Deleted:  indexPaths(r.Changes.Deleted),
				}
			}
			if out.json() {
				return printJSON(streams, rep)
			}
			return printIndexReport(streams, rep)
		},
	}
	out.register(cmd)
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list the changed paths")
	cmd.Flags().BoolVar(&noHash, "no-hash", false, "compare size and mtime only, as odo did (reads no file content)")
	return cmd
}

func indexPaths(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func printIndexReport(streams stdio, r indexReport) error {
	w := &strings.Builder{}
	fmt.Fprintf(w, "%s: %s, %s, %s, %d ignored\n", r.Root, count(r.Files, "file", "files"), count(r.Dirs, "directory", "directories"), formatIndexBytes(r.Bytes), r.Ignored)
	switch r.IndexState {
	case "missing":
		fmt.Fprintf(w, "no persisted index (%s): the next push sends everything\n", r.IndexFile)
	case "loaded":
		pod := "unknown pod"
		if r.PodUID != "" {
			pod = "pod " + r.PodUID
		}
		fmt.Fprintf(w, "persisted index %s: last confirmed push to %s\n", r.IndexFile, pod)
	default:
		fmt.Fprintf(w, "persisted index %s is %s (%s): it is rebuilt, and the next push sends everything\n", r.IndexFile, r.IndexState, r.IndexProblem)
	}
	fmt.Fprintf(w, "changes since the last confirmed push: %d added, %d modified, %d deleted\n", r.Added, r.Modified, r.Deleted)
	if r.Changes != nil {
		for _, l := range []struct {
			mark  string
			paths []string
		}{{"A", r.Changes.Added}, {"M", r.Changes.Modified}, {"D", r.Changes.Deleted}} {
			for _, p := range l.paths {
				fmt.Fprintf(w, "  %s %s\n", l.mark, p)
			}
		}
	}
	_, err := io.WriteString(streams.out, w.String())
	return err
}

func formatIndexBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
