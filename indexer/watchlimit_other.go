//go:build !linux

package indexer

// inotifyWatchLimit is unknown where there is no inotify (fsnotify uses
// kqueue on macOS, ReadDirectoryChangesW on Windows).
func inotifyWatchLimit() string { return "unknown" }
