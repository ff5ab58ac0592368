package protocol

// Watch: the daemon pushes a workspace's changes as they happen.
const (
	// MethodWatchStart starts pushing a workspace's changes as they happen.
	MethodWatchStart = "odod/watch/start"
	// MethodWatchStop stops it.
	MethodWatchStop = "odod/watch/stop"
)

// WatchStartParams starts a workspace's watch.
type WatchStartParams struct {
	WorkspaceID string `json:"workspaceId"`
	// DebounceMs is how long the watch waits after the last change before
	// it pushes, on top of the index's own coalescing (default 0, at most
	// 10000). A running watch takes the new value.
	DebounceMs *int `json:"debounceMs,omitempty"`
}

// WatchStopParams stops a workspace's watch.
type WatchStopParams struct {
	WorkspaceID string `json:"workspaceId"`
}

// WatchStatus says whether a workspace is watched and how its watch is
// doing. It answers odod/watch/start and odod/watch/stop, and is part of
// odod/status and odod/component/describe.
type WatchStatus struct {
	// Active is true while the daemon pushes the workspace's changes.
	Active     bool `json:"active"`
	DebounceMs int  `json:"debounceMs,omitempty"`
	// Pushing is true while one of the watch's pushes runs.
	Pushing bool `json:"pushing,omitempty"`
	// Pushes counts the watch's pushes that ended, good or not.
	Pushes int `json:"pushes,omitempty"`
	// Retrying is true when the last push failed for a reason that may
	// pass (the cluster unreachable, the pod gone, the stream dropped):
	// the changes stay pending and the watch pushes again in RetryInMs.
	Retrying  bool  `json:"retrying,omitempty"`
	RetryInMs int64 `json:"retryInMs,omitempty"`
	// LastError is the last push's error, "" after a good push.
	LastError string `json:"lastError,omitempty"`
}
