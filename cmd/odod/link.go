package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/protocol"
)

func newLinkCommand(streams stdio) *cobra.Command {
	var (
		f    componentFlags
		port int
	)
	cmd := &cobra.Command{
		Use:   "link NAME [--port N]",
		Short: "Link the component to another component or a Service: its host and port become env vars",
		Long: `Link the component to NAME, a component of the same application or a Service of the
namespace: COMPONENT_<NAME>_HOST and COMPONENT_<NAME>_PORT reach the component's container
as environment variables. A pushed component's pod rolls at once (link waits for it);
otherwise the next push applies the link. The link is kept in .odo/config.yaml.`,
		Args: cobra.ExactArgs(1),
		RunE: settingsCommand(streams, &f, func(cmd *cobra.Command, args []string, settings *component.Settings) error {
			res, err := settings.Link(cmd.Context(), args[0], port)
			if err != nil {
				return err
			}
			return printLinkResult(streams, &f, "Linked", res)
		}),
	}
	cmd.Flags().IntVar(&port, "port", 0, "the target's port (needed when it has several)")
	f.register(cmd)
	return cmd
}

func newUnlinkCommand(streams stdio) *cobra.Command {
	var f componentFlags
	cmd := &cobra.Command{
		Use:   "unlink NAME",
		Short: "Remove the link to NAME; the pod rolls without its env vars",
		Args:  cobra.ExactArgs(1),
		RunE: settingsCommand(streams, &f, func(cmd *cobra.Command, args []string, settings *component.Settings) error {
			res, err := settings.Unlink(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printLinkResult(streams, &f, "Unlinked", res)
		}),
	}
	f.register(cmd)
	return cmd
}

func printLinkResult(streams stdio, f *componentFlags, verb string, res protocol.LinkResult) error {
	if f.out.json() {
		return printJSON(streams, res)
	}
	l := res.Link
	fmt.Fprintf(streams.out, "%s %s %s port %d: %s (Secret %s)\n", verb, l.Kind, l.Name, l.Port, strings.Join(l.Env, ", "), l.Secret)
	if res.Pod != "" {
		fmt.Fprintf(streams.out, "The component's pod rolled: %s\n", res.Pod)
	} else {
		fmt.Fprintln(streams.out, "The component is not pushed: the next push applies it (odod push)")
	}
	return nil
}
