package protocol

// A workspace's component settings (.odo/config.yaml) by odo config's
// parameter names.
const (
	// MethodConfigView shows the settings.
	MethodConfigView = "odod/config/view"
	// MethodConfigSet sets parameters and environment variables.
	MethodConfigSet = "odod/config/set"
	// MethodConfigUnset clears parameters and environment variables.
	MethodConfigUnset = "odod/config/unset"
)

// ConfigParameter is one parameter and its value ("" when not set).
type ConfigParameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// EnvVar is an environment variable of the app container.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ConfigViewResult answers odod/config/view, set and unset.
type ConfigViewResult struct {
	// Path is the settings file.
	Path string `json:"path"`
	// Parameters are odo's, in odo config view's order: Type, Name,
	// Application, Project, SourceType, SourceLocation, Ref, Ports,
	// MinMemory, MaxMemory, Memory, MinCPU, MaxCPU, CPU, DebugPort,
	// Ignore, and odod's Workload.
	Parameters []ConfigParameter `json:"parameters"`
	// Env are the environment variables, in order.
	Env []EnvVar `json:"env"`
}

// ConfigSetParams sets parameters and environment variables at once: all
// of them, or none when the result would be invalid.
type ConfigSetParams struct {
	WorkspaceID string `json:"workspaceId"`
	// Parameters maps a parameter's name (case-insensitive) to its value;
	// Ports is a comma-separated list, Memory and CPU set both bounds.
	Parameters map[string]string `json:"parameters,omitempty"`
	// Env are NAME=VALUE pairs.
	Env []string `json:"env,omitempty"`
}

// ConfigUnsetParams clears parameters and environment variables.
type ConfigUnsetParams struct {
	WorkspaceID string `json:"workspaceId"`
	// Parameters are names of parameters to clear.
	Parameters []string `json:"parameters,omitempty"`
	// Env are names of environment variables to remove.
	Env []string `json:"env,omitempty"`
}
