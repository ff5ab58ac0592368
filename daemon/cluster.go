package daemon

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/component"
)

// Clusters is how the server reaches the cluster: through the user's
// kubeconfig (Kubeconfig) in odod serve, over fake clientsets in tests.
type Clusters interface {
	// Configure chooses the kubeconfig, context and namespace ("" = what
	// kubectl would use); initialize and odod/cluster/use call it.
	Configure(sel Selection)
	// Selection is what Configure chose.
	Selection() Selection
	// Contexts reads the kubeconfig's contexts, without reaching a
	// cluster.
	Contexts() (cluster.KubeContexts, error)
	// Connect reaches the cluster for a namespace ("" = the configured
	// one).
	Connect(ctx context.Context, namespace string) (Cluster, error)
	// DefaultNamespace is the configured namespace, without reaching
	// the cluster ("" when unknown).
	DefaultNamespace() string
}

// Selection is the kubeconfig, context and namespace odod works with; ""
// means what kubectl would use.
type Selection struct {
	Kubeconfig string
	Context    string
	Namespace  string
}

// Cluster is a connection: a component's roles and the cluster-wide
// ones. *cluster.Client is one.
type Cluster interface {
	component.Cluster
	Info(ctx context.Context) (cluster.Info, error)
	ListProjects(ctx context.Context) (cluster.ProjectList, error)
	GetProject(ctx context.Context, name string) (cluster.Project, error)
	CreateProject(ctx context.Context, name string) error
	DeleteProject(ctx context.Context, name string, wait bool, timeout time.Duration) error
	ListComponents(ctx context.Context, app string) ([]cluster.ComponentSummary, error)
	WatchComponents(ctx context.Context, onChange func(cluster.ObjectChange)) (*cluster.ComponentWatch, error)
}

var _ Cluster = (*cluster.Client)(nil)

// connect reaches the cluster for every request of the server. A request
// that reaches the cluster stops holding the request queue first: an API
// server that does not answer holds up that request alone.
func (s *Server) connect(ctx context.Context, namespace string) (Cluster, error) {
	release(ctx)
	return s.opts.Clusters.Connect(ctx, namespace)
}

// connectComponent is connect as the engine's component.Connector.
func (s *Server) connectComponent(ctx context.Context, namespace string) (component.Cluster, error) {
	cl, err := s.connect(ctx, namespace)
	if err != nil {
		return nil, err
	}
	return cl, nil
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

// Configure implements Clusters. The clients of the previous selection
// are dropped: the next Connect reaches the new one.
func (c *Kubeconfig) Configure(sel Selection) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts = cluster.Options{Kubeconfig: sel.Kubeconfig, Context: sel.Context, Namespace: sel.Namespace, Logger: c.log}
	c.clients = map[string]*cluster.Client{}
}

// Selection implements Clusters.
func (c *Kubeconfig) Selection() Selection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Selection{Kubeconfig: c.opts.Kubeconfig, Context: c.opts.Context, Namespace: c.opts.Namespace}
}

// Contexts implements Clusters.
func (c *Kubeconfig) Contexts() (cluster.KubeContexts, error) {
	c.mu.Lock()
	opts := c.opts
	c.mu.Unlock()
	return cluster.Contexts(opts)
}

// Connect implements Clusters. A component's project overrides the
// editor's namespace.
func (c *Kubeconfig) Connect(ctx context.Context, namespace string) (Cluster, error) {
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
	if c.opts.Kubeconfig == opts.Kubeconfig && c.opts.Context == opts.Context {
		// Not reconfigured meanwhile.
		c.clients[key] = cl
	}
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
