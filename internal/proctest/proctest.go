// Package proctest helps tests that start processes check on them.
package proctest

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// Alive reports whether pid exists and is not a zombie (a zombie has exited
// but was not reaped yet: for a test of killing or reaping, it is dead).
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The command name in parentheses may hold spaces: the state follows
	// the last ')'.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
