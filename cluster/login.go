package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	oauthclient "github.com/openshift/client-go/oauth/clientset/versioned"
	"go.uber.org/zap"
	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// LoginOptions are odod login's: the kubeconfig to write, the server
// and the credentials.
type LoginOptions struct {
	// Kubeconfig is an explicit kubeconfig file; "" writes where oc
	// login would ($KUBECONFIG's files, else ~/.kube/config).
	Kubeconfig string
	// Context is the context in use ("" = the kubeconfig's current one):
	// its server is the default Server.
	Context string
	// Server is the API server's URL; a bare host[:port] means https.
	Server string
	// Token is a bearer token; or Username and Password, exchanged for
	// one through the cluster's OAuth server.
	Token    string
	Username string
	Password string
	// InsecureSkipTLSVerify accepts any server certificate.
	InsecureSkipTLSVerify bool
	// Namespace is the namespace to work in; "" keeps this user's last
	// one on this server, else a ServiceAccount's own, else "default".
	Namespace string
	// Timeout bounds each request to the cluster; default 15 s.
	Timeout time.Duration
	Logger  *zap.Logger
}

// LoginResult is what Login wrote and now uses.
type LoginResult struct {
	Context    string
	Server     string
	User       string
	Namespace  string
	Kubeconfig string
}

// LogoutResult is what Logout did.
type LogoutResult struct {
	Context    string
	User       string
	Revoked    bool
	Kubeconfig string
}

// oauthChallengingClient is the OAuth client oc login uses for a
// username and password: it answers a basic-auth challenge with a token
// in the redirect's fragment.
const oauthChallengingClient = "openshift-challenging-client"

// sha256TokenPrefix marks OpenShift's OAuth access tokens (4.6 and
// later); the OAuthAccessToken object is named by the token's hash.
const sha256TokenPrefix = "sha256~"

func loadingRules(kubeconfig string) *clientcmd.ClientConfigLoadingRules {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	return rules
}

// loadKubeconfig reads the kubeconfig (merged as kubectl merges it) and
// the rules that say where changes are written.
func loadKubeconfig(kubeconfig string) (*clientcmd.ClientConfigLoadingRules, *clientcmdapi.Config, error) {
	rules := loadingRules(kubeconfig)
	if kubeconfig != "" {
		if _, err := os.Stat(kubeconfig); errors.Is(err, fs.ErrNotExist) {
			// oc login makes the file.
			return rules, clientcmdapi.NewConfig(), nil
		}
	}
	raw, err := rules.Load()
	if err != nil {
		return nil, nil, &Error{Kind: KindNoConfig, Message: "cannot read the kubeconfig", Err: err,
			Suggestion: "fix the kubeconfig file, or point KUBECONFIG or --kubeconfig at a readable one"}
	}
	return rules, raw, nil
}

// NormalizeServer makes a server address a URL as oc login does: https
// when no scheme is given, no trailing slash.
func NormalizeServer(server string) (string, error) {
	s := strings.TrimSpace(server)
	if s == "" {
		return "", &Error{Kind: KindInvalid, Message: "no server to log in to", Suggestion: "name the API server's URL (https://api.example.com:6443)"}
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", &Error{Kind: KindInvalid, Message: fmt.Sprintf("%q is not a server URL", server), Err: err,
			Suggestion: "name the API server as https://HOST:PORT"}
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/"), nil
}

// ClusterNickname is oc's name for a server's kubeconfig cluster: its
// host and port (443 when none) with dots as dashes.
func ClusterNickname(server string) string {
	u, err := url.Parse(server)
	if err != nil {
		return strings.ReplaceAll(server, ".", "-")
	}
	hostPort := u.Host
	if u.Port() == "" {
		if u.Scheme == "http" {
			hostPort += ":80"
		} else {
			hostPort += ":443"
		}
	}
	return strings.ReplaceAll(hostPort, ".", "-")
}

// ContextNickname is oc's context name: namespace/cluster/user.
func ContextNickname(namespace, clusterNick, user string) string {
	return namespace + "/" + clusterNick + "/" + user
}

// Login checks the credentials against the server, writes them to the
// kubeconfig as oc login does (cluster host-with-dashes:port, user
// user/cluster, context namespace/cluster/user, made current) and
// returns what it wrote. Errors: KindInvalid (no server, no
// credentials), KindUntrustedCertificate, KindUnreachable,
// KindUnauthorized (the token or password refused), KindLoginUnsupported
// (a password where the cluster has no OAuth server).
func Login(ctx context.Context, o LoginOptions) (LoginResult, error) {
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if (o.Token == "") == (o.Username == "") {
		return LoginResult{}, &Error{Kind: KindInvalid, Message: "give either a token or a username and password",
			Suggestion: "pass a token (oc whoami -t, or a ServiceAccount's token), or a username and password"}
	}
	if o.Username != "" && o.Password == "" {
		return LoginResult{}, &Error{Kind: KindInvalid, Message: "a username needs a password", Suggestion: "pass the password too"}
	}
	rules, raw, err := loadKubeconfig(o.Kubeconfig)
	if err != nil {
		return LoginResult{}, err
	}
	server := o.Server
	if server == "" {
		current := raw.CurrentContext
		if o.Context != "" {
			current = o.Context
		}
		if c, ok := raw.Contexts[current]; ok {
			if cl, ok := raw.Clusters[c.Cluster]; ok {
				server = cl.Server
			}
		}
	}
	if server, err = NormalizeServer(server); err != nil {
		return LoginResult{}, err
	}

	// The cluster entry: the authority the kubeconfig already trusts for
	// this server is kept, as oc login keeps it.
	clusterNick := ClusterNickname(server)
	entry := clientcmdapi.NewCluster()
	entry.Server = server
	for _, c := range raw.Clusters {
		if s, err := NormalizeServer(c.Server); err == nil && s == server {
			entry.CertificateAuthority, entry.CertificateAuthorityData = c.CertificateAuthority, c.CertificateAuthorityData
			entry.TLSServerName, entry.ProxyURL = c.TLSServerName, c.ProxyURL
			entry.InsecureSkipTLSVerify = c.InsecureSkipTLSVerify
			break
		}
	}
	if o.InsecureSkipTLSVerify {
		entry.InsecureSkipTLSVerify = true
		entry.CertificateAuthority, entry.CertificateAuthorityData = "", nil
	}
	cfg := &rest.Config{Host: server, Timeout: o.Timeout, UserAgent: "odod", TLSClientConfig: rest.TLSClientConfig{
		Insecure: entry.InsecureSkipTLSVerify, CAFile: entry.CertificateAuthority, CAData: entry.CertificateAuthorityData, ServerName: entry.TLSServerName,
	}}

	token := o.Token
	if token == "" {
		if token, err = passwordToken(ctx, cfg, o.Username, o.Password); err != nil {
			return LoginResult{}, err
		}
	}
	cfg.BearerToken = token
	user, err := whoAmI(ctx, cfg)
	if err != nil {
		return LoginResult{}, err
	}
	userNick := user + "/" + clusterNick

	namespace := o.Namespace
	if namespace == "" {
		namespace = lastNamespace(raw, clusterNick, userNick, user)
	}
	ctxName := ContextNickname(namespace, clusterNick, user)

	cfgOut := raw.DeepCopy()
	cfgOut.Clusters[clusterNick] = entry
	auth := clientcmdapi.NewAuthInfo()
	auth.Token = token
	cfgOut.AuthInfos[userNick] = auth
	kctx := clientcmdapi.NewContext()
	kctx.Cluster, kctx.AuthInfo, kctx.Namespace = clusterNick, userNick, namespace
	cfgOut.Contexts[ctxName] = kctx
	cfgOut.CurrentContext = ctxName
	if err := clientcmd.ModifyConfig(rules, *cfgOut, true); err != nil {
		return LoginResult{}, &Error{Kind: KindNoConfig, Message: "cannot write the kubeconfig", Err: err,
			Suggestion: "check that " + rules.GetDefaultFilename() + " is writable"}
	}
	log.Info("logged in", zap.String("server", server), zap.String("user", user), zap.String("context", ctxName))
	return LoginResult{Context: ctxName, Server: server, User: user, Namespace: namespace, Kubeconfig: rules.GetDefaultFilename()}, nil
}

// lastNamespace is the namespace a login uses when none is given: the
// one of this user's existing context on this server, else a
// ServiceAccount's own, else "default".
func lastNamespace(raw *clientcmdapi.Config, clusterNick, userNick, user string) string {
	for _, c := range raw.Contexts {
		if c.Cluster == clusterNick && c.AuthInfo == userNick && c.Namespace != "" {
			return c.Namespace
		}
	}
	if rest, ok := strings.CutPrefix(user, "system:serviceaccount:"); ok {
		if ns, _, ok := strings.Cut(rest, ":"); ok && ns != "" {
			return ns
		}
	}
	return "default"
}

// whoAmI asks who the token is (SelfSubjectReview, authentication.k8s.io/v1),
// which also checks the server's certificate and the token.
func whoAmI(ctx context.Context, cfg *rest.Config) (string, error) {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", &Error{Kind: KindInvalid, Message: "cannot make a client for " + cfg.Host, Err: err, Suggestion: "check the server URL"}
	}
	review, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		if apierrors.IsUnauthorized(err) {
			return "", &Error{Kind: KindUnauthorized, Reason: "Unauthorized", Message: "the cluster at " + cfg.Host + " refused the token", Err: err,
				Suggestion: "get a new token (oc whoami -t on a logged-in terminal, the console's \"Copy login command\", or kubectl create token SERVICEACCOUNT)"}
		}
		return "", classify(err, "check the credentials with "+cfg.Host)
	}
	if review.Status.UserInfo.Username == "" {
		return "", &Error{Kind: KindUnauthorized, Reason: "Anonymous", Message: "the cluster at " + cfg.Host + " does not say who the token is",
			Suggestion: "use a token of a user or ServiceAccount"}
	}
	return review.Status.UserInfo.Username, nil
}

// oauthMetadata is the part of /.well-known/oauth-authorization-server
// login needs.
type oauthMetadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
}

// passwordToken gets a token for a username and password as oc login
// does: the OAuth server named by the API server's
// /.well-known/oauth-authorization-server, the implicit flow of
// openshift-challenging-client with basic auth, the token in the
// redirect's fragment.
func passwordToken(ctx context.Context, cfg *rest.Config, username, password string) (string, error) {
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return "", &Error{Kind: KindInvalid, Message: "cannot make a client for " + cfg.Host, Err: err, Suggestion: "check the server URL"}
	}
	client := &http.Client{Transport: rt, Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return "", fmt.Errorf("oauth discovery request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", classify(err, "ask "+cfg.Host+" for its OAuth server")
	}
	var meta oauthMetadata
	decodeErr := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&meta)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || decodeErr != nil || meta.AuthorizationEndpoint == "" {
		return "", &Error{Kind: KindLoginUnsupported, Reason: "NoOAuthServer",
			Message:    fmt.Sprintf("the cluster at %s has no OAuth server (/.well-known/oauth-authorization-server answered %s): it cannot log in with a username and password", cfg.Host, resp.Status),
			Suggestion: "log in with a token instead (--token): a ServiceAccount's (kubectl create token NAME) or one your cluster's identity provider gives"}
	}

	authz, err := url.Parse(meta.AuthorizationEndpoint)
	if err != nil {
		return "", &Error{Kind: KindLoginUnsupported, Reason: "BadOAuthServer", Message: "the OAuth server's authorization endpoint is not a URL", Err: err,
			Suggestion: "log in with a token instead (--token)"}
	}
	q := authz.Query()
	q.Set("response_type", "token")
	q.Set("client_id", oauthChallengingClient)
	authz.RawQuery = q.Encode()
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, authz.String(), nil)
	if err != nil {
		return "", fmt.Errorf("oauth token request: %w", err)
	}
	req.SetBasicAuth(username, password)
	req.Header.Set("X-CSRF-Token", "1")
	resp, err = client.Do(req)
	if err != nil {
		return "", classify(err, "ask the OAuth server "+authz.Host+" for a token")
	}
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return "", &Error{Kind: KindUnauthorized, Reason: "Unauthorized", Message: "the OAuth server refused the username or password",
			Suggestion: "check the username and password (or log in with a token)"}
	case resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther:
		return "", &Error{Kind: KindLoginUnsupported, Reason: "OAuthFailed", Message: "the OAuth server answered " + resp.Status + " instead of a token",
			Suggestion: "log in with a token instead (--token)"}
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", &Error{Kind: KindLoginUnsupported, Reason: "OAuthFailed", Message: "the OAuth server's redirect is not a URL", Err: err, Suggestion: "log in with a token instead (--token)"}
	}
	frag, _ := url.ParseQuery(loc.Fragment)
	if e := frag.Get("error"); e != "" {
		return "", &Error{Kind: KindUnauthorized, Reason: e, Message: "the OAuth server gave no token: " + e + " " + frag.Get("error_description"),
			Suggestion: "check the username and password (or log in with a token)"}
	}
	token := frag.Get("access_token")
	if token == "" {
		return "", &Error{Kind: KindLoginUnsupported, Reason: "OAuthFailed", Message: "the OAuth server's redirect holds no access_token",
			Suggestion: "log in with a token instead (--token)"}
	}
	return token, nil
}

// OAuthAccessTokenName is the name of the OAuthAccessToken object of a
// sha256~ token: sha256~ and the unpadded base64url SHA-256 of the rest,
// as oc logout computes it; "" for other tokens.
func OAuthAccessTokenName(token string) string {
	rest, ok := strings.CutPrefix(token, sha256TokenPrefix)
	if !ok {
		return ""
	}
	sum := sha256.Sum256([]byte(rest))
	return sha256TokenPrefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// Logout logs the context's user out as oc logout does: a sha256~ OAuth
// token is revoked (its OAuthAccessToken deleted through
// oauth.openshift.io, where served), and the token is removed from the
// kubeconfig. A user with no token is KindNotLoggedIn.
func Logout(ctx context.Context, o Options) (LogoutResult, error) {
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	rules, raw, err := loadKubeconfig(o.Kubeconfig)
	if err != nil {
		return LogoutResult{}, err
	}
	name := raw.CurrentContext
	if o.Context != "" {
		name = o.Context
	}
	kctx, ok := raw.Contexts[name]
	if !ok {
		return LogoutResult{}, &Error{Kind: KindNotLoggedIn, Reason: "NoContext", Message: fmt.Sprintf("the kubeconfig has no context %q: not logged in", name),
			Suggestion: "log in first (odod login SERVER --token TOKEN)"}
	}
	auth, ok := raw.AuthInfos[kctx.AuthInfo]
	if !ok || auth.Token == "" {
		return LogoutResult{}, &Error{Kind: KindNotLoggedIn, Reason: "NotLoggedIn",
			Message:    fmt.Sprintf("context %q has no token: not logged in (client certificates and exec plugins are not logged out)", name),
			Suggestion: "log in first (odod login SERVER --token TOKEN), or remove the credentials with kubectl config unset users." + kctx.AuthInfo}
	}
	res := LogoutResult{Context: name, User: kctx.AuthInfo, Kubeconfig: rules.GetDefaultFilename()}
	if tokenName := OAuthAccessTokenName(auth.Token); tokenName != "" {
		res.Revoked = revoke(ctx, o, tokenName, log)
	}
	out := raw.DeepCopy()
	out.AuthInfos[kctx.AuthInfo].Token = ""
	if err := clientcmd.ModifyConfig(rules, *out, true); err != nil {
		return res, &Error{Kind: KindNoConfig, Message: "cannot write the kubeconfig", Err: err,
			Suggestion: "check that the kubeconfig is writable"}
	}
	log.Info("logged out", zap.String("context", name), zap.Bool("revoked", res.Revoked))
	return res, nil
}

// revoke deletes an OAuthAccessToken; as oc logout, a failure is logged
// and the token is still removed locally.
func revoke(ctx context.Context, o Options, tokenName string, log *zap.Logger) bool {
	cfg, _, err := LoadConfig(o)
	if err != nil {
		log.Warn("cannot revoke the token", zap.Error(err))
		return false
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	cfg.Timeout = timeout
	oauth, err := oauthclient.NewForConfig(cfg)
	if err != nil {
		log.Warn("cannot revoke the token", zap.Error(err))
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = oauth.OauthV1().OAuthAccessTokens().Delete(ctx, tokenName, metav1.DeleteOptions{})
	switch {
	case err == nil:
		return true
	case apierrors.IsNotFound(err):
		log.Info("the cluster serves no such OAuth token (not OpenShift, or already revoked)")
	default:
		log.Warn("cannot revoke the OAuth token; it stays valid until it expires", zap.Error(classify(err, "revoke the OAuth token")))
	}
	return false
}

// SetNamespace makes namespace the namespace of the kubeconfig's current
// context (o.Context when set), as odo project set does.
func SetNamespace(o Options, namespace string) error {
	if err := CheckProjectName(namespace); err != nil {
		return err
	}
	rules, raw, err := loadKubeconfig(o.Kubeconfig)
	if err != nil {
		return err
	}
	name := raw.CurrentContext
	if o.Context != "" {
		name = o.Context
	}
	if _, ok := raw.Contexts[name]; !ok {
		return &Error{Kind: KindNoConfig, Message: fmt.Sprintf("the kubeconfig has no context %q", name),
			Suggestion: "log in first (odod login) or choose a context (--kube-context)"}
	}
	out := raw.DeepCopy()
	out.Contexts[name].Namespace = namespace
	if err := clientcmd.ModifyConfig(rules, *out, true); err != nil {
		return &Error{Kind: KindNoConfig, Message: "cannot write the kubeconfig", Err: err, Suggestion: "check that the kubeconfig is writable"}
	}
	return nil
}
