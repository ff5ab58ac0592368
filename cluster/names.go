package cluster

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/initimage"
)

// Label keys, odo v1's (pkg/component/labels, pkg/application/labels,
// pkg/url/labels, pkg/storage/labels).
const (
	LabelApp              = "app"
	LabelPartOf           = "app.kubernetes.io/part-of"
	LabelInstance         = "app.kubernetes.io/instance"
	LabelName             = "app.kubernetes.io/name"
	LabelRuntimeVersion   = "app.openshift.io/runtime-version"
	LabelManagedBy        = "app.kubernetes.io/managed-by"
	LabelManagedByVersion = "app.kubernetes.io/managed-by-version"
	LabelURLName          = "odo.openshift.io/url-name"
	LabelStorageName      = "app.kubernetes.io/storage-name"

	// ManagedBy is the managed-by label's value on everything odod applies.
	ManagedBy = "odod"

	// AnnotationSourceType is odo's component-source-type annotation.
	AnnotationSourceType = "app.kubernetes.io/component-source-type"
	// AnnotationComponentPort is on each port's Secret, as odo's.
	AnnotationComponentPort = "component-port"
	// AnnotationSpecHash records the hash of what odod last applied, so
	// that an unchanged push applies nothing.
	AnnotationSpecHash = "odod.dev/spec-hash"

	// PodLabelDeployment selects a Deployment's pods. odo's
	// DeploymentConfigs selected theirs with deploymentconfig=<name>;
	// odod's Deployments use deployment=<name> the same way: one key
	// that names the workload, immutable like a selector must be, and
	// distinct from the component labels so that relabelling a component
	// never orphans its pods.
	PodLabelDeployment = "deployment"
	// PodLabelDeploymentConfig selects a DeploymentConfig's pods (odo's).
	PodLabelDeploymentConfig = "deploymentconfig"
)

// Volume and container names, odo's.
const (
	SupervisordVolumeName     = initimage.VolumeName
	InitCopySupervisordName   = initimage.InitContainerName
	InitCopyFilesToVolumeName = "copy-files-to-volume"
)

// maxObjectNameLen is odo's limit on <component>-<app>: 63 minus
// "-s2idata" minus one, so that the PVC name is still a DNS label.
const maxObjectNameLen = 63 - len("-s2idata") - 1

// ComponentRef names a component on the cluster.
type ComponentRef struct {
	Name string
	App  string
}

// ObjectName is the component's workload, Service and pod container
// name: <component>-<app>, truncated to 54 characters as odo did (and
// without a trailing '-', which a DNS label may not end with).
func (r ComponentRef) ObjectName() string {
	return truncateName(fmt.Sprintf("%s-%s", r.Name, r.App), maxObjectNameLen)
}

// AppRootPVCName is the s2idata PVC: <object name>-s2idata.
func (r ComponentRef) AppRootPVCName() string { return r.ObjectName() + "-s2idata" }

// SecretName is the Secret of one port: <object name>-<port>.
func (r ComponentRef) SecretName(port int32) string {
	return truncateName(fmt.Sprintf("%s-%d", r.ObjectName(), port), 253)
}

// URLObjectName is the Route or Ingress of a URL: <url>-<app>.
func (r ComponentRef) URLObjectName(url string) string {
	return truncateName(fmt.Sprintf("%s-%s", url, r.App), 63)
}

// StoragePVCName is a storage's PVC: <storage>-<app>-pvc.
func (r ComponentRef) StoragePVCName(storage string) string {
	return truncateName(fmt.Sprintf("%s-%s", storage, r.App), 63-len("-pvc")) + "-pvc"
}

// Selector selects everything the component owns: part-of + instance,
// as odo's.
func (r ComponentRef) Selector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{LabelPartOf: r.App, LabelInstance: r.Name})
}

func truncateName(name string, limit int) string {
	if len(name) > limit {
		name = name[:limit]
	}
	return strings.TrimRight(name, "-.")
}

// secretKeyName is odo's COMPONENT_<NAME>_<KEY>.
func secretKeyName(component, key string) string { return config.LinkEnvName(component, key) }

// LinkSecretName is the Secret a component makes for its link to a plain
// Service: <object name>-link-<service>-<port>.
func (r ComponentRef) LinkSecretName(service string, port int) string {
	return truncateName(fmt.Sprintf("%s-link-%s-%d", r.ObjectName(), service, port), 253)
}
