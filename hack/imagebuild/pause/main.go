//go:build linux

// Command pause is the local cluster's pod sandbox process, a stand-in for
// registry.k8s.io/pause built here because no outside registry can be
// reached. As PID 1 of a pod it holds the namespaces, reaps the zombies of
// a shared PID namespace and exits on SIGTERM or SIGINT.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("odod pause 3.10")
		return
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			fmt.Fprintf(os.Stderr, "pause: shutting down on %v\n", sig)
			return
		}
		reapChildren()
	}
}

// reapChildren collects every exited child: signals coalesce, so one
// SIGCHLD may stand for several.
func reapChildren() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
