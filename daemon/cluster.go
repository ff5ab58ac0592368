package daemon

import (
	"context"
	"sync"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/component"
)

// Clusters is how the server reaches the cluster: through the user's
// kubeconfig (Kubeconfig) in odod serve, over fake clientsets in tests.
type Clusters interface {
	// Configure chooses the kubeconfig, context and namespace ("" = what
	// kubectl would use); initialize calls it.
	Configure(kubeconfig, kubeContext, namespace string)
	// Connect reaches the cluster for a namespace ("" = the configured
	// one). It is a component.Connector.
	Connect(ctx context.Context, namespace string) (component.Cluster, error)
	// DefaultNamespace is the configured namespace, without reaching
	// the cluster ("" when unknown).
	DefaultNamespace() string
}

// connect is the Connector every engine call of the server uses. A
// request that reaches the cluster stops holding the request queue first:
// an API server that does not answer holds up that request alone.
func (s *Server) connect(ctx context.Context, namespace string) (component.Cluster, error) {
	release(ctx)
	return s.opts.Clusters.Connect(ctx, namespace)
}

// Kubeconfig reaches the cluster the editor chose in initializationOptions
// (kubeconfig, context, namespace), as kubectl would, and keeps one client
// per namespace: discovery is done once, not per request.
type Kubeconfig struct {
	log *zap.Logger

	mu      sync.Mutex
	opts    cluster.Options
	clients map[string]*cluster.Client
}

// NewKubeconfig makes the Clusters of odod serve.
func NewKubeconfig(log *zap.Logger) *Kubeconfig {
	return &Kubeconfig{log: log, opts: cluster.Options{Logger: log}, clients: map[string]*cluster.Client{}}
}

// Configure implements Clusters.
func (c *Kubeconfig) Configure(kubeconfig, kubeContext, namespace string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts = cluster.Options{Kubeconfig: kubeconfig, Context: kubeContext, Namespace: namespace, Logger: c.log}
	c.clients = map[string]*cluster.Client{}
}

// Connect implements Clusters. A component's project overrides the
// editor's namespace.
func (c *Kubeconfig) Connect(ctx context.Context, namespace string) (component.Cluster, error) {
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

// DefaultNamespace implements Clusters: the namespace the kubeconfig
// selects.
func (c *Kubeconfig) DefaultNamespace() string {
	c.mu.Lock()
	opts := c.opts
	c.mu.Unlock()
	_, ns, err := cluster.LoadConfig(opts)
	if err != nil {
		return ""
	}
	return ns
}
