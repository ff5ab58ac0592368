package component

import (
	"context"

	"github.com/odod-dev/odod/cluster"
	odsync "github.com/odod-dev/odod/sync"
)

// The roles the engine's operations need of a cluster: each takes only
// the ones it calls, so a test fakes no more than that (fakes_test.go).

// Resolver turns the settings' type into a builder image and reads what
// the image says of itself: the input of the desired objects.
type Resolver interface {
	Namespace() string
	Platform() cluster.Platform
	ResolveType(ctx context.Context, typ string) (cluster.Builder, error)
	InspectImage(ctx context.Context, ref string) (cluster.ImageInfo, error)
}

// Applier makes the cluster hold the desired objects.
type Applier interface {
	Apply(ctx context.Context, objs cluster.Objects, opts cluster.ApplyOptions) (cluster.ApplyResult, error)
}

// PodWaiter waits for the component's pod to run.
type PodWaiter interface {
	WaitForPod(ctx context.Context, ref cluster.ComponentRef, opts cluster.WaitOptions) (cluster.Pod, error)
}

// Execer runs commands in a container of the pod: the sync transports go
// through it.
type Execer = odsync.PodExecer

// Describer reports what the cluster holds of the component.
type Describer interface {
	Describe(ctx context.Context, ref cluster.ComponentRef) (cluster.Description, error)
	ListURLs(ctx context.Context, ref cluster.ComponentRef) ([]cluster.URL, error)
	ListStorage(ctx context.Context, ref cluster.ComponentRef) ([]cluster.Storage, error)
}

// PortForwarder finds the running pod and forwards a port to it.
type PortForwarder interface {
	PodStatus(ctx context.Context, ref cluster.ComponentRef) (cluster.PodStatus, error)
	PortForward(ctx context.Context, pod string, localPort, remotePort int) (*cluster.PortForward, error)
}

// LogFollower streams the app container's output.
type LogFollower interface {
	FollowLogs(ctx context.Context, ref cluster.ComponentRef, opts cluster.LogOptions, emit func(cluster.LogLine)) error
}

// Deleter deletes the component's objects.
type Deleter interface {
	Delete(ctx context.Context, ref cluster.ComponentRef, opts cluster.DeleteOptions) ([]cluster.ObjectRef, error)
}

// Cataloger lists the component types the cluster offers.
type Cataloger interface {
	Catalog(ctx context.Context) ([]cluster.CatalogEntry, error)
}

// Linker lists what a component can link to.
type Linker interface {
	LinkTargets(ctx context.Context, app string) ([]cluster.LinkTarget, error)
}

// Cluster is every role: what a Connector returns. *cluster.Client is one.
type Cluster interface {
	Resolver
	Applier
	PodWaiter
	Execer
	Describer
	PortForwarder
	LogFollower
	Deleter
	Cataloger
	Linker
}

// Connector reaches the cluster for a namespace ("" = the kubeconfig's).
type Connector func(ctx context.Context, namespace string) (Cluster, error)

// objectsCluster is what the objects phase needs.
type objectsCluster interface {
	Resolver
	Applier
}

var (
	_ Cluster = (*cluster.Client)(nil)
	// The transports read a non-zero exit through this method.
	_ interface{ ExitCode() int } = (*cluster.ExitError)(nil)
)
