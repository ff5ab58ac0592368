// Package initimage builds odod's init image: the OCI image whose
// copy-supervisord init container copies odod-init (go-init, supervisord,
// the sync agent) and the S2I scripts into the pod's shared emptyDir at
// /opt/odo, where the app container runs them. It also names the paths
// and commands the pod spec uses, so the cluster code and the image agree.
package initimage

import (
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/odod-dev/odod/container/scripts"
)

// Files returns the scripts and configuration the image carries, rooted
// like /opt/odo-init (bin/, conf/, language-scripts/). They live in
// container/scripts, beside the rest of the code that runs in the container.
func Files() fs.FS { return scripts.Files() }

const (
	// DefaultReference is the image odod uses unless told otherwise: the
	// one hack/images pushes to the local cluster's registry.
	DefaultReference = "127.0.0.1:5000/odod/odod-init:latest"
	// EnvImage overrides DefaultReference.
	EnvImage = "ODOD_INIT_IMAGE"

	// SourceDir is where the image keeps the runtime.
	SourceDir = "/opt/odo-init"
	// MountPath is where the pod's shared emptyDir is mounted, in the init
	// container (the copy's target) and in the app container.
	MountPath = "/opt/odo"
	// VolumeName is the shared emptyDir's name in the pod, as odo's.
	VolumeName = "odo-supervisord-shared-data"
	// InitContainerName is the copying init container's name, as odo's.
	InitContainerName = "copy-supervisord"
	// SupervisorConf is where the app container's supervisor.conf lives
	// (copied there from MountPath/conf by s2i-setup; on the PVC).
	SupervisorConf = "/opt/app-root/conf/supervisor.conf"
	// BinaryName is the multi-call binary's name in bin/.
	BinaryName = "odod-init"
)

// RoleLinks are the names under bin/ that link to BinaryName; it acts on
// the name it was run as.
var RoleLinks = []string{"go-init", "supervisord", "supervisorctl", "agent", "getlanguage"}

// DefaultRef is the init image reference to use: $ODOD_INIT_IMAGE when
// set, else DefaultReference. (The daemon's initializationOptions, when
// they name one, take precedence over both.)
func DefaultRef() string {
	if ref := os.Getenv(EnvImage); ref != "" {
		return ref
	}
	return DefaultReference
}

// InitContainerCommand is the copy-supervisord init container's command.
// The image has no shell or coreutils: odod-init's cp role does the copy.
// (The image also links /usr/bin/cp to odod-init, so odo's own command
// `/usr/bin/cp -r /opt/odo-init/. /opt/odo/` works as well.)
func InitContainerCommand() []string {
	return []string{path.Join(SourceDir, "bin", BinaryName), "cp", "-r", SourceDir + "/.", MountPath + "/"}
}

// AppContainerCommand is the app container's command and args, as odo
// v1.0.2+: go-init as PID 1 running s2i-setup first, then supervisord.
func AppContainerCommand() (command, args []string) {
	bin := path.Join(MountPath, "bin")
	return []string{path.Join(bin, "go-init")},
		[]string{"-pre", path.Join(bin, "s2i-setup"), "-main", path.Join(bin, "supervisord") + " -c " + SupervisorConf}
}

// AgentCommand is what to exec (with stdin) in the app container to talk
// to the sync agent, confined to root (odo's push target, e.g. /tmp/src).
func AgentCommand(root string) []string {
	return []string{path.Join(MountPath, "bin", "agent"), "--root", root}
}

// AssembleAndRestartCommand is what to exec after a push.
func AssembleAndRestartCommand() []string {
	return []string{path.Join(MountPath, "bin", "assemble-and-restart")}
}

// SupervisorCtlCommand is what to exec to control the app's `run` program,
// e.g. SupervisorCtlCommand("status", "run").
func SupervisorCtlCommand(op, program string) []string {
	cmd := []string{path.Join(MountPath, "bin", "supervisord"), "ctl", "-c", SupervisorConf, op}
	if program != "" {
		cmd = append(cmd, program)
	}
	return cmd
}

// The environment assemble-and-restart reads from the Run request (see
// container/scripts/conf/s2i-env.sh).
const (
	// EnvPushIncremental is "true" when the lists are every change since
	// the last successful build in this container.
	EnvPushIncremental = "ODOD_PUSH_INCREMENTAL"
	// EnvPushChanged and EnvPushDeleted list paths relative to the push
	// target, one per line.
	EnvPushChanged = "ODOD_PUSH_CHANGED"
	EnvPushDeleted = "ODOD_PUSH_DELETED"
	// EnvAppPorts are the TCP ports (comma-separated) the restart waits
	// for the app to accept connections on.
	EnvAppPorts = "ODOD_APP_PORTS"
)

// maxChangeListBytes bounds one list: an environment string may not exceed
// 128 KiB (Linux's MAX_ARG_STRLEN). Longer lists mean a full build.
const maxChangeListBytes = 96 << 10

// BuildInput is what a push tells assemble-and-restart.
type BuildInput struct {
	// Incremental says Changed and Deleted are every change since the
	// last successful build in this container; false (a first push, a
	// resync) means the build considers every source.
	Incremental bool
	// Changed are the paths put (files, symlinks, new directories) and
	// Deleted those removed, relative to the push target.
	Changed, Deleted []string
	// Ports are the component's TCP ports.
	Ports []int
}

// AssembleAndRestartEnv is the environment for AssembleAndRestartCommand.
// Lists that cannot travel in the environment (too long, a path with a
// newline) make the build a full one: slower, never wrong.
func AssembleAndRestartEnv(in BuildInput) []string {
	var env []string
	if len(in.Ports) > 0 {
		ports := make([]string, len(in.Ports))
		for i, p := range in.Ports {
			ports[i] = strconv.Itoa(p)
		}
		env = append(env, EnvAppPorts+"="+strings.Join(ports, ","))
	}
	if !in.Incremental {
		return env
	}
	changed, ok1 := changeList(in.Changed)
	deleted, ok2 := changeList(in.Deleted)
	if !ok1 || !ok2 {
		return env
	}
	return append(env, EnvPushIncremental+"=true", EnvPushChanged+"="+changed, EnvPushDeleted+"="+deleted)
}

func changeList(paths []string) (string, bool) {
	n := 0
	for _, p := range paths {
		if strings.ContainsAny(p, "\n\x00") {
			return "", false
		}
		n += len(p) + 1
	}
	if n > maxChangeListBytes {
		return "", false
	}
	return strings.Join(paths, "\n"), true
}
