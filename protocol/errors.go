package protocol

// Error codes. The JSON-RPC and LSP codes keep their meaning; odod's own
// are in -32000…-32099, away from LSP's -32001 and -32002.
const (
	// CodeParseError: the body of a well-framed message is not JSON;
	// answered with id `null`, the connection goes on.
	CodeParseError = -32700
	// CodeInvalidRequest: not a JSON-RPC 2.0 request (batch, wrong
	// `jsonrpc`, bad id); a second `initialize`; a request after
	// `shutdown`.
	CodeInvalidRequest = -32600
	// CodeMethodNotFound: odod does not answer that method.
	CodeMethodNotFound = -32601
	// CodeInvalidParams: a parameter is missing or wrong: `data.field`
	// names it, `data.reason` says why.
	CodeInvalidParams = -32602
	// CodeInternalError: a bug in odod: run with `--log-level=debug` and
	// report the log.
	CodeInternalError = -32603
	// CodeServerNotInitialized: a request before `initialize`.
	CodeServerNotInitialized = -32002
	// CodeRequestCancelled: the client cancelled the request.
	CodeRequestCancelled = -32800
	// CodeContentModified: the result would be stale (files changed while
	// it was computed).
	CodeContentModified = -32801
	// CodeServerCancelled: odod cancelled the request (a newer one
	// superseded it).
	CodeServerCancelled = -32802
	// CodeRequestFailed: the request was valid but failed.
	CodeRequestFailed = -32803

	// CodeWorkspaceNotFound: no open workspace has that `workspaceId`.
	CodeWorkspaceNotFound = -32010
	// CodeIndexFailed: the folder could not be indexed (permissions, I/O).
	CodeIndexFailed = -32011
	// CodeClusterUnreachable: the cluster's API server did not answer.
	CodeClusterUnreachable = -32020
	// CodeUnauthorized: the cluster refused the credentials.
	CodeUnauthorized = -32021
	// CodeComponentNotConfigured: the workspace has no `.odo/config.yaml`.
	CodeComponentNotConfigured = -32022
	// CodeInvalidConfig: `.odo/config.yaml` is unreadable or invalid.
	CodeInvalidConfig = -32023
	// CodeContainerNotReady: the component's pod did not start.
	CodeContainerNotReady = -32024
	// CodeSyncFailed: copying files into the container failed.
	CodeSyncFailed = -32025
	// CodeBuildFailed: `assemble-and-restart` exited non-zero.
	CodeBuildFailed = -32026
	// CodeAgentIncompatible: the in-container agent's protocol version is
	// not supported.
	CodeAgentIncompatible = -32027
	// CodeTarMissing: the fallback transport needs `tar` in the container.
	CodeTarMissing = -32028
	// CodeNotFound: a named object (URL, storage, subscription, project,
	// app, context) does not exist.
	CodeNotFound = -32029
	// CodeConflict: the object already exists (a project of that name) or
	// is being deleted.
	CodeConflict = -32030
	// CodeUntrustedCertificate: the server's TLS certificate is signed by
	// no authority odod knows (odod/login).
	CodeUntrustedCertificate = -32031
	// CodeLoginUnsupported: the cluster cannot log in that way (a
	// username and password where it has no OAuth server).
	CodeLoginUnsupported = -32032
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
