package cluster

import (
	"context"
	"testing"

	appsv1 "github.com/openshift/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// odo v1's components are DeploymentConfigs labelled by odo: they are
// listed beside odod's, and an odo-labelled workload that is not named
// <component>-<app> is not a component.
func TestListComponentsFindsOdosDeploymentConfigs(t *testing.T) {
	c, f := newFakeClient(t, "team-a", true)
	labels := map[string]string{LabelInstance: "api", LabelPartOf: "shop", LabelName: "python", LabelManagedBy: "odo"}
	ctx := context.Background()
	for _, name := range []string{"api-shop", "api-shop-old"} {
		if _, err := f.apps.AppsV1().DeploymentConfigs("team-a").Create(ctx, &appsv1.DeploymentConfig{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team-a", Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.ListComponents(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "api" || got[0].App != "shop" || got[0].Type != "python" || got[0].ManagedBy != "odo" ||
		got[0].Workload == nil || got[0].Workload.Kind != KindDeploymentConfig {
		t.Fatalf("ListComponents = %+v", got)
	}
	if got, err := c.ListComponents(ctx, "other"); err != nil || len(got) != 0 {
		t.Fatalf("ListComponents of another app = %+v, %v", got, err)
	}
	if _, err := c.ListComponents(ctx, "not a label!"); KindOf(err) != KindInvalid {
		t.Fatalf("an app that is no label value: %v, want Invalid", err)
	}
}
