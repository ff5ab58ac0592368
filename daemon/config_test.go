package daemon

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

func param(res protocol.ConfigViewResult, name string) string {
	for _, p := range res.Parameters {
		if p.Name == name {
			return p.Value
		}
	}
	return "<missing>"
}

func TestConfigViewSetUnset(t *testing.T) {
	c := startServer(t, Options{Clusters: newFakeClusters(t, nil)})
	c.initialize(nil, false)
	ws, dir := openComponent(t, c)

	var view protocol.ConfigViewResult
	if err := c.call(protocol.MethodConfigView, protocol.WorkspaceParams{WorkspaceID: ws}, &view); err != nil {
		t.Fatal(err)
	}
	if view.Path != config.Path(dir) || param(view, "Type") != "nodejs" || param(view, "Name") != "web" ||
		param(view, "Project") != "team-a" || param(view, "Ports") != "8080/TCP" || param(view, "MaxMemory") != "" || len(view.Env) != 0 {
		t.Fatalf("config/view = %+v", view)
	}

	if err := c.call(protocol.MethodConfigSet, protocol.ConfigSetParams{WorkspaceID: ws,
		Parameters: map[string]string{"memory": "512Mi", "Ports": "8080, 9090/UDP", "DebugPort": "9229"}, Env: []string{"DEBUG=1", "MODE=dev"}}, &view); err != nil {
		t.Fatal(err)
	}
	if param(view, "MinMemory") != "512Mi" || param(view, "MaxMemory") != "512Mi" || param(view, "Ports") != "8080,9090/UDP" ||
		param(view, "DebugPort") != "9229" || len(view.Env) != 2 || view.Env[1] != (protocol.EnvVar{Name: "MODE", Value: "dev"}) {
		t.Fatalf("config/set = %+v", view)
	}
	saved, err := config.Load(dir)
	if err != nil || saved.ComponentSettings.MaxMemory != "512Mi" {
		t.Fatalf("the file holds %+v (%v)", saved, err)
	}

	// Nothing is written when a value is wrong.
	before, err := os.ReadFile(config.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []protocol.ConfigSetParams{
		{WorkspaceID: ws, Parameters: map[string]string{"MinMemory": "lots"}},
		{WorkspaceID: ws, Parameters: map[string]string{"Nope": "x"}},
		{WorkspaceID: ws, Parameters: map[string]string{"DebugPort": "x"}},
		{WorkspaceID: ws, Parameters: map[string]string{"Name": "Not A Label"}},
		{WorkspaceID: ws, Env: []string{"NOVALUE"}},
		{WorkspaceID: ws},
	} {
		err := c.call(protocol.MethodConfigSet, bad, nil)
		expectCode(t, fmt.Sprintf("config/set %v %v", bad.Parameters, bad.Env), err, protocol.CodeInvalidParams)
	}
	after, _ := os.ReadFile(config.Path(dir))
	if !bytes.Equal(before, after) {
		t.Fatal("a rejected config/set changed the file")
	}

	if err := c.call(protocol.MethodConfigUnset, protocol.ConfigUnsetParams{WorkspaceID: ws, Parameters: []string{"Memory"}, Env: []string{"DEBUG"}}, &view); err != nil {
		t.Fatal(err)
	}
	if param(view, "MinMemory") != "" || param(view, "MaxMemory") != "" || len(view.Env) != 1 || view.Env[0].Name != "MODE" {
		t.Fatalf("config/unset = %+v", view)
	}
	expectCode(t, "unset a missing env", c.call(protocol.MethodConfigUnset, protocol.ConfigUnsetParams{WorkspaceID: ws, Env: []string{"DEBUG"}}, nil), protocol.CodeNotFound)
	expectCode(t, "unset Name", c.call(protocol.MethodConfigUnset, protocol.ConfigUnsetParams{WorkspaceID: ws, Parameters: []string{"Name"}}, nil), protocol.CodeInvalidParams)

	// A workspace without a component.
	var other protocol.WorkspaceOpenResult
	if err := c.call(protocol.MethodWorkspaceOpen, protocol.WorkspaceOpenParams{URI: fileURI(t.TempDir())}, &other); err != nil {
		t.Fatal(err)
	}
	expectCode(t, "view without a component", c.call(protocol.MethodConfigView, protocol.WorkspaceParams{WorkspaceID: other.WorkspaceID}, nil), protocol.CodeComponentNotConfigured)
}
