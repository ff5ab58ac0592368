package component

import (
	"context"
	"errors"
	"io"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/indexer"
)

// Fakes of the roles of cluster.go and of Index, for the unit tests.

// fakeResolver resolves "nodejs" to the nodejs builder, whose image has
// S2I labels.
type fakeResolver struct{}

func (fakeResolver) Namespace() string          { return "ns" }
func (fakeResolver) Platform() cluster.Platform { return cluster.Platform{} }
func (fakeResolver) ResolveType(_ context.Context, typ string) (cluster.Builder, error) {
	if typ != "nodejs" {
		return cluster.Builder{}, &cluster.Error{Kind: cluster.KindNotFound, Message: "no type " + typ}
	}
	return cluster.Builder{Type: typ, Name: "nodejs", Tag: "latest", Image: "127.0.0.1:5000/odod/nodejs-builder:latest"}, nil
}
func (fakeResolver) InspectImage(context.Context, string) (cluster.ImageInfo, error) {
	return cluster.ImageInfo{
		Labels:     map[string]string{"io.openshift.s2i.scripts-url": "image:///usr/libexec/s2i", "io.openshift.s2i.destination": "/tmp", "name": "odod/nodejs-builder"},
		WorkingDir: "/opt/app-root/src",
	}, nil
}

// fakeApplier records what it was asked to apply and answers result.
type fakeApplier struct {
	result cluster.ApplyResult
	err    error
	objs   []cluster.Objects
	opts   []cluster.ApplyOptions
}

func (f *fakeApplier) Apply(_ context.Context, objs cluster.Objects, opts cluster.ApplyOptions) (cluster.ApplyResult, error) {
	f.objs = append(f.objs, objs)
	f.opts = append(f.opts, opts)
	return f.result, f.err
}

// fakePodWaiter reports states, then answers pod (or err).
type fakePodWaiter struct {
	states []cluster.PodStatus
	pod    cluster.Pod
	err    error
	asked  []cluster.WaitOptions
}

func (f *fakePodWaiter) WaitForPod(_ context.Context, _ cluster.ComponentRef, opts cluster.WaitOptions) (cluster.Pod, error) {
	f.asked = append(f.asked, opts)
	for _, st := range f.states {
		if opts.OnState != nil {
			opts.OnState(st)
		}
	}
	return f.pod, f.err
}

// fakeIndex is an index of nothing, for what does not read one.
type fakeIndex struct{ root string }

func (f fakeIndex) Root() string                                       { return f.root }
func (fakeIndex) Flush(context.Context) error                          { return nil }
func (fakeIndex) Pending() indexer.ChangeSet                           { return indexer.ChangeSet{} }
func (fakeIndex) Confirm(indexer.ChangeSet, indexer.ConfirmMeta) error { return nil }
func (fakeIndex) MayHold(indexer.ChangeSet)                            {}
func (fakeIndex) MarkAllPending()                                      {}
func (fakeIndex) LastPodUID() string                                   { return "" }

var (
	_ objectsCluster = struct {
		fakeResolver
		*fakeApplier
	}{}
	_ PodWaiter = (*fakePodWaiter)(nil)
	_ Cluster   = (*fakeCluster)(nil)
	_ Index     = fakeIndex{}
)

// fakeCluster is a cluster whose pod is a directory of this machine: exec
// of the agent serves that directory in-process, other commands run here.
type fakeCluster struct {
	fakeResolver
	mu       sync.Mutex
	podUID   string
	ctrID    string
	applied  int
	waits    int
	changed  bool
	execs    [][]string
	deleted  bool
	podState cluster.PodStatus
	urls     []cluster.URL
	storage  []cluster.Storage
}

func (f *fakeCluster) Catalog(context.Context) ([]cluster.CatalogEntry, error) {
	return cluster.BuiltinCatalog(), nil
}
func (f *fakeCluster) Apply(_ context.Context, objs cluster.Objects, _ cluster.ApplyOptions) (cluster.ApplyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied++
	if objs.Deployment == nil {
		return cluster.ApplyResult{}, errors.New("no deployment desired")
	}
	res := cluster.ApplyResult{Workload: cluster.ObjectRef{Kind: "Deployment", Name: objs.Deployment.Name}}
	if f.applied == 1 || f.changed {
		res.Created = []cluster.ObjectRef{res.Workload}
	} else {
		res.Unchanged = []cluster.ObjectRef{res.Workload}
	}
	return res, nil
}
func (f *fakeCluster) WaitForPod(_ context.Context, r cluster.ComponentRef, opts cluster.WaitOptions) (cluster.Pod, error) {
	f.mu.Lock()
	f.waits++
	uid, ctr := f.podUID, f.ctrID
	f.mu.Unlock()
	if opts.OnState != nil {
		opts.OnState(cluster.PodStatus{State: cluster.StateStarting, Reason: "ContainerCreating"})
	}
	return cluster.Pod{Name: "pod-" + uid, UID: types.UID(uid), Container: r.ObjectName(), ContainerID: ctr}, nil
}
func (f *fakeCluster) PodStatus(context.Context, cluster.ComponentRef) (cluster.PodStatus, error) {
	return f.podState, nil
}
func (f *fakeCluster) FollowLogs(ctx context.Context, _ cluster.ComponentRef, _ cluster.LogOptions, emit func(cluster.LogLine)) error {
	emit(cluster.LogLine{Pod: "p", Text: "listening on 8080"})
	<-ctx.Done()
	return ctx.Err()
}
func (f *fakeCluster) PortForward(context.Context, string, int, int) (*cluster.PortForward, error) {
	return nil, errors.New("no port-forward in the fake")
}
func (f *fakeCluster) Describe(_ context.Context, r cluster.ComponentRef) (cluster.Description, error) {
	d := cluster.Description{Name: r.Name, App: r.App, Namespace: "ns"}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.applied > 0 && !f.deleted {
		d.Workload = &cluster.ObjectRef{Kind: "Deployment", Name: r.ObjectName()}
		d.Objects = []cluster.ObjectRef{*d.Workload}
		d.Pod = cluster.PodStatus{State: cluster.StateRunning, Pod: "pod-" + f.podUID}
	}
	return d, nil
}
func (f *fakeCluster) ListURLs(context.Context, cluster.ComponentRef) ([]cluster.URL, error) {
	return f.urls, nil
}
func (f *fakeCluster) ListStorage(context.Context, cluster.ComponentRef) ([]cluster.Storage, error) {
	return f.storage, nil
}
func (f *fakeCluster) Delete(_ context.Context, r cluster.ComponentRef, _ cluster.DeleteOptions) ([]cluster.ObjectRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = true
	return []cluster.ObjectRef{{Kind: "Deployment", Name: r.ObjectName()}}, nil
}
func (f *fakeCluster) Exec(ctx context.Context, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	f.mu.Lock()
	f.execs = append(f.execs, argv)
	f.mu.Unlock()
	return errors.New("exec is done by the test's dialer")
}
