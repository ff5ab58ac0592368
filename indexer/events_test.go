package indexer

import (
	"fmt"
	"testing"
	"time"
)

// A batch of an editor's save (at most four paths) is due after the settle
// window; a bigger one, or lost events, after the quiet window; any after
// maxDelay from its first event at the latest.
func TestQueueDueSettlesSmallBatches(t *testing.T) {
	w := windows{quiet: 50 * time.Millisecond, settle: 15 * time.Millisecond, maxDelay: time.Second}
	q := newEventQueue()
	if _, ok := q.due(w); ok {
		t.Fatal("an empty queue is due")
	}
	for i := range smallBatch {
		q.add(fmt.Sprintf("f%d", i), evWrite)
	}
	at, ok := q.due(w)
	if !ok || at != q.last.Add(w.settle) {
		t.Fatalf("%d paths: due %v (last event %v), want after the settle window", smallBatch, at, q.last)
	}
	q.add("one-more", evWrite)
	if at, _ := q.due(w); at != q.last.Add(w.quiet) {
		t.Fatalf("%d paths: due %v, want after the quiet window", smallBatch+1, at)
	}
	q.take()
	q.addOverflow()
	if at, _ := q.due(w); at != q.last.Add(w.quiet) {
		t.Fatalf("lost events: due %v, want after the quiet window", at)
	}
	q.take()
	q.add("a", evWrite)
	q.first = q.last.Add(-time.Second)
	if at, _ := q.due(w); at != q.first.Add(w.maxDelay) {
		t.Fatalf("a batch begun a second ago: due %v, want at maxDelay", at)
	}
}
