// Package indexer keeps the live file index of one workspace: which files
// exist (path, size, mtime, mode, link target, content hash), which of them
// the last confirmed push left in the container, and therefore what the
// next push must copy or delete.
//
// Open walks the tree in parallel (never following a symlink, never
// descending into an ignored directory), loads the persisted index
// (.odo/odo-file-index.json, odo's schema plus odod's fields) and starts a
// recursive fsnotify watcher. From then on the index is kept current from
// events, coalesced into batches, so Pending costs time in the number of
// changes, not in the size of the tree. Flush applies the events received
// so far without waiting for the coalescing window, for a push that must
// include what was just saved. Confirm records a push and writes the index
// in the background, atomically; nothing is written before a push is
// confirmed (odo #2728).
//
// A Workspace is four parts, each with its own lock or goroutine: index,
// the record state machine (records, updates, ChangeSet, Confirm; no I/O,
// guarded by the Workspace's one index lock); watcher, the inotify
// instance and the directories polled past the inotify limit; processor,
// the goroutine that turns queued event paths into index updates (the
// quiet window, overflow rescans, polling); and persister, the goroutine
// that writes the index file after confirms.
//
// Ignore rules follow gitignore: in every directory, .odoignore if present,
// else .gitignore; .git and .odo are always out.
package indexer
