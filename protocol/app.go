package protocol

// Components and apps across the cluster, found by odo's and odod's
// labels: they need no workspace.
const (
	// MethodComponentList lists the components of a namespace.
	MethodComponentList = "odod/component/list"
	// MethodAppList lists the apps of a namespace.
	MethodAppList = "odod/app/list"
	// MethodAppDescribe describes an app's components.
	MethodAppDescribe = "odod/app/describe"
	// MethodAppDelete deletes every component of an app.
	MethodAppDelete = "odod/app/delete"
)

// ComponentListParams chooses what odod/component/list lists.
type ComponentListParams struct {
	// Namespace is the project; "" = the current one.
	Namespace string `json:"namespace,omitempty"`
	// App keeps the components of one app; "" = every app.
	App string `json:"app,omitempty"`
}

// ComponentSummary is a component as the cluster shows it.
type ComponentSummary struct {
	Name      string `json:"name"`
	App       string `json:"app"`
	Namespace string `json:"namespace"`
	// Type is the builder, with its version when known (nodejs:14).
	Type string `json:"type"`
	// ManagedBy is "odod", or "odo" for odo v1's components.
	ManagedBy string `json:"managedBy"`
	// State is Running, Starting or Error (a pod that failed).
	State ComponentState `json:"state"`
	// Reason is the cluster's reason when not running
	// (ImagePullBackOff, …).
	Reason string `json:"reason,omitempty"`
	// Pod is the current pod's name.
	Pod string `json:"pod,omitempty"`
	// URLs and Storage are what the cluster holds of them (state
	// Pushed).
	URLs    []URL     `json:"urls"`
	Storage []Storage `json:"storage"`
	// Workspace is the open workspace of this component, when one is.
	Workspace *WorkspaceRef `json:"workspace,omitempty"`
}

// WorkspaceRef names an open workspace.
type WorkspaceRef struct {
	WorkspaceID string `json:"workspaceId"`
	URI         string `json:"uri"`
}

// ComponentListResult answers odod/component/list.
type ComponentListResult struct {
	// Namespace is the namespace listed.
	Namespace string `json:"namespace"`
	// Components are sorted by app, then name.
	Components []ComponentSummary `json:"components"`
}

// AppListParams chooses the namespace of odod/app/list.
type AppListParams struct {
	// Namespace is the project; "" = the current one.
	Namespace string `json:"namespace,omitempty"`
}

// App is an application: the components that share an app label.
type App struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Components are the names of its components, sorted.
	Components []string `json:"components"`
}

// AppListResult answers odod/app/list.
type AppListResult struct {
	Namespace string `json:"namespace"`
	// Apps are sorted by name.
	Apps []App `json:"apps"`
}

// AppParams names an app.
type AppParams struct {
	// Name is the app's name (required).
	Name string `json:"name"`
	// Namespace is the project; "" = the current one.
	Namespace string `json:"namespace,omitempty"`
}

// AppDescribeResult answers odod/app/describe.
type AppDescribeResult struct {
	Name       string             `json:"name"`
	Namespace  string             `json:"namespace"`
	Components []ComponentSummary `json:"components"`
}

// AppDeleteParams deletes an app.
type AppDeleteParams struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	// Wait answers only once every object and pod is gone (default
	// true).
	Wait *bool `json:"wait,omitempty"`
}

// AppDeleteResult answers odod/app/delete.
type AppDeleteResult struct {
	// Components are the names of the components deleted.
	Components []string `json:"components"`
	// Deleted are the objects deleted.
	Deleted []ObjectRef `json:"deleted"`
}
