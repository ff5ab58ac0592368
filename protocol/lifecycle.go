package protocol

import "encoding/json"

// Standard LSP methods odod implements.
const (
	// MethodInitialize starts the session: the client's settings in, the
	// protocol version and odod's capabilities out.
	MethodInitialize = "initialize"
	// MethodInitialized tells odod the client took the handshake's answer.
	MethodInitialized = "initialized"
	// MethodShutdown stops every workspace; only exit is answered after it.
	MethodShutdown = "shutdown"
	// MethodExit ends the process: code 0 after shutdown, 1 otherwise.
	MethodExit = "exit"
	// MethodCancelRequest cancels a request's work; it answers -32800.
	MethodCancelRequest = "$/cancelRequest"
	// MethodProgress reports a long request's progress on a token.
	MethodProgress = "$/progress"
	// MethodWorkDoneProgressCreate asks the client to create a progress
	// token before odod uses it.
	MethodWorkDoneProgressCreate = "window/workDoneProgress/create"
	// MethodWorkDoneProgressCancel cancels the request reporting on a
	// token.
	MethodWorkDoneProgressCancel = "window/workDoneProgress/cancel"
	// MethodLogMessage carries odod's log entries at or above logLevel.
	MethodLogMessage = "window/logMessage"
	// MethodShowMessage shows the user something to see and act on.
	MethodShowMessage = "window/showMessage"
	// MethodDidChangeWatchedFiles carries the editor's own file events,
	// which odod merges with its watcher's.
	MethodDidChangeWatchedFiles = "workspace/didChangeWatchedFiles"
)

// InitializeParams is the subset of LSP's InitializeParams odod reads.
type InitializeParams struct {
	// ProcessID is the editor's process id. When it is set and that
	// process dies, odod exits (the editor can no longer stop it).
	ProcessID *int `json:"processId,omitempty"`
	// ClientInfo names the editor, for logs.
	ClientInfo *ClientInfo `json:"clientInfo,omitempty"`
	// Capabilities are the client's capabilities; odod reads
	// window.workDoneProgress.
	Capabilities ClientCapabilities `json:"capabilities"`
	// InitializationOptions are odod's own settings.
	InitializationOptions *InitializationOptions `json:"initializationOptions,omitempty"`
	// RootURI and WorkspaceFolders are accepted and ignored: odod opens
	// workspaces explicitly with odod/workspace/open.
	RootURI          *string           `json:"rootUri,omitempty"`
	WorkspaceFolders []WorkspaceFolder `json:"workspaceFolders,omitempty"`
	WorkDoneToken    *ProgressToken    `json:"workDoneToken,omitempty"`
}

// ClientInfo identifies the editor.
type ClientInfo struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// WorkspaceFolder is LSP's workspace folder.
type WorkspaceFolder struct {
	URI  string `json:"uri"`
	Name string `json:"name"`
}

// ClientCapabilities is the subset of LSP client capabilities odod reads.
type ClientCapabilities struct {
	Window *WindowClientCapabilities `json:"window,omitempty"`
	// Workspace capabilities are accepted and ignored.
	Workspace json.RawMessage `json:"workspace,omitempty"`
}

// WindowClientCapabilities says whether the client supports server-created
// progress tokens.
type WindowClientCapabilities struct {
	WorkDoneProgress bool `json:"workDoneProgress,omitempty"`
}

// InitializationOptions are odod's settings sent by the editor in
// initialize. Every field is optional.
type InitializationOptions struct {
	// LogLevel sets the level of odod's stderr log and of what it mirrors
	// to window/logMessage: "debug", "info", "warn" or "error".
	LogLevel string `json:"logLevel,omitempty"`
	// Kubeconfig is the path of the kubeconfig file; empty means the
	// usual lookup ($KUBECONFIG, then ~/.kube/config), as kubectl does.
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// Context selects a kubeconfig context; empty means the current one.
	Context string `json:"context,omitempty"`
	// Namespace overrides the namespace of the context.
	Namespace string `json:"namespace,omitempty"`
	// InitImage is the image reference of odod's init image (default: the
	// ODOD_INIT_IMAGE environment variable, else the local cluster's).
	InitImage string `json:"initImage,omitempty"`
	// DebugMethods enables the odod/debug/* methods used by conformance
	// tests and for diagnosing editor integrations.
	DebugMethods bool `json:"debugMethods,omitempty"`
	// ProtocolVersion is the protocol version the client was written
	// against ("0.1.0"): initialize answers -32602 when its major version
	// is not odod's. A client written for an older minor version is
	// served as is.
	ProtocolVersion string `json:"protocolVersion,omitempty"`
	// RequiredMethods are the methods the client cannot work without
	// (requests and notifications, either way): initialize answers
	// -32602 naming those this odod does not speak.
	RequiredMethods []string `json:"requiredMethods,omitempty"`
}

// InitializeResult answers initialize.
type InitializeResult struct {
	Capabilities ServerCapabilities `json:"capabilities"`
	ServerInfo   ServerInfo         `json:"serverInfo"`
}

// ServerInfo names the server, as LSP's serverInfo.
type ServerInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ServerCapabilities holds odod's features under experimental, since none
// of them is a standard LSP feature.
type ServerCapabilities struct {
	Experimental ExperimentalCapabilities `json:"experimental"`
}

// ExperimentalCapabilities lists what this odod supports, so a plugin can
// adapt to older or newer daemons.
type ExperimentalCapabilities struct {
	// ProtocolVersion is odod's protocol version (semantic versioning:
	// a new minor adds methods or fields).
	ProtocolVersion string `json:"protocolVersion"`
	// Methods are the odod/* requests this daemon answers.
	Methods []string `json:"methods"`
	// Notifications are the odod/* notifications this daemon may send.
	Notifications []string `json:"notifications"`
	// WorkDoneProgress is true: long requests report $/progress.
	WorkDoneProgress bool `json:"workDoneProgress"`
}

// CancelParams is $/cancelRequest's params.
type CancelParams struct {
	// ID is the id of the request to cancel: a number or a string.
	//metamodel:type integer|string
	ID json.RawMessage `json:"id"`
}

// ProgressToken is a number or a string, as LSP's.
//
//metamodel:type integer|string
type ProgressToken = json.RawMessage

// WorkDoneProgressCreateParams asks the client to create a progress token.
type WorkDoneProgressCreateParams struct {
	Token ProgressToken `json:"token"`
}

// WorkDoneProgressCancelParams asks the server to cancel the operation
// reporting on Token.
type WorkDoneProgressCancelParams struct {
	Token ProgressToken `json:"token"`
}

// ProgressParams is $/progress's params.
type ProgressParams struct {
	Token ProgressToken `json:"token"`
	// Value is the token's begin, report or end.
	//metamodel:type WorkDoneProgressBegin|WorkDoneProgressReport|WorkDoneProgressEnd
	Value any `json:"value"`
}

// WorkDoneProgressBegin starts a progress report.
type WorkDoneProgressBegin struct {
	//metamodel:type "begin"
	Kind        string `json:"kind"`
	Title       string `json:"title"`
	Cancellable bool   `json:"cancellable,omitempty"`
	Message     string `json:"message,omitempty"`
	Percentage  *int   `json:"percentage,omitempty"`
}

// WorkDoneProgressReport updates a progress report.
type WorkDoneProgressReport struct {
	//metamodel:type "report"
	Kind        string `json:"kind"`
	Cancellable bool   `json:"cancellable,omitempty"`
	Message     string `json:"message,omitempty"`
	Percentage  *int   `json:"percentage,omitempty"`
}

// WorkDoneProgressEnd ends a progress report.
type WorkDoneProgressEnd struct {
	//metamodel:type "end"
	Kind    string `json:"kind"`
	Message string `json:"message,omitempty"`
}

// MessageType is LSP's message severity.
type MessageType int

// LSP message severities.
const (
	MessageError   MessageType = 1
	MessageWarning MessageType = 2
	MessageInfo    MessageType = 3
	MessageLog     MessageType = 4
)

// LogMessageParams is window/logMessage's and window/showMessage's params.
type LogMessageParams struct {
	Type    MessageType `json:"type"`
	Message string      `json:"message"`
}

// ShowMessageParams is window/showMessage's params.
type ShowMessageParams = LogMessageParams

// FileChangeType is LSP's kind of watched-file event.
type FileChangeType int

// LSP watched-file event kinds.
const (
	FileCreated FileChangeType = 1
	FileChanged FileChangeType = 2
	FileDeleted FileChangeType = 3
)

// FileEvent is one editor hint in workspace/didChangeWatchedFiles.
type FileEvent struct {
	URI  string         `json:"uri"`
	Type FileChangeType `json:"type"`
}

// DidChangeWatchedFilesParams carries editor hints; odod merges them with
// its own watcher's events.
type DidChangeWatchedFilesParams struct {
	Changes []FileEvent `json:"changes"`
}

// WorkDoneProgressParams is embedded in requests that report progress on a
// token the client chose.
type WorkDoneProgressParams struct {
	WorkDoneToken ProgressToken `json:"workDoneToken,omitempty"`
}
