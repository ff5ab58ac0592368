package component

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// An invalid .odo/config.yaml is reported as such before the cluster is
// reached: otherwise a bad name or port surfaces as whatever connecting
// fails with first ("no kubeconfig").
func TestPushValidatesSettingsBeforeConnecting(t *testing.T) {
	for name, edit := range map[string]func(string) string{
		"name": func(s string) string { return strings.Replace(s, "Name: web", "Name: Bad_Name", 1) },
		"port": func(s string) string { return strings.Replace(s, `"8080"`, `"99999/XTP"`, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, map[string]string{"a.js": "a"})
			raw, err := os.ReadFile(config.Path(h.root))
			if err != nil {
				t.Fatal(err)
			}
			bad := edit(string(raw))
			if bad == string(raw) {
				t.Fatalf("the edit changed nothing in:\n%s", raw)
			}
			if err := os.WriteFile(config.Path(h.root), []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			connected := false
			h.c.connect = func(context.Context, string) (Cluster, error) {
				connected = true
				return nil, errorString("no kubeconfig")
			}
			_, err = h.c.Push(context.Background(), PushOptions{})
			if c := Coded(err); err == nil || connected || c.Code != protocol.CodeInvalidConfig || !strings.Contains(err.Error(), "ComponentSettings.") {
				t.Fatalf("push with an invalid %s: err %v, connected %v; want the settings error before connecting", name, err, connected)
			}
		})
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
