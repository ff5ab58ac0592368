package component

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
)

// historian is the cluster role of history and rollback; *cluster.Client
// is one.
type historian interface {
	History(ctx context.Context, ref cluster.ComponentRef) (string, []cluster.Revision, error)
	Rollback(ctx context.Context, ref cluster.ComponentRef, revision int64) (cluster.Revision, error)
}

func asHistorian(cl Cluster) (historian, error) {
	h, ok := cl.(historian)
	if !ok {
		return nil, &Error{Code: protocol.CodeRequestFailed, Reason: "HistoryUnsupported", Message: "this cluster connection cannot read rollout history"}
	}
	return h, nil
}

func toProtocolRevision(r cluster.Revision) protocol.Revision {
	return protocol.Revision{Revision: r.Revision, Name: r.Name, Image: r.Image, Created: r.Created.UTC().Format(time.RFC3339), Cause: r.Cause, Current: r.Current}
}

// History lists the component workload's revisions, oldest first: the
// ReplicaSets of its Deployment, the ReplicationControllers of its
// DeploymentConfig.
func (s *Settings) History(ctx context.Context) (protocol.ComponentHistoryResult, error) {
	cfg, cl, err := s.connected(ctx)
	if err != nil {
		return protocol.ComponentHistoryResult{}, err
	}
	h, err := asHistorian(cl)
	if err != nil {
		return protocol.ComponentHistoryResult{}, err
	}
	kind, revs, err := h.History(ctx, ref(cfg))
	if err != nil {
		return protocol.ComponentHistoryResult{}, err
	}
	res := protocol.ComponentHistoryResult{Workload: kind, Revisions: []protocol.Revision{}}
	for _, r := range revs {
		res.Revisions = append(res.Revisions, toProtocolRevision(r))
	}
	return res, nil
}

// Rollback rolls the workload back to a revision (0: the one before the
// current), as kubectl/oc rollout undo, then waits for its pod, reporting
// the rollout as state changes. It waits for a push in flight, and a push
// waits for it.
func (c *Component) Rollback(ctx context.Context, revision int64) (protocol.ComponentRollbackResult, error) {
	select {
	case <-c.pushSlot:
	case <-ctx.Done():
		return protocol.ComponentRollbackResult{}, ctx.Err()
	}
	defer func() { c.pushSlot <- struct{}{} }()
	cfg, cl, err := c.connected(ctx)
	if err != nil {
		return protocol.ComponentRollbackResult{}, err
	}
	h, err := asHistorian(cl)
	if err != nil {
		return protocol.ComponentRollbackResult{}, err
	}
	to, err := h.Rollback(ctx, ref(cfg), revision)
	if errors.Is(err, cluster.ErrRollbackSkipped) {
		return protocol.ComponentRollbackResult{}, &Error{Code: protocol.CodeConflict, Reason: "RollbackSkipped",
			Message:    fmt.Sprintf("the workload already runs revision %d", to.Revision),
			Suggestion: "pick an earlier revision from odod history", Err: err}
	}
	if err != nil {
		return protocol.ComponentRollbackResult{}, err
	}
	c.setState(protocol.StateStarting, "RollingBack", fmt.Sprintf("rolling back to revision %d (%s)", to.Revision, to.Image))
	pod, err := cl.WaitForPod(ctx, ref(cfg), cluster.WaitOptions{
		Timeout: c.opts.PodTimeout,
		OnState: func(ps cluster.PodStatus) {
			if ps.State == cluster.StateStarting && ps.Reason != "" {
				c.setState(protocol.StateStarting, ps.Reason, ps.Message)
			}
		},
	})
	if err != nil {
		c.setState(protocol.StateError, Coded(err).Reason, Coded(err).Message)
		return protocol.ComponentRollbackResult{}, err
	}
	c.setState(protocol.StateRunning, "", fmt.Sprintf("running revision %d's template (%s)", to.Revision, to.Image))
	return protocol.ComponentRollbackResult{RolledBackTo: toProtocolRevision(to), Pod: pod.Name}, nil
}
