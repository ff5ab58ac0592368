package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/odod-dev/odod/initimage"
)

// initImageResult is what init-image build and push print with -o json.
type initImageResult struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
	Out    string `json:"out,omitempty"` // build: the layout tar written
}

func newInitImageCommand(streams stdio) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init-image",
		Short: "Build or push odod's init image (go-init, supervisord, the sync agent, S2I scripts)",
		Long: `odod builds the init image itself: the copy-supervisord init container of
every component copies its /opt/odo-init into the pod's /opt/odo, where the
app container runs go-init, supervisord and the sync agent from it.

The image odod puts in pod specs is $` + initimage.EnvImage + `, else
` + initimage.DefaultReference + ` (the local cluster's registry; hack/images
pushes it there).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newInitImageBuildCommand(streams), newInitImagePushCommand(streams))
	return cmd
}

type initImageFlags struct {
	binary string
	arch   string
	out    outputFlag
}

func (f *initImageFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.binary, "init-binary", "", "a prebuilt static odod-init (default: the one next to odod, else built from this checkout)")
	cmd.Flags().StringVar(&f.arch, "arch", runtime.GOARCH, "the image's CPU architecture (GOARCH)")
	f.out.register(cmd)
}

// progressLogger reports progress on stderr, never stdout.
func progressLogger(streams stdio) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	enc.TimeKey, enc.LevelKey, enc.NameKey, enc.CallerKey = "", "", "", ""
	return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(streams.err), zapcore.InfoLevel))
}

func newInitImageBuildCommand(streams stdio) *cobra.Command {
	var flags initImageFlags
	var out, ref string
	cmd := &cobra.Command{
		Use:   "build [--out FILE.tar]",
		Short: "Build the init image as an OCI layout tar (for ctr images import)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.out.validate(); err != nil {
				return err
			}
			img, err := initimage.Build(cmd.Context(), initimage.BuildOptions{InitBinary: flags.binary, Arch: flags.arch, Logger: progressLogger(streams)})
			if err != nil {
				return err
			}
			digest, err := img.Digest()
			if err != nil {
				return err
			}
			if err := writeFileAtomically(out, func(f *os.File) error { return initimage.WriteLayoutTar(f, img, ref) }); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			if flags.out.json() {
				return printJSON(streams, initImageResult{Ref: ref, Digest: digest.String(), Out: out})
			}
			fmt.Fprintf(streams.out, "wrote %s (%s@%s)\n", out, ref, digest)
			return nil
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVar(&out, "out", "odod-init-image.tar", "the OCI layout tar to write")
	cmd.Flags().StringVar(&ref, "ref", initimage.DefaultRef(), "the image name recorded in the layout")
	return cmd
}

func newInitImagePushCommand(streams stdio) *cobra.Command {
	var flags initImageFlags
	var insecure bool
	cmd := &cobra.Command{
		Use:   "push REF",
		Short: "Build the init image and push it to a registry",
		Long: `Build the init image and push it to REF, e.g. quay.io/me/odod-init:v1, for
clusters that pull it; then set ` + initimage.EnvImage + `=REF (or the daemon's
initializationOptions) so that odod uses it. Credentials come from the
Docker config (docker login / podman login). Registries on loopback
addresses are spoken to over plain HTTP.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.out.validate(); err != nil {
				return err
			}
			log := progressLogger(streams)
			img, err := initimage.Build(cmd.Context(), initimage.BuildOptions{InitBinary: flags.binary, Arch: flags.arch, Logger: log})
			if err != nil {
				return err
			}
			digest, err := initimage.Push(cmd.Context(), img, args[0], initimage.PushOptions{Insecure: insecure, Logger: log})
			if err != nil {
				return err
			}
			if flags.out.json() {
				return printJSON(streams, initImageResult{Ref: args[0], Digest: digest.String()})
			}
			fmt.Fprintf(streams.out, "pushed %s@%s\n", args[0], digest)
			return nil
		},
	}
	flags.register(cmd)
	cmd.Flags().BoolVar(&insecure, "insecure", false, "allow a plain-HTTP registry that is not on a loopback address")
	return cmd
}

// writeFileAtomically writes path through a temporary file in the same
// directory, so an interrupted build never leaves a truncated tar.
func writeFileAtomically(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
