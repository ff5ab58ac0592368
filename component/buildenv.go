package component

import (
	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/initimage"
	odsync "github.com/odod-dev/odod/sync"
)

// buildEnv tells assemble-and-restart what the push changed (so the build
// costs what changed) and which ports to wait on (so the push ends when
// the app serves again). After a full push it lists nothing: the build
// considers every source.
func buildEnv(plan odsync.Plan, full bool, ports []int) []string {
	in := initimage.BuildInput{Incremental: !full, Ports: ports}
	for _, op := range plan.Ops {
		if op.Kind == odsync.OpDelete {
			in.Deleted = append(in.Deleted, op.Path)
		} else {
			in.Changed = append(in.Changed, op.Path)
		}
	}
	return initimage.AssembleAndRestartEnv(in)
}

// tcpPorts are the component's TCP ports, as the pod declares them: the
// settings', else the builder image's.
func tcpPorts(spec cluster.ComponentSpec) []int {
	raw := spec.Settings.Ports
	if len(raw) == 0 {
		raw = spec.Image.ExposedPorts
	}
	var ports []int
	for _, r := range raw {
		p, err := config.ParsePort(r)
		if err != nil || p.Protocol != "TCP" {
			continue
		}
		ports = append(ports, int(p.Number))
	}
	return ports
}
