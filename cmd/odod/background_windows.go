//go:build windows

package main

import (
	"os/exec"
	"syscall"
)

// detach starts the background daemon with no console and in a process
// group of its own: closing the terminal or Ctrl-C there does not reach it.
func detach(cmd *exec.Cmd) {
	const (
		createNewProcessGroup = 0x00000200
		detachedProcess       = 0x00000008
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: createNewProcessGroup | detachedProcess, HideWindow: true}
}
