package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// debugStateFile is where `odod debug port-forward` records its session
// for `odod debug info` (odo kept such a file per component too).
const debugStateFile = "odod-debug.json"

func debugStatePath(root string) string { return filepath.Join(root, config.DirName, debugStateFile) }

func newDebugCommand(streams stdio) *cobra.Command {
	cmd := &cobra.Command{Use: "debug", Short: "Debug the component from the editor: forward its debug port"}

	var pf componentFlags
	var localPort int
	pfCmd := &cobra.Command{
		Use:   "port-forward [--local-port N]",
		Short: "Forward a local port to the component's debug port until interrupted",
		Long: `Forward 127.0.0.1:N (default: the component's debug port, else a free one) to the debug
port in the component's pod (DEBUG_PORT; Node.js --inspect, Java JDWP), following the pod
when it restarts, until interrupted. It prints the address and a VS Code attach
configuration (-o json: the whole session).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tc, err := pf.open(cmd.Context(), streams, false, component.Hooks{}, nil)
			if err != nil {
				return err
			}
			defer func() { _ = tc.close() }()
			port := localPort
			if !cmd.Flags().Changed("local-port") {
				// odo's default: the same port as in the pod, when free.
				if ds, err := tc.comp.DebugSettings(); err == nil && portFree(ds.DebugPort) {
					port = ds.DebugPort
				}
			}
			s, err := tc.comp.StartDebug(cmd.Context(), port)
			if err != nil {
				return cliError(err)
			}
			path := debugStatePath(tc.idx.Root())
			if err := writeDebugState(path, s); err != nil {
				return err
			}
			defer func() { _ = os.Remove(path) }()
			if pf.out.json() {
				if err := printJSON(streams, s); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(streams.out, "Started port forwarding at ports - %d:%d\n", s.LocalPort, s.RemotePort)
				launch, _ := json.MarshalIndent(s.Launch, "", "  ")
				fmt.Fprintf(streams.out, "VS Code attach configuration:\n%s\n", launch)
				if s.JDWP != nil {
					fmt.Fprintf(streams.out, "JDWP: %s:%d\n", s.JDWP.Host, s.JDWP.Port)
				}
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	pfCmd.Flags().IntVar(&localPort, "local-port", 0, "the local port (default the debug port when free, else any)")
	pf.register(pfCmd)

	var info componentFlags
	infoCmd := &cobra.Command{
		Use:   "info",
		Short: "Show whether `odod debug port-forward` runs, on which ports, and the debug settings",
		Args:  cobra.NoArgs,
		RunE: settingsCommand(streams, &info, func(cmd *cobra.Command, _ []string, settings *component.Settings) error {
			res, err := settings.DebugSettings()
			if err != nil {
				return err
			}
			root, err := info.root()
			if err != nil {
				return err
			}
			res.Session = readDebugState(cmd.Context(), debugStatePath(root))
			if info.out.json() {
				return printJSON(streams, res)
			}
			fmt.Fprintf(streams.out, "Debug port %d, dev mode %t\n", res.DebugPort, res.DevMode)
			if res.Session == nil {
				fmt.Fprintln(streams.out, "No debug session: start one with odod debug port-forward")
				return nil
			}
			fmt.Fprintf(streams.out, "Debugging %s on pod %s: 127.0.0.1:%d → %d\n", res.Session.Language, res.Session.Pod, res.Session.LocalPort, res.Session.RemotePort)
			return nil
		}),
	}
	info.register(infoCmd)

	cmd.AddCommand(pfCmd, infoCmd)
	return cmd
}

// portFree says whether 127.0.0.1:port can be listened on.
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func writeDebugState(path string, s protocol.DebugSession) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("record the debug session in %s: %w: check that the workspace is writable", path, err)
	}
	return nil
}

// readDebugState is the session `odod debug port-forward` recorded, if its
// forward still answers (a killed one leaves the file behind).
func readDebugState(ctx context.Context, path string) *protocol.DebugSession {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var s protocol.DebugSession
	if err := json.Unmarshal(data, &s); err != nil || s.LocalPort == 0 {
		return nil
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.LocalPort)))
	if err != nil {
		return nil
	}
	_ = conn.Close()
	return &s
}
