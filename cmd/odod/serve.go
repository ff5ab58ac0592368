package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/odod-dev/odod/daemon"
	"github.com/odod-dev/odod/internal/version"
)

// logFlags are the logging flags shared by commands.
type logFlags struct {
	level  string
	format string
}

func (f *logFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.level, "log-level", "info", "log level on stderr: debug, info, warn or error")
	cmd.Flags().StringVar(&f.format, "log-format", "console", "log format on stderr: console or json")
}

// build makes the stderr logger. Logs never go to stdout: in odod serve,
// stdout carries JSON-RPC only. client-go's own lines go to it too, at
// debug level (see cluster.ClientGoLogs).
func (f *logFlags) build(streams stdio) (*zap.Logger, zap.AtomicLevel, error) {
	level, err := zap.ParseAtomicLevel(f.level)
	if err != nil {
		return nil, level, fmt.Errorf("--log-level %q: use debug, info, warn or error", f.level)
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch f.format {
	case "console":
		enc = zapcore.NewConsoleEncoder(encCfg)
	case "json":
		enc = zapcore.NewJSONEncoder(encCfg)
	default:
		return nil, level, fmt.Errorf("--log-format %q: use console or json", f.format)
	}
	core := zapcore.NewCore(enc, zapcore.AddSync(streams.err), level)
	log := zap.New(core)
	if streams.clientGoLogs != nil {
		streams.clientGoLogs.To(log)
	}
	return log, level, nil
}

func newServeCommand(streams stdio) *cobra.Command {
	var (
		logs        logFlags
		watchWindow time.Duration
		socketDir   string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Speak JSON-RPC 2.0 (LSP framing) on stdin/stdout: what editors start",
		Long: `odod serve is what an editor plugin starts. It reads and writes JSON-RPC 2.0
messages with LSP base-protocol framing (Content-Length headers) on stdin and
stdout; nothing else is ever written to stdout. Logs go to stderr and, from
initialize on, to the editor as window/logMessage.

The exit code follows LSP: 0 after shutdown then exit, 1 otherwise. The
protocol is described in docs/protocol.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, level, err := logs.build(streams)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			if !stdinIsInput() {
				log.Info("odod serve speaks JSON-RPC on stdin and stdout for editors; run \"odod help\" for the terminal commands")
			}
			srv := daemon.New(daemon.Options{
				Logger:  log,
				Level:   level,
				Version: version.String(),

				ClusterWatchWindow: watchWindow,
				SocketDir:          socketDir,
			})
			code := srv.Serve(cmd.Context(), streams.in, streams.out)
			if code != 0 {
				return exitError{code: code}
			}
			return nil
		},
	}
	logs.register(cmd)
	cmd.Flags().StringVar(&socketDir, "socket-dir", daemon.DefaultSocketDir(), "where each open workspace's socket goes, through which odod push in a terminal hands its push to this daemon (\"\": none)")
	cmd.Flags().DurationVar(&watchWindow, "cluster-watch-window", 200*time.Millisecond, "how long odod/cluster/didChange gathers the cluster's changes into one notification")
	return cmd
}

// stdinIsInput is true when odod's stdin is not a terminal, i.e. an editor
// or a pipe started it.
func stdinIsInput() bool {
	info, err := os.Stdin.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice == 0
}
