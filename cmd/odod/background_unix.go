//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// detach starts the background daemon in a session of its own: the
// terminal's hang-up and Ctrl-C do not reach it.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}
