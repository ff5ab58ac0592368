package protocol

// The editor's view of the cluster: kubeconfig contexts, the cluster in
// use and what it serves. They need no workspace.
const (
	// MethodClusterContexts lists the kubeconfig's contexts.
	MethodClusterContexts = "odod/cluster/contexts"
	// MethodClusterUse switches context and/or namespace without a
	// restart; open workspaces keep working.
	MethodClusterUse = "odod/cluster/use"
	// MethodClusterInfo describes the cluster in use.
	MethodClusterInfo = "odod/cluster/info"
)

// ClusterContextsParams is odod/cluster/contexts's params (none).
type ClusterContextsParams struct{}

// ClusterContext is one kubeconfig context.
type ClusterContext struct {
	// Name is the context's name.
	Name string `json:"name"`
	// Cluster is the kubeconfig's name of the context's cluster.
	Cluster string `json:"cluster"`
	// Server is that cluster's API server address.
	Server string `json:"server"`
	// User is the kubeconfig's name of the context's credentials.
	User string `json:"user"`
	// Namespace is the context's namespace ("" = default).
	Namespace string `json:"namespace,omitempty"`
	// Current is true for the context odod uses.
	Current bool `json:"current"`
}

// ClusterContextsResult answers odod/cluster/contexts.
type ClusterContextsResult struct {
	// Current is the name of the context odod uses ("" when the
	// kubeconfig names none).
	Current string `json:"current"`
	// Contexts are every context of the kubeconfig, by name.
	Contexts []ClusterContext `json:"contexts"`
}

// ClusterUseParams chooses the context and namespace odod works in. At
// least one is required.
type ClusterUseParams struct {
	// Context is a kubeconfig context; "" keeps the current one.
	Context string `json:"context,omitempty"`
	// Namespace is the namespace (odo's project) for requests that name
	// none; "" means the context's own.
	Namespace string `json:"namespace,omitempty"`
}

// ClusterUseResult answers odod/cluster/use with what is now in use.
type ClusterUseResult struct {
	Context   string `json:"context"`
	Namespace string `json:"namespace"`
	Server    string `json:"server"`
}

// ClusterInfoParams is odod/cluster/info's params (none).
type ClusterInfoParams struct{}

// ClusterInfoResult answers odod/cluster/info.
type ClusterInfoResult struct {
	// Context and Namespace are the ones in use.
	Context   string `json:"context"`
	Namespace string `json:"namespace"`
	// Server is the API server's address.
	Server string `json:"server"`
	// Version is the API server's version (v1.34.1).
	Version string `json:"version"`
	// OpenShift is true when the cluster serves project.openshift.io, as
	// every OpenShift does. Routes or ImageStreams alone (CRDs on a
	// Kubernetes cluster) do not make it OpenShift: APIGroups says what
	// is served.
	OpenShift bool `json:"openShift"`
	// APIGroups are the API groups the cluster serves, sorted.
	APIGroups []string `json:"apiGroups"`
	// User is who the credentials are (SelfSubjectReview); "" when the
	// cluster does not say.
	User string `json:"user,omitempty"`
	// UserGroups are the user's groups.
	UserGroups []string `json:"userGroups,omitempty"`
}
