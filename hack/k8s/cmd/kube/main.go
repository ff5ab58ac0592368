// Command kube is a multi-call binary for the local test cluster: it runs
// kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy,
// kubectl or the test cluster's local-volume-provisioner depending on the name it is called by (argv[0], usually a
// symlink), or on its first argument when called as "kube". One binary links
// the shared Kubernetes code once, which saves build time and disk against
// five.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"

	// The same blank imports as the upstream mains: embedded time zones,
	// the JSON log format, and client-go metrics and version registration.
	_ "time/tzdata"

	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"

	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

// components maps each program name to its cobra constructor.
func components() map[string]func() *cobra.Command {
	return map[string]func() *cobra.Command{
		"kube-apiserver":           apiserver.NewAPIServerCommand,
		"kube-controller-manager":  controllermanager.NewControllerManagerCommand,
		"kube-scheduler":           func() *cobra.Command { return scheduler.NewSchedulerCommand() },
		"kubelet":                  kubelet.NewKubeletCommand,
		"kube-proxy":               proxy.NewProxyCommand,
		"kubectl":                  kubectl.NewDefaultKubectlCommand,
		"local-volume-provisioner": newLocalVolumeProvisionerCommand,
	}
}

func main() {
	known := components()
	name := filepath.Base(os.Args[0])
	if _, ok := known[name]; !ok && len(os.Args) > 1 {
		// "kube kubelet --flags…": dispatch on the first argument instead.
		name = os.Args[1]
		os.Args = os.Args[1:]
	}
	newCommand, ok := known[name]
	if !ok {
		names := make([]string, 0, len(known))
		for n := range known {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "kube: unknown component %q; call it as one of %s (by symlink name or first argument)\n",
			name, strings.Join(names, ", "))
		os.Exit(2)
	}
	if name == "kubectl" {
		// kubectl prints its own errors, as upstream's main does.
		if err := cli.RunNoErrOutput(newCommand()); err != nil {
			kubectlutil.CheckErr(err)
		}
		return
	}
	os.Exit(cli.Run(newCommand()))
}
