package protocol

// Kind says whether a method is a request (answered) or a notification.
type Kind string

// Method kinds.
const (
	Request      Kind = "request"
	Notification Kind = "notification"
)

// Direction says who sends a method.
type Direction string

// Directions.
const (
	ClientToServer Direction = "client→server"
	ServerToClient Direction = "server→client"
	Both           Direction = "both"
)

// MethodInfo describes one method of the protocol.
type MethodInfo struct {
	Name      string
	Kind      Kind
	Direction Direction
	// Params and Result are zero values of the Go types, for
	// documentation and schema tests; nil when there are none.
	Params any
	Result any
}

// Methods lists every method odod speaks, standard and its own. The
// daemon's dispatch table and docs/protocol.md are tested against it.
func Methods() []MethodInfo {
	return []MethodInfo{
		{MethodInitialize, Request, ClientToServer, InitializeParams{}, InitializeResult{}},
		{MethodInitialized, Notification, ClientToServer, struct{}{}, nil},
		{MethodShutdown, Request, ClientToServer, nil, nil},
		{MethodExit, Notification, ClientToServer, nil, nil},
		{MethodCancelRequest, Notification, ClientToServer, CancelParams{}, nil},
		{MethodProgress, Notification, ServerToClient, ProgressParams{}, nil},
		{MethodWorkDoneProgressCreate, Request, ServerToClient, WorkDoneProgressCreateParams{}, nil},
		{MethodWorkDoneProgressCancel, Notification, ClientToServer, WorkDoneProgressCancelParams{}, nil},
		{MethodLogMessage, Notification, ServerToClient, LogMessageParams{}, nil},
		{MethodShowMessage, Notification, ServerToClient, ShowMessageParams{}, nil},
		{MethodDidChangeWatchedFiles, Notification, ClientToServer, DidChangeWatchedFilesParams{}, nil},
		{MethodWorkspaceOpen, Request, ClientToServer, WorkspaceOpenParams{}, WorkspaceOpenResult{}},
		{MethodWorkspaceClose, Request, ClientToServer, WorkspaceCloseParams{}, nil},
		{MethodStatus, Request, ClientToServer, StatusParams{}, StatusResult{}},
		{MethodDebugSleep, Request, ClientToServer, DebugSleepParams{}, DebugSleepResult{}},
		{MethodIndexDidChange, Notification, ServerToClient, IndexDidChangeParams{}, nil},
		{MethodCatalogList, Request, ClientToServer, CatalogListParams{}, CatalogListResult{}},
		{MethodComponentCreate, Request, ClientToServer, ComponentCreateParams{}, ComponentCreateResult{}},
		{MethodPush, Request, ClientToServer, PushParams{}, PushResult{}},
		{MethodPushProgress, Notification, ServerToClient, PushProgressParams{}, nil},
		{MethodLog, Notification, ServerToClient, LogParams{}, nil},
		{MethodComponentStateChanged, Notification, ServerToClient, StateChangedParams{}, nil},
		{MethodLogsFollow, Request, ClientToServer, LogsFollowParams{}, LogsFollowResult{}},
		{MethodLogsStop, Request, ClientToServer, LogsStopParams{}, nil},
		{MethodURLCreate, Request, ClientToServer, URLCreateParams{}, URLCreateResult{}},
		{MethodURLList, Request, ClientToServer, WorkspaceParams{}, URLListResult{}},
		{MethodURLDelete, Request, ClientToServer, NameParams{}, nil},
		{MethodStorageAdd, Request, ClientToServer, StorageAddParams{}, nil},
		{MethodStorageList, Request, ClientToServer, WorkspaceParams{}, StorageListResult{}},
		{MethodStorageRemove, Request, ClientToServer, NameParams{}, nil},
		{MethodPortForward, Request, ClientToServer, PortForwardParams{}, PortForwardResult{}},
		{MethodPortForwardStop, Request, ClientToServer, PortForwardStopParams{}, nil},
		{MethodComponentDescribe, Request, ClientToServer, WorkspaceParams{}, DescribeResult{}},
		{MethodComponentDelete, Request, ClientToServer, ComponentDeleteParams{}, ComponentDeleteResult{}},
		{MethodWatchStart, Request, ClientToServer, WatchStartParams{}, WatchStatus{}},
		{MethodWatchStop, Request, ClientToServer, WatchStopParams{}, WatchStatus{}},
		{MethodClusterContexts, Request, ClientToServer, ClusterContextsParams{}, ClusterContextsResult{}},
		{MethodClusterUse, Request, ClientToServer, ClusterUseParams{}, ClusterUseResult{}},
		{MethodClusterInfo, Request, ClientToServer, ClusterInfoParams{}, ClusterInfoResult{}},
		{MethodProjectList, Request, ClientToServer, ProjectListParams{}, ProjectListResult{}},
		{MethodProjectCreate, Request, ClientToServer, ProjectNameParams{}, ProjectResult{}},
		{MethodProjectDelete, Request, ClientToServer, ProjectDeleteParams{}, ProjectResult{}},
		{MethodProjectSet, Request, ClientToServer, ProjectNameParams{}, ProjectResult{}},
		{MethodComponentList, Request, ClientToServer, ComponentListParams{}, ComponentListResult{}},
		{MethodAppList, Request, ClientToServer, AppListParams{}, AppListResult{}},
		{MethodAppDescribe, Request, ClientToServer, AppParams{}, AppDescribeResult{}},
		{MethodAppDelete, Request, ClientToServer, AppDeleteParams{}, AppDeleteResult{}},
		{MethodConfigView, Request, ClientToServer, WorkspaceParams{}, ConfigViewResult{}},
		{MethodConfigSet, Request, ClientToServer, ConfigSetParams{}, ConfigViewResult{}},
		{MethodConfigUnset, Request, ClientToServer, ConfigUnsetParams{}, ConfigViewResult{}},
		{MethodComponentBuild, Request, ClientToServer, ComponentBuildParams{}, ComponentBuildResult{}},
		{MethodComponentHistory, Request, ClientToServer, WorkspaceParams{}, ComponentHistoryResult{}},
		{MethodComponentRollback, Request, ClientToServer, ComponentRollbackParams{}, ComponentRollbackResult{}},
		{MethodLogin, Request, ClientToServer, LoginParams{}, LoginResult{}},
		{MethodLogout, Request, ClientToServer, LogoutParams{}, LogoutResult{}},
		{MethodClusterWatch, Request, ClientToServer, ClusterWatchParams{}, ClusterWatchResult{}},
		{MethodClusterUnwatch, Request, ClientToServer, ClusterUnwatchParams{}, ClusterWatchResult{}},
		{MethodClusterDidChange, Notification, ServerToClient, ClusterDidChangeParams{}, nil},
		{MethodLink, Request, ClientToServer, LinkParams{}, LinkResult{}},
		{MethodUnlink, Request, ClientToServer, UnlinkParams{}, LinkResult{}},
		{MethodDebugStart, Request, ClientToServer, DebugStartParams{}, DebugSession{}},
		{MethodDebugInfo, Request, ClientToServer, WorkspaceParams{}, DebugInfoResult{}},
		{MethodDebugStop, Request, ClientToServer, WorkspaceParams{}, nil},
	}
}

// CodeInfo names one error code.
type CodeInfo struct {
	Code int
	Name string
}

// ErrorCodes lists every error code odod returns.
func ErrorCodes() []CodeInfo {
	return []CodeInfo{
		{CodeParseError, "ParseError"},
		{CodeInvalidRequest, "InvalidRequest"},
		{CodeMethodNotFound, "MethodNotFound"},
		{CodeInvalidParams, "InvalidParams"},
		{CodeInternalError, "InternalError"},
		{CodeServerNotInitialized, "ServerNotInitialized"},
		{CodeRequestCancelled, "RequestCancelled"},
		{CodeContentModified, "ContentModified"},
		{CodeServerCancelled, "ServerCancelled"},
		{CodeRequestFailed, "RequestFailed"},
		{CodeWorkspaceNotFound, "WorkspaceNotFound"},
		{CodeIndexFailed, "IndexFailed"},
		{CodeClusterUnreachable, "ClusterUnreachable"},
		{CodeUnauthorized, "Unauthorized"},
		{CodeComponentNotConfigured, "ComponentNotConfigured"},
		{CodeInvalidConfig, "InvalidConfig"},
		{CodeContainerNotReady, "ContainerNotReady"},
		{CodeSyncFailed, "SyncFailed"},
		{CodeBuildFailed, "BuildFailed"},
		{CodeAgentIncompatible, "AgentIncompatible"},
		{CodeTarMissing, "TarMissing"},
		{CodeNotFound, "NotFound"},
		{CodeConflict, "Conflict"},
		{CodeUntrustedCertificate, "UntrustedCertificate"},
		{CodeLoginUnsupported, "LoginUnsupported"},
	}
}
