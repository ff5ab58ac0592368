//go:build linux

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path"

	"go.uber.org/zap/zapcore"

	"github.com/odod-dev/odod/container/agentserver"
	"github.com/odod-dev/odod/internal/version"
)

// defaultAgentRoot is odo's push target: $ODO_S2I_SRC_BIN_PATH/src, else /tmp/src.
func defaultAgentRoot() string {
	base := os.Getenv("ODO_S2I_SRC_BIN_PATH")
	if base == "" {
		return "/tmp/src"
	}
	if path.Base(base) == "src" {
		return base
	}
	return path.Join(base, "src")
}

func runAgent(ctx context.Context, args []string, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", defaultAgentRoot(), "directory every path is confined to")
	verbose := fs.Bool("v", false, "log requests to stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	level := zapcore.WarnLevel
	if *verbose {
		level = zapcore.DebugLevel
	}
	log := consoleLogger(stderr, level).Named("agent")
	defer func() { _ = log.Sync() }()
	// stdout carries the protocol and nothing else.
	err := agentserver.Serve(ctx, os.Stdin, os.Stdout, agentserver.Options{Root: *root, Version: version.String(), Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
