package component

import (
	"context"
	"testing"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

func TestDebugNeedsADebugPort(t *testing.T) {
	h := newHarness(t, map[string]string{"server.js": "x"})
	ctx := context.Background()
	edit := func(name, value string) {
		cfg, err := config.Load(h.root)
		if err != nil {
			t.Fatal(err)
		}
		cfg.SetEnv(name, value)
		if err := config.Save(h.root, cfg); err != nil {
			t.Fatal(err)
		}
	}
	edit(EnvDevMode, "false")
	_, err := h.c.StartDebug(ctx, 0)
	wantCode(t, err, protocol.CodeInvalidConfig, "DebugModeOff", "DEV_MODE=false", "5858")
	info, err := h.c.DebugInfo()
	if err != nil || info.DevMode || info.DebugPort != 5858 || info.Session != nil {
		t.Fatalf("DebugInfo = %+v, %v", info, err)
	}

	edit(EnvDevMode, "true")
	edit("ODO_S2I_LANGUAGE", "python")
	_, err = h.c.StartDebug(ctx, 0)
	wantCode(t, err, protocol.CodeInvalidConfig, "NoDebugPort", "nodejs")

	err = h.c.StopDebug()
	wantCode(t, err, protocol.CodeNotFound, "NotDebugging")
}
