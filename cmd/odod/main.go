// Command odod is the inner-loop daemon that editors start over stdio, and
// the same engine for people at a terminal.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/odod-dev/odod/cluster"
)

func main() {
	// client-go logs through klog, whose logger is process-wide: left
	// alone it prints its own lines ("Websocket Ping failed", "Unhandled
	// Error") on stderr, between odod's output and, in odod serve, outside
	// the editor's view. Here, once, klog is pointed at odod's logger, which
	// the command builds from its flags (logFlags.build).
	clientGoLogs := &cluster.ClientGoLogs{}
	clientGoLogs.Install()
	cluster.ShortenHTTP2HealthCheck()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, clientGoLogs: clientGoLogs})
	stop()
	os.Exit(code)
}

// run builds the command tree and executes it; it returns the process exit
// code so that tests can drive the CLI without exiting.
func run(ctx context.Context, args []string, io stdio) int {
	root := newRootCommand(io)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var exit exitError
		if asExit(err, &exit) {
			return exit.code
		}
		fmt.Fprintln(io.err, "Error:", err)
		return 1
	}
	return 0
}
