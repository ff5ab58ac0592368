// Package version reports odod's version.
package version

import "runtime/debug"

// set at link time with -ldflags "-X github.com/odod-dev/odod/internal/version.version=v1.2.3";
// a link-time constant, never written at run time.
var version = ""

// String is odod's version: the link-time version, else the module version
// of the build, else "devel".
func String() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}
