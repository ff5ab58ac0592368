package main

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/internal/version"
	"github.com/odod-dev/odod/protocol"
)

// versionInfo is what odod version prints.
type versionInfo struct {
	Version         string `json:"version"`
	ProtocolVersion string `json:"protocolVersion"`
	GoVersion       string `json:"goVersion"`
	Platform        string `json:"platform"`
}

// outputFlag is the -o flag of commands that can print JSON.
type outputFlag struct{ format string }

func (o *outputFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.format, "output", "o", "", `output format: "" (text) or json`)
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"json"}, cobra.ShellCompDirectiveNoFileComp
	})
}

func (o *outputFlag) validate() error {
	if o.format != "" && o.format != "json" {
		return fmt.Errorf("-o %q: the only output format is json (or none for text)", o.format)
	}
	return nil
}

func (o *outputFlag) json() bool { return o.format == "json" }

// printJSON writes v as indented JSON.
func printJSON(streams stdio, v any) error {
	enc := json.NewEncoder(streams.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newVersionCommand(streams stdio) *cobra.Command {
	var out outputFlag
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print odod's version and protocol version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := out.validate(); err != nil {
				return err
			}
			info := versionInfo{
				Version:         version.String(),
				ProtocolVersion: protocol.ProtocolVersion,
				GoVersion:       runtime.Version(),
				Platform:        runtime.GOOS + "/" + runtime.GOARCH,
			}
			if out.json() {
				return printJSON(streams, info)
			}
			_, err := fmt.Fprintf(streams.out, "odod %s (protocol %s, %s, %s)\n", info.Version, info.ProtocolVersion, info.GoVersion, info.Platform)
			return err
		},
	}
	out.register(cmd)
	return cmd
}
