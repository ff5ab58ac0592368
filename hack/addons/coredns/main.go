// Command coredns is CoreDNS with only the plugins the local test cluster's
// DNS needs: answers for Services and pods under cluster.local from the
// kubernetes plugin, every other name forwarded to this machine's resolver,
// a cache, and the health and readiness endpoints hack/cluster waits on.
// CoreDNS's own main links every plugin it has; linking these few keeps the
// cold build short and the binary small.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	// The plugins listed in directives, each registering itself.
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// directives is the order in which a query passes the plugins: the same
// relative order as CoreDNS's plugin.cfg, which is what a Corefile's
// configuration is checked against.
var directives = []string{
	"reload",
	"bind",
	"ready",
	"health",
	"errors",
	"log",
	"loadbalance",
	"cache",
	"kubernetes",
	"loop",
	"forward",
}

func main() {
	dnsserver.Directives = directives
	coremain.Run()
}
