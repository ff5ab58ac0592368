package protocol

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ProtocolVersion is the version of odod's protocol described here
// (MAJOR.MINOR.PATCH; docs/protocol.md says when which part goes up).
const ProtocolVersion = "0.1.0"

// MajorVersion is the major number of a MAJOR.MINOR.PATCH version (a
// leading "v" allowed).
func MajorVersion(version string) (int, error) {
	major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	n, err := strconv.Atoi(major)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("version %q is not MAJOR.MINOR.PATCH", version)
	}
	return n, nil
}

// odod's own requests.
const (
	// MethodWorkspaceOpen opens (or returns the already open) workspace for
	// a local folder, indexes it and starts watching it.
	MethodWorkspaceOpen = "odod/workspace/open"
	// MethodWorkspaceClose stops watching a workspace and frees it.
	MethodWorkspaceClose = "odod/workspace/close"
	// MethodStatus describes the daemon and its workspaces.
	MethodStatus = "odod/status"
	// MethodDebugSleep waits, reporting progress, until cancelled or done.
	// Only answered when initializationOptions.debugMethods is true; it
	// exists so editor integrations can test cancellation and progress.
	MethodDebugSleep = "odod/debug/sleep"
)

// odod's own notifications (server to client).
const (
	// MethodIndexDidChange carries the coalesced changes of a workspace's
	// files as the watcher saw them.
	MethodIndexDidChange = "odod/index/didChange"
)

// Event is embedded in every notification about a workspace: the
// workspace, a sequence number that increases by one for each notification
// of that workspace (so a client can tell it missed one), and the time.
type Event struct {
	WorkspaceID string    `json:"workspaceId"`
	Seq         uint64    `json:"seq"`
	Time        time.Time `json:"time"` // RFC 3339 with nanoseconds
}

// WorkspaceOpenParams opens a workspace.
type WorkspaceOpenParams struct {
	// URI is a file:// URI of a local directory.
	URI string `json:"uri"`
	WorkDoneProgressParams
}

// WorkspaceOpenResult answers odod/workspace/open.
type WorkspaceOpenResult struct {
	WorkspaceID string     `json:"workspaceId"`
	Index       IndexStats `json:"index"`
}

// IndexStats counts what the index holds.
type IndexStats struct {
	// Files is the number of indexed files and symlinks.
	Files int `json:"files"`
	// Dirs is the number of indexed directories below the root.
	Dirs int `json:"dirs"`
	// Bytes is the total size of the indexed regular files.
	Bytes int64 `json:"bytes"`
	// Ignored is the number of paths left out by ignore rules (an
	// ignored directory counts once; odod never descends into it).
	Ignored int `json:"ignored"`
}

// WorkspaceCloseParams closes a workspace.
type WorkspaceCloseParams struct {
	WorkspaceID string `json:"workspaceId"`
}

// StatusParams is odod/status's params (none).
type StatusParams struct{}

// StatusResult answers odod/status.
type StatusResult struct {
	Version    string            `json:"version"`
	Workspaces []WorkspaceStatus `json:"workspaces"`
	// Goroutines is how many goroutines the daemon runs now: one that
	// keeps growing while nothing is opened is a leak (hack/chaos -load
	// reports its slope).
	Goroutines int `json:"goroutines"`
}

// WorkspaceState is the lifecycle state of a workspace.
type WorkspaceState string

// Workspace states.
const (
	WorkspaceIndexing WorkspaceState = "indexing"
	WorkspaceWatching WorkspaceState = "watching"
	WorkspaceClosed   WorkspaceState = "closed"
)

// WorkspaceStatus describes one open workspace.
type WorkspaceStatus struct {
	WorkspaceID string         `json:"workspaceId"`
	URI         string         `json:"uri"`
	State       WorkspaceState `json:"state"`
	Index       IndexStats     `json:"index"`
	// Watch says whether odod pushes the workspace's changes as they
	// happen (odod/watch/start).
	Watch WatchStatus `json:"watch"`
}

// DebugSleepParams is odod/debug/sleep's params.
type DebugSleepParams struct {
	// DurationMs is how long to wait, at most 600000.
	DurationMs int `json:"durationMs"`
	WorkDoneProgressParams
}

// DebugSleepResult answers odod/debug/sleep when it was not cancelled.
type DebugSleepResult struct {
	SleptMs int `json:"sleptMs"`
}

// ChangeKind says how a path changed, with LSP's FileChangeType numbers.
type ChangeKind = FileChangeType

// Change is one changed path in a workspace (slash-separated, relative to
// the workspace root).
type Change struct {
	Path string     `json:"path"`
	Type ChangeKind `json:"type"`
}

// IndexDidChangeParams is odod/index/didChange's params.
type IndexDidChangeParams struct {
	Event
	Changes []Change `json:"changes"`
	// Overflow is true when the watcher lost events (queue overflow or
	// watch limit) and odod rescanned: Changes then lists what the rescan
	// found.
	Overflow bool `json:"overflow"`
	IndexStats
}
