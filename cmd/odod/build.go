package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/protocol"
)

func newBuildCommand(streams stdio) *cobra.Command {
	var f componentFlags
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build an image of the component in the cluster and push it to its registry; deploy nothing",
		Long: `Build runs the component's S2I build in the cluster: a build pod from the
builder image gets the workspace's files (as the index lists them, ignore
rules applied; a git component's repository instead), runs assemble,
and the assembled application becomes one layer on top of the builder
image, pushed to the component's Registry (odod create --registry). It
prints the image by digest; nothing is deployed.`,
		Example: "  odod build\n  odod build -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := onComponent(cmd, &f, streams, func(c *component.Component) (component.BuildResult, error) { return c.Build(cmd.Context()) })
			if err != nil {
				return err
			}
			if f.out.json() {
				return printJSON(streams, protocol.ComponentBuildResult{Image: res.Image, DurationMs: res.DurationMs})
			}
			fmt.Fprintf(streams.out, "Built %s in %.1f s\n", res.Image, float64(res.DurationMs)/1000)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newHistoryCommand(streams stdio) *cobra.Command {
	var f componentFlags
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the component's rollouts: revision, image, time, cause",
		Args:  cobra.NoArgs,
		RunE: settingsCommand(streams, &f, func(cmd *cobra.Command, _ []string, settings *component.Settings) error {
			h, err := settings.History(cmd.Context())
			if err != nil {
				return err
			}
			if f.out.json() {
				return printJSON(streams, h)
			}
			w := tabwriter.NewWriter(streams.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "REVISION\tCREATED\tIMAGE\tCAUSE")
			for _, r := range h.Revisions {
				rev := strconv.FormatInt(r.Revision, 10)
				if r.Current {
					rev += " (current)"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", rev, r.Created, r.Image, r.Cause)
			}
			return w.Flush()
		}),
	}
	f.register(cmd)
	return cmd
}

func newRollbackCommand(streams stdio) *cobra.Command {
	var f componentFlags
	cmd := &cobra.Command{
		Use:   "rollback [REVISION]",
		Short: "Roll the component back to a revision (default: the one before the current)",
		Long: `Rollback rolls the component's workload back to a revision of odod history,
as kubectl rollout undo (Deployment) or oc rollout undo (DeploymentConfig)
do, and waits until its pod runs. The next push rolls forward again.`,
		Example: "  odod rollback\n  odod rollback 3",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var revision int64
			if len(args) == 1 {
				n, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil || n <= 0 {
					return fmt.Errorf("revision %q is not a positive number: pick one from odod history", args[0])
				}
				revision = n
			}
			res, err := onComponent(cmd, &f, streams, func(c *component.Component) (protocol.ComponentRollbackResult, error) {
				return c.Rollback(cmd.Context(), revision)
			})
			if err != nil {
				return err
			}
			if f.out.json() {
				return printJSON(streams, res)
			}
			fmt.Fprintf(streams.out, "Rolled back to revision %d (%s); pod %s is running\n", res.RolledBackTo.Revision, res.RolledBackTo.Image, res.Pod)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// onComponent opens the workspace's component with the push's terminal
// output, runs fn on it and closes it.
func onComponent[T any](cmd *cobra.Command, f *componentFlags, streams stdio, fn func(*component.Component) (T, error)) (T, error) {
	var zero T
	tc, err := f.open(cmd.Context(), streams, false, pushHooks(streams, newProgressBar(streams), f.out.json()), nil)
	if err != nil {
		return zero, err
	}
	res, err := fn(tc.comp)
	if cerr := tc.close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return zero, cliError(err)
	}
	return res, nil
}
