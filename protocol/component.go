package protocol

// Requests about a workspace's component. Each takes the workspaceId
// odod/workspace/open returned.
const (
	// MethodCatalogList lists the component types (builder images).
	MethodCatalogList = "odod/catalog/list"
	// MethodComponentCreate writes the workspace's .odo/config.yaml.
	MethodComponentCreate = "odod/component/create"
	// MethodComponentDescribe describes the component on the cluster.
	MethodComponentDescribe = "odod/component/describe"
	// MethodComponentDelete deletes the component from the cluster.
	MethodComponentDelete = "odod/component/delete"
	// MethodPush pushes the workspace's changes into the component.
	MethodPush = "odod/push"
	// MethodLogsFollow streams the application's output as odod/log.
	MethodLogsFollow = "odod/logs/follow"
	// MethodLogsStop stops a logs/follow subscription.
	MethodLogsStop = "odod/logs/stop"
	// MethodURLCreate adds a URL (Route on OpenShift, else Ingress).
	MethodURLCreate = "odod/url/create"
	// MethodURLList lists the component's URLs.
	MethodURLList = "odod/url/list"
	// MethodURLDelete removes a URL.
	MethodURLDelete = "odod/url/delete"
	// MethodStorageAdd adds a PVC mount (applied on the next push).
	MethodStorageAdd = "odod/storage/add"
	// MethodStorageList lists the component's storage.
	MethodStorageList = "odod/storage/list"
	// MethodStorageRemove removes a PVC mount (applied on the next push).
	MethodStorageRemove = "odod/storage/remove"
	// MethodPortForward forwards a local port to the component's pod.
	MethodPortForward = "odod/portforward"
	// MethodPortForwardStop stops a port forward.
	MethodPortForwardStop = "odod/portforward/stop"
)

// Notifications about a component.
const (
	// MethodPushProgress reports a push's transfer.
	MethodPushProgress = "odod/push/progress"
	// MethodLog carries one line of build output or application output.
	MethodLog = "odod/log"
	// MethodComponentStateChanged reports the component's state.
	MethodComponentStateChanged = "odod/component/stateChanged"
)

// WorkspaceParams are the params of requests that need only a workspace.
type WorkspaceParams struct {
	WorkspaceID string `json:"workspaceId"`
}

// CatalogListParams is odod/catalog/list's params. WorkspaceID is optional:
// with it, the workspace's project is used to reach the cluster.
type CatalogListParams struct {
	WorkspaceID string `json:"workspaceId,omitempty"`
}

// CatalogType is one component type.
type CatalogType struct {
	// Name is what component/create's type takes ("nodejs").
	Name string `json:"name"`
	// Tags are its versions ("latest", "14").
	Tags []string `json:"tags"`
	// Source is "ImageStream" (the cluster's catalog) or "BuiltIn".
	Source      string `json:"source"`
	Namespace   string `json:"namespace,omitempty"`
	Description string `json:"description,omitempty"`
}

// CatalogListResult answers odod/catalog/list.
type CatalogListResult struct {
	Types []CatalogType `json:"types"`
}

// ComponentCreateParams writes .odo/config.yaml, as `odo create`.
type ComponentCreateParams struct {
	WorkspaceID string `json:"workspaceId"`
	// Type is a catalog type ("nodejs", "nodejs:14") or an image reference.
	Type string `json:"type"`
	// Name defaults to the folder's name.
	Name string `json:"name,omitempty"`
	// Project is the namespace; default the connection's.
	Project string `json:"project,omitempty"`
	// App is the application; default "app".
	App string `json:"app,omitempty"`
	// Ports as odo takes them: "8080", "8080/tcp".
	Ports []string `json:"ports,omitempty"`
	// Env as "KEY=value".
	Env []string `json:"env,omitempty"`
	// Force overwrites an existing .odo/config.yaml.
	Force bool `json:"force,omitempty"`
	// Git makes a git component: the cluster builds an image from this
	// repository (https, http or git URL) and runs it.
	Git string `json:"git,omitempty"`
	// Ref is the git branch, tag or commit; default the default branch.
	Ref string `json:"ref,omitempty"`
	// ContextDir is the sources' directory inside the repository.
	ContextDir string `json:"contextDir,omitempty"`
	// Registry is where odod's own builds push images on a cluster without
	// a build API (host[:port][/path]); the cluster must pull from it.
	Registry string `json:"registry,omitempty"`
	// Binary makes a binary component: the artifact (e.g. target/app.jar,
	// relative to the workspace) is pushed alone, and only when it changed.
	Binary string `json:"binary,omitempty"`
}

// ComponentSettings are a component's settings as create wrote them.
type ComponentSettings struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	App     string   `json:"app"`
	Project string   `json:"project,omitempty"`
	Ports   []string `json:"ports,omitempty"`
	// ConfigPath is the settings file.
	ConfigPath string `json:"configPath"`
}

// ComponentCreateResult answers odod/component/create.
type ComponentCreateResult struct {
	Component ComponentSettings `json:"component"`
}

// PushParams asks for a push.
type PushParams struct {
	WorkspaceID string `json:"workspaceId"`
	// Force sends every file and runs the build even when nothing changed
	// (odo push -f).
	Force bool `json:"force,omitempty"`
	// DryRun returns the operations without touching the cluster.
	DryRun bool `json:"dryRun,omitempty"`
	WorkDoneProgressParams
}

// Operation is one planned file operation of a dry run.
type Operation struct {
	// Op is "delete", "mkdir", "put" or "symlink".
	Op   string `json:"op"`
	Path string `json:"path"`
	// Bytes is the size of a put.
	Bytes int64 `json:"bytes,omitempty"`
}

// PushResult answers odod/push.
type PushResult struct {
	PushID       string `json:"pushId"`
	FilesCopied  int    `json:"filesCopied"`
	FilesDeleted int    `json:"filesDeleted"`
	Bytes        int64  `json:"bytes"`
	DurationMs   int64  `json:"durationMs"`
	// BuildExitCode is assemble-and-restart's exit status; absent when no
	// build ran (nothing changed, or a dry run).
	BuildExitCode *int `json:"buildExitCode,omitempty"`
	// Full is true when every file was considered (first push, new pod,
	// force).
	Full bool `json:"full"`
	// Transport is "agent" or "tar".
	Transport string `json:"transport,omitempty"`
	// Pod is the pod pushed to.
	Pod string `json:"pod,omitempty"`
	// Operations lists what a dry run would do.
	Operations []Operation `json:"operations,omitempty"`
	// Skipped lists symlinks pointing outside the workspace (never pushed).
	Skipped []string `json:"skipped,omitempty"`
	// Timings says where the push's time went, phase by phase.
	Timings *PushTimings `json:"timings,omitempty"`
}

// PushTimings are a push's phases in milliseconds: objects applied, pod
// awaited, files synced, build (assemble-and-restart, until the app serves
// again), index confirmed. A phase that did not run is 0.
type PushTimings struct {
	ObjectsMs int64 `json:"objectsMs"`
	PodMs     int64 `json:"podMs"`
	SyncMs    int64 `json:"syncMs"`
	BuildMs   int64 `json:"buildMs"`
	ConfirmMs int64 `json:"confirmMs"`
}

// PushPhase is where a push is.
type PushPhase string

// Push phases.
const (
	PhaseApply  PushPhase = "apply"
	PhaseWait   PushPhase = "wait"
	PhaseUpload PushPhase = "upload"
	PhaseBuild  PushPhase = "build"
	PhaseDone   PushPhase = "done"
)

// PushProgressParams is odod/push/progress's params.
type PushProgressParams struct {
	Event
	PushID     string    `json:"pushId"`
	Phase      PushPhase `json:"phase"`
	FilesDone  int       `json:"filesDone"`
	FilesTotal int       `json:"filesTotal"`
	BytesDone  int64     `json:"bytesDone"`
	BytesTotal int64     `json:"bytesTotal"`
	// Path is the last file done.
	Path string `json:"path,omitempty"`
}

// LogSource says where a log line comes from.
type LogSource string

// Log sources.
const (
	// LogBuild is assemble-and-restart's output during a push.
	LogBuild LogSource = "build"
	// LogApp is the application container's output (go-init, supervisord,
	// the run script).
	LogApp LogSource = "app"
	// LogOdod is odod's own word inside a stream of app lines: following
	// the logs is interrupted (the cluster is unreachable) and retried, or
	// it goes on again.
	LogOdod LogSource = "odod"
)

// LogParams is odod/log's params: one line.
type LogParams struct {
	Event
	Source LogSource `json:"source"`
	// Stream is "stdout" or "stderr".
	Stream string `json:"stream"`
	Text   string `json:"text"`
	Pod    string `json:"pod,omitempty"`
	// PushID names the push of a build line.
	PushID string `json:"pushId,omitempty"`
	// SubscriptionID names the logs/follow of an app line.
	SubscriptionID string `json:"subscriptionId,omitempty"`
}

// ComponentState is the component's state as odod sees it.
type ComponentState string

// Component states.
const (
	StateAbsent   ComponentState = "Absent"
	StateStarting ComponentState = "Starting"
	StateSyncing  ComponentState = "Syncing"
	StateBuilding ComponentState = "Building"
	StateRunning  ComponentState = "Running"
	StateError    ComponentState = "Error"
)

// StateChangedParams is odod/component/stateChanged's params.
type StateChangedParams struct {
	Event
	From ComponentState `json:"from"`
	To   ComponentState `json:"to"`
	// Reason is a short machine-readable reason (the cluster's, such as
	// ImagePullBackOff, or odod's, such as BuildFailed).
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// LogsFollowParams starts streaming the application's output.
type LogsFollowParams struct {
	WorkspaceID string `json:"workspaceId"`
	// Source must be "app" (build output comes with each push).
	Source LogSource `json:"source,omitempty"`
	// TailLines starts with that many earlier lines (default 100).
	TailLines *int64 `json:"tailLines,omitempty"`
}

// LogsFollowResult answers odod/logs/follow.
type LogsFollowResult struct {
	SubscriptionID string `json:"subscriptionId"`
}

// LogsStopParams stops a subscription.
type LogsStopParams struct {
	SubscriptionID string `json:"subscriptionId"`
}

// URLCreateParams adds a URL.
type URLCreateParams struct {
	WorkspaceID string `json:"workspaceId"`
	Name        string `json:"name"`
	Port        int    `json:"port"`
	Secure      bool   `json:"secure,omitempty"`
	// Host is the Ingress host (Ingress only; Routes get one from the
	// cluster).
	Host string `json:"host,omitempty"`
	// Kind asks for "route" or "ingress"; empty: a Route where the cluster
	// serves Routes, else an Ingress.
	Kind string `json:"kind,omitempty"`
}

// URL is one of the component's URLs.
type URL struct {
	Name   string `json:"name"`
	Port   int    `json:"port"`
	Secure bool   `json:"secure"`
	// Kind is Route or Ingress.
	Kind string `json:"kind,omitempty"`
	Host string `json:"host,omitempty"`
	// URL is scheme://host once the cluster knows the host.
	URL   string       `json:"url,omitempty"`
	State SettingState `json:"state"`
}

// SettingState says where a URL or a storage is, as odo's lists said.
type SettingState string

// The states of a URL or a storage.
const (
	// SettingPushed is in the settings and on the cluster.
	SettingPushed SettingState = "Pushed"
	// SettingNotPushed is in the settings only: the next push applies it.
	SettingNotPushed SettingState = "Not pushed"
	// SettingLocallyDeleted is on the cluster only: removed from the
	// settings, the next push deletes it.
	SettingLocallyDeleted SettingState = "Locally deleted"
)

// URLCreateResult answers odod/url/create.
type URLCreateResult struct {
	URL URL `json:"url"`
}

// URLListResult answers odod/url/list.
type URLListResult struct {
	URLs []URL `json:"urls"`
}

// NameParams names an object of the component (URL, storage).
type NameParams struct {
	WorkspaceID string `json:"workspaceId"`
	Name        string `json:"name"`
}

// StorageAddParams adds a PVC mount.
type StorageAddParams struct {
	WorkspaceID string `json:"workspaceId"`
	Name        string `json:"name"`
	// Path is where it is mounted in the container.
	Path string `json:"path"`
	// Size is a Kubernetes quantity ("1Gi").
	Size string `json:"size"`
}

// Storage is one storage of the component.
type Storage struct {
	Name  string       `json:"name"`
	Path  string       `json:"path"`
	Size  string       `json:"size"`
	State SettingState `json:"state"`
}

// StorageListResult answers odod/storage/list.
type StorageListResult struct {
	Storage []Storage `json:"storage"`
}

// PortForwardParams forwards a local port to the component.
type PortForwardParams struct {
	WorkspaceID string `json:"workspaceId"`
	// RemotePort is the container port; default the component's first.
	RemotePort int `json:"remotePort,omitempty"`
	// LocalPort on 127.0.0.1; 0 picks a free one.
	LocalPort int `json:"localPort,omitempty"`
}

// PortForwardResult answers odod/portforward.
type PortForwardResult struct {
	LocalPort  int    `json:"localPort"`
	RemotePort int    `json:"remotePort"`
	Address    string `json:"address"`
	Pod        string `json:"pod"`
}

// PortForwardStopParams stops a port forward.
type PortForwardStopParams struct {
	WorkspaceID string `json:"workspaceId"`
	LocalPort   int    `json:"localPort"`
}

// ObjectRef names a cluster object.
type ObjectRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// DescribeResult answers odod/component/describe.
type DescribeResult struct {
	Name      string         `json:"name"`
	App       string         `json:"app"`
	Type      string         `json:"type"`
	Namespace string         `json:"namespace"`
	State     ComponentState `json:"state"`
	Reason    string         `json:"reason,omitempty"`
	Pod       string         `json:"pod,omitempty"`
	Objects   []ObjectRef    `json:"objects"`
	URLs      []URL          `json:"urls"`
	Storage   []Storage      `json:"storage"`
	// Links are the component's links (odod/link), as its settings hold
	// them.
	Links []Link `json:"links"`
	// ForwardedPorts are the daemon's port forwards to the component.
	ForwardedPorts []PortForwardResult `json:"forwardedPorts"`
	LastPush       *PushResult         `json:"lastPush,omitempty"`
	// Watch says whether odod pushes the workspace's changes as they
	// happen (odod/watch/start).
	Watch WatchStatus `json:"watch"`
}

// ComponentDeleteParams deletes the component from the cluster.
type ComponentDeleteParams struct {
	WorkspaceID string `json:"workspaceId"`
	// Wait returns only when everything is gone (default true).
	Wait *bool `json:"wait,omitempty"`
}

// ComponentDeleteResult answers odod/component/delete.
type ComponentDeleteResult struct {
	Deleted []ObjectRef `json:"deleted"`
}
