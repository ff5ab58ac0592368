package protocol

// Projects: OpenShift projects where the cluster serves them, namespaces
// elsewhere (odo's projects).
const (
	// MethodProjectList lists the projects the user can see.
	MethodProjectList = "odod/project/list"
	// MethodProjectCreate creates a project.
	MethodProjectCreate = "odod/project/create"
	// MethodProjectDelete deletes a project and what it holds.
	MethodProjectDelete = "odod/project/delete"
	// MethodProjectSet makes a project the one requests use when they
	// name none.
	MethodProjectSet = "odod/project/set"
)

// ProjectListParams is odod/project/list's params (none).
type ProjectListParams struct{}

// Project is one project.
type Project struct {
	// Name is the project's (namespace's) name.
	Name string `json:"name"`
	// Phase is "Active" or "Terminating".
	Phase string `json:"phase,omitempty"`
	// Current is true for the project odod uses when a request names
	// none.
	Current bool `json:"current"`
}

// ProjectListResult answers odod/project/list.
type ProjectListResult struct {
	// Current is the project odod uses when a request names none.
	Current string `json:"current"`
	// Projects are sorted by name.
	Projects []Project `json:"projects"`
	// Complete is false when the user may not list projects: Projects
	// then holds only the current one.
	Complete bool `json:"complete"`
	// Message says so when Complete is false.
	Message string `json:"message,omitempty"`
}

// ProjectNameParams names a project.
type ProjectNameParams struct {
	// Name is a DNS-1123 label.
	Name string `json:"name"`
}

// ProjectDeleteParams deletes a project.
type ProjectDeleteParams struct {
	Name string `json:"name"`
	// Wait answers only once the project is gone (default true).
	Wait *bool `json:"wait,omitempty"`
}

// ProjectResult answers odod/project/create, delete and set.
type ProjectResult struct {
	// Name is the project's.
	Name string `json:"name"`
	// Current is the project odod now uses when a request names none.
	Current string `json:"current"`
}
