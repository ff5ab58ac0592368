package cluster

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	oappsv1 "github.com/openshift/api/apps/v1"

	"github.com/odod-dev/odod/config"
)

func TestStrategySetting(t *testing.T) {
	for _, c := range []struct {
		strategy  string
		want      appsv1.DeploymentStrategyType
		wantDC    oappsv1.DeploymentStrategyType
		surgeOnly bool
	}{
		{"", appsv1.RecreateDeploymentStrategyType, oappsv1.DeploymentStrategyTypeRecreate, false},
		{config.StrategyRecreate, appsv1.RecreateDeploymentStrategyType, oappsv1.DeploymentStrategyTypeRecreate, false},
		{config.StrategyRolling, appsv1.RollingUpdateDeploymentStrategyType, oappsv1.DeploymentStrategyTypeRolling, true},
	} {
		spec := nodejsSpec()
		spec.Settings.Strategy = c.strategy
		objs, err := Desired(spec)
		if err != nil {
			t.Fatal(err)
		}
		got := objs.Deployment.Spec.Strategy
		if got.Type != c.want {
			t.Errorf("Strategy %q: Deployment strategy %s, want %s", c.strategy, got.Type, c.want)
		}
		// Rolling: the new pod first, none unavailable, the parameters owned
		// by odod so a switch back to Recreate drops them.
		if rolling := got.RollingUpdate != nil && got.RollingUpdate.MaxSurge.IntValue() == 1 && got.RollingUpdate.MaxUnavailable.IntValue() == 0; rolling != c.surgeOnly {
			t.Errorf("Strategy %q: rollingUpdate %+v", c.strategy, got.RollingUpdate)
		}
		dcSpec := javaDCSpec()
		dcSpec.Settings.Strategy = c.strategy
		dcObjs, err := Desired(dcSpec)
		if err != nil {
			t.Fatal(err)
		}
		if got := dcObjs.DeploymentConfig.Spec.Strategy; got.Type != c.wantDC || (got.RollingParams != nil) != c.surgeOnly {
			t.Errorf("Strategy %q: DeploymentConfig strategy %+v, want %s", c.strategy, got, c.wantDC)
		}
	}
}

func TestTriggersSetting(t *testing.T) {
	for _, c := range []struct {
		triggers []string
		want     []oappsv1.DeploymentTriggerType
	}{
		{nil, []oappsv1.DeploymentTriggerType{oappsv1.DeploymentTriggerOnConfigChange, oappsv1.DeploymentTriggerOnImageChange}},
		{[]string{config.TriggerConfigChange}, []oappsv1.DeploymentTriggerType{oappsv1.DeploymentTriggerOnConfigChange}},
		{[]string{config.TriggerImageChange}, []oappsv1.DeploymentTriggerType{oappsv1.DeploymentTriggerOnImageChange}},
		{[]string{config.TriggerImageChange, config.TriggerConfigChange}, []oappsv1.DeploymentTriggerType{oappsv1.DeploymentTriggerOnConfigChange, oappsv1.DeploymentTriggerOnImageChange}},
	} {
		spec := javaDCSpec()
		spec.Settings.Triggers = c.triggers
		objs, err := Desired(spec)
		if err != nil {
			t.Fatal(err)
		}
		var got []oappsv1.DeploymentTriggerType
		for _, tr := range objs.DeploymentConfig.Spec.Triggers {
			got = append(got, tr.Type)
		}
		if len(got) != len(c.want) {
			t.Errorf("Triggers %q: %v, want %v", c.triggers, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("Triggers %q: %v, want %v", c.triggers, got, c.want)
			}
		}
		if objs.DeploymentConfig.Spec.Triggers == nil {
			t.Errorf("Triggers %q: nil, which OpenShift reads as the default ConfigChange", c.triggers)
		}
	}
}

func TestBuiltImageKeepsAnExplicitStrategy(t *testing.T) {
	spec := nodejsSpec()
	spec.Settings.Strategy = config.StrategyRecreate
	objs, err := Desired(spec)
	if err != nil {
		t.Fatal(err)
	}
	ForBuiltImage(&objs, spec.Ref(), BuiltImage{Image: "r/x@sha256:" + strings.Repeat("ab", 32), Strategy: spec.Settings.Strategy})
	if got := objs.Deployment.Spec.Strategy.Type; got != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("a built image with Strategy Recreate rolls out with %s", got)
	}
}
