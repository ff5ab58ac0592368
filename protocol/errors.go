package protocol

// Error codes. The JSON-RPC and LSP codes keep their meaning; odod's own
// are in -32000…-32099, away from LSP's -32001 and -32002.
const (
	CodeParseError           = -32700
	CodeInvalidRequest       = -32600
	CodeMethodNotFound       = -32601
	CodeInvalidParams        = -32602
	CodeInternalError        = -32603
	CodeServerNotInitialized = -32002
	CodeRequestCancelled     = -32800
	CodeContentModified      = -32801
	CodeServerCancelled      = -32802
	CodeRequestFailed        = -32803

	// CodeWorkspaceNotFound: the workspaceId names no open workspace.
	CodeWorkspaceNotFound = -32010
	// CodeIndexFailed: the workspace could not be indexed (permissions,
	// I/O error).
	CodeIndexFailed = -32011
	// CodeClusterUnreachable: the cluster's API server did not answer.
	CodeClusterUnreachable = -32020
	// CodeUnauthorized: the cluster refused the credentials.
	CodeUnauthorized = -32021
	// CodeComponentNotConfigured: the workspace has no .odo/config.yaml.
	CodeComponentNotConfigured = -32022
	// CodeInvalidConfig: .odo/config.yaml is unreadable or invalid.
	CodeInvalidConfig = -32023
	// CodeContainerNotReady: the component's pod did not start.
	CodeContainerNotReady = -32024
	// CodeSyncFailed: copying files into the container failed.
	CodeSyncFailed = -32025
	// CodeBuildFailed: assemble-and-restart exited non-zero.
	CodeBuildFailed = -32026
	// CodeAgentIncompatible: the in-container agent is too old or too new.
	CodeAgentIncompatible = -32027
	// CodeTarMissing: the fallback transport needs tar in the container.
	CodeTarMissing = -32028
	// CodeNotFound: a named object (URL, storage, subscription) does not
	// exist.
	CodeNotFound = -32029
	// CodeConflict: the object already exists (a project of that name),
	// or is being deleted.
	CodeConflict = -32030
)

// ErrorData is the data of every error odod returns.
type ErrorData struct {
	// Field names the offending parameter (for -32602), as a JSON path
	// such as "uri" or "ports[1]".
	Field string `json:"field,omitempty"`
	// Reason says why, in a sentence.
	Reason string `json:"reason,omitempty"`
	// Suggestions say what the user can do, most useful first.
	Suggestions []Suggestion `json:"suggestions"`
}

// Suggestion is one thing the user can do about an error, as Skaffold's
// ActionableErr suggestions.
type Suggestion struct {
	// ID is a stable identifier a plugin can act on (e.g. open a setting).
	ID string `json:"id"`
	// Action is what to do, for a person.
	Action string `json:"action"`
}
