package main

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/cluster"
)

// Shell completion of project, app and component names asks the
// cluster, bounded: a shell waits for it.

// completionTimeout bounds one completion, connecting included.
const completionTimeout = 3 * time.Second

// completionClient connects for a completion with the command's flags.
func completionClient(cmd *cobra.Command, flags *clusterFlags, namespace string) (context.Context, context.CancelFunc, *cluster.Client, error) {
	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, completionTimeout)
	opts := flags.options(namespace)
	opts.Timeout = completionTimeout
	cl, err := cluster.Connect(ctx, opts)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return ctx, cancel, cl, nil
}

// matching keeps the names that start with prefix, sorted and unique.
func matching(names []string, prefix string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// completeProjects completes the first argument with project names.
func completeProjects(flags *clusterFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return projectNames(cmd, flags, toComplete)
	}
}

func projectNames(cmd *cobra.Command, flags *clusterFlags, toComplete string) ([]string, cobra.ShellCompDirective) {
	ctx, cancel, cl, err := completionClient(cmd, flags, "")
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	list, err := cl.ListProjects(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, p := range list.Projects {
		names = append(names, p.Name)
	}
	return matching(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// componentNames lists the names of the components (of app, when set)
// or, with apps, of the apps of a project ("" = the kubeconfig's).
func componentNames(cmd *cobra.Command, flags *clusterFlags, project, app string, apps bool, toComplete string) ([]string, cobra.ShellCompDirective) {
	ctx, cancel, cl, err := completionClient(cmd, flags, project)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	found, err := cl.ListComponents(ctx, app)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, c := range found {
		if apps {
			names = append(names, c.App)
		} else {
			names = append(names, c.Name)
		}
	}
	return matching(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeApps completes the first argument with app names.
func completeApps(flags *listFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return componentNames(cmd, &flags.clusterFlags, flags.project, "", true, toComplete)
	}
}

// registerNameCompletion completes --project with projects and, where
// the command has it, --app with apps.
func registerNameCompletion(cmd *cobra.Command, flags *listFlags) {
	_ = cmd.RegisterFlagCompletionFunc("project", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return projectNames(cmd, &flags.clusterFlags, toComplete)
	})
	if cmd.Flags().Lookup("app") != nil {
		_ = cmd.RegisterFlagCompletionFunc("app", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return componentNames(cmd, &flags.clusterFlags, flags.project, "", true, toComplete)
		})
	}
}
