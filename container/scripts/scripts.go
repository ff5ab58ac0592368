// Package scripts holds the shell scripts and configuration that run inside
// the component's container: odo's S2I scripts (s2i-setup,
// assemble-and-restart, run), the per-language dev scripts and the
// supervisor's configuration. The host never runs them: initimage embeds
// them into the init image, laid out as under /opt/odo-init.
package scripts

import (
	"embed"
	"io/fs"
)

//go:embed bin conf language-scripts
var embedded embed.FS

// Files returns the scripts and configuration rooted like /opt/odo-init
// (bin/, conf/, language-scripts/).
func Files() fs.FS { return embedded }
