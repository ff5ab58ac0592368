//go:build integration

package clustertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odod-dev/odod/internal/testcluster"
)

// TestFootprintIsPurged compares the running cluster's machine footprint
// with the snapshot hack/cluster saved before its first up: everything it
// added outside its state directory (processes, links, iptables chains and
// rules, cgroups, mounts, sysctls) must be something `down --purge` takes
// away, and the parts of the whole cluster (kube-proxy, CoreDNS, Traefik,
// the egress NAT) must be there.
func TestFootprintIsPurged(t *testing.T) {
	testcluster.Require(t)
	if os.Geteuid() != 0 {
		t.Fatal("hack/cluster footprint reads iptables: run the integration tests as root, as hack/cluster needs")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := testcluster.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "cluster"), "footprint")
	cmd.Env = append(os.Environ(), "ODOD_CLUSTER_STATE="+testcluster.StateDir(root))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/cluster footprint: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	have := map[string]bool{}
	for _, line := range lines {
		verdict, item, _ := strings.Cut(line, " ")
		if verdict != "purged" {
			t.Errorf("down --purge would leave %q", item)
		}
		have[item] = true
	}
	for _, want := range []string{
		"process kube-proxy",
		"process coredns",
		"process traefik",
		"process kubelet",
		"link odod-node0", // the pods' bridge comes with the first pod
		"iptables nat chain :KUBE-SERVICES",
		"iptables nat chain :ODOD-POSTROUTING",
		"iptables nat -A POSTROUTING -j ODOD-POSTROUTING",
		"iptables filter chain :ODOD-FORWARD",
		"iptables filter -A FORWARD -j ODOD-FORWARD",
	} {
		if !have[want] {
			t.Errorf("the footprint lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("hack/cluster footprint:\n%s", out)
	}
}
