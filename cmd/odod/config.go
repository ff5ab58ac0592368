package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/sourcegraph/jsonrpc2"
	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/daemon"
	"github.com/odod-dev/odod/protocol"
)

// odod config view|set|unset: the component's settings by odo config's
// parameter names, the same edits as odod/config/set and unset.

// configFlags choose the workspace and the output.
type configFlags struct {
	dir string
	out outputFlag
}

func (f *configFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "context", ".", "the component's workspace directory")
	f.out.register(cmd)
}

func (f *configFlags) root() (string, error) {
	return (&componentFlags{dir: f.dir}).root()
}

// rpcError prints a protocol error with its suggestion, as cliError does
// for the engine's.
func rpcError(err error) error {
	var e *jsonrpc2.Error
	if !errors.As(err, &e) {
		return cliError(err)
	}
	var d protocol.ErrorData
	if e.Data != nil && json.Unmarshal(*e.Data, &d) == nil && len(d.Suggestions) > 0 && !strings.Contains(e.Message, d.Suggestions[0].Action) {
		return fmt.Errorf("%s\n  → %s", e.Message, d.Suggestions[0].Action)
	}
	return errors.New(e.Message)
}

func printConfig(streams stdio, f *configFlags, res protocol.ConfigViewResult) error {
	if f.out.json() {
		return printJSON(streams, res)
	}
	tw := tabwriter.NewWriter(streams.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT SETTINGS")
	fmt.Fprintln(tw, "------------------------------------------------")
	fmt.Fprintln(tw, "PARAMETER\tCURRENT_VALUE")
	for _, p := range res.Parameters {
		fmt.Fprintf(tw, "%s\t%s\n", p.Name, p.Value)
	}
	if len(res.Env) > 0 {
		fmt.Fprintln(tw, "\nENVIRONMENT VARIABLES")
		fmt.Fprintln(tw, "------------------------------------------------")
		fmt.Fprintln(tw, "NAME\tVALUE")
		for _, e := range res.Env {
			fmt.Fprintf(tw, "%s\t%s\n", e.Name, e.Value)
		}
	}
	return tw.Flush()
}

func newConfigCommand(streams stdio) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "View and change the component's settings (.odo/config.yaml), applied at the next push"}

	var view configFlags
	viewCmd := &cobra.Command{
		Use: "view", Short: "Show the component's settings", Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := view.out.validate(); err != nil {
				return err
			}
			root, err := view.root()
			if err != nil {
				return err
			}
			cfg, err := config.Load(root)
			if err != nil {
				return cliError(component.Coded(err))
			}
			return printConfig(streams, &view, daemon.ConfigView(root, cfg))
		},
	}
	view.register(viewCmd)

	var (
		set    configFlags
		setEnv []string
	)
	setCmd := &cobra.Command{
		Use:   "set PARAMETER VALUE | --env NAME=VALUE...",
		Short: "Set a parameter (Type, Name, Application, Ports, Memory, CPU, DebugPort, …) or environment variables",
		Example: `  odod config set MaxMemory 512Mi
  odod config set Ports 8080,8443
  odod config set --env DEBUG=1 --env LOG_LEVEL=info`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(setEnv) > 0 {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(2)(cmd, args)
		},
		ValidArgsFunction: completeParameters,
		RunE: func(_ *cobra.Command, args []string) error {
			if err := set.out.validate(); err != nil {
				return err
			}
			root, err := set.root()
			if err != nil {
				return err
			}
			p := protocol.ConfigSetParams{Env: setEnv}
			if len(args) == 2 {
				p.Parameters = map[string]string{args[0]: args[1]}
			}
			res, err := daemon.EditConfig(root, func(cfg *config.LocalConfig) error { return daemon.ConfigSet(cfg, p) })
			if err != nil {
				return rpcError(err)
			}
			if set.out.json() {
				return printJSON(streams, res)
			}
			fmt.Fprintln(streams.out, "Settings written to", res.Path+"; run odod push to apply them")
			return nil
		},
	}
	setCmd.Flags().StringArrayVarP(&setEnv, "env", "e", nil, "environment variable NAME=VALUE (repeatable)")
	set.register(setCmd)

	var (
		unset    configFlags
		unsetEnv []string
	)
	unsetCmd := &cobra.Command{
		Use:   "unset PARAMETER | --env NAME...",
		Short: "Clear a parameter or remove environment variables",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(unsetEnv) > 0 {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		ValidArgsFunction: completeParameters,
		RunE: func(_ *cobra.Command, args []string) error {
			if err := unset.out.validate(); err != nil {
				return err
			}
			root, err := unset.root()
			if err != nil {
				return err
			}
			p := protocol.ConfigUnsetParams{Parameters: args, Env: unsetEnv}
			res, err := daemon.EditConfig(root, func(cfg *config.LocalConfig) error { return daemon.ConfigUnset(cfg, p) })
			if err != nil {
				return rpcError(err)
			}
			if unset.out.json() {
				return printJSON(streams, res)
			}
			fmt.Fprintln(streams.out, "Settings written to", res.Path+"; run odod push to apply them")
			return nil
		},
	}
	unsetCmd.Flags().StringArrayVarP(&unsetEnv, "env", "e", nil, "environment variable NAME to remove (repeatable)")
	unset.register(unsetCmd)

	cmd.AddCommand(viewCmd, setCmd, unsetCmd)
	return cmd
}

// completeParameters completes odo's parameter names.
func completeParameters(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, p := range config.New("x", "x").Parameters() {
		names = append(names, p.Name)
	}
	return matching(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}
