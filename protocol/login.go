package protocol

// Logging in and out, as oc login and oc logout do: the kubeconfig is
// written, and odod uses the new context at once.
const (
	// MethodLogin checks credentials against a cluster, writes them to the
	// kubeconfig as oc login does and switches odod to the new context.
	MethodLogin = "odod/login"
	// MethodLogout revokes the current context's OAuth token where the
	// cluster serves OAuth tokens and removes the token from the
	// kubeconfig.
	MethodLogout = "odod/logout"
)

// LoginParams are the server and the credentials: a token, or a username
// and password (OpenShift's OAuth server only).
type LoginParams struct {
	// Server is the API server's URL (https://api.example.com:6443); a
	// bare host:port means https. "" = the current context's server.
	Server string `json:"server,omitempty"`
	// Token is a bearer token (an OpenShift sha256~ token, a
	// ServiceAccount token). Either Token or Username and Password.
	Token string `json:"token,omitempty"`
	// Username and Password are exchanged for a token through the
	// cluster's OAuth server (openshift-challenging-client), as oc login
	// -u does.
	Username string `json:"username,omitempty"`
	// Password is Username's password; it is never written anywhere.
	Password string `json:"password,omitempty"`
	// InsecureSkipTLSVerify accepts a server certificate no known
	// authority signed, and is written to the kubeconfig's cluster. By
	// default the certificate must be signed by the authority the
	// kubeconfig already holds for that server, or by the system's.
	InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify,omitempty"`
	// Namespace is the project to work in; "" keeps the one this user
	// last used on this server, else a ServiceAccount's own namespace,
	// else "default".
	Namespace string `json:"namespace,omitempty"`
}

// LoginResult answers odod/login with what odod now uses.
type LoginResult struct {
	// Context is the kubeconfig context written and now current, named
	// as oc names it: namespace/server-host-with-dashes:port/user.
	Context string `json:"context"`
	// Server is the API server's URL.
	Server string `json:"server"`
	// User is who the token is, by SelfSubjectReview.
	User string `json:"user"`
	// Namespace is the project now in use.
	Namespace string `json:"namespace"`
	// Kubeconfig is the file written.
	Kubeconfig string `json:"kubeconfig"`
}

// LogoutParams is odod/logout's params (none): the current context's
// user is logged out.
type LogoutParams struct{}

// LogoutResult answers odod/logout.
type LogoutResult struct {
	// Context is the context whose user was logged out.
	Context string `json:"context"`
	// User is the kubeconfig's name of the credentials whose token was
	// removed.
	User string `json:"user"`
	// Revoked is true when the cluster deleted the OAuth access token;
	// false when the token was not an OAuth token (a ServiceAccount's),
	// or the cluster serves no OAuth tokens: it stays valid until it
	// expires.
	Revoked bool `json:"revoked"`
	// Kubeconfig is the file written.
	Kubeconfig string `json:"kubeconfig"`
}
