//go:build integration

package e2e

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odod-dev/odod/internal/testcluster"
	"github.com/odod-dev/odod/protocol"
)

// jdwpHandshake is JDWP's handshake: the debugger sends it, the JVM
// answers with the same 14 bytes.
const jdwpHandshake = "JDWP-Handshake"

// handshakeJDWP does the JDWP handshake at addr, retrying until timeout
// (the JVM starts after the build).
func handshakeJDWP(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err == nil {
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			_, err = conn.Write([]byte(jdwpHandshake))
			if err == nil {
				buf := make([]byte, len(jdwpHandshake))
				_, err = io.ReadFull(conn, buf)
				if err == nil && string(buf) == jdwpHandshake {
					_ = conn.Close()
					return
				}
				if err == nil {
					err = &net.AddrError{Err: "answered " + string(buf), Addr: addr}
				}
			}
			_ = conn.Close()
		}
		last = err.Error()
		time.Sleep(time.Second)
	}
	t.Fatalf("JDWP handshake at %s: %s", addr, last)
}

// TestJavaComponentAndDebug: a Java component from sources is built with
// javac by the local Java builder, answers over HTTP, and odod/debug/start
// returns a Java attach through which the JVM answers the JDWP handshake.
func TestJavaComponentAndDebug(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-java")
	e := initialized(t, c.Kubeconfig, ns)

	dir := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "java-hello"), dir)
	ws := e.open(dir)
	var catalog protocol.CatalogListResult
	e.mustCall(time.Minute, protocol.MethodCatalogList, protocol.CatalogListParams{WorkspaceID: ws}, &catalog)
	found := false
	for _, ty := range catalog.Types {
		found = found || ty.Name == "java"
	}
	if !found {
		t.Fatalf("catalog = %+v, want java", catalog.Types)
	}
	e.mustCall(time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{WorkspaceID: ws, Type: "java", Name: "jhello", Ports: []string{"8080"}}, nil)
	var res protocol.PushResult
	e.mustCall(10*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: ws}, &res)
	if res.BuildExitCode == nil || *res.BuildExitCode != 0 {
		t.Fatalf("push = %+v", res)
	}
	var pf protocol.PortForwardResult
	e.mustCall(time.Minute, protocol.MethodPortForward, protocol.PortForwardParams{WorkspaceID: ws, RemotePort: 8080}, &pf)
	get(t, "http://"+pf.Address+"/", "Hello from Java v1", 2*time.Minute)

	var s protocol.DebugSession
	e.mustCall(time.Minute, protocol.MethodDebugStart, protocol.DebugStartParams{WorkspaceID: ws}, &s)
	if s.Language != "java" || s.JDWP == nil || s.JDWP.Port != s.LocalPort || s.Launch.Type != "java" || s.Launch.HostName != "127.0.0.1" || s.Launch.Port != s.LocalPort {
		t.Fatalf("debug/start = %+v", s)
	}
	handshakeJDWP(t, s.Address, 2*time.Minute)
}

// buildJar compiles testdata/java-hello with greeting into dir/target/app.jar
// with this machine's JDK.
func buildJar(t *testing.T, dir, greeting string) {
	t.Helper()
	src := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "java-hello"), src)
	gfile := filepath.Join(src, "src", "main", "java", "hello", "Greeting.java")
	b, err := os.ReadFile(gfile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gfile, []byte(strings.Replace(string(b), "Hello from Java v1", greeting, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	classes := filepath.Join(src, "classes")
	javac := exec.Command("javac", "-d", classes, filepath.Join(src, "src", "main", "java", "hello", "Main.java"), gfile)
	if out, err := javac.CombinedOutput(); err != nil {
		t.Fatalf("javac (the test builds the JAR with this machine's JDK): %v\n%s", err, out)
	}
	if err := os.MkdirAll(filepath.Join(dir, "target"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(src, "app.jar")
	jar := exec.Command("jar", "--create", "--file", tmp, "--main-class", "hello.Main", "-C", classes, ".")
	if out, err := jar.CombinedOutput(); err != nil {
		t.Fatalf("jar: %v\n%s", err, out)
	}
	body, err := os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "target", "app.jar"), body, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestJavaBinaryComponent: a binary component pushes its JAR alone, only
// when it changed, and the new JAR is the one that runs.
func TestJavaBinaryComponent(t *testing.T) {
	c := testcluster.Require(t)
	ns := c.Namespace(t, "odod-jar")
	e := initialized(t, c.Kubeconfig, ns)

	dir := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata", "java-hello"), dir)
	buildJar(t, dir, "Hello from a JAR v1")
	ws := e.open(dir)
	e.mustCall(time.Minute, protocol.MethodComponentCreate, protocol.ComponentCreateParams{
		WorkspaceID: ws, Type: "java", Name: "jar", Ports: []string{"8080"}, Binary: "target/app.jar",
	}, nil)
	push := func() protocol.PushResult {
		t.Helper()
		var res protocol.PushResult
		e.mustCall(10*time.Minute, protocol.MethodPush, protocol.PushParams{WorkspaceID: ws}, &res)
		return res
	}
	if res := push(); res.FilesCopied != 1 || res.BuildExitCode == nil || *res.BuildExitCode != 0 {
		t.Fatalf("first push of the binary component = %+v, want the JAR alone", res)
	}
	var pf protocol.PortForwardResult
	e.mustCall(time.Minute, protocol.MethodPortForward, protocol.PortForwardParams{WorkspaceID: ws, RemotePort: 8080}, &pf)
	get(t, "http://"+pf.Address+"/", "Hello from a JAR v1", 2*time.Minute)

	// Sources edited, JAR not rebuilt: nothing to push.
	writeWorkspaceFile(t, dir, "src/main/java/hello/Greeting.java", "// edited\n")
	if res := push(); res.FilesCopied != 0 || res.BuildExitCode != nil {
		t.Fatalf("push without a new JAR = %+v, want nothing sent and no build", res)
	}
	buildJar(t, dir, "Hello from a JAR v2")
	if res := push(); res.FilesCopied != 1 || res.BuildExitCode == nil || *res.BuildExitCode != 0 {
		t.Fatalf("push of a new JAR = %+v", res)
	}
	get(t, "http://"+pf.Address+"/", "Hello from a JAR v2", 2*time.Minute)
}
