package component

import (
	"context"
	"fmt"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/container/scripts"
	"github.com/odod-dev/odod/protocol"
)

// The env vars of debug mode, as odo's language scripts read them.
const (
	// EnvDevMode switches the debugger on (the default) or off; odo 1.0.2's
	// DEV_MODE.
	EnvDevMode = "DEV_MODE"
	// envLanguage overrides the language the builder image's name implies.
	envLanguage = "ODO_S2I_LANGUAGE"
)

// DevMode says whether the settings run the app with its debugger:
// DEV_MODE unset or "true" (the language scripts' test).
func DevMode(cfg *config.LocalConfig) bool {
	v, ok := envValue(cfg, EnvDevMode)
	return !ok || v == "true"
}

func envValue(cfg *config.LocalConfig, name string) (string, bool) {
	for _, e := range cfg.ComponentSettings.Envs {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// StartDebug forwards 127.0.0.1:localPort (0: any) to the component's
// debug port (DEBUG_PORT) with the port-forward that follows the pod
// across restarts, and returns what a debugger needs to attach: a VS Code
// attach configuration (node: address, port, localRoot = the workspace,
// remoteRoot = the working dir in the container; java: hostName, port)
// and for Java the JDWP address. One debug session per component: a
// running one is returned as it is when localPort is 0 or its own, else
// replaced. It ends with StopDebug, StopPortForward or Close.
func (c *Component) StartDebug(ctx context.Context, localPort int) (protocol.DebugSession, error) {
	if s, ok := c.debugSession(); ok {
		if localPort == 0 || localPort == s.LocalPort {
			return s, nil
		}
		if err := c.StopPortForward(s.LocalPort); err != nil {
			return protocol.DebugSession{}, err
		}
	}
	cfg, cl, err := c.connected(ctx)
	if err != nil {
		return protocol.DebugSession{}, err
	}
	debugPort := cfg.ComponentSettings.EffectiveDebugPort()
	if !DevMode(cfg) {
		v, _ := envValue(cfg, EnvDevMode)
		return protocol.DebugSession{}, &Error{Code: protocol.CodeInvalidConfig, Reason: "DebugModeOff",
			Message:    fmt.Sprintf("the component runs without its debugger (%s=%s), so nothing listens on debug port %d", EnvDevMode, v, debugPort),
			Suggestion: "turn debug mode on (odod config unset --env " + EnvDevMode + "), push, and start debugging again"}
	}
	spec, paths, err := c.spec(ctx, cl, cfg)
	if err != nil {
		return protocol.DebugSession{}, err
	}
	override, _ := envValue(cfg, envLanguage)
	lang := scripts.Language(paths.BuilderImageName, override)
	if lang != scripts.LanguageNodeJS && lang != scripts.LanguageJava {
		return protocol.DebugSession{}, &Error{Code: protocol.CodeInvalidConfig, Reason: "NoDebugPort",
			Message: fmt.Sprintf("component type %s (builder %s) has no debug port: only Node.js and Java components run with a debugger",
				cfg.ComponentSettings.Type, spec.Builder.Image),
			Suggestion: "debug a nodejs or java component, or set " + envLanguage + " to nodejs or java if the builder is one of them"}
	}
	fw, err := c.PortForward(ctx, localPort, debugPort)
	if err != nil {
		return protocol.DebugSession{}, err
	}
	s := protocol.DebugSession{PortForwardResult: fw, Language: lang}
	name := "Attach to " + cfg.ComponentSettings.Name + " (odod)"
	switch lang {
	case scripts.LanguageNodeJS:
		s.Launch = protocol.LaunchConfiguration{Type: "node", Request: "attach", Name: name,
			Address: "127.0.0.1", Port: fw.LocalPort, LocalRoot: c.root, RemoteRoot: paths.WorkingDir}
	case scripts.LanguageJava:
		s.Launch = protocol.LaunchConfiguration{Type: "java", Request: "attach", Name: name, HostName: "127.0.0.1", Port: fw.LocalPort}
		s.JDWP = &protocol.HostPort{Host: "127.0.0.1", Port: fw.LocalPort}
	}
	c.mu.Lock()
	f, ok := c.forwards[fw.LocalPort]
	if ok {
		session := s
		f.debug = &session
		c.forwards[fw.LocalPort] = f
	}
	c.mu.Unlock()
	if !ok { // stopped (Close) in the meantime
		return protocol.DebugSession{}, context.Canceled
	}
	return s, nil
}

// debugSession is the running debug session, with the pod its forward
// reaches now.
func (c *Component) debugSession() (protocol.DebugSession, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.forwards {
		if f.debug != nil {
			s := *f.debug
			s.PortForwardResult = f.result
			return s, true
		}
	}
	return protocol.DebugSession{}, false
}

// DebugInfo reports the debug session, if one runs, and the settings'
// debug port and mode.
func (c *Component) DebugInfo() (protocol.DebugInfoResult, error) {
	res, err := c.DebugSettings()
	if err != nil {
		return res, err
	}
	if s, ok := c.debugSession(); ok {
		res.Session = &s
	}
	return res, nil
}

// DebugSettings are the settings' debug port and mode, without a session.
func (s *Settings) DebugSettings() (protocol.DebugInfoResult, error) {
	cfg, err := s.load()
	if err != nil {
		return protocol.DebugInfoResult{}, err
	}
	return protocol.DebugInfoResult{DebugPort: cfg.ComponentSettings.EffectiveDebugPort(), DevMode: DevMode(cfg)}, nil
}

// StopDebug ends the debug session's forward.
func (c *Component) StopDebug() error {
	s, ok := c.debugSession()
	if !ok {
		return &Error{Code: protocol.CodeNotFound, Reason: "NotDebugging", Message: "no debug session is running",
			Suggestion: "start one with odod/debug/start"}
	}
	return c.StopPortForward(s.LocalPort)
}
