// Command odod is the inner-loop daemon that editors start over stdio, and
// the same engine for people at a terminal.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
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
