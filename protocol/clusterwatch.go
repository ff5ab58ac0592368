package protocol

import "time"

// The editor's tree, refreshed by the cluster: informers on the current
// namespace report when components, URLs and storage appear, change
// state or vanish.
const (
	// MethodClusterWatch starts reporting changes of the current
	// namespace as odod/cluster/didChange.
	MethodClusterWatch = "odod/cluster/watch"
	// MethodClusterUnwatch stops them.
	MethodClusterUnwatch = "odod/cluster/unwatch"
	// MethodClusterDidChange carries the changes of a window.
	MethodClusterDidChange = "odod/cluster/didChange"
)

// ClusterWatchParams is odod/cluster/watch's params (none): the watch is
// on the current context and namespace, and follows odod/cluster/use,
// odod/project/set and odod/login.
type ClusterWatchParams struct{}

// ClusterUnwatchParams is odod/cluster/unwatch's params (none).
type ClusterUnwatchParams struct{}

// ClusterWatchResult answers odod/cluster/watch and unwatch.
type ClusterWatchResult struct {
	// Active is true while changes are reported.
	Active bool `json:"active"`
	// Context and Namespace are what is watched ("" once stopped).
	Context string `json:"context"`
	// Namespace is the namespace watched.
	Namespace string `json:"namespace"`
	// WindowMs is how long changes are gathered into one notification.
	WindowMs int64 `json:"windowMs"`
}

// ChangeType says what happened to an object.
type ChangeType string

// Change types.
const (
	ChangeAdded   ChangeType = "added"
	ChangeChanged ChangeType = "changed"
	ChangeDeleted ChangeType = "deleted"
)

// ClusterChange is one object of a component that changed.
type ClusterChange struct {
	// Kind is Deployment, DeploymentConfig, Service, Route, Ingress,
	// PersistentVolumeClaim or Pod.
	Kind string `json:"kind"`
	// Name is the object's name.
	Name string `json:"name"`
	// Component and App are its component's (the instance and part-of
	// labels).
	Component string `json:"component"`
	// App is the component's application.
	App string `json:"app"`
	// Type is what happened; within a window an object is reported
	// once, with its first and last change merged (added then changed
	// is added; anything then deleted is deleted).
	Type ChangeType `json:"type"`
	// State is a Pod's phase (Pending, Running, …) or a
	// PersistentVolumeClaim's (Bound); "" for the other kinds.
	State string `json:"state,omitempty"`
}

// ClusterDidChangeParams is odod/cluster/didChange: what changed in the
// namespace during one window. An editor refreshes the nodes of the
// components named (or, on reset, the whole namespace) with
// odod/component/list.
type ClusterDidChangeParams struct {
	// Context and Namespace are the ones watched.
	Context string `json:"context"`
	// Namespace is the namespace the changes are in.
	Namespace string `json:"namespace"`
	// Seq increases by one with each notification of the connection.
	Seq uint64 `json:"seq"`
	// Time is when the notification was sent.
	Time time.Time `json:"time"`
	// Reset is true when the watch (re)started on a context or
	// namespace: Changes is empty and the editor reloads the namespace.
	Reset bool `json:"reset,omitempty"`
	// Changes are the objects that changed, sorted by component, app,
	// kind and name.
	Changes []ClusterChange `json:"changes"`
	// Components are the components the changes touch, sorted.
	Components []ComponentRefParams `json:"components"`
	// Error says why the watch could not start again after a change of
	// context or namespace (the cluster went away, the user may not
	// watch there); odod retries every few seconds and sends a Reset
	// without Error once it watches again.
	Error *ClusterWatchError `json:"error,omitempty"`
}

// ClusterWatchError is an error of the watch, as a request's error would
// be.
type ClusterWatchError struct {
	// Code is an error code (ClusterUnreachable, Unauthorized, …).
	Code int64 `json:"code"`
	// Message says what happened.
	Message string `json:"message"`
	// Data holds the suggestions.
	Data ErrorData `json:"data"`
}

// ComponentRefParams names a component of the namespace.
type ComponentRefParams struct {
	// Name is the component's name.
	Name string `json:"name"`
	// App is its application.
	App string `json:"app"`
}
