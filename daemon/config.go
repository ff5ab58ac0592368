package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sourcegraph/jsonrpc2"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// The component's settings by odo config's parameter names: local, no
// cluster.

// ConfigView is odod/config/view's answer (and odod config view -o json's).
func ConfigView(root string, cfg *config.LocalConfig) protocol.ConfigViewResult {
	res := protocol.ConfigViewResult{Path: config.Path(root), Parameters: []protocol.ConfigParameter{}, Env: []protocol.EnvVar{}}
	for _, p := range cfg.Parameters() {
		res.Parameters = append(res.Parameters, protocol.ConfigParameter{Name: p.Name, Value: p.Value})
	}
	for _, e := range cfg.ComponentSettings.Envs {
		res.Env = append(res.Env, protocol.EnvVar{Name: e.Name, Value: e.Value})
	}
	return res
}

func (s *Server) configView(_ context.Context, _ *jsonrpc2.Conn, p protocol.WorkspaceParams) (any, error) {
	sess, err := s.sessionFor(p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	sess.waitForEdits()
	cfg, err := config.Load(sess.root)
	if err != nil {
		return nil, engineError(err)
	}
	return ConfigView(sess.root, cfg), nil
}

// editConfig loads the settings under the session's settings lock, lets
// edit change them, validates and writes them atomically: all or nothing.
func (s *Server) editConfig(workspaceID string, edit func(cfg *config.LocalConfig) error) (any, error) {
	sess, err := s.sessionFor(workspaceID)
	if err != nil {
		return nil, err
	}
	defer sess.editSettings()()
	return EditConfig(sess.root, edit)
}

// EditConfig loads root's settings, lets edit change them, validates and
// writes them atomically (the CLI's odod config set and unset too).
func EditConfig(root string, edit func(cfg *config.LocalConfig) error) (protocol.ConfigViewResult, error) {
	cfg, err := config.Load(root)
	if err != nil {
		return protocol.ConfigViewResult{}, engineError(err)
	}
	if err := edit(cfg); err != nil {
		return protocol.ConfigViewResult{}, err
	}
	if err := config.Save(root, cfg); err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) && len(ve.Problems) > 0 {
			pr := ve.Problems[0]
			return protocol.ConfigViewResult{}, invalidParams(strings.TrimPrefix(pr.Field, "ComponentSettings."), pr.Message, "Fix the value; nothing was written.")
		}
		return protocol.ConfigViewResult{}, engineError(err)
	}
	return ConfigView(root, cfg), nil
}

func (s *Server) configSet(_ context.Context, _ *jsonrpc2.Conn, p protocol.ConfigSetParams) (any, error) {
	if len(p.Parameters) == 0 && len(p.Env) == 0 {
		return nil, invalidParams("parameters", "name a parameter or an env to set", "Pass parameters ({\"MaxMemory\": \"512Mi\"}) and/or env ([\"NAME=VALUE\"]).")
	}
	return s.editConfig(p.WorkspaceID, func(cfg *config.LocalConfig) error { return ConfigSet(cfg, p) })
}

// ConfigSet is odod/config/set's edit.
func ConfigSet(cfg *config.LocalConfig, p protocol.ConfigSetParams) error {
	for name, value := range p.Parameters {
		if err := cfg.Set(name, value); err != nil {
			return invalidParams("parameters."+name, err.Error(), "Use a parameter odod/config/view lists, with a value of its kind.")
		}
	}
	for _, e := range p.Env {
		k, v, ok := strings.Cut(e, "=")
		if !ok || k == "" {
			return invalidParams("env", fmt.Sprintf("%q is not NAME=VALUE", e), "Write each variable as NAME=VALUE.")
		}
		cfg.SetEnv(k, v)
	}
	return nil
}

func (s *Server) configUnset(_ context.Context, _ *jsonrpc2.Conn, p protocol.ConfigUnsetParams) (any, error) {
	if len(p.Parameters) == 0 && len(p.Env) == 0 {
		return nil, invalidParams("parameters", "name a parameter or an env to unset", "Pass parameters ([\"MaxMemory\"]) and/or env ([\"NAME\"]).")
	}
	return s.editConfig(p.WorkspaceID, func(cfg *config.LocalConfig) error { return ConfigUnset(cfg, p) })
}

// ConfigUnset is odod/config/unset's edit.
func ConfigUnset(cfg *config.LocalConfig, p protocol.ConfigUnsetParams) error {
	for _, name := range p.Parameters {
		if err := cfg.Unset(name); err != nil {
			return invalidParams("parameters", err.Error(), "Use a parameter odod/config/view lists.")
		}
	}
	for _, name := range p.Env {
		if !cfg.UnsetEnv(name) {
			return Errorf(protocol.CodeNotFound, "view-config", "odod/config/view lists the environment variables.",
				"environment variable %q is not set", name)
		}
	}
	return nil
}
