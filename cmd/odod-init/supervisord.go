//go:build linux

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/odod-dev/odod/container/supervisor"
)

// defaultConf is where odo's app container keeps the configuration (on the
// PVC, so autostart=true survives a restart once the first build ran).
const defaultConf = "/opt/app-root/conf/supervisor.conf"

func runSupervisord(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "ctl" {
		return runCtl(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("supervisord", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conf := fs.String("c", defaultConf, "configuration file")
	fs.Bool("n", true, "stay in the foreground (always)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := supervisor.LoadConfig(*conf)
	if err != nil {
		fmt.Fprintln(stderr, "supervisord:", err)
		return 2
	}
	log := consoleLogger(stderr, zapcore.InfoLevel).Named("supervisord")
	defer func() { _ = log.Sync() }()
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	// ODOD_STANDBY=false on the component turns the standby process off
	// (it costs an idle process of the app's runtime).
	noStandby := strings.EqualFold(strings.TrimSpace(os.Getenv("ODOD_STANDBY")), "false")
	if err := supervisor.New(cfg, supervisor.Options{Logger: log, NoStandby: noStandby}).Run(ctx); err != nil {
		fmt.Fprintln(stderr, "supervisord:", err)
		return 1
	}
	return 0
}

// consoleLogger logs human-readable lines: they end up in the container log.
func consoleLogger(w io.Writer, level zapcore.Level) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(w), level))
}

func runCtl(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("supervisord ctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conf := fs.String("c", "", "configuration file to read the socket path from")
	socket := fs.String("s", "", "control socket (default: from -c, else $ODOD_SUPERVISOR_SOCKET, else "+supervisor.DefaultSocketPath+")")
	timeout := fs.Duration("t", 5*time.Minute, "how long to wait for the supervisor")
	waitPorts := fs.String("wait-port", "", "with start/restart: also wait until the program accepts TCP connections on one of these loopback ports (comma-separated)")
	waitTimeout := fs.Duration("wait-timeout", supervisor.DefaultWaitTimeout, "how long -wait-port waits")
	fresh := fs.Bool("fresh", false, "with restart: start a new process even when a standby is waiting (what it was started with changed)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: supervisord ctl [-c CONF | -s SOCKET] [-wait-port PORT[,PORT]] [-fresh] start|stop|restart|status [NAME]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return 2
	}
	op, name := fs.Arg(0), fs.Arg(1)
	if op != "status" && name == "" {
		fmt.Fprintf(stderr, "supervisord ctl %s: name the program, e.g. supervisord ctl %s run\n", op, op)
		return 2
	}
	ports, err := parsePorts(*waitPorts)
	if err != nil {
		fmt.Fprintln(stderr, "supervisord ctl:", err)
		return 2
	}
	path := *socket
	if path == "" && *conf != "" {
		cfg, err := supervisor.LoadConfig(*conf)
		if err != nil {
			fmt.Fprintln(stderr, "supervisord ctl:", err)
			return 2
		}
		path = cfg.SocketPath
	}
	if path == "" {
		path = os.Getenv("ODOD_SUPERVISOR_SOCKET")
	}
	if path == "" {
		path = supervisor.DefaultSocketPath
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	reply, err := supervisor.Ctl(ctx, path, supervisor.ControlRequest{Op: op, Name: name, WaitPorts: ports, WaitTimeoutMs: waitTimeout.Milliseconds(), Fresh: *fresh})
	if err != nil {
		fmt.Fprintln(stderr, "supervisord ctl:", err)
		return 2
	}
	if reply.Error != "" {
		fmt.Fprintf(stderr, "%s: ERROR (%s)\n", name, reply.Error)
		if len(reply.Status) > 0 {
			fmt.Fprint(stderr, supervisor.FormatStatus(reply.Status, time.Now()))
		}
		return 1
	}
	if len(ports) > 0 && (op == "start" || op == "restart") {
		defer fmt.Fprintf(stdout, "%s: accepting connections on port %s\n", name, strings.Trim(strings.ReplaceAll(fmt.Sprint(ports), " ", ","), "[]"))
	}
	switch op {
	case "start":
		fmt.Fprintf(stdout, "%s: started\n", name)
	case "stop":
		fmt.Fprintf(stdout, "%s: stopped\n", name)
	case "restart":
		fmt.Fprintf(stdout, "%s: stopped\n%s: started\n", name, name)
	case "status":
		fmt.Fprint(stdout, supervisor.FormatStatus(reply.Status, time.Now()))
		for _, st := range reply.Status {
			if st.State != supervisor.Running {
				return 3 // as supervisorctl: not everything is running
			}
		}
	}
	return 0
}

// parsePorts reads -wait-port's comma-separated list.
func parsePorts(list string) ([]int, error) {
	var ports []int
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		port, err := strconv.Atoi(f)
		if err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("-wait-port: %q is not a TCP port", f)
		}
		ports = append(ports, port)
	}
	return ports, nil
}
