//go:build linux

package initimage

import (
	"errors"
	"fmt"
	"github.com/odod-dev/odod/internal/lockedbuf"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The scripts run here outside a container, in a sandbox laid out like the
// app container (ODOD_INIT_DIR and ODOD_APP_ROOT relocate /opt/odo and
// /opt/app-root), with the real odod-init binary: go-init runs s2i-setup
// and supervisord, and assemble-and-restart is run as odod runs it.

type sandbox struct {
	t       *testing.T
	odo     string // /opt/odo
	appRoot string // /opt/app-root
	src     string // the push target ($ODO_S2I_SRC_BIN_PATH/src)
	work    string // the working dir
	env     []string
	logs    *lockedbuf.Buffer // the container log
	init    *exec.Cmd
	exited  chan error
}

func newSandbox(t *testing.T, builderImage string, extraEnv ...string) *sandbox {
	t.Helper()
	base := t.TempDir()
	s := &sandbox{
		t: t, odo: filepath.Join(base, "odo"), appRoot: filepath.Join(base, "app-root"),
		src: filepath.Join(base, "tmp", "src"), logs: &lockedbuf.Buffer{}, exited: make(chan error, 1),
	}
	s.work = filepath.Join(s.appRoot, "src")
	if err := WriteTree(s.odo, binary(t)); err != nil {
		t.Fatal(err)
	}
	// A fake S2I builder: its assemble moves the sources (as sclorg's do)
	// and fails when the sources hold a file named FAIL.
	scripts := filepath.Join(base, "s2i")
	writeScript(t, filepath.Join(scripts, "assemble"), `
echo "---> builder assemble"
mv "$ODO_S2I_SRC_BIN_PATH"/src/* ./
if [ -e FAIL ]; then echo "compile error in $(cat FAIL)" >&2; exit 4; fi
echo assembled`)
	writeScript(t, filepath.Join(scripts, "run"), `exec sh ./app.sh`)
	s.env = append(os.Environ(),
		"ODOD_INIT_DIR="+s.odo, "ODOD_APP_ROOT="+s.appRoot,
		"ODO_S2I_SRC_BIN_PATH="+filepath.Dir(s.src), "ODO_S2I_WORKING_DIR="+s.work,
		"ODO_S2I_SCRIPTS_URL=image://"+scripts, "ODO_S2I_SCRIPTS_PROTOCOL=image://",
		"ODO_S2I_BUILDER_IMG="+builderImage, "ODO_SRC_BACKUP_DIR="+filepath.Join(s.appRoot, "src-backup"))
	s.env = append(s.env, extraEnv...)
	if err := os.MkdirAll(s.work, 0o755); err != nil { // the builder image has its working dir
		t.Fatal(err)
	}
	return s
}

func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\nset -e\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// start runs the app container's command.
func (s *sandbox) start() {
	s.t.Helper()
	bin := filepath.Join(s.odo, "bin")
	s.init = exec.Command(filepath.Join(bin, "go-init"), "-pre", filepath.Join(bin, "s2i-setup"),
		"-main", filepath.Join(bin, "supervisord")+" -c "+filepath.Join(s.appRoot, "conf", "supervisor.conf"))
	s.init.Env, s.init.Stdout, s.init.Stderr = s.env, s.logs, s.logs
	if err := s.init.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { s.exited <- s.init.Wait() }()
	s.t.Cleanup(func() {
		_ = s.init.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			_ = s.init.Process.Kill()
			s.t.Error("go-init did not stop on SIGTERM")
		}
	})
	s.eventually("the supervisor's control socket", func() bool {
		code, _ := s.exec("supervisord", "ctl", "-c", filepath.Join(s.appRoot, "conf", "supervisor.conf"), "status")
		return code == 0 || code == 3
	})
}

// exec runs one of /opt/odo/bin's commands as `kubectl exec` would.
func (s *sandbox) exec(name string, args ...string) (int, string) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(s.odo, "bin", name), args...)
	cmd.Env, cmd.Dir = s.env, s.work
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), string(out)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return 0, string(out)
}

func (s *sandbox) status() string {
	_, out := s.exec("supervisord", "ctl", "-c", filepath.Join(s.appRoot, "conf", "supervisor.conf"), "status", "run")
	return out
}

var pidPattern = regexp.MustCompile(`RUNNING\s+pid (\d+)`)

// runningPID is the app's pid once it is RUNNING (a restart answers while
// it is STARTING, before startsecs), or 0 when it does not get there.
func (s *sandbox) runningPID() int {
	st := s.status()
	for deadline := time.Now().Add(20 * time.Second); strings.Contains(st, "STARTING") && time.Now().Before(deadline); st = s.status() {
		time.Sleep(50 * time.Millisecond)
	}
	m := pidPattern.FindStringSubmatch(st)
	if m == nil {
		return 0
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

func (s *sandbox) eventually(what string, cond func() bool) {
	s.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; container log:\n%s", what, s.logs.String())
		}
	}
}

func (s *sandbox) push(files map[string]string) {
	s.t.Helper()
	for name, content := range files {
		p := filepath.Join(s.src, name)
		if content == "" {
			_ = os.Remove(p)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

func TestScriptsWithBuilderAssemble(t *testing.T) {
	s := newSandbox(t, "centos/python-36-centos7") // no language scripts: the builder's own
	s.start()
	if conf, err := os.ReadFile(filepath.Join(s.appRoot, "conf", "supervisor.conf")); err != nil || !strings.Contains(string(conf), "autostart=false") {
		t.Fatalf("s2i-setup did not install the configuration: %v", err)
	}
	if st := s.status(); !strings.Contains(st, "STOPPED") {
		t.Fatalf("run started before the first build: %s", st)
	}

	s.push(map[string]string{"app.sh": "echo \"app $(cat version.txt) pid $$\"\nexec sleep 60\n", "version.txt": "v1", "old.txt": "stale"})
	code, out := s.exec("assemble-and-restart")
	if code != 0 || !strings.Contains(out, "builder assemble") || !strings.Contains(out, "assembled") || !strings.Contains(out, "run: started") {
		t.Fatalf("first build: exit %d\n%s", code, out)
	}
	s.eventually("app v1 in the container log", func() bool { return strings.Contains(s.logs.String(), "app v1 pid") })
	if _, err := os.Stat(filepath.Join(s.src, "app.sh")); err != nil {
		t.Errorf("the push target was not restored after the builder moved the sources: %v", err)
	}
	if conf, _ := os.ReadFile(filepath.Join(s.appRoot, "conf", "supervisor.conf")); !strings.Contains(string(conf), "autostart=true") {
		t.Error("autostart not switched on after the first build")
	}
	first := s.runningPID()
	if first == 0 {
		t.Fatalf("run not running: %s", s.status())
	}

	// A failing build: non-zero exit with the builder's output; the app keeps running.
	s.push(map[string]string{"version.txt": "v2", "old.txt": "", "FAIL": "main.py"})
	code, out = s.exec("assemble-and-restart")
	if code != 4 || !strings.Contains(out, "compile error in main.py") || !strings.Contains(out, "the build failed") {
		t.Fatalf("failing build: exit %d\n%s", code, out)
	}
	if pid := s.runningPID(); pid != first {
		t.Fatalf("a failed build restarted the app (%d -> %d)", first, pid)
	}

	s.push(map[string]string{"FAIL": ""})
	if code, out = s.exec("assemble-and-restart"); code != 0 {
		t.Fatalf("fixed build: exit %d\n%s", code, out)
	}
	s.eventually("app v2", func() bool { return strings.Contains(s.logs.String(), "app v2 pid") })
	second := s.runningPID()
	if second == 0 || second == first {
		t.Fatalf("app not restarted by the build: %d -> %d", first, second)
	}
	if _, err := os.Stat(filepath.Join(s.work, "old.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file deleted from the sources is still in the working dir: %v", err)
	}

	// The app crashes: the supervisor restarts it.
	if err := syscall.Kill(second, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.eventually("the app restarted after a crash", func() bool {
		pid := s.runningPID()
		return pid != 0 && pid != second
	})
	if n := strings.Count(s.logs.String(), "app v2 pid"); n != 2 {
		t.Errorf("app v2 started %d times, want 2", n)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestScriptsWithNodejsLanguageScripts(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed on this machine; the cluster test covers the Node.js builder")
	}
	port := freePort(t)
	s := newSandbox(t, "odod/nodejs-builder", fmt.Sprintf("DEBUG_PORT=%d", port), "npm_config_cache="+filepath.Join(t.TempDir(), "npm-cache"), "npm_config_offline=true")
	s.start()
	s.push(map[string]string{
		"package.json": `{"name":"demo","version":"1.0.0","scripts":{"start":"node server.js"}}`,
		"server.js":    `console.log("node app " + require("./version.json").v); setInterval(() => {}, 1000);`,
		"version.json": `{"v":"one"}`,
	})
	code, out := s.exec("assemble-and-restart")
	if code != 0 || !strings.Contains(out, "language-scripts/nodejs/dev-assemble") || !strings.Contains(out, "npm install") {
		t.Fatalf("first build: exit %d\n%s", code, out)
	}
	s.eventually("node app one", func() bool { return strings.Contains(s.logs.String(), "node app one") })
	if !strings.Contains(s.logs.String(), "Running node directly: node --inspect="+strconv.Itoa(port)+" server.js") {
		t.Errorf("a plain `node server.js` start script did not run node directly:\n%s", s.logs.String())
	}
	s.eventually("the inspector on DEBUG_PORT", func() bool {
		return strings.Contains(s.logs.String(), fmt.Sprintf("Debugger listening on ws://127.0.0.1:%d/", port))
	})

	s.push(map[string]string{"version.json": `{"v":"two"}`})
	code, out = s.exec("assemble-and-restart")
	if code != 0 || !strings.Contains(out, "package.json unchanged: skipping npm install") {
		t.Fatalf("second build: exit %d\n%s", code, out)
	}
	s.eventually("node app two", func() bool { return strings.Contains(s.logs.String(), "node app two") })

	s.push(map[string]string{"package.json": `{"name":"demo","version":"1.0.1","scripts":{"start":"node server.js"}}`})
	if code, out = s.exec("assemble-and-restart"); code != 0 || !strings.Contains(out, "(npm install)") {
		t.Fatalf("build after a package.json change: exit %d\n%s", code, out)
	}
}

// appHelperEnv makes the test binary the fake Node.js app of the
// incremental tests: it listens on the port it names and serves until
// killed.
const appHelperEnv = "ODOD_SCRIPTS_TEST_LISTEN"

func TestMain(m *testing.M) {
	if port := os.Getenv(appHelperEnv); port != "" {
		l, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake app:", err)
			os.Exit(1)
		}
		for {
			conn, err := l.Accept()
			if err != nil {
				os.Exit(1)
			}
			_ = conn.Close()
		}
	}
	os.Exit(m.Run())
}

// execEnv is exec with the environment odod adds to the Run request.
func (s *sandbox) execEnv(env []string, name string, args ...string) (int, string) {
	s.t.Helper()
	saved := s.env
	s.env = append(append([]string(nil), s.env...), env...)
	defer func() { s.env = saved }()
	return s.exec(name, args...)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestScriptsIncrementalNodejs runs the Node.js language scripts with a
// fake npm (logging its calls; `npm run` starts a fake app that listens on
// the component's port) and a `find` that logs that it was called, and
// checks that a push with odod's change lists costs what it changed.
func TestScriptsIncrementalNodejs(t *testing.T) {
	port := freePort(t)
	fake := t.TempDir()
	npmLog, findLog := filepath.Join(fake, "npm.log"), filepath.Join(fake, "find.log")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	realFind, err := exec.LookPath("find")
	if err != nil {
		t.Fatal(err)
	}
	writeScript(t, filepath.Join(fake, "npm"), fmt.Sprintf(`
echo "npm $*" >>%q
case "$1" in
install) mkdir -p node_modules ;;
run)
	[ "$2" = -d ] && shift
	[ "$2" = build ] && exit 0
	echo "fake node app $(cat lib/version.js) pid $$"
	%s=%d exec %q ;;
esac`, npmLog, appHelperEnv, port, self))
	writeScript(t, filepath.Join(fake, "find"), fmt.Sprintf(`echo "find $*" >>%q; exec %q "$@"`, findLog, realFind))
	// ODOD_NPM_START: the app is started by (the fake) npm, not node.
	s := newSandbox(t, "odod/nodejs-builder", "PATH="+fake+":"+os.Getenv("PATH"), "ODOD_NPM_START=true")
	s.start()
	ports := fmt.Sprintf("ODOD_APP_PORTS=%d", port)
	npmCalls := func(verb string) int {
		b, _ := os.ReadFile(npmLog)
		return strings.Count(string(b), "npm "+verb)
	}
	findCalled := func() string {
		b, _ := os.ReadFile(findLog)
		_ = os.Remove(findLog)
		return string(b)
	}

	// The first push: no lists, everything is copied and installed.
	s.push(map[string]string{
		"package.json":     `{"name":"demo","scripts":{"start":"node server.js"}}`,
		"server.js":        "require('./lib/version')",
		"lib/version.js":   "v1",
		"public/style.css": "body{}",
		"untouched.txt":    "from the workspace",
	})
	code, out := s.execEnv([]string{ports}, "assemble-and-restart")
	if code != 0 || !strings.Contains(out, "Installing application source") || !strings.Contains(out, fmt.Sprintf("run: accepting connections on port %d", port)) {
		t.Fatalf("first build: exit %d\n%s", code, out)
	}
	if npmCalls("install") != 1 {
		t.Fatalf("npm install ran %d times on the first build", npmCalls("install"))
	}
	if findCalled() == "" {
		t.Error("the first (full) build did not list the sources: deletions since the last build would be missed")
	}
	first := s.runningPID()

	// A one-file change: only that file reaches the working dir (a change
	// made to another file there survives), no npm install, no find, a
	// restart that returns when the app accepts connections again.
	if err := os.WriteFile(filepath.Join(s.work, "untouched.txt"), []byte("left alone"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.push(map[string]string{"lib/version.js": "v2"})
	code, out = s.execEnv([]string{ports, "ODOD_PUSH_INCREMENTAL=true", "ODOD_PUSH_CHANGED=lib/version.js"}, "assemble-and-restart")
	if code != 0 || !strings.Contains(out, "Installing changed sources") || !strings.Contains(out, "skipping npm install") ||
		!strings.Contains(out, fmt.Sprintf("run: accepting connections on port %d", port)) {
		t.Fatalf("one-file build: exit %d\n%s", code, out)
	}
	if got := readFile(t, filepath.Join(s.work, "lib/version.js")); got != "v2" {
		t.Errorf("the changed file in the working dir: %q", got)
	}
	if got := readFile(t, filepath.Join(s.work, "untouched.txt")); got != "left alone" {
		t.Errorf("a file that did not change was copied again: %q", got)
	}
	if npmCalls("install") != 1 {
		t.Error("npm install ran for a source change")
	}
	if f := findCalled(); f != "" {
		t.Errorf("an incremental build walked the sources: %s", f)
	}
	second := s.runningPID()
	if second == 0 || second == first {
		t.Errorf("the app was not restarted for a .js change (%d -> %d)", first, second)
	}
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		t.Fatalf("assemble-and-restart returned before the app accepted connections: %v", err)
	}
	_ = conn.Close()

	// A deletion removes the file from the working dir, without a walk.
	if err := os.Remove(filepath.Join(s.src, "untouched.txt")); err != nil {
		t.Fatal(err)
	}
	code, out = s.execEnv([]string{ports, "ODOD_PUSH_INCREMENTAL=true", "ODOD_PUSH_DELETED=untouched.txt"}, "assemble-and-restart")
	if code != 0 {
		t.Fatalf("build after a deletion: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(s.work, "untouched.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a deleted file is still in the working dir: %v", err)
	}
	if f := findCalled(); f != "" {
		t.Errorf("a deletion walked the sources: %s", f)
	}

	// A static asset the app reads per request: copied, no restart.
	before := s.runningPID()
	s.push(map[string]string{"public/style.css": "body{color:red}", "public/img/new.svg": "<svg/>"})
	code, out = s.execEnv([]string{ports, "ODOD_PUSH_INCREMENTAL=true", "ODOD_PUSH_CHANGED=public/style.css\npublic/img/new.svg"}, "assemble-and-restart")
	if code != 0 || !strings.Contains(out, "not restarting") {
		t.Fatalf("build of static assets: exit %d\n%s", code, out)
	}
	if got := readFile(t, filepath.Join(s.work, "public/img/new.svg")); got != "<svg/>" {
		t.Errorf("a new static asset in the working dir: %q", got)
	}
	if pid := s.runningPID(); pid != before {
		t.Errorf("a public/ change restarted the app (%d -> %d)", before, pid)
	}

	// package.json changed: npm install runs, the app restarts.
	s.push(map[string]string{"package.json": `{"name":"demo","version":"2.0.0","scripts":{"start":"node server.js"}}`})
	code, out = s.execEnv([]string{ports, "ODOD_PUSH_INCREMENTAL=true", "ODOD_PUSH_CHANGED=package.json"}, "assemble-and-restart")
	if code != 0 || !strings.Contains(out, "(npm install)") || npmCalls("install") != 2 {
		t.Fatalf("build after a package.json change: exit %d, %d installs\n%s", code, npmCalls("install"), out)
	}
	if pid := s.runningPID(); pid == before {
		t.Error("a package.json change did not restart the app")
	}

	// A path that climbs out of the sources is refused before anything runs.
	code, out = s.execEnv([]string{"ODOD_PUSH_INCREMENTAL=true", "ODOD_PUSH_DELETED=../../etc"}, "assemble-and-restart")
	if code != 2 || !strings.Contains(out, "not a clean relative path") {
		t.Errorf("a listed path with ..: exit %d\n%s", code, out)
	}

	// A file added by an incremental push and deleted while the container
	// was replaced is gone after the resync's full build.
	s.push(map[string]string{"extra.js": "x", "newdir/inner.js": "y"})
	if code, out = s.execEnv([]string{ports, "ODOD_PUSH_INCREMENTAL=true", "ODOD_PUSH_CHANGED=extra.js\nnewdir\nnewdir/inner.js"}, "assemble-and-restart"); code != 0 {
		t.Fatalf("build adding extra.js: exit %d\n%s", code, out)
	}
	if err := os.Remove(filepath.Join(s.src, "extra.js")); err != nil {
		t.Fatal(err)
	}
	if code, out = s.execEnv([]string{ports}, "assemble-and-restart"); code != 0 {
		t.Fatalf("full build: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(s.work, "extra.js")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file added incrementally and deleted before a full build is still in the working dir: %v", err)
	}
	if got := readFile(t, filepath.Join(s.work, "newdir/inner.js")); got != "y" {
		t.Errorf("newdir/inner.js after the full build: %q", got)
	}
}

func TestScriptsRestartFailsWhenTheAppDoesNotListen(t *testing.T) {
	s := newSandbox(t, "centos/python-36-centos7")
	s.start()
	s.push(map[string]string{"app.sh": "echo no port here; exec sleep 60\n"})
	port := freePort(t)
	code, out := s.execEnv([]string{fmt.Sprintf("ODOD_APP_PORTS=%d", port), "ODOD_READY_TIMEOUT=500ms"}, "assemble-and-restart")
	if code == 0 || !strings.Contains(out, fmt.Sprintf("did not accept connections on port %d within 500ms", port)) {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// TestScriptsNodejsStandby runs the Node.js scripts with the real node:
// after the first build the supervisor keeps a standby node waiting (its
// preload holds it before the app's main module); an incremental push
// restarts into it, and it serves the pushed files, with the inspector
// open; a package.json change restarts with a fresh process instead.
func TestScriptsNodejsStandby(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed on this machine; the cluster tests cover the Node.js builder")
	}
	appPort, debugPort := freePort(t), freePort(t)
	fake := t.TempDir()
	writeScript(t, filepath.Join(fake, "npm"), `[ "$1" = install ] && mkdir -p node_modules; exit 0`)
	s := newSandbox(t, "odod/nodejs-builder", "PATH="+fake+":"+os.Getenv("PATH"),
		fmt.Sprintf("APP_PORT=%d", appPort), fmt.Sprintf("DEBUG_PORT=%d", debugPort))
	s.start()
	ports := fmt.Sprintf("ODOD_APP_PORTS=%d", appPort)
	s.push(map[string]string{
		"package.json": `{"name":"demo","scripts":{"start":"node server.js"}}`,
		"server.js": `const v = require('./lib/v');
require('http').createServer((q, r) => r.end(v + ' ' + process.pid)).listen(Number(process.env.APP_PORT), '127.0.0.1');`,
		"lib/v.js": "module.exports = 'v1';",
	})
	if code, out := s.execEnv([]string{ports}, "assemble-and-restart"); code != 0 {
		t.Fatalf("first build: exit %d\n%s", code, out)
	}
	answer := func() (string, int) {
		t.Helper()
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", appPort))
		if err != nil {
			t.Fatalf("the app after the restart returned: %v\n%s", err, s.logs.String())
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		v, pid, _ := strings.Cut(string(body), " ")
		n, _ := strconv.Atoi(pid)
		return v, n
	}
	standbyPattern := regexp.MustCompile(`standby pid (\d+)`)
	standby := func() int {
		t.Helper()
		var pid int
		s.eventually("a standby process", func() bool {
			m := standbyPattern.FindStringSubmatch(s.status())
			if m == nil {
				return false
			}
			pid, _ = strconv.Atoi(m[1])
			return true
		})
		return pid
	}
	if v, _ := answer(); v != "v1" {
		t.Fatalf("first answer %q", v)
	}
	waiting := standby()
	inspectors := func() int {
		return strings.Count(s.logs.String(), fmt.Sprintf("Debugger listening on ws://127.0.0.1:%d/", debugPort))
	}
	s.eventually("the inspector of the first process", func() bool { return inspectors() == 1 })

	s.push(map[string]string{"lib/v.js": "module.exports = 'v2';"})
	code, out := s.execEnv([]string{ports, "ODOD_PUSH_INCREMENTAL=true", "ODOD_PUSH_CHANGED=lib/v.js"}, "assemble-and-restart")
	if code != 0 {
		t.Fatalf("incremental build: exit %d\n%s", code, out)
	}
	if v, pid := answer(); v != "v2" || pid != waiting {
		t.Fatalf("after an incremental push: answer %q from pid %d, want v2 from the standby %d\n%s", v, pid, waiting, s.logs.String())
	}
	s.eventually("the standby's inspector, opened after the handover", func() bool { return inspectors() == 2 })

	waiting = standby()
	s.push(map[string]string{"package.json": `{"name":"demo","version":"2.0.0","scripts":{"start":"node server.js"}}`})
	code, out = s.execEnv([]string{ports, "ODOD_PUSH_INCREMENTAL=true", "ODOD_PUSH_CHANGED=package.json"}, "assemble-and-restart")
	if code != 0 {
		t.Fatalf("build after a package.json change: exit %d\n%s", code, out)
	}
	if v, pid := answer(); v != "v2" || pid == waiting || pid == 0 {
		t.Fatalf("after a package.json change: answer %q from pid %d; the standby %d must not be used", v, pid, waiting)
	}
}
