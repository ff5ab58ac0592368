package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/odod-dev/odod/component"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/indexer"
	"github.com/odod-dev/odod/protocol"
)

func newWatchCommand(streams stdio) *cobra.Command {
	var (
		f        componentFlags
		debounce time.Duration
	)
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Push every change of the workspace as it happens",
		Long: `Watch pushes once, then watches the workspace and pushes each batch of
changes (coalesced: an editor's save, a git checkout is one push) until
interrupted. It is the daemon's odod/watch/start in a terminal: changes
made during a push cancel it and one push carries them all; when the
cluster or the pod cannot be reached the changes are kept and the push is
retried with backoff; a new pod is resynced; editing .odo/config.yaml
pushes the new settings.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var watch atomic.Pointer[component.Watch]
			bar := newProgressBar(streams)
			tc, err := f.open(ctx, streams, true, pushHooks(streams, bar, false), func(b indexer.Batch) {
				for _, c := range b.Changes {
					fmt.Fprintf(streams.err, "File %s %s\n", c.Path, c.Kind)
				}
				// Changes before the watch starts go with its first push.
				if w := watch.Load(); w != nil {
					w.Changed(len(b.Changes))
				}
			})
			if err != nil {
				return err
			}
			defer func() { _ = tc.close() }()
			root := tc.idx.Root()
			w := component.NewWatch(tc.comp, component.WatchOptions{
				Debounce:     debounce,
				Pending:      func() int { return tc.idx.Pending().Len() },
				SettingsFile: config.Path(root),
				Probe:        tc.comp.PodMoved,
				Logger:       tc.log,
				OnResult: func(res protocol.PushResult, err error, superseded bool) {
					switch {
					case superseded:
						fmt.Fprintln(streams.err, "Newer changes: pushing them all")
						return
					case err != nil:
						fmt.Fprintln(streams.err, "Error:", cliError(err))
					default:
						printPushResult(streams, res, "")
					}
					fmt.Fprintf(streams.err, "Waiting for something to change in %s\n", root)
				},
				OnTrouble: func(err error, retryIn time.Duration) {
					fmt.Fprintf(streams.err, "Warning: the changes are kept and pushed as soon as the cluster and the pod can be reached (retrying, next in %s)\n", retryIn.Round(time.Second))
				},
				OnRecovered: func() { fmt.Fprintln(streams.err, "Pushing again") },
			})
			watch.Store(w)
			w.Start(ctx)
			<-ctx.Done()
			w.Stop()
			return nil
		},
	}
	cmd.Flags().DurationVar(&debounce, "delay", component.DefaultDebounce, "how long to wait after the last change before pushing")
	f.register(cmd)
	return cmd
}
