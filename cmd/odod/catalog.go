package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/cluster"
)

// clusterFlags are how a terminal command reaches the cluster, as kubectl
// reads them.
type clusterFlags struct {
	kubeconfig  string
	kubeContext string
	timeout     time.Duration
	clients     clientCache
}

func (f *clusterFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	cmd.Flags().StringVar(&f.kubeContext, "kube-context", "", "kubeconfig context to use (default: the current context)")
	cmd.Flags().DurationVar(&f.timeout, "request-timeout", 15*time.Second, "how long to wait for the cluster to answer")
}

func (f *clusterFlags) options(namespace string) cluster.Options {
	return cluster.Options{Kubeconfig: f.kubeconfig, Context: f.kubeContext, Namespace: namespace, Timeout: f.timeout}
}

func (f *clusterFlags) connect(ctx context.Context, namespace string) (*cluster.Client, error) {
	return f.clients.connect(ctx, f.options(namespace))
}

func newCatalogCommand(streams stdio) *cobra.Command {
	var (
		out   outputFlag
		flags clusterFlags
	)
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "List the component types (builder images) odod create accepts",
		Long: `Catalog lists the component types of the cluster: the ImageStreams in the
openshift namespace with a tag annotated as a builder (as odo catalog list
components did), or odod's built-in list where the cluster has none.

A type is given to odod create as NAME or NAME:TAG; any image reference
(registry/repository:tag) is accepted as well.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.validate(); err != nil {
				return err
			}
			client, err := flags.connect(cmd.Context(), "")
			if err != nil {
				return err
			}
			entries, err := client.Catalog(cmd.Context())
			if err != nil {
				return err
			}
			if out.json() {
				return printJSON(streams, entries)
			}
			tw := tabwriter.NewWriter(streams.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPROJECT\tTAGS\tSOURCE")
			for _, e := range entries {
				project := e.Namespace
				if project == "" {
					project = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, project, strings.Join(e.Tags, ","), e.Source)
			}
			return tw.Flush()
		},
	}
	out.register(cmd)
	flags.register(cmd)
	return cmd
}
