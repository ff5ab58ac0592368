package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/odod-dev/odod/config"
)

// A watch is a choice the user made for a workspace, not for one
// connection: editors restart odod serve when they reload a window or
// reconnect. So a started watch is remembered in the workspace's .odo
// folder until odod/watch/stop or odod/component/delete, and a daemon
// that opens the workspace resumes it.
const watchMemoFile = "odod-watch.json"

type watchMemo struct {
	DebounceMs int `json:"debounceMs"`
}

func watchMemoPath(root string) string {
	return filepath.Join(root, config.DirName, watchMemoFile)
}

// rememberWatch records that root is watched, atomically.
func rememberWatch(root string, debounce time.Duration) error {
	b, err := json.Marshal(watchMemo{DebounceMs: int(debounce.Milliseconds())})
	if err != nil {
		return err
	}
	path := watchMemoPath(root)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("remember the watch: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), watchMemoFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("remember the watch: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("remember the watch: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("remember the watch: %w", err)
	}
	return nil
}

// forgetWatch removes the record; a missing one is fine.
func forgetWatch(root string) error {
	if err := os.Remove(watchMemoPath(root)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("forget the watch: %w", err)
	}
	return nil
}

// rememberedWatch reports whether root's watch is to be resumed, with its
// debounce. An unreadable or malformed record counts as none.
func rememberedWatch(root string) (debounceMs int, ok bool) {
	b, err := os.ReadFile(watchMemoPath(root))
	if err != nil {
		return 0, false
	}
	var m watchMemo
	if json.Unmarshal(b, &m) != nil || m.DebounceMs < 0 || time.Duration(m.DebounceMs)*time.Millisecond > maxDebounce {
		return 0, false
	}
	return m.DebounceMs, true
}
