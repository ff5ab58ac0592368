package daemon

import (
	"context"
	"strings"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/odod-dev/odod/protocol"
)

// initialize answers the LSP handshake. A second initialize is an error,
// as in gopls.
func (s *Server) initialize(_ context.Context, _ *jsonrpc2.Conn, p protocol.InitializeParams) (any, error) {
	var level zapcore.Level
	if p.InitializationOptions != nil && p.InitializationOptions.LogLevel != "" {
		if err := level.Set(strings.ToLower(p.InitializationOptions.LogLevel)); err != nil {
			return nil, invalidParams("initializationOptions.logLevel", "unknown level "+p.InitializationOptions.LogLevel,
				`Use one of "debug", "info", "warn", "error".`)
		}
	}

	s.mu.Lock()
	if s.state != stateCreated {
		s.mu.Unlock()
		return nil, newError(protocol.CodeInvalidRequest, "initialize may only be sent once", protocol.ErrorData{
			Suggestions: []protocol.Suggestion{{ID: "one-initialize", Action: "Send initialize once per odod process; start a new odod for a new session."}},
		})
	}
	s.state = stateInitializing
	s.clientInfo = p.ClientInfo
	s.clientProgr = p.Capabilities.Window != nil && p.Capabilities.Window.WorkDoneProgress
	if o := p.InitializationOptions; o != nil {
		s.debug = o.DebugMethods
		if o.LogLevel != "" {
			s.opts.Level.SetLevel(level)
		}
		if o.InitImage != "" {
			s.initImage = o.InitImage
		}
	}
	s.mu.Unlock()
	if o := p.InitializationOptions; o != nil {
		s.opts.Clusters.Configure(Selection{Kubeconfig: o.Kubeconfig, Context: o.Context, Namespace: o.Namespace})
	}

	fields := []zap.Field{zap.String("version", s.opts.Version)}
	if p.ClientInfo != nil {
		fields = append(fields, zap.String("client", p.ClientInfo.Name), zap.String("clientVersion", p.ClientInfo.Version))
	}
	if p.ProcessID != nil && *p.ProcessID > 0 {
		pid := *p.ProcessID
		fields = append(fields, zap.Int("processId", pid))
		s.goOwned(func(ctx context.Context) { s.watchParent(ctx, pid) })
	}
	close(s.userLog.started)
	s.log.Info("initialized", fields...)

	return protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{Experimental: protocol.ExperimentalCapabilities{
			ProtocolVersion:  protocol.ProtocolVersion,
			Methods:          advertised(s.methods),
			Notifications:    s.notifications(),
			WorkDoneProgress: true,
		}},
		ServerInfo: protocol.ServerInfo{Name: "odod", Version: s.opts.Version},
	}, nil
}

func (s *Server) notifications() []string {
	var out []string
	for _, m := range protocol.Methods() {
		if strings.HasPrefix(m.Name, "odod/") && m.Kind == protocol.Notification {
			out = append(out, m.Name)
		}
	}
	return out
}
