package cluster

import (
	"testing"

	appsfake "github.com/openshift/client-go/apps/clientset/versioned/fake"
	imagefake "github.com/openshift/client-go/image/clientset/versioned/fake"
	routefake "github.com/openshift/client-go/route/clientset/versioned/fake"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
)

type fakeSets struct {
	kube  *kubefake.Clientset
	apps  *appsfake.Clientset
	route *routefake.Clientset
	image *imagefake.Clientset
}

// newFakeClient makes a Client over fake clientsets; openshift adds the
// OpenShift APIs.
func newFakeClient(t *testing.T, namespace string, openshift bool, kubeObjs ...runtime.Object) (*Client, fakeSets) {
	t.Helper()
	f := fakeSets{kube: kubefake.NewClientset(kubeObjs...)}
	sets := Clientsets{Kube: f.kube}
	platform := Platform{}
	if openshift {
		f.apps, f.route, f.image = appsfake.NewClientset(), routefake.NewClientset(), imagefake.NewClientset()
		sets.Apps, sets.Route, sets.Image = f.apps, f.route, f.image
		platform = Platform{DeploymentConfig: true, Route: true, ImageStream: true}
	}
	return New(sets, namespace, platform, WithImageInspector(&FakeImageInspector{}), WithExecer(&FakeExecer{})), f
}
