package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
)

// odod login, odod logout and odod project set write the kubeconfig, as
// oc login, oc logout and odo project set do.

func newLoginCommand(streams stdio) *cobra.Command {
	var (
		out                   outputFlag
		flags                 clusterFlags
		token, user, pwd, ns  string
		insecureSkipTLSVerify bool
	)
	cmd := &cobra.Command{
		Use:   "login [SERVER] (--token TOKEN | -u USER -p PASSWORD)",
		Short: "Log in to a cluster and write the kubeconfig as oc login does",
		Long: `odod login checks the credentials against the API server and writes them to the
kubeconfig exactly as oc login does: a cluster named host-with-dashes:port, a user
USER/host-with-dashes:port holding the token, and a context
NAMESPACE/host-with-dashes:port/USER made current.

A token (a ServiceAccount's, or oc whoami -t) works on every cluster. A username
and password are exchanged for a token through OpenShift's OAuth server; a
Kubernetes cluster has none, log in with a token there. SERVER defaults to the
current context's.`,
		Example: `  odod login https://api.example.com:6443 --token sha256~abc…
  odod login https://api.example.com:6443 -u developer -p developer
  odod login 127.0.0.1:6443 --token "$(kubectl create token dev -n team-a)"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.validate(); err != nil {
				return err
			}
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			if user != "" && pwd == "" {
				var err error
				if pwd, err = readPassword(streams); err != nil {
					return err
				}
			}
			res, err := cluster.Login(cmd.Context(), cluster.LoginOptions{
				Kubeconfig: flags.kubeconfig, Context: flags.kubeContext, Server: server, Token: token, Username: user,
				Password: pwd, InsecureSkipTLSVerify: insecureSkipTLSVerify, Namespace: ns, Timeout: flags.timeout,
			})
			if err != nil {
				return cliError(err)
			}
			if out.json() {
				return printJSON(streams, protocol.LoginResult{Context: res.Context, Server: res.Server, User: res.User, Namespace: res.Namespace, Kubeconfig: res.Kubeconfig})
			}
			how := "the token provided"
			if token == "" {
				how = "the password provided"
			}
			fmt.Fprintf(streams.out, "Logged into %q as %q using %s.\n\nUsing project %q (context %s in %s).\n", res.Server, res.User, how, res.Namespace, res.Context, res.Kubeconfig)
			return nil
		},
	}
	cmd.Flags().StringVar(&token, "token", "", "bearer token")
	cmd.Flags().StringVarP(&user, "username", "u", "", "username (OpenShift's OAuth server)")
	cmd.Flags().StringVarP(&pwd, "password", "p", "", "password (asked for when -u is given without it)")
	cmd.Flags().BoolVar(&insecureSkipTLSVerify, "insecure-skip-tls-verify", false, "accept a server certificate no known authority signed")
	cmd.Flags().StringVarP(&ns, "namespace", "n", "", "project to use (default: your last one on this server, a ServiceAccount's own, else default)")
	cmd.MarkFlagsMutuallyExclusive("token", "username")
	out.register(cmd)
	flags.register(cmd)
	return cmd
}

func newLogoutCommand(streams stdio) *cobra.Command {
	var (
		out   outputFlag
		flags clusterFlags
	)
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Log out of the current context as oc logout does (revoke an OAuth token, remove it from the kubeconfig)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.validate(); err != nil {
				return err
			}
			res, err := cluster.Logout(cmd.Context(), flags.options(""))
			if err != nil {
				return cliError(err)
			}
			if out.json() {
				return printJSON(streams, protocol.LogoutResult{Context: res.Context, User: res.User, Revoked: res.Revoked, Kubeconfig: res.Kubeconfig})
			}
			fmt.Fprintf(streams.out, "Logged %q out of context %q", res.User, res.Context)
			if !res.Revoked {
				fmt.Fprint(streams.out, " (the token was not an OAuth token the cluster could revoke: it stays valid until it expires)")
			}
			fmt.Fprintln(streams.out)
			return nil
		},
	}
	out.register(cmd)
	flags.register(cmd)
	return cmd
}

// readPassword asks for the password as oc login does: without echo on a
// terminal, else the first line of stdin.
func readPassword(streams stdio) (string, error) {
	fmt.Fprint(streams.err, "Password: ")
	defer fmt.Fprintln(streams.err)
	if f, ok := streams.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(streams.in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	if line = strings.TrimRight(line, "\r\n"); line == "" {
		return "", errors.New("no password: pass -p PASSWORD, or give it on stdin")
	}
	return line, nil
}

// newProjectSetCommand is odod project set: the current context's
// namespace, in the kubeconfig, as odo project set.
func newProjectSetCommand(streams stdio) *cobra.Command {
	var (
		out   outputFlag
		flags clusterFlags
	)
	cmd := &cobra.Command{
		Use:               "set NAME",
		Short:             "Make a project the current context's (writes the kubeconfig, as odo project set)",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeProjects(&flags),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.validate(); err != nil {
				return err
			}
			client, err := flags.connect(cmd.Context(), args[0])
			if err != nil {
				return cliError(err)
			}
			if _, err := client.GetProject(cmd.Context(), args[0]); err != nil && cluster.KindOf(err) != cluster.KindUnauthorized {
				// A user may work in a project they may not read.
				return cliError(err)
			}
			if err := cluster.SetNamespace(flags.options(""), args[0]); err != nil {
				return cliError(err)
			}
			if out.json() {
				return printJSON(streams, protocol.ProjectResult{Name: args[0], Current: args[0]})
			}
			fmt.Fprintf(streams.out, "Switched to project : %s\n", args[0])
			return nil
		},
	}
	out.register(cmd)
	flags.register(cmd)
	return cmd
}
