//go:build !unix

package agentserver

import "os/exec"

// The agent runs in a Linux container; on other OSes it runs only as the
// in-process fake container of the daemon's tests, whose commands start
// nothing in the background. So there is no process group: canceling
// kills the command itself.

func startInOwnGroup(*exec.Cmd) {}

func killGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

func exitCode(exitErr *exec.ExitError) int { return exitErr.ExitCode() }
