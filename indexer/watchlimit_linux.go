package indexer

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// inotifyWatchLimit names the inotify watch limit that applies, for the
// warning that it is reached: fs.inotify.max_user_watches, or a user
// namespace's lower user.max_inotify_watches (a container, a sandbox),
// which raising the host's sysctl does not lift.
func inotifyWatchLimit() string {
	return inotifyWatchLimitFrom("/proc/sys/fs/inotify/max_user_watches", "/proc/sys/user/max_inotify_watches")
}

func inotifyWatchLimitFrom(sysctlPath, userNSPath string) string {
	host, herr := readLimit(sysctlPath)
	ns, nerr := readLimit(userNSPath)
	switch {
	case nerr == nil && (herr != nil || ns < host):
		return fmt.Sprintf("user.max_inotify_watches = %d in odod's user namespace, below the host's fs.inotify.max_user_watches; raise it where that namespace is made", ns)
	case herr == nil:
		return fmt.Sprintf("fs.inotify.max_user_watches = %d", host)
	}
	return "fs.inotify.max_user_watches = unknown"
}

func readLimit(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
