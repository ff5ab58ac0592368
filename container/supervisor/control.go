//go:build linux

package supervisor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// The control protocol: one JSON request line per connection, one JSON
// reply line back. Unix-socket permissions are the access control, as
// with supervisord's unix_http_server.

// ControlRequest is what `supervisord ctl` sends.
type ControlRequest struct {
	Op   string `json:"op"`   // start, stop, restart, status
	Name string `json:"name"` // program; "" with status means all
	// WaitPorts, with start or restart, makes the reply wait until the
	// program accepts TCP connections on one of these loopback ports, at
	// most WaitTimeoutMs (default DefaultWaitTimeout).
	WaitPorts     []int `json:"waitPorts,omitempty"`
	WaitTimeoutMs int64 `json:"waitTimeoutMs,omitempty"`
	// Fresh, with restart: start a new process, not the standby
	// (RestartOptions.Fresh).
	Fresh bool `json:"fresh,omitempty"`
}

// DefaultWaitTimeout bounds ControlRequest.WaitPorts' wait when the
// request names no timeout.
const DefaultWaitTimeout = 60 * time.Second

// ControlReply is the supervisor's answer.
type ControlReply struct {
	Error  string   `json:"error,omitempty"`
	Status []Status `json:"status,omitempty"`
}

func listenControl(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket directory: %w", err)
	}
	// A socket left by a previous supervisor (the container restarted) is
	// replaced; anything else at that path is not ours to delete.
	if info, err := os.Lstat(path); err == nil {
		if info.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("control socket path %s exists and is not a socket; remove it or set [unix_http_server] file=", path)
		}
		if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
			_ = conn.Close()
			return nil, fmt.Errorf("another supervisor is already listening on %s", path)
		}
		_ = os.Remove(path)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on control socket %s: %w", path, err)
	}
	return l, nil
}

// serveControl answers control connections until the listener closes.
func (s *Supervisor) serveControl(ctx context.Context, l net.Listener) {
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		conn, err := l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Warn("control socket accept", zap.Error(err))
			}
			return
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer conn.Close()
			stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
			defer stop()
			s.handleControl(ctx, conn)
		}()
	}
}

func (s *Supervisor) handleControl(ctx context.Context, conn net.Conn) {
	var req ControlRequest
	line, err := bufio.NewReader(io.LimitReader(conn, 64<<10)).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &req)
	}
	var reply ControlReply
	if err != nil {
		reply.Error = "malformed control request: " + err.Error()
	} else {
		reply = s.Control(ctx, req)
	}
	b, _ := json.Marshal(reply)
	_, _ = conn.Write(append(b, '\n'))
}

// Control executes one control request; the reply carries the resulting
// status of the program(s).
func (s *Supervisor) Control(ctx context.Context, req ControlRequest) ControlReply {
	var err error
	switch req.Op {
	case "start":
		err = s.Start(ctx, req.Name)
	case "stop":
		err = s.Stop(ctx, req.Name)
	case "restart":
		err = s.Restart(ctx, req.Name, RestartOptions{Fresh: req.Fresh})
	case "status":
	default:
		err = fmt.Errorf("unknown operation %q; use start, stop, restart or status", req.Op)
	}
	if err == nil && (req.Op == "start" || req.Op == "restart") && len(req.WaitPorts) > 0 {
		timeout := time.Duration(req.WaitTimeoutMs) * time.Millisecond
		if timeout <= 0 {
			timeout = DefaultWaitTimeout
		}
		err = s.WaitListening(ctx, req.Name, req.WaitPorts, timeout)
	}
	var reply ControlReply
	if err != nil {
		reply.Error = err.Error()
	}
	if status, serr := s.Status(req.Name); serr == nil {
		reply.Status = status
	} else if err == nil {
		reply.Error = serr.Error()
	}
	return reply
}

// Ctl sends one request to the supervisor listening on socketPath.
func Ctl(ctx context.Context, socketPath string, req ControlRequest) (ControlReply, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socketPath)
	if err != nil {
		return ControlReply{}, fmt.Errorf("connect to the supervisor at %s: %w; is supervisord running in this container (go-init -main \"supervisord -c ...\")?", socketPath, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	b, _ := json.Marshal(req)
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return ControlReply{}, fmt.Errorf("send to the supervisor: %w", err)
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		if ctx.Err() != nil {
			return ControlReply{}, fmt.Errorf("waiting for the supervisor: %w", ctx.Err())
		}
		return ControlReply{}, fmt.Errorf("read the supervisor's reply: %w", err)
	}
	var reply ControlReply
	if err := json.Unmarshal(line, &reply); err != nil {
		return ControlReply{}, fmt.Errorf("malformed reply from the supervisor: %w", err)
	}
	return reply, nil
}

// FormatStatus renders status lines the way supervisorctl does, e.g.
// "run                              RUNNING   pid 42, uptime 0:01:05".
func FormatStatus(status []Status, now time.Time) string {
	var b strings.Builder
	for _, st := range status {
		detail := st.Message
		switch st.State {
		case Running:
			up := now.Sub(st.Since).Truncate(time.Second)
			detail = fmt.Sprintf("pid %d, uptime %d:%02d:%02d", st.PID, int(up.Hours()), int(up.Minutes())%60, int(up.Seconds())%60)
			if st.StandbyPID != 0 {
				detail += fmt.Sprintf(", standby pid %d", st.StandbyPID)
			}
		case Stopped, Exited:
			if !st.Since.IsZero() {
				detail = strings.TrimSpace(st.Since.Format("Jan 02 03:04 PM") + " " + st.Message)
			}
		}
		fmt.Fprintf(&b, "%-32s %-10s%s\n", st.Name, st.State, detail)
	}
	return b.String()
}
