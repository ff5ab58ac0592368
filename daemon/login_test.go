package daemon

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
)

// fakeAPIServer is the part of an API server and OpenShift OAuth server
// that login and logout speak: SelfSubjectReviews, the OAuth discovery
// document, the challenging client's authorize endpoint, and
// OAuthAccessToken deletion.
type fakeAPIServer struct {
	*httptest.Server
	oauth  bool              // serves /.well-known/oauth-authorization-server
	tokens map[string]string // token → user

	mu      sync.Mutex
	revoked []string
}

func newFakeAPIServer(t *testing.T, oauth bool) *fakeAPIServer {
	f := &fakeAPIServer{oauth: oauth, tokens: map[string]string{
		"sa-token":         "system:serviceaccount:team-x:dev",
		"sha256~alice-pwd": "alice",
	}}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPIServer) serve(w http.ResponseWriter, r *http.Request) {
	status := func(code int, reason string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":%q,"code":%d}`, reason, code)
	}
	switch {
	case r.URL.Path == "/apis/authentication.k8s.io/v1/selfsubjectreviews" && r.Method == http.MethodPost:
		user, ok := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !ok {
			status(http.StatusUnauthorized, "Unauthorized")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1","metadata":{},"status":{"userInfo":{"username":%q,"groups":["system:authenticated"]}}}`, user)
	case r.URL.Path == "/.well-known/oauth-authorization-server" && f.oauth:
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q}`, f.URL, f.URL+"/oauth/authorize", f.URL+"/oauth/token")
	case r.URL.Path == "/oauth/authorize" && f.oauth:
		u, p, ok := r.BasicAuth()
		if r.URL.Query().Get("client_id") != "openshift-challenging-client" || r.URL.Query().Get("response_type") != "token" || r.Header.Get("X-CSRF-Token") == "" {
			status(http.StatusBadRequest, "BadRequest")
			return
		}
		if !ok || u != "alice" || p != "pwd" {
			w.Header().Set("WWW-Authenticate", `Basic realm="openshift"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Location", f.URL+"/oauth/token/implicit#access_token=sha256~alice-pwd&expires_in=86400&scope=user%3Afull&token_type=Bearer")
		w.WriteHeader(http.StatusFound)
	case strings.HasPrefix(r.URL.Path, "/apis/oauth.openshift.io/v1/oauthaccesstokens/") && r.Method == http.MethodDelete && f.oauth:
		f.mu.Lock()
		f.revoked = append(f.revoked, strings.TrimPrefix(r.URL.Path, "/apis/oauth.openshift.io/v1/oauthaccesstokens/"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Success"}`)
	default:
		status(http.StatusNotFound, "NotFound")
	}
}

// caPEM is the test server's certificate, as a kubeconfig holds it.
func (f *fakeAPIServer) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.Certificate().Raw})
}

// kubeconfigTrusting writes a kubeconfig whose current context reaches
// server with its authority, as an admin's would.
func kubeconfigTrusting(t *testing.T, server string, ca []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: local
  cluster: {server: %q, certificate-authority-data: %s}
contexts:
- name: admin
  context: {cluster: local, user: admin, namespace: team-a}
users:
- name: admin
  user: {token: "admin-token"}
`, server, base64.StdEncoding.EncodeToString(ca))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoginWithATokenAndLogout(t *testing.T) {
	api := newFakeAPIServer(t, false)
	clusters := newFakeClusters(t, nil)
	kubeconfig := clusters.Selection().Kubeconfig
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)

	// The test kubeconfig does not know the server's authority.
	err := c.call(protocol.MethodLogin, protocol.LoginParams{Server: api.URL, Token: "sa-token"}, nil)
	expectCode(t, "login to an untrusted server", err, protocol.CodeUntrustedCertificate)
	if d := errorData(t, err); !strings.Contains(d.Suggestions[0].Action, "insecure-skip-tls-verify") {
		t.Fatalf("the suggestion does not say how to accept the certificate: %+v", d)
	}
	expectCode(t, "login with a bad token", c.call(protocol.MethodLogin, protocol.LoginParams{Server: api.URL, Token: "nope", InsecureSkipTLSVerify: true}, nil), protocol.CodeUnauthorized)
	expectCode(t, "login with no credentials", c.call(protocol.MethodLogin, protocol.LoginParams{Server: api.URL}, nil), protocol.CodeInvalidParams)
	expectCode(t, "login with a bad server", c.call(protocol.MethodLogin, protocol.LoginParams{Server: "ftp://x", Token: "t"}, nil), protocol.CodeInvalidParams)
	// A server that does not answer.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String()
	_ = ln.Close()
	expectCode(t, "login to a closed port", c.call(protocol.MethodLogin, protocol.LoginParams{Server: closed, Token: "sa-token"}, nil), protocol.CodeClusterUnreachable)
	if sel := clusters.Selection(); sel.Context != "" {
		t.Fatalf("a failed login changed the selection: %+v", sel)
	}

	var res protocol.LoginResult
	if err := c.call(protocol.MethodLogin, protocol.LoginParams{Server: api.URL, Token: "sa-token", InsecureSkipTLSVerify: true}, &res); err != nil {
		t.Fatal(err)
	}
	host := strings.ReplaceAll(strings.TrimPrefix(api.URL, "https://"), ".", "-")
	wantCtx := "team-x/" + host + "/system:serviceaccount:team-x:dev"
	if res.Context != wantCtx || res.User != "system:serviceaccount:team-x:dev" || res.Namespace != "team-x" || res.Kubeconfig != kubeconfig {
		t.Fatalf("login = %+v, want context %s in namespace team-x", res, wantCtx)
	}
	if sel := clusters.Selection(); sel.Context != wantCtx || clusters.DefaultNamespace() != "team-x" {
		t.Fatalf("the daemon did not switch to the new context: %+v", sel)
	}
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kctx := raw.Contexts[wantCtx]
	if raw.CurrentContext != wantCtx || kctx == nil || kctx.Cluster != host || kctx.AuthInfo != "system:serviceaccount:team-x:dev/"+host ||
		raw.AuthInfos[kctx.AuthInfo].Token != "sa-token" || !raw.Clusters[host].InsecureSkipTLSVerify || raw.Contexts["dev"] == nil {
		t.Fatalf("kubeconfig after login: current %q, context %+v, clusters %v", raw.CurrentContext, kctx, raw.Clusters)
	}
	var contexts protocol.ClusterContextsResult
	if err := c.call(protocol.MethodClusterContexts, nil, &contexts); err != nil || contexts.Current != wantCtx {
		t.Fatalf("cluster/contexts after login: %+v %v", contexts, err)
	}

	// A ServiceAccount's token is not an OAuth token: nothing to revoke.
	var out protocol.LogoutResult
	if err := c.call(protocol.MethodLogout, nil, &out); err != nil {
		t.Fatal(err)
	}
	if out.Revoked || out.Context != wantCtx || out.User != "system:serviceaccount:team-x:dev/"+host {
		t.Fatalf("logout = %+v", out)
	}
	if raw, _ = clientcmd.LoadFromFile(kubeconfig); raw.AuthInfos[kctx.AuthInfo].Token != "" {
		t.Fatal("the token is still in the kubeconfig after logout")
	}
	expectCode(t, "logout when logged out", c.call(protocol.MethodLogout, nil, nil), protocol.CodeUnauthorized)
}

func TestLoginWithAPassword(t *testing.T) {
	openshift := newFakeAPIServer(t, true)
	kubernetes := newFakeAPIServer(t, false)
	// The kubeconfig trusts the OpenShift server: no flag needed.
	kubeconfig := kubeconfigTrusting(t, openshift.URL, openshift.caPEM())
	clusters := newFakeClusters(t, nil)
	clusters.Configure(Selection{Kubeconfig: kubeconfig})
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)

	err := c.call(protocol.MethodLogin, protocol.LoginParams{Server: kubernetes.URL, Username: "alice", Password: "pwd", InsecureSkipTLSVerify: true}, nil)
	expectCode(t, "a password where there is no OAuth server", err, protocol.CodeLoginUnsupported)
	if d := errorData(t, err); !strings.Contains(d.Suggestions[0].Action, "token") {
		t.Fatalf("the suggestion does not point at a token: %+v", d)
	}
	expectCode(t, "a wrong password", c.call(protocol.MethodLogin, protocol.LoginParams{Username: "alice", Password: "bad"}, nil), protocol.CodeUnauthorized)
	expectCode(t, "a username without a password", c.call(protocol.MethodLogin, protocol.LoginParams{Username: "alice"}, nil), protocol.CodeInvalidParams)

	// No server: the current context's, whose authority is kept.
	var res protocol.LoginResult
	if err := c.call(protocol.MethodLogin, protocol.LoginParams{Username: "alice", Password: "pwd"}, &res); err != nil {
		t.Fatal(err)
	}
	if res.User != "alice" || res.Server != openshift.URL || res.Namespace != "default" || !strings.HasPrefix(res.Context, "default/") {
		t.Fatalf("login = %+v", res)
	}
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kctx := raw.Contexts[res.Context]
	if tok := raw.AuthInfos[kctx.AuthInfo].Token; tok != "sha256~alice-pwd" {
		t.Fatalf("token written %q", tok)
	}
	if cl := raw.Clusters[kctx.Cluster]; len(cl.CertificateAuthorityData) == 0 || cl.InsecureSkipTLSVerify {
		t.Fatalf("the server's authority was not kept: %+v", cl)
	}

	var out protocol.LogoutResult
	if err := c.call(protocol.MethodLogout, nil, &out); err != nil {
		t.Fatal(err)
	}
	openshift.mu.Lock()
	revoked := append([]string(nil), openshift.revoked...)
	openshift.mu.Unlock()
	if !out.Revoked || len(revoked) != 1 || revoked[0] != cluster.OAuthAccessTokenName("sha256~alice-pwd") {
		t.Fatalf("logout = %+v, revoked %v", out, revoked)
	}
	if !strings.HasPrefix(revoked[0], "sha256~") || strings.Contains(revoked[0], "alice-pwd") || strings.ContainsAny(revoked[0], "+/=") {
		t.Fatalf("the revoked token's name %q is not sha256~ and the unpadded base64url of its hash", revoked[0])
	}
}

// oc logout names a token by the unpadded base64url SHA-256 of what
// follows sha256~ (the same token as in oc's tests would need network;
// this is the value of sha256("abc")).
func TestOAuthAccessTokenName(t *testing.T) {
	if got, want := cluster.OAuthAccessTokenName("sha256~abc"), "sha256~ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"; got != want {
		t.Fatalf("OAuthAccessTokenName = %q, want %q", got, want)
	}
	if cluster.OAuthAccessTokenName("eyJhbGciOi") != "" {
		t.Fatal("a JWT is not an OAuth access token")
	}
}

// As oc login, a login to a kubeconfig that does not exist yet makes it.
func TestLoginMakesTheKubeconfig(t *testing.T) {
	api := newFakeAPIServer(t, false)
	clusters := newFakeClusters(t, nil)
	path := filepath.Join(t.TempDir(), "new", "kubeconfig")
	clusters.Configure(Selection{Kubeconfig: path})
	c := startServer(t, Options{Clusters: clusters})
	c.initialize(nil, false)
	var res protocol.LoginResult
	if err := c.call(protocol.MethodLogin, protocol.LoginParams{Server: api.URL, Token: "sa-token", InsecureSkipTLSVerify: true}, &res); err != nil {
		t.Fatal(err)
	}
	raw, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if raw.CurrentContext != res.Context || res.Kubeconfig != path || len(raw.Contexts) != 1 {
		t.Fatalf("new kubeconfig: current %q, %d contexts; login %+v", raw.CurrentContext, len(raw.Contexts), res)
	}
}
