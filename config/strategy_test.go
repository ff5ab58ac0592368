package config

import (
	"strings"
	"testing"
)

func TestStrategyAndTriggersAreValidated(t *testing.T) {
	for _, c := range []struct {
		strategy string
		triggers []string
		problem  string // "" when valid
	}{
		{"", nil, ""},
		{"Rolling", []string{"ConfigChange"}, ""},
		{"Recreate", []string{"ImageChange", "ConfigChange"}, ""},
		{"rolling", nil, "use Recreate or Rolling"},
		{"", []string{"Manual"}, "use ConfigChange, ImageChange or both"},
		{"", []string{"ImageChange", "ImageChange"}, "lists ImageChange twice"},
	} {
		lc := LocalConfig{Kind: Kind, APIVersion: APIVersion, ComponentSettings: ComponentSettings{Type: "nodejs", Name: "web", Application: "app", Strategy: c.strategy, Triggers: c.triggers}}
		err := lc.Validate()
		switch {
		case c.problem == "" && err != nil:
			t.Errorf("%q %q: %v", c.strategy, c.triggers, err)
		case c.problem != "" && (err == nil || !strings.Contains(err.Error(), c.problem)):
			t.Errorf("%q %q: %v, want an error saying %q", c.strategy, c.triggers, err, c.problem)
		}
	}
}

func TestStrategyAndTriggersThroughConfigSet(t *testing.T) {
	lc := LocalConfig{Kind: Kind, APIVersion: APIVersion, ComponentSettings: ComponentSettings{Type: "nodejs", Name: "web"}}
	if err := lc.Set("strategy", "Rolling"); err != nil {
		t.Fatal(err)
	}
	if err := lc.Set("Triggers", "ImageChange, ConfigChange"); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range lc.Parameters() {
		got[p.Name] = p.Value
	}
	if got["Strategy"] != "Rolling" || got["Triggers"] != "ImageChange,ConfigChange" {
		t.Errorf("config view: Strategy %q, Triggers %q", got["Strategy"], got["Triggers"])
	}
	if !lc.ComponentSettings.HasTrigger(TriggerImageChange) || lc.ComponentSettings.EffectiveStrategy() != StrategyRolling {
		t.Errorf("settings %+v", lc.ComponentSettings)
	}
	if err := lc.Unset("Triggers"); err != nil {
		t.Fatal(err)
	}
	if lc.ComponentSettings.Triggers != nil || !lc.ComponentSettings.HasTrigger(TriggerConfigChange) {
		t.Errorf("after unset: %q", lc.ComponentSettings.Triggers)
	}
}
