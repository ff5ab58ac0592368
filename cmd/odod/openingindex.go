package main

import (
	"context"
	"fmt"

	"github.com/odod-dev/odod/indexer"
)

// openingIndex is a workspace index being opened in the background, for a
// terminal's push: the push's objects and pod phases need no index, so
// they run while it reads its file and stats the tree. Each method waits
// for the open; a failed open fails the push at its sync phase (Flush),
// before anything is taken from the index.
type openingIndex struct {
	root string // as the index will have it, known before the open ends
	done chan struct{}
	idx  *indexer.Workspace // set, with err, before done is closed
	err  error
}

// openIndexInBackground starts opening root's index. The goroutine is
// the openingIndex's: Close waits for it.
func openIndexInBackground(ctx context.Context, root string, opts indexer.Options) (*openingIndex, error) {
	resolved, _, err := indexer.ResolveRoot(root)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", root, err)
	}
	o := &openingIndex{root: resolved, done: make(chan struct{})}
	go func() {
		defer close(o.done)
		o.idx, o.err = indexer.Open(ctx, root, opts)
		if o.err != nil {
			o.err = fmt.Errorf("index %s: %w", root, o.err)
		}
	}()
	return o, nil
}

func (o *openingIndex) wait() (*indexer.Workspace, error) {
	<-o.done
	return o.idx, o.err
}

func (o *openingIndex) Root() string { return o.root }

func (o *openingIndex) Flush(ctx context.Context) error {
	select {
	case <-o.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if o.err != nil {
		return o.err
	}
	return o.idx.Flush(ctx)
}

func (o *openingIndex) Pending() indexer.ChangeSet {
	idx, err := o.wait()
	if err != nil {
		return indexer.ChangeSet{}
	}
	return idx.Pending()
}

func (o *openingIndex) Confirm(cs indexer.ChangeSet, meta indexer.ConfirmMeta) error {
	idx, err := o.wait()
	if err != nil {
		return err
	}
	return idx.Confirm(cs, meta)
}

func (o *openingIndex) MayHold(cs indexer.ChangeSet) {
	if idx, err := o.wait(); err == nil {
		idx.MayHold(cs)
	}
}

func (o *openingIndex) MarkAllPending() {
	if idx, err := o.wait(); err == nil {
		idx.MarkAllPending()
	}
}

func (o *openingIndex) LastPodUID() string {
	if idx, err := o.wait(); err == nil {
		return idx.LastPodUID()
	}
	return ""
}

// Close waits for the open and closes the index (writing what was
// confirmed).
func (o *openingIndex) Close() error {
	idx, err := o.wait()
	if err != nil {
		return nil // the push already failed with it
	}
	return idx.Close()
}
