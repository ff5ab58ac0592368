package protocol

// The editor's debugger.
const (
	// MethodDebugStart forwards a local port to the component's debug port
	// and returns what the editor's debugger needs to attach.
	MethodDebugStart = "odod/debug/start"
	// MethodDebugInfo reports the debug session and the debug settings.
	MethodDebugInfo = "odod/debug/info"
	// MethodDebugStop ends the debug session's port forward.
	MethodDebugStop = "odod/debug/stop"
)

// DebugStartParams starts a debug session.
type DebugStartParams struct {
	WorkspaceID string `json:"workspaceId"`
	// LocalPort on 127.0.0.1; 0 picks a free one.
	LocalPort int `json:"localPort,omitempty"`
}

// DebugSession is a running debug port forward and how to attach to it.
type DebugSession struct {
	PortForwardResult
	// Language is the component's language scripts: "nodejs" or "java".
	Language string `json:"language"`
	// Launch is a VS Code attach configuration (launch.json) for it.
	Launch LaunchConfiguration `json:"launch"`
	// JDWP is where a Java debugger (IntelliJ's remote JVM debug, jdb)
	// attaches; Java only.
	JDWP *HostPort `json:"jdwp,omitempty"`
}

// HostPort is an address.
type HostPort struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// LaunchConfiguration is a VS Code debug configuration that attaches:
// type "node" (address, port, localRoot, remoteRoot) or type "java"
// (hostName, port).
type LaunchConfiguration struct {
	Type    string `json:"type"`
	Request string `json:"request"`
	Name    string `json:"name"`
	// Address (node) and HostName (java) are the forward's host.
	Address  string `json:"address,omitempty"`
	HostName string `json:"hostName,omitempty"`
	Port     int    `json:"port"`
	// LocalRoot is the workspace; RemoteRoot is where the sources run in
	// the container (node).
	LocalRoot  string `json:"localRoot,omitempty"`
	RemoteRoot string `json:"remoteRoot,omitempty"`
}

// DebugInfoResult answers odod/debug/info.
type DebugInfoResult struct {
	// Session is the running debug session; nil when there is none.
	Session *DebugSession `json:"session,omitempty"`
	// DebugPort is the port the debugger listens on in the container
	// (DEBUG_PORT: the DebugPort setting, default 5858).
	DebugPort int `json:"debugPort"`
	// DevMode says whether the app runs with its debugger (the DEV_MODE
	// env var, default true); a change applies at the next push.
	DevMode bool `json:"devMode"`
}
