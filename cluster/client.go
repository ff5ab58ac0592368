// Package cluster is odod's side of the cluster: it connects with the
// user's kubeconfig exactly as kubectl does, discovers what the cluster
// serves, turns a component's settings into the objects odo v1 created
// (Desired, a pure function), applies them with server-side apply, waits
// for the pod, execs into it, streams its logs, forwards ports, lists and
// deletes what a component owns, and reads the builder catalog.
//
// Boundaries are small interfaces with fakes beside them: ImageInspector
// (FakeImageInspector), Execer (FakeExecer); the Kubernetes and OpenShift
// API calls go through client-go clientsets, so tests use their fake
// clientsets through New.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	appsclient "github.com/openshift/client-go/apps/clientset/versioned"
	buildclient "github.com/openshift/client-go/build/clientset/versioned"
	imageclient "github.com/openshift/client-go/image/clientset/versioned"
	projectclient "github.com/openshift/client-go/project/clientset/versioned"
	routeclient "github.com/openshift/client-go/route/clientset/versioned"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

// FieldManager is the server-side apply field manager of everything odod
// applies.
const FieldManager = "odod"

// Options say how to reach the cluster. Empty fields mean what kubectl
// does: KUBECONFIG, else ~/.kube/config; the current context; the
// context's namespace, else "default".
type Options struct {
	// Kubeconfig is an explicit kubeconfig file (kubectl --kubeconfig).
	Kubeconfig string
	// Context overrides the current context (kubectl --context).
	Context string
	// Namespace overrides the context's namespace (odo's --project).
	Namespace string
	// Timeout bounds the connection check; default 15 s.
	Timeout time.Duration
	// Logger receives debug logs; nil means none.
	Logger *zap.Logger
	// Inspector reads builder images; nil means a RegistryInspector.
	Inspector ImageInspector
}

// Platform is what the cluster serves beyond Kubernetes.
type Platform struct {
	// DeploymentConfig: apps.openshift.io/v1 deploymentconfigs.
	DeploymentConfig bool `json:"deploymentConfig"`
	// Route: route.openshift.io/v1 routes.
	Route bool `json:"route"`
	// ImageStream: image.openshift.io/v1 imagestreams.
	ImageStream bool `json:"imageStream"`
	// Project: project.openshift.io/v1 projects (and projectrequests).
	Project bool `json:"project"`
	// Build: build.openshift.io/v1 buildconfigs (git components are built
	// by the cluster; elsewhere odod builds them itself).
	Build bool `json:"build"`
}

// Clientsets are the API clients a Client uses. Apps, Route, Image and
// Project may be nil when the cluster does not serve them.
type Clientsets struct {
	Kube    kubernetes.Interface
	Apps    appsclient.Interface
	Route   routeclient.Interface
	Image   imageclient.Interface
	Project projectclient.Interface
	Build   buildclient.Interface
}

// Client is a connection to one cluster and namespace. It is safe for
// concurrent use.
type Client struct {
	namespace string
	platform  Platform
	sets      Clientsets
	rest      *rest.Config // nil in unit tests: exec and port-forward need it
	inspector ImageInspector
	execer    Execer
	log       *zap.Logger
	now       func() time.Time
}

// ClientOption adjusts a Client made by New.
type ClientOption func(*Client)

// WithLogger sets the logger.
func WithLogger(l *zap.Logger) ClientOption { return func(c *Client) { c.log = l } }

// WithImageInspector sets how builder images are read.
func WithImageInspector(i ImageInspector) ClientOption { return func(c *Client) { c.inspector = i } }

// WithExecer sets how commands run in containers.
func WithExecer(e Execer) ClientOption { return func(c *Client) { c.execer = e } }

// WithRESTConfig sets the REST config used for exec and port-forward.
func WithRESTConfig(cfg *rest.Config) ClientOption { return func(c *Client) { c.rest = cfg } }

// New makes a Client from clientsets; tests pass fake clientsets.
func New(sets Clientsets, namespace string, platform Platform, opts ...ClientOption) *Client {
	c := &Client{namespace: namespace, platform: platform, sets: sets, log: zap.NewNop(), now: time.Now}
	for _, o := range opts {
		o(c)
	}
	if c.inspector == nil {
		c.inspector = NewRegistryInspector()
	}
	if c.execer == nil {
		c.execer = &remoteExecer{kube: sets.Kube, rest: c.rest, namespace: c.Namespace}
	}
	return c
}

// Namespace is the namespace the client works in.
func (c *Client) Namespace() string { return c.namespace }

// Platform is what the cluster serves.
func (c *Client) Platform() Platform { return c.platform }

// InspectImage reads a builder image's config (labels, working dir, ports)
// through the client's ImageInspector.
func (c *Client) InspectImage(ctx context.Context, ref string) (ImageInfo, error) {
	return c.inspector.Inspect(ctx, ref)
}

// RESTConfig is the connection's REST config (nil for a Client made by
// New without WithRESTConfig).
func (c *Client) RESTConfig() *rest.Config { return c.rest }

// The client-side rate limit of odod's requests to the API server.
const (
	clientQPS   = 50
	clientBurst = 100
)

// interactiveRateLimit raises client-go's default limiter (5 requests a
// second, bursts of 10), made for controllers, for a long-running daemon
// that pushes on every save: each push makes a handful of requests
// (builder, apply, pod), and once the first bursts were spent every one
// waited 200 ms, a second per push. odod serves one user. A limit the
// kubeconfig's user set is kept.
func interactiveRateLimit(cfg *rest.Config) *rest.Config {
	if cfg.QPS != 0 || cfg.RateLimiter != nil {
		return cfg
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = clientQPS, clientBurst
	return cfg
}

// LoadConfig resolves the kubeconfig as kubectl does and returns the REST
// config and namespace, without contacting the cluster.
func LoadConfig(o Options) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	overrides.Context.Namespace = o.Namespace
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		suggestion := "point KUBECONFIG or --kubeconfig at a kubeconfig, or log in (oc login / kubectl config use-context)"
		if clientcmd.IsEmptyConfig(err) {
			return nil, "", &Error{Kind: KindNoConfig, Message: "no kubeconfig found (KUBECONFIG, ~/.kube/config)", Suggestion: suggestion, Err: err}
		}
		return nil, "", &Error{Kind: KindNoConfig, Message: "cannot use the kubeconfig", Suggestion: suggestion, Err: err}
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", &Error{Kind: KindNoConfig, Message: "cannot read the namespace from the kubeconfig", Suggestion: "pass --project", Err: err}
	}
	cfg.UserAgent = "odod"
	return cfg, ns, nil
}

// Connect loads the kubeconfig as kubectl does, checks that the cluster
// answers and accepts the credentials, and discovers what it serves.
// Errors are *Error of kind NoConfig, Unreachable or Unauthorized.
func Connect(ctx context.Context, o Options) (*Client, error) {
	cfg, ns, err := LoadConfig(o)
	if err != nil {
		return nil, err
	}
	return ConnectConfig(ctx, cfg, ns, o)
}

// ConnectConfig is Connect for a REST config already in hand (tests,
// in-cluster use).
func ConnectConfig(ctx context.Context, cfg *rest.Config, namespace string, o Options) (*Client, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	cfg = interactiveRateLimit(cfg)
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, &Error{Kind: KindNoConfig, Message: "cannot build a client from the kubeconfig", Err: err, Suggestion: "check the kubeconfig's server, certificates and auth settings"}
	}
	probeCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	platform, err := discover(probeCtx, kube.Discovery().RESTClient())
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, &Error{Kind: KindUnreachable, Message: fmt.Sprintf("the cluster at %s did not answer within %s", cfg.Host, timeout), Err: err,
				Suggestion: "check that the cluster is running and reachable (kubectl cluster-info)"}
		}
		return nil, classify(err, "connect to "+cfg.Host)
	}
	sets := Clientsets{Kube: kube}
	if platform.DeploymentConfig {
		if sets.Apps, err = appsclient.NewForConfig(cfg); err != nil {
			return nil, fmt.Errorf("apps.openshift.io client: %w", err)
		}
	}
	if platform.Route {
		if sets.Route, err = routeclient.NewForConfig(cfg); err != nil {
			return nil, fmt.Errorf("route.openshift.io client: %w", err)
		}
	}
	if platform.ImageStream {
		if sets.Image, err = imageclient.NewForConfig(cfg); err != nil {
			return nil, fmt.Errorf("image.openshift.io client: %w", err)
		}
	}
	if platform.Project {
		if sets.Project, err = projectclient.NewForConfig(cfg); err != nil {
			return nil, fmt.Errorf("project.openshift.io client: %w", err)
		}
	}
	if platform.Build {
		if sets.Build, err = buildclient.NewForConfig(cfg); err != nil {
			return nil, fmt.Errorf("build.openshift.io client: %w", err)
		}
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log.Debug("connected", zap.String("host", cfg.Host), zap.String("namespace", namespace), zap.Any("platform", platform))
	opts := []ClientOption{WithLogger(log), WithRESTConfig(cfg)}
	if o.Inspector != nil {
		opts = append(opts, WithImageInspector(o.Inspector))
	}
	return New(sets, namespace, platform, opts...), nil
}

// discover asks /apis (which needs valid credentials, unlike /version)
// and then the OpenShift group versions for the resources odod uses.
func discover(ctx context.Context, rc rest.Interface) (Platform, error) {
	var p Platform
	raw, err := rc.Get().AbsPath("/apis").Do(ctx).Raw()
	if err != nil {
		return p, err
	}
	var groups metav1.APIGroupList
	if err := json.Unmarshal(raw, &groups); err != nil {
		return p, fmt.Errorf("decode /apis: %w", err)
	}
	served := map[string]bool{}
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			served[v.GroupVersion] = true
		}
	}
	check := func(gv, resource string) (bool, error) {
		if !served[gv] {
			return false, nil
		}
		raw, err := rc.Get().AbsPath("/apis/" + gv).Do(ctx).Raw()
		if err != nil {
			return false, err
		}
		var list metav1.APIResourceList
		if err := json.Unmarshal(raw, &list); err != nil {
			return false, fmt.Errorf("decode /apis/%s: %w", gv, err)
		}
		for _, r := range list.APIResources {
			if r.Name == resource {
				return true, nil
			}
		}
		return false, nil
	}
	if p.DeploymentConfig, err = check("apps.openshift.io/v1", "deploymentconfigs"); err != nil {
		return p, err
	}
	if p.Route, err = check("route.openshift.io/v1", "routes"); err != nil {
		return p, err
	}
	if p.ImageStream, err = check("image.openshift.io/v1", "imagestreams"); err != nil {
		return p, err
	}
	if p.Project, err = check("project.openshift.io/v1", "projects"); err != nil {
		return p, err
	}
	if p.Build, err = check("build.openshift.io/v1", "buildconfigs"); err != nil {
		return p, err
	}
	return p, nil
}

// ClientGoLogs carries client-go's own log lines (klog: its WebSocket
// heartbeat, utilruntime's "Unhandled Error", reflector complaints) into
// odod's logger, at debug level and named "client-go". They are client-go's
// words, not odod's: whatever in them matters to the user reaches the user
// as an odod error (a failed exec, a broken stream). Lines logged before To
// is called are dropped.
type ClientGoLogs struct {
	target atomic.Pointer[zap.Logger]
}

// To sends client-go's lines to log from now on.
func (c *ClientGoLogs) To(log *zap.Logger) {
	c.target.Store(log.Named("client-go"))
}

// Install makes klog, and so client-go, log through c instead of writing
// to stderr. klog's logger is process-wide state that client-go reads from
// anywhere, so only a program's main calls this, once, before the first
// client is made; everything else passes loggers explicitly.
func (c *ClientGoLogs) Install() {
	klog.SetLoggerWithOptions(logr.New(klogSink{logs: c}), klog.ContextualLogger(true))
}

// klogSink is the logr.LogSink klog writes through.
type klogSink struct {
	logs   *ClientGoLogs
	name   string
	values []any
}

func (s klogSink) Init(logr.RuntimeInfo) {}

// Enabled keeps klog's default verbosity: V(1) and above is client-go
// talking to its own developers.
func (s klogSink) Enabled(level int) bool {
	return level <= 0 && s.logger() != nil
}

func (s klogSink) Info(_ int, msg string, keysAndValues ...any) {
	s.write(msg, nil, keysAndValues)
}

func (s klogSink) Error(err error, msg string, keysAndValues ...any) {
	s.write(msg, err, keysAndValues)
}

func (s klogSink) WithValues(keysAndValues ...any) logr.LogSink {
	s.values = append(s.values[:len(s.values):len(s.values)], keysAndValues...)
	return s
}

func (s klogSink) WithName(name string) logr.LogSink {
	if s.name != "" {
		name = s.name + "." + name
	}
	s.name = name
	return s
}

// logger is the target when it logs debug lines, else nil.
func (s klogSink) logger() *zap.Logger {
	log := s.logs.target.Load()
	if log == nil || !log.Core().Enabled(zapcore.DebugLevel) {
		return nil
	}
	return log
}

func (s klogSink) write(msg string, err error, keysAndValues []any) {
	log := s.logger()
	if log == nil {
		return
	}
	if s.name != "" {
		log = log.Named(s.name)
	}
	fields := make([]zap.Field, 0, 1+(len(s.values)+len(keysAndValues))/2)
	if err != nil {
		fields = append(fields, zap.Error(err))
	}
	for _, kv := range [][]any{s.values, keysAndValues} {
		for i := 0; i < len(kv); i += 2 {
			if i+1 == len(kv) {
				fields = append(fields, zap.Any("!BADKEY", kv[i]))
				break
			}
			fields = append(fields, zap.Any(fmt.Sprint(kv[i]), kv[i+1]))
		}
	}
	log.Debug(msg, fields...)
}

// The HTTP/2 health check of client-go's connections (apimachinery reads
// these variables when it makes a transport): after readIdle without a
// frame the connection is pinged, and dropped when the ping goes
// unanswered for pingTimeout. client-go's defaults, 30 s and 15 s, left a
// half-open connection to the API server (a network that drops packets, a
// laptop that changed networks) holding odod's requests for 45 s before a
// retry could dial again; an editor's user should see odod recover sooner.
// A ping on an idle connection every 15 s costs nothing.
const (
	http2ReadIdleEnv    = "HTTP2_READ_IDLE_TIMEOUT_SECONDS"
	http2PingTimeoutEnv = "HTTP2_PING_TIMEOUT_SECONDS"
	http2ReadIdle       = "15"
	http2PingTimeout    = "10"
)

// ShortenHTTP2HealthCheck sets odod's HTTP/2 health check for the
// process's client-go connections, unless the user set one. The odod
// binary calls it once, at start, before any client is made.
func ShortenHTTP2HealthCheck() {
	for name, value := range map[string]string{http2ReadIdleEnv: http2ReadIdle, http2PingTimeoutEnv: http2PingTimeout} {
		if _, set := os.LookupEnv(name); !set {
			_ = os.Setenv(name, value)
		}
	}
}
