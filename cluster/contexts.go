package cluster

import (
	"sort"

	"k8s.io/client-go/tools/clientcmd"
)

// KubeContext is one context of the kubeconfig.
type KubeContext struct {
	Name      string
	Cluster   string
	Server    string
	User      string
	Namespace string
}

// KubeContexts is what the kubeconfig holds: its contexts by name and the
// one in use.
type KubeContexts struct {
	Current  string
	Contexts []KubeContext
}

// Find returns the context called name.
func (k KubeContexts) Find(name string) (KubeContext, bool) {
	for _, c := range k.Contexts {
		if c.Name == name {
			return c, true
		}
	}
	return KubeContext{}, false
}

// Contexts reads the kubeconfig's contexts as kubectl config get-contexts
// does, without contacting any cluster. o.Context, when set, is the one
// reported in use.
func Contexts(o Options) (KubeContexts, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	raw, err := rules.Load()
	if err != nil {
		return KubeContexts{}, &Error{Kind: KindNoConfig, Message: "cannot read the kubeconfig", Err: err,
			Suggestion: "point KUBECONFIG or --kubeconfig at a readable kubeconfig"}
	}
	out := KubeContexts{Current: raw.CurrentContext, Contexts: []KubeContext{}}
	if o.Context != "" {
		out.Current = o.Context
	}
	for name, c := range raw.Contexts {
		kc := KubeContext{Name: name, Cluster: c.Cluster, User: c.AuthInfo, Namespace: c.Namespace}
		if cl, ok := raw.Clusters[c.Cluster]; ok {
			kc.Server = cl.Server
		}
		out.Contexts = append(out.Contexts, kc)
	}
	sort.Slice(out.Contexts, func(i, j int) bool { return out.Contexts[i].Name < out.Contexts[j].Name })
	return out, nil
}
