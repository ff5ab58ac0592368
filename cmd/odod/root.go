package main

import (
	"errors"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/cluster"
)

// stdio is the command's view of the process streams; tests pass buffers.
type stdio struct {
	in  io.Reader
	out io.Writer
	err io.Writer
	// clientGoLogs, when set, receives the logger a command builds, for
	// client-go's lines (main installs it into klog; tests leave it nil).
	clientGoLogs *cluster.ClientGoLogs
}

// exitError carries a specific exit code out of a command (odod serve exits
// 1 when the client sent exit without shutdown, as LSP requires).
type exitError struct{ code int }

func (e exitError) Error() string { return "exit status " + strconv.Itoa(e.code) }

func asExit(err error, target *exitError) bool { return errors.As(err, target) }

func newRootCommand(streams stdio) *cobra.Command {
	root := &cobra.Command{
		Use:   "odod",
		Short: "odod: the inner-loop engine for Kubernetes and OpenShift",
		Long: `odod keeps a watched index of each workspace an editor opens, pushes only
the changed files into the component's running container, runs S2I
assemble-and-restart there, and streams progress, build output and
application logs back.

Editors start "odod serve" (the default when no command is given) and speak
JSON-RPC 2.0 with LSP framing on its stdin and stdout. The other commands are
the same engine for a terminal.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
	}
	root.SetIn(streams.in)
	root.SetOut(streams.out)
	root.SetErr(streams.err)

	serve := newServeCommand(streams)
	// odod with no command serves, as editors expect; its flags are
	// serve's.
	root.Flags().AddFlagSet(serve.Flags())
	root.RunE = serve.RunE
	root.CompletionOptions.HiddenDefaultCmd = false

	// Each command lives in its own file as newXxxCommand(streams).
	for _, sub := range []*cobra.Command{
		serve,
		newVersionCommand(streams),
		newIndexCommand(streams),
		newCreateCommand(streams),
		newCatalogCommand(streams),
		newInitImageCommand(streams),
		newPushCommand(streams),
		newWatchCommand(streams),
		newDaemonCommand(streams),
		newLogsCommand(streams),
		newDescribeCommand(streams),
		newDeleteCommand(streams),
		newURLCommand(streams),
		newStorageCommand(streams),
		newProjectCommand(streams),
		newListCommand(streams),
		newAppCommand(streams),
		newBuildCommand(streams),
		newHistoryCommand(streams),
		newRollbackCommand(streams),
		newLoginCommand(streams),
		newLogoutCommand(streams),
		newConfigCommand(streams),
		newLinkCommand(streams),
		newUnlinkCommand(streams),
		newDebugCommand(streams),
	} {
		root.AddCommand(sub)
	}
	return root
}
