package component

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
	odsync "github.com/odod-dev/odod/sync"
)

// appliedObjects is what the last successful apply of a Component made the
// cluster hold: the desired objects' key, on which cluster (the client the
// Connector returned: the daemon keeps one per kubeconfig selection and
// namespace, and makes new ones when the editor chooses another cluster).
//
// An edit push with unchanged settings then does no apply round trips,
// and while the transport into the pod is open no pod wait either. What
// someone changes or deletes behind odod's back is repaired by the next
// push that applies: after a settings change, a failed push, a pod that
// went away, a new daemon, or `odod push --force`.
type appliedObjects struct {
	key string
	on  any
}

// desiredKey is a digest of the desired objects.
func desiredKey(objs cluster.Objects) (string, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, o := range objs.All() {
		if err := enc.Encode(o); err != nil {
			return "", fmt.Errorf("hash the desired objects: %w", err)
		}
	}
	return string(h.Sum(nil)), nil
}

// sameCluster reports whether two Connector results are the same client.
func sameCluster(a, b any) bool {
	t := reflect.TypeOf(a)
	return a != nil && t == reflect.TypeOf(b) && t.Comparable() && a == b
}

func (c *Component) appliedAlready(cl any, key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applied.key == key && sameCluster(c.applied.on, cl)
}

func (c *Component) recordApplied(cl any, key string) {
	c.mu.Lock()
	c.applied = appliedObjects{key: key, on: cl}
	c.mu.Unlock()
}

// forgetApplied makes the next push apply and wait for the pod again.
func (c *Component) forgetApplied() {
	c.mu.Lock()
	c.applied = appliedObjects{}
	c.mu.Unlock()
}

// knownPod is the pod the open transport reaches, when the objects are
// those last applied and the last push went through: the push needs no pod
// wait. A pod that went away since shows as a broken transport, or as a
// sync that fails (push then asks the cluster again).
func (c *Component) knownPod(objs objectsApplied) (cluster.Pod, bool) {
	if !objs.unchanged || c.State() != protocol.StateRunning {
		return cluster.Pod{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.transport == nil || c.transportPod.Name == "" {
		return cluster.Pod{}, false
	}
	if broken(c.transport) {
		return cluster.Pod{}, false
	}
	return c.transportPod, true
}

// broken reports whether a transport knows its stream ended (the agent's
// does).
func broken(tr odsync.Transport) bool {
	b, ok := tr.(interface{ Broken() bool })
	return ok && b.Broken()
}

// releaseKnownPod drops the transport and what was applied, so that the
// push asks the cluster for the pod again.
func (c *Component) releaseKnownPod() {
	c.mu.Lock()
	tr := c.transport
	c.mu.Unlock()
	if tr != nil {
		c.dropTransport(tr)
	}
	c.forgetApplied()
}
