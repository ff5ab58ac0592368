package protocol

// Links between components.
const (
	// MethodLink links the workspace's component to another component or
	// to a Service: their host and port reach its container as env vars.
	MethodLink = "odod/link"
	// MethodUnlink removes a link.
	MethodUnlink = "odod/unlink"
)

// LinkParams links the workspace's component to To.
type LinkParams struct {
	WorkspaceID string `json:"workspaceId"`
	// To is a component of the same application, or a Service of the
	// namespace that is not a component.
	To string `json:"to"`
	// Port is the target's port; needed when it has several.
	Port int `json:"port,omitempty"`
}

// UnlinkParams removes the link to To.
type UnlinkParams struct {
	WorkspaceID string `json:"workspaceId"`
	To          string `json:"to"`
}

// Link is one link of the component.
type Link struct {
	// Name is the target component or Service.
	Name string `json:"name"`
	// Kind is "component" or "service".
	Kind string `json:"kind"`
	Port int    `json:"port"`
	// Secret is the Secret whose keys become env vars.
	Secret string `json:"secret"`
	// Env are the variables the link sets: COMPONENT_<NAME>_HOST and
	// COMPONENT_<NAME>_PORT.
	Env []string `json:"env"`
}

// LinkResult answers odod/link and odod/unlink.
type LinkResult struct {
	// Link is the link made (odod/link) or removed (odod/unlink).
	Link Link `json:"link"`
	// Pod is the component's pod once it rolled with the new environment;
	// "" when the component is not pushed yet (the next push applies the
	// link).
	Pod string `json:"pod,omitempty"`
}
