//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/protocol"
)

// TestDaemonKilledMidPushConverges: odod serve is killed with SIGKILL while
// a watch's push runs its build (files sent, index not yet confirmed). The
// next odod serve resumes the workspace's watch from the persisted index,
// and the container ends up equal to the workspace: the index never claims
// what the container does not hold.
func TestDaemonKilledMidPushConverges(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-kill")
	ws := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "nodejs-app"), ws)
	cl, err := cluster.Connect(context.Background(), cluster.Options{Kubeconfig: c.Kubeconfig, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	open := func() (*editor, string) {
		e := startOdod(t, c.Kubeconfig)
		e.mustCall(30*time.Second, protocol.MethodInitialize, protocol.InitializeParams{
			InitializationOptions: &protocol.InitializationOptions{Namespace: ns, LogLevel: "debug"},
		}, nil)
		_ = e.conn.Notify(context.Background(), protocol.MethodInitialized, struct{}{})
		var opened protocol.WorkspaceOpenResult
		e.mustCall(time.Minute, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: (&url.URL{Scheme: "file", Path: ws}).String()}, &opened)
		return e, opened.WorkspaceID
	}

	first, wsID := open()
	first.mustCall(time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{
		WorkspaceID: wsID, Type: "nodejs", Name: "killed", Ports: []string{"8080"},
	}, nil)
	first.mustCall(time.Minute, protocol.MethodWatchStart, protocol.WatchStartParams{WorkspaceID: wsID}, nil)
	pod := converge(t, first, cl, wsID, ws, "killed", 10*time.Minute)

	// A change whose push is killed in its build.
	mark := first.mark()
	for i := range 100 {
		writeWorkspaceFile(t, ws, fmt.Sprintf("lib/extra/e%03d.js", i), fmt.Sprintf("module.exports = %d;\n", i))
	}
	writeWorkspaceFile(t, ws, "lib/greeting.js", "exports.greeting = () => 'Hello after a SIGKILL';\n")
	first.waitFor(mark, protocol.MethodPushProgress, 2*time.Minute, func(raw json.RawMessage) bool {
		var p protocol.PushProgressParams
		return json.Unmarshal(raw, &p) == nil && p.Phase == protocol.PhaseBuild
	})
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	// Another daemon: the watch resumes and the container converges.
	second, wsID2 := open()
	if w := second.watchStatus(wsID2); !w.Active {
		t.Fatalf("the watch was not resumed after the daemon was killed: %+v", w)
	}
	if got := converge(t, second, cl, wsID2, ws, "killed", 5*time.Minute); got != pod {
		t.Logf("converged on another pod (%s, was %s)", got, pod)
	}
	var pf protocol.PortForwardResult
	second.mustCall(time.Minute, protocol.MethodPortForward, protocol.PortForwardParams{WorkspaceID: wsID2, RemotePort: 8080}, &pf)
	get(t, "http://"+pf.Address+"/", "Hello after a SIGKILL", 2*time.Minute)
	second.mustCall(3*time.Minute, protocol.MethodComponentDelete, protocol.ComponentDeleteParams{WorkspaceID: wsID2}, nil)
}
