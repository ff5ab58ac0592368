package daemon

import (
	"context"
	"sync"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/component"
)

// connector reaches the cluster the editor chose in initializationOptions
// (kubeconfig, context, namespace), as kubectl would, and keeps one client
// per namespace: discovery is done once, not per request.
type connector struct {
	log *zap.Logger

	mu      sync.Mutex
	opts    cluster.Options
	clients map[string]*cluster.Client
}

func newConnector(log *zap.Logger) *connector {
	return &connector{log: log, clients: map[string]*cluster.Client{}}
}

// configure sets the connection options (from initialize).
func (c *connector) configure(kubeconfig, kubeContext, namespace string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts = cluster.Options{Kubeconfig: kubeconfig, Context: kubeContext, Namespace: namespace, Logger: c.log}
	c.clients = map[string]*cluster.Client{}
}

// connect implements component.Connector. A component's project overrides the
// editor's namespace.
func (c *connector) connect(ctx context.Context, namespace string) (component.Cluster, error) {
	c.mu.Lock()
	opts := c.opts
	if namespace != "" {
		opts.Namespace = namespace
	}
	key := opts.Namespace
	if cl, ok := c.clients[key]; ok {
		c.mu.Unlock()
		return cl, nil
	}
	c.mu.Unlock()
	cl, err := cluster.Connect(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.clients[key] = cl
	c.mu.Unlock()
	return cl, nil
}

// defaultNamespace is the namespace the kubeconfig selects, without
// reaching the cluster.
func (c *connector) defaultNamespace() string {
	c.mu.Lock()
	opts := c.opts
	c.mu.Unlock()
	_, ns, err := cluster.LoadConfig(opts)
	if err != nil {
		return ""
	}
	return ns
}
