//go:build unix

package agentserver

import (
	"os/exec"
	"syscall"
)

// startInOwnGroup makes cmd the leader of a new process group, so that
// killGroup also reaches what it starts in the background (a dev server
// forked by a build script).
func startInOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills cmd's whole process group.
func killGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// exitCode is the shell's convention: 128+n for a command killed by signal n.
func exitCode(exitErr *exec.ExitError) int {
	if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return 128 + int(status.Signal())
	}
	return exitErr.ExitCode()
}
