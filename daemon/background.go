package daemon

// The background daemon. A terminal's `odod push` in a folder that no
// editor's odod serve has open starts one for the folder (as Gradle's and
// Bazel's clients start their servers, or gopls -remote=auto), so that its
// later pushes are handed to a process that already watches the folder and
// is connected, like an editor's: a push then costs the change, not a walk
// of the tree, an index file and new connections.
//
// A background daemon is an odod serve with no editor: RunBackground drives
// a Server through an in-memory connection (initialize, then
// odod/workspace/open of the one folder) and serves the folder's workspace
// socket under a tag (BackgroundTag) that names what it was started with:
// the odod binary, the kubeconfig files and the environment that choose the
// cluster. It ends by itself when
//   - no push came for the idle time,
//   - its socket was removed (odod daemon stop) or taken over,
//   - an editor's odod serve opened the folder (pushes go there now),
//   - what it was started with changed (a new odod, an oc login): a
//     terminal then computes another tag and starts a fresh daemon,
//   - the folder is gone.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/odod-dev/odod/initimage"
	"github.com/odod-dev/odod/protocol"
)

// BackgroundIdleEnv sets how long a background daemon waits for a push
// before it ends (a Go duration); 0 means odod push starts none.
const BackgroundIdleEnv = "ODOD_BACKGROUND_IDLE"

// DefaultBackgroundIdle is a background daemon's idle time when
// BackgroundIdleEnv is unset: a lunch break, not a night.
const DefaultBackgroundIdle = 30 * time.Minute

// BackgroundIdle reads BackgroundIdleEnv: the idle time, 0 for "start no
// background daemon", or an error saying what to write.
func BackgroundIdle() (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(BackgroundIdleEnv))
	switch v {
	case "":
		return DefaultBackgroundIdle, nil
	case "0", "off":
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: write a duration such as 30m, or 0 for no background daemon", BackgroundIdleEnv, v)
	}
	return d, nil
}

// BackgroundTag names what a background daemon started in this
// environment would push with: this odod binary (path, size and time) and
// the settings that choose and reach the cluster (KUBECONFIG and the
// kubeconfig files' size and time, the init image, the proxies). A
// terminal only hands its push to a daemon of its own tag; a daemon whose
// tag no longer matches its environment ends.
func BackgroundTag() string {
	h := sha256.New()
	if exe, err := os.Executable(); err == nil {
		stamp(h, "exe", exe)
	}
	for _, name := range []string{initimage.EnvImage,
		"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"} {
		fmt.Fprintf(h, "env %s=%s\n", name, os.Getenv(name))
	}
	files := filepath.SplitList(absKubeconfig(os.Getenv(clientcmd.RecommendedConfigPathEnvVar)))
	if len(files) == 0 {
		files = []string{clientcmd.RecommendedHomeFile}
	}
	for _, f := range files {
		if f != "" {
			stamp(h, "kubeconfig", f)
		}
	}
	return "bg-" + hex.EncodeToString(h.Sum(nil)[:5])
}

// BackgroundEnv is the environment to start a background daemon with:
// this one, with KUBECONFIG's files made absolute, since the daemon runs
// in another directory (and its tag must name the same files).
func BackgroundEnv() []string {
	env := os.Environ()
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, clientcmd.RecommendedConfigPathEnvVar+"="); ok {
			env[i] = clientcmd.RecommendedConfigPathEnvVar + "=" + absKubeconfig(v)
		}
	}
	return env
}

// absKubeconfig makes each file of a KUBECONFIG list absolute.
func absKubeconfig(list string) string {
	files := filepath.SplitList(list)
	for i, f := range files {
		if f == "" {
			continue
		}
		if abs, err := filepath.Abs(f); err == nil {
			files[i] = abs
		}
	}
	return strings.Join(files, string(filepath.ListSeparator))
}

// stamp writes a file's identity (path, size, modification time) to h.
func stamp(h hash.Hash, what, path string) {
	if info, err := os.Stat(path); err == nil {
		fmt.Fprintf(h, "%s %s %d %d\n", what, path, info.Size(), info.ModTime().UnixNano())
		return
	}
	fmt.Fprintf(h, "%s %s missing\n", what, path)
}

// BackgroundSockets lists the sockets of the background daemons that serve
// the folder at root (any tag), or of every folder when root is "".
func BackgroundSockets(socketDir, root string) ([]string, error) {
	prefix := "ws-*"
	if root != "" {
		canonical, err := CanonicalRoot(root)
		if err != nil {
			return nil, err
		}
		prefix = workspaceID(canonical)
	}
	return filepath.Glob(filepath.Join(socketDir, prefix+"-bg-*.sock"))
}

// BackgroundOptions configure RunBackground.
type BackgroundOptions struct {
	// Root is the folder to serve.
	Root string
	// SocketDir is where its socket goes (DefaultSocketDir).
	SocketDir string
	// Tag is BackgroundTag() as the daemon starts.
	Tag string
	// CurrentTag recomputes the tag (BackgroundTag); when it differs from
	// Tag the daemon ends. nil: never.
	CurrentTag func() string
	// Idle is how long the daemon waits for a push before it ends.
	Idle time.Duration
	// CheckEvery is how often the daemon looks at its socket, the folder
	// and its tag (default 2 s).
	CheckEvery time.Duration
	// Server holds the rest of the server's options (Logger, Version,
	// and in tests Clusters or OpenIndex).
	Server Options
	// Ready is called once the socket takes pushes, with its path, or
	// with the path of the daemon that already served the folder (then
	// RunBackground returns at once).
	Ready func(socket string)
}

// RunBackground serves one folder's pushes from a terminal until one of
// the ends above, or ctx. The error is for the start (the folder cannot
// be indexed, the socket cannot be made); the end's reason is logged.
func RunBackground(ctx context.Context, o BackgroundOptions) error {
	root, err := CanonicalRoot(o.Root)
	if err != nil {
		return err
	}
	if o.SocketDir == "" || o.Tag == "" {
		return errors.New("a background daemon needs a socket directory and a tag")
	}
	if o.CheckEvery <= 0 {
		o.CheckEvery = 2 * time.Second
	}
	opts := o.Server
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	log := opts.Logger
	clock := newIdleClock()
	opts.SocketDir, opts.SocketTag, opts.TerminalPushes = o.SocketDir, o.Tag, clock.add
	srv := New(opts)

	srvIn, cliOut := io.Pipe()
	cliIn, srvOut := io.Pipe()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(sctx, srvIn, srvOut)
		_ = srvOut.Close()
	}()
	conn := jsonrpc2.NewConn(sctx, jsonrpc2.NewBufferedStream(pipeConn{cliIn, cliOut}, jsonrpc2.VSCodeObjectCodec{}),
		handlerFunc(func(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
			if !req.Notif {
				// workDoneProgress/create and the like: nobody to show
				// them to, and nothing to refuse.
				_ = conn.Reply(ctx, req.ID, nil)
				return
			}
			if req.Method == protocol.MethodShowMessage && req.Params != nil {
				log.Warn("for the user", zap.ByteString("message", *req.Params))
			}
		}))
	defer func() {
		// As an editor leaves: shutdown, exit, then wait for the server.
		stopCtx, stop := context.WithTimeout(ctx, 5*time.Second)
		defer stop()
		if conn.Call(stopCtx, protocol.MethodShutdown, nil, nil) == nil {
			_ = conn.Notify(stopCtx, protocol.MethodExit, nil)
		}
		cancel()
		_ = conn.Close()
		_ = srvIn.Close()
		<-served
	}()

	if err := conn.Call(sctx, protocol.MethodInitialize, protocol.InitializeParams{
		ClientInfo: &protocol.ClientInfo{Name: "odod background daemon"},
	}, nil); err != nil {
		return fmt.Errorf("background daemon: initialize: %w", err)
	}
	if err := conn.Notify(sctx, protocol.MethodInitialized, struct{}{}); err != nil {
		return fmt.Errorf("background daemon: initialized: %w", err)
	}
	var opened protocol.WorkspaceOpenResult
	if err := conn.Call(sctx, protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: hostPaths.uriFromPath(root)}, &opened); err != nil {
		return fmt.Errorf("background daemon: open %s: %w", root, err)
	}
	path := socketPath(o.SocketDir, root, o.Tag)
	mine, err := srv.workspaceSocketFile(opened.WorkspaceID)
	if err != nil {
		return err
	}
	if o.Ready != nil {
		o.Ready(path)
	}
	if mine == nil {
		log.Info("another background daemon serves this folder", zap.String("socket", path))
		return nil
	}
	log.Info("background daemon serving", zap.Int("pid", os.Getpid()), zap.String("root", root), zap.String("socket", path), zap.Duration("idle", o.Idle))

	ticker := time.NewTicker(o.CheckEvery)
	defer ticker.Stop()
	editors := socketPath(o.SocketDir, root, "")
	for {
		select {
		case <-ctx.Done():
			log.Info("background daemon ending", zap.String("reason", "stopped"))
			return nil
		case <-served:
			log.Info("background daemon ending", zap.String("reason", "its server ended"))
			return nil
		case <-ticker.C:
		}
		if reason := endReason(o, root, path, editors, mine, clock); reason != "" {
			log.Info("background daemon ending", zap.String("reason", reason))
			return nil
		}
	}
}

// endReason says why the background daemon should end now, or "".
func endReason(o BackgroundOptions, root, path, editors string, mine os.FileInfo, clock *idleClock) string {
	if idle := clock.idleFor(); idle >= o.Idle {
		return fmt.Sprintf("no push for %s", idle.Round(time.Second))
	}
	if now, err := os.Lstat(path); err != nil || !os.SameFile(now, mine) {
		return "its socket was removed"
	}
	if c, err := net.DialTimeout("unix", editors, dialTimeout); err == nil {
		_ = c.Close()
		return "an editor's odod serve has the folder open"
	}
	if _, err := os.Stat(root); err != nil {
		return "the folder is gone"
	}
	if o.CurrentTag != nil && o.CurrentTag() != o.Tag {
		return "odod or the kubeconfig changed since it started"
	}
	return ""
}

// workspaceSocketFile is the socket file of the open workspace id, or nil
// when another daemon serves the folder.
func (s *Server) workspaceSocketFile(id string) (os.FileInfo, error) {
	s.workspaces.mu.Lock()
	sess := s.workspaces.byID[id]
	s.workspaces.mu.Unlock()
	if sess == nil {
		return nil, workspaceNotFound(id)
	}
	sess.mu.Lock()
	socket := sess.socket
	sess.mu.Unlock()
	if socket == nil {
		return nil, nil
	}
	info, err := os.Lstat(socket.ln.Addr().String())
	if err != nil {
		return nil, fmt.Errorf("background daemon: its socket: %w", err)
	}
	return info, nil
}

// idleClock is how long no terminal push has been running.
type idleClock struct {
	mu   sync.Mutex
	busy int
	last time.Time
}

func newIdleClock() *idleClock { return &idleClock{last: time.Now()} }

func (c *idleClock) add(delta int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy += delta
	c.last = time.Now()
}

func (c *idleClock) idleFor() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy > 0 {
		return 0
	}
	return time.Since(c.last)
}

// pipeConn joins the two pipes of an in-memory connection.
type pipeConn struct {
	io.Reader
	io.WriteCloser
}

// BackgroundLog is the log file of the background daemons of the folder at
// root: beside its sockets, one per folder, rewritten by each new daemon.
func BackgroundLog(socketDir, root string) (string, error) {
	canonical, err := CanonicalRoot(root)
	if err != nil {
		return "", err
	}
	return filepath.Join(socketDir, workspaceID(canonical)+"-bg.log"), nil
}
