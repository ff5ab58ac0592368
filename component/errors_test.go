package component

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/protocol"
)

// TestForbiddenExecIsUnauthorized: a namespace-scoped user without
// create on pods/exec (TestNamespaceScopedUser) got SyncFailed, which the
// watch retries forever; it is Unauthorized, not retried, and the message
// keeps the cluster's words naming the permission.
func TestForbiddenExecIsUnauthorized(t *testing.T) {
	forbidden := &cluster.Error{Kind: cluster.KindUnauthorized, Reason: "Forbidden", Message: "exec /opt/odo/bin/agent in p/c: not allowed",
		Err: errors.New(`pods "p" is forbidden: User "u" cannot create resource "pods/exec" in API group "" in the namespace "ns"`)}
	err := syncFailed(fmt.Errorf("start the odod agent in the container: %w", forbidden))
	coded := Coded(err)
	if coded.Code != protocol.CodeUnauthorized || retryable(err) {
		t.Fatalf("forbidden exec: code %d, retryable %v; want %d, not retried", coded.Code, retryable(err), protocol.CodeUnauthorized)
	}
	if want := `cannot create resource "pods/exec"`; !strings.Contains(coded.Message, want) {
		t.Fatalf("message %q does not name the permission (%s)", coded.Message, want)
	}
	// Other stream failures stay SyncFailed, retried.
	if err := syncFailed(errors.New("agent stream broken")); Coded(err).Code != protocol.CodeSyncFailed || !retryable(err) {
		t.Fatalf("a broken stream: %v", err)
	}
}
