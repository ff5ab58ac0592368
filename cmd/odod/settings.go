package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// settingsCommand runs fn on the workspace's settings: the URL and
// storage commands read and write .odo/config.yaml (and ask the cluster),
// they do not index the workspace.
func settingsCommand(streams stdio, f *componentFlags, fn func(cmd *cobra.Command, args []string, settings *component.Settings) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		settings, log, err := f.settings(streams)
		if err != nil {
			return err
		}
		err = fn(cmd, args, settings)
		_ = log.Sync()
		return cliError(err)
	}
}

func newURLCommand(streams stdio) *cobra.Command {
	cmd := &cobra.Command{Use: "url", Short: "Manage the component's URLs (Routes on OpenShift, else Ingresses)"}

	var create componentFlags
	var port int
	var secure bool
	var host string
	var ingress bool
	createCmd := &cobra.Command{
		Use:   "create NAME --port PORT",
		Short: "Add a URL; created at once when the component is pushed, else at the next push",
		Args:  cobra.ExactArgs(1),
		RunE: settingsCommand(streams, &create, func(cmd *cobra.Command, args []string, settings *component.Settings) error {
			want := config.ConfigURL{Name: args[0], Port: port, Secure: secure, Host: host}
			if ingress {
				want.Kind = config.URLKindIngress
			}
			u, err := settings.CreateURL(cmd.Context(), want)
			if err != nil {
				return err
			}
			if create.out.json() {
				return printJSON(streams, u)
			}
			fmt.Fprintf(streams.out, "URL %s for port %d: %s %s\n", u.Name, u.Port, u.State, u.URL)
			return nil
		}),
	}
	createCmd.Flags().IntVar(&port, "port", 0, "the component port the URL reaches")
	createCmd.Flags().BoolVar(&secure, "secure", false, "TLS (edge termination)")
	createCmd.Flags().StringVar(&host, "host", "", "host name (Ingress)")
	createCmd.Flags().BoolVar(&ingress, "ingress", false, "make an Ingress even where Routes are served")
	create.register(createCmd)

	var list componentFlags
	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List the URLs",
		Args:  cobra.NoArgs,
		RunE: settingsCommand(streams, &list, func(cmd *cobra.Command, _ []string, settings *component.Settings) error {
			urls, err := settings.ListURLs(cmd.Context())
			if err != nil {
				return err
			}
			if list.out.json() {
				return printJSON(streams, protocol.URLListResult{URLs: urls})
			}
			w := tabwriter.NewWriter(streams.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tPORT\tSTATE\tURL")
			for _, u := range urls {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", u.Name, u.Port, u.State, u.URL)
			}
			return w.Flush()
		}),
	}
	list.register(listCmd)

	var del componentFlags
	deleteCmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Remove a URL",
		Args:  cobra.ExactArgs(1),
		RunE: settingsCommand(streams, &del, func(cmd *cobra.Command, args []string, settings *component.Settings) error {
			return settings.DeleteURL(cmd.Context(), args[0])
		}),
	}
	del.register(deleteCmd)
	cmd.AddCommand(createCmd, listCmd, deleteCmd)
	return cmd
}

func newStorageCommand(streams stdio) *cobra.Command {
	cmd := &cobra.Command{Use: "storage", Short: "Manage the component's storage (PVC mounts, applied on the next push)"}

	var add componentFlags
	var path, size string
	addCmd := &cobra.Command{
		Use:   "add NAME --path PATH --size SIZE",
		Short: "Add a PVC mounted at PATH",
		Args:  cobra.ExactArgs(1),
		RunE: settingsCommand(streams, &add, func(cmd *cobra.Command, args []string, settings *component.Settings) error {
			if err := settings.AddStorage(args[0], path, size); err != nil {
				return err
			}
			fmt.Fprintf(streams.out, "Storage %s (%s at %s) added; run odod push to create it\n", args[0], size, path)
			return nil
		}),
	}
	addCmd.Flags().StringVar(&path, "path", "", "where it is mounted in the container")
	addCmd.Flags().StringVar(&size, "size", "1Gi", "its size (a Kubernetes quantity)")
	add.register(addCmd)

	var list componentFlags
	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List the storage",
		Args:  cobra.NoArgs,
		RunE: settingsCommand(streams, &list, func(cmd *cobra.Command, _ []string, settings *component.Settings) error {
			st, err := settings.ListStorage(cmd.Context())
			if err != nil {
				return err
			}
			if list.out.json() {
				return printJSON(streams, protocol.StorageListResult{Storage: st})
			}
			w := tabwriter.NewWriter(streams.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tSIZE\tPATH\tSTATE")
			for _, s := range st {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Name, s.Size, s.Path, s.State)
			}
			return w.Flush()
		}),
	}
	list.register(listCmd)

	var remove componentFlags
	removeCmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a PVC mount (the next push deletes the PVC)",
		Args:  cobra.ExactArgs(1),
		RunE: settingsCommand(streams, &remove, func(cmd *cobra.Command, args []string, settings *component.Settings) error {
			return settings.RemoveStorage(args[0])
		}),
	}
	remove.register(removeCmd)
	cmd.AddCommand(addCmd, listCmd, removeCmd)
	return cmd
}
