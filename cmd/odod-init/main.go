//go:build linux

// Command odod-init is the whole runtime of odod's init image in one static
// binary. The copy-supervisord init container copies it (with links named
// after its roles) into the shared emptyDir at /opt/odo, and the app
// container runs it: go-init as PID 1, supervisord under it running the
// app's `run` script, and the sync agent started over exec. It dispatches
// on the name it was run as, or on its first argument:
//
//	go-init -pre CMD -main CMD [-post CMD]      PID 1 (see container/goinit)
//	supervisord -c CONF                          run the programs of CONF
//	supervisord ctl start|stop|restart|status [NAME]
//	agent --root DIR                             odod's sync agent on stdin/stdout
//	cp [-r] SRC... DST                           copy files (the init image has no shell or coreutils)
//	getlanguage                                  nodejs|java|"" for ODO_S2I_BUILDER_IMG
//	version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/odod-dev/odod/container/goinit"
	"github.com/odod-dev/odod/internal/version"
)

func main() {
	os.Exit(dispatch(os.Args))
}

type role func(ctx context.Context, args []string, stdout, stderr io.Writer) int

var roles = map[string]role{
	"supervisord":   runSupervisord,
	"supervisorctl": runCtl,
	"agent":         runAgent,
	"cp":            runCp,
	"getlanguage":   runGetLanguage,
	"version": func(_ context.Context, _ []string, stdout, _ io.Writer) int {
		fmt.Fprintln(stdout, "odod-init", version.String())
		return 0
	},
}

func dispatch(argv []string) int {
	name := filepath.Base(argv[0])
	args := argv[1:]
	if _, known := roles[name]; !known && name != "go-init" {
		if len(args) == 0 {
			usage(os.Stderr)
			return 2
		}
		name, args = args[0], args[1:]
	}
	if name == "go-init" {
		// go-init handles every signal itself (it forwards them).
		return goinit.Main(args, version.String(), os.Stdout, os.Stderr)
	}
	run, ok := roles[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "odod-init: unknown role %q\n", name)
		usage(os.Stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, strings.TrimLeft(`
usage: odod-init ROLE [ARGS], or run through a link named after the role
  go-init -pre CMD -main CMD [-post CMD]
  supervisord -c CONF
  supervisord ctl [-c CONF | -s SOCKET] start|stop|restart|status [NAME]
  agent --root DIR
  cp [-r] SRC... DST
  getlanguage
  version
`, "\n"))
}
