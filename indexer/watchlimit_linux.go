package indexer

import (
	"os"
	"strings"
)

// inotifyWatchLimit is fs.inotify.max_user_watches, for the warning that
// it is reached.
func inotifyWatchLimit() string {
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_user_watches")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
