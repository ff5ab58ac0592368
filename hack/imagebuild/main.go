// Command imagebuild builds the local cluster's OCI images with
// go-containerregistry and pushes them to the local registry. hack/images
// runs it; see `hack/images help`.
//
//	imagebuild pause-layout --binary PATH --out DIR
//	imagebuild builders --registry HOST:PORT --cache DIR --busybox PATH --nodejs-rootfs TAR [--java-rootfs TAR] [--ca-bundle PEM]
//
// builders prints one line per image pushed: "<imagestream> <ref> <digest>".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "imagebuild: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("missing command: pause-layout or builders (see hack/images help)")
	}
	switch args[0] {
	case "pause-layout":
		flags := flag.NewFlagSet("pause-layout", flag.ContinueOnError)
		flags.SetOutput(stderr)
		binary := flags.String("binary", "", "the static pause binary")
		out := flags.String("out", "", "directory for the OCI layout (replaced)")
		if err := flags.Parse(args[1:]); err != nil {
			return err
		}
		if *binary == "" || *out == "" {
			return errors.New("pause-layout needs --binary and --out")
		}
		return writePauseLayout(*binary, *out)
	case "builders":
		flags := flag.NewFlagSet("builders", flag.ContinueOnError)
		flags.SetOutput(stderr)
		var opts buildersOptions
		flags.StringVar(&opts.Registry, "registry", "127.0.0.1:5000", "registry to push to (plain HTTP)")
		flags.StringVar(&opts.CacheDir, "cache", "", "directory caching the built images as OCI layouts")
		flags.StringVar(&opts.Busybox, "busybox", "/bin/busybox", "a static busybox for the test builder")
		flags.StringVar(&opts.NodejsRootfs, "nodejs-rootfs", "", "tarball of the Node.js builder's Debian rootfs")
		flags.StringVar(&opts.JavaRootfs, "java-rootfs", "", "tarball of the Java builder's Debian rootfs (OpenJDK 17); no Java builder without it")
		flags.StringVar(&opts.CABundle, "ca-bundle", "", "the machine's CA bundle, trusted by Node.js and npm in the Node.js builder")
		if err := flags.Parse(args[1:]); err != nil {
			return err
		}
		if opts.CacheDir == "" || opts.NodejsRootfs == "" {
			return errors.New("builders needs --cache and --nodejs-rootfs")
		}
		opts.Log = stderr
		return buildAndPushBuilders(ctx, opts, stdout)
	default:
		return fmt.Errorf("unknown command %q: use pause-layout or builders", args[0])
	}
}
