package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/daemon"
	"github.com/odod-dev/odod/protocol"
)

// The cluster view in a terminal: odod project, odod app, odod list.
// -o json prints the protocol's results (docs/protocol.md).

func newProjectCommand(streams stdio) *cobra.Command {
	var flags clusterFlags
	cmd := &cobra.Command{Use: "project", Short: "List, create and delete projects (OpenShift projects, else namespaces)"}

	var listOut outputFlag
	listCmd := &cobra.Command{
		Use: "list", Short: "List the projects you can see", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := listOut.validate(); err != nil {
				return err
			}
			client, err := flags.connect(cmd.Context(), "")
			if err != nil {
				return err
			}
			list, err := client.ListProjects(cmd.Context())
			if err != nil {
				return err
			}
			res := daemon.ProjectListResult(client.Namespace(), list)
			if listOut.json() {
				return printJSON(streams, res)
			}
			tw := tabwriter.NewWriter(streams.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACTIVE\tNAME\tPHASE")
			for _, p := range res.Projects {
				active := ""
				if p.Current {
					active = "*"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", active, p.Name, p.Phase)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if !res.Complete {
				fmt.Fprintln(streams.out, res.Message)
			}
			return nil
		},
	}
	listOut.register(listCmd)

	var createOut outputFlag
	createCmd := &cobra.Command{
		Use: "create NAME", Short: "Create a project", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := createOut.validate(); err != nil {
				return err
			}
			client, err := flags.connect(cmd.Context(), "")
			if err != nil {
				return err
			}
			if err := client.CreateProject(cmd.Context(), args[0]); err != nil {
				return err
			}
			if createOut.json() {
				return printJSON(streams, protocol.ProjectResult{Name: args[0], Current: client.Namespace()})
			}
			fmt.Fprintf(streams.out, "Project %q created; use it with --project %s (or odod/project/set in an editor)\n", args[0], args[0])
			return nil
		},
	}

	var (
		wait   bool
		delOut outputFlag
	)
	deleteCmd := &cobra.Command{
		Use: "delete NAME", Short: "Delete a project and everything in it", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeProjects(&flags),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := delOut.validate(); err != nil {
				return err
			}
			client, err := flags.connect(cmd.Context(), "")
			if err != nil {
				return err
			}
			if err := client.DeleteProject(cmd.Context(), args[0], wait, 0); err != nil {
				return err
			}
			if delOut.json() {
				return printJSON(streams, protocol.ProjectResult{Name: args[0], Current: client.Namespace()})
			}
			fmt.Fprintf(streams.out, "Project %q deleted\n", args[0])
			return nil
		},
	}
	deleteCmd.Flags().BoolVar(&wait, "wait", true, "return once the project is gone")

	createOut.register(createCmd)
	delOut.register(deleteCmd)
	for _, sub := range []*cobra.Command{listCmd, createCmd, deleteCmd} {
		flags.register(sub)
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(newProjectSetCommand(streams))
	return cmd
}

// listFlags choose the namespace of odod list and odod app.
type listFlags struct {
	clusterFlags
	project string
}

func (f *listFlags) register(cmd *cobra.Command) {
	f.clusterFlags.register(cmd)
	cmd.Flags().StringVar(&f.project, "project", "", "project (namespace) to look in (default: the kubeconfig's)")
}

func (f *listFlags) components(cmd *cobra.Command, app string) (string, []protocol.ComponentSummary, error) {
	return componentsIn(cmd, &f.clusterFlags, f.project, app)
}

// componentsIn lists the components of a project ("" = the kubeconfig's),
// of one app when app is set.
func componentsIn(cmd *cobra.Command, f *clusterFlags, project, app string) (string, []protocol.ComponentSummary, error) {
	client, err := f.connect(cmd.Context(), project)
	if err != nil {
		return "", nil, err
	}
	found, err := client.ListComponents(cmd.Context(), app)
	if err != nil {
		return "", nil, err
	}
	out := make([]protocol.ComponentSummary, 0, len(found))
	for _, c := range found {
		out = append(out, component.Summarize(c, nil))
	}
	return client.Namespace(), out, nil
}

func printComponents(streams stdio, comps []protocol.ComponentSummary) error {
	tw := tabwriter.NewWriter(streams.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tNAME\tTYPE\tSTATE\tMANAGED BY\tURLS")
	for _, c := range comps {
		var urls []string
		for _, u := range c.URLs {
			urls = append(urls, u.URL)
		}
		state := string(c.State)
		if c.Reason != "" {
			state += " (" + c.Reason + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.App, c.Name, c.Type, state, c.ManagedBy, strings.Join(urls, ","))
	}
	return tw.Flush()
}

func newListCommand(streams stdio) *cobra.Command {
	var (
		out   outputFlag
		flags listFlags
		app   string
	)
	cmd := &cobra.Command{
		Use: "list", Short: "List the components of a project (odo's and odod's)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.validate(); err != nil {
				return err
			}
			ns, comps, err := flags.components(cmd, app)
			if err != nil {
				return err
			}
			if out.json() {
				return printJSON(streams, protocol.ComponentListResult{Namespace: ns, Components: comps})
			}
			return printComponents(streams, comps)
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "list the components of this app only")
	out.register(cmd)
	flags.register(cmd)
	registerNameCompletion(cmd, &flags)
	return cmd
}

func newAppCommand(streams stdio) *cobra.Command {
	cmd := &cobra.Command{Use: "app", Short: "List, describe and delete applications (components sharing an app label)"}

	var (
		listOut      outputFlag
		appListFlags listFlags
	)
	listCmd := &cobra.Command{
		Use: "list", Short: "List the apps of a project", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := listOut.validate(); err != nil {
				return err
			}
			ns, comps, err := appListFlags.components(cmd, "")
			if err != nil {
				return err
			}
			res := protocol.AppListResult{Namespace: ns, Apps: component.Apps(ns, comps)}
			if listOut.json() {
				return printJSON(streams, res)
			}
			tw := tabwriter.NewWriter(streams.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCOMPONENTS")
			for _, a := range res.Apps {
				fmt.Fprintf(tw, "%s\t%s\n", a.Name, strings.Join(a.Components, ","))
			}
			return tw.Flush()
		},
	}
	listOut.register(listCmd)
	appListFlags.register(listCmd)
	registerNameCompletion(listCmd, &appListFlags)

	var (
		descOut   outputFlag
		descFlags listFlags
	)
	describeCmd := &cobra.Command{
		Use: "describe NAME", Short: "Describe an app's components", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeApps(&descFlags),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := descOut.validate(); err != nil {
				return err
			}
			ns, comps, err := descFlags.components(cmd, args[0])
			if err != nil {
				return err
			}
			if len(comps) == 0 {
				return noApp(args[0], ns)
			}
			if descOut.json() {
				return printJSON(streams, protocol.AppDescribeResult{Name: args[0], Namespace: ns, Components: comps})
			}
			return printComponents(streams, comps)
		},
	}
	descOut.register(describeCmd)
	descFlags.register(describeCmd)
	registerNameCompletion(describeCmd, &descFlags)

	var (
		delOut   outputFlag
		delFlags listFlags
		wait     bool
	)
	deleteCmd := &cobra.Command{
		Use: "delete NAME", Short: "Delete every component of an app", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeApps(&delFlags),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := delOut.validate(); err != nil {
				return err
			}
			client, err := delFlags.connect(cmd.Context(), delFlags.project)
			if err != nil {
				return err
			}
			found, err := client.ListComponents(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if len(found) == 0 {
				return noApp(args[0], client.Namespace())
			}
			res := protocol.AppDeleteResult{Components: []string{}, Deleted: []protocol.ObjectRef{}}
			for _, c := range found {
				deleted, err := client.Delete(cmd.Context(), cluster.ComponentRef{Name: c.Name, App: c.App}, cluster.DeleteOptions{Wait: wait})
				for _, o := range deleted {
					res.Deleted = append(res.Deleted, protocol.ObjectRef{Kind: o.Kind, Name: o.Name})
				}
				if err != nil {
					return err
				}
				res.Components = append(res.Components, c.Name)
			}
			if delOut.json() {
				return printJSON(streams, res)
			}
			fmt.Fprintf(streams.out, "App %q deleted: %s (%d objects)\n", args[0], strings.Join(res.Components, ", "), len(res.Deleted))
			return nil
		},
	}
	deleteCmd.Flags().BoolVar(&wait, "wait", true, "return once the objects and pods are gone")
	delOut.register(deleteCmd)
	delFlags.register(deleteCmd)
	registerNameCompletion(deleteCmd, &delFlags)

	cmd.AddCommand(listCmd, describeCmd, deleteCmd)
	return cmd
}

func noApp(name, namespace string) error {
	return fmt.Errorf("no component of app %q in project %s: odod app list lists them (--project for another project)", name, namespace)
}

// describeByName is odod describe NAME, as odo describe NAME: a
// component found on the cluster by its labels, no workspace needed.
func describeByName(cmd *cobra.Command, streams stdio, f *clusterFlags, project, app, name string, asJSON bool) error {
	ns, comps, err := componentsIn(cmd, f, project, app)
	if err != nil {
		return cliError(err)
	}
	var found []protocol.ComponentSummary
	var apps []string
	for _, c := range comps {
		if c.Name == name {
			found = append(found, c)
			apps = append(apps, c.App)
		}
	}
	switch {
	case len(found) == 0:
		return fmt.Errorf("no component %q in project %s: odod list lists them (--project, --app to look elsewhere)", name, ns)
	case len(found) > 1:
		return fmt.Errorf("component %q is in several apps of project %s (%s): choose one with --app", name, ns, strings.Join(apps, ", "))
	}
	if asJSON {
		return printJSON(streams, found[0])
	}
	return printComponents(streams, found)
}

// completeComponents completes the first argument with the names of the
// components of --project (and --app).
func completeComponents(f *clusterFlags, project, app *string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return componentNames(cmd, f, *project, *app, false, toComplete)
	}
}
