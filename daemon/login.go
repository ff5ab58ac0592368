package daemon

import (
	"context"
	"time"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
)

// Logging in and out writes the kubeconfig odod uses (the one the editor
// chose, else kubectl's), as oc login and oc logout do.

// loginTimeout bounds each request of a login to the cluster.
const loginTimeout = 15 * time.Second

func (s *Server) login(ctx context.Context, _ *jsonrpc2.Conn, p protocol.LoginParams) (any, error) {
	switch {
	case p.Token == "" && p.Username == "":
		return nil, invalidParams("token", "give a token, or a username and password",
			"Pass token (a ServiceAccount's, or oc whoami -t), or username and password on OpenShift.")
	case p.Token != "" && p.Username != "":
		return nil, invalidParams("username", "give a token or a username, not both", "Pass token alone, or username and password.")
	case p.Username != "" && p.Password == "":
		return nil, invalidParams("password", "a username needs a password", "Pass the password too.")
	}
	if p.Server != "" {
		if _, err := cluster.NormalizeServer(p.Server); err != nil {
			return nil, invalidParams("server", err.Error(), "Pass the API server as https://HOST:PORT.")
		}
	}
	sel := s.opts.Clusters.Selection()
	// Checking the credentials reaches the cluster: the queue is free
	// meanwhile, and the selection changes only once they are good.
	release(ctx)
	res, err := cluster.Login(ctx, cluster.LoginOptions{
		Kubeconfig: sel.Kubeconfig, Context: sel.Context, Server: p.Server, Token: p.Token, Username: p.Username,
		Password: p.Password, InsecureSkipTLSVerify: p.InsecureSkipTLSVerify, Namespace: p.Namespace,
		Timeout: loginTimeout, Logger: s.log,
	})
	if err != nil {
		if cluster.KindOf(err) == cluster.KindInvalid {
			return nil, invalidParams("server", err.Error(), "Pass the API server as https://HOST:PORT.")
		}
		return nil, engineError(err)
	}
	s.opts.Clusters.Configure(Selection{Kubeconfig: sel.Kubeconfig, Context: res.Context, Namespace: res.Namespace})
	s.clusterSelectionChanged()
	return protocol.LoginResult{Context: res.Context, Server: res.Server, User: res.User, Namespace: res.Namespace, Kubeconfig: res.Kubeconfig}, nil
}

func (s *Server) logout(ctx context.Context, _ *jsonrpc2.Conn, _ protocol.LogoutParams) (any, error) {
	sel := s.opts.Clusters.Selection()
	release(ctx)
	res, err := cluster.Logout(ctx, cluster.Options{Kubeconfig: sel.Kubeconfig, Context: sel.Context, Timeout: loginTimeout, Logger: s.log})
	if err != nil {
		return nil, engineError(err)
	}
	// The cached clients hold the old token.
	s.opts.Clusters.Configure(sel)
	s.clusterSelectionChanged()
	return protocol.LogoutResult{Context: res.Context, User: res.User, Revoked: res.Revoked, Kubeconfig: res.Kubeconfig}, nil
}
