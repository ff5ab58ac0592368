package indexer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWatchLimitNamesTheUserNamespaceLimit: odod in a user namespace whose
// user.max_inotify_watches is 100 (hack/chaos's inotify fault) said the
// host's fs.inotify.max_user_watches = 192540 was reached, and suggested
// raising it, which does not help.
func TestWatchLimitNamesTheUserNamespaceLimit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	host, ns := write("host", "192540"), write("ns", "100")
	if got := inotifyWatchLimitFrom(host, ns); !strings.Contains(got, "user.max_inotify_watches = 100") {
		t.Fatalf("limit in a user namespace = %q", got)
	}
	same := write("same", "192540")
	if got := inotifyWatchLimitFrom(host, same); got != "fs.inotify.max_user_watches = 192540" {
		t.Fatalf("limit on the host = %q", got)
	}
	if got := inotifyWatchLimitFrom(filepath.Join(dir, "none"), filepath.Join(dir, "none")); !strings.Contains(got, "unknown") {
		t.Fatalf("limit unreadable = %q", got)
	}
}
