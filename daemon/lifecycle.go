package daemon

import (
	"context"
	"fmt"
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

	if err := s.compatible(p.InitializationOptions); err != nil {
		return nil, err
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

// compatible refuses a client written for another major version of the
// protocol, or one that requires methods this odod does not speak.
func (s *Server) compatible(o *protocol.InitializationOptions) error {
	if o == nil {
		return nil
	}
	if o.ProtocolVersion != "" {
		theirs, err := protocol.MajorVersion(o.ProtocolVersion)
		if err != nil {
			return invalidParams("initializationOptions.protocolVersion", err.Error(),
				"Send the protocol version the plugin was written against, such as "+protocol.ProtocolVersion+".")
		}
		ours, _ := protocol.MajorVersion(protocol.ProtocolVersion)
		if theirs != ours {
			return invalidParams("initializationOptions.protocolVersion",
				fmt.Sprintf("the client speaks protocol %s, this odod %s: major versions differ", o.ProtocolVersion, protocol.ProtocolVersion),
				fmt.Sprintf("Use an odod whose protocol version is %d.x (capabilities.experimental.protocolVersion), or a plugin release written for %s.", theirs, protocol.ProtocolVersion))
		}
	}
	var missing []string
	for _, name := range o.RequiredMethods {
		if !s.speaks(name, o.DebugMethods) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return invalidParams("initializationOptions.requiredMethods",
			fmt.Sprintf("this odod (protocol %s) does not speak %s", protocol.ProtocolVersion, strings.Join(missing, ", ")),
			"Update odod to a release that speaks them, or let the plugin do without them.")
	}
	return nil
}

// speaks says whether odod answers or sends the method.
func (s *Server) speaks(name string, debug bool) bool {
	if m, ok := s.methods[name]; ok {
		return !m.debugOnly || debug
	}
	for _, m := range protocol.Methods() {
		if m.Name == name && m.Direction != protocol.ClientToServer {
			return true
		}
	}
	return false
}
