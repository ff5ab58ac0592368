package cluster

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	oappsv1 "github.com/openshift/api/apps/v1"
	routev1 "github.com/openshift/api/route/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/initimage"
)

// copyFilesToVolumeScript seeds the s2idata PVC with the builder's
// /opt/app-root once. It is odo's script (from jupyter-on-openshift's
// setup-volume.sh) with its bash-only `[[ =~ ]]` tests rewritten as
// POSIX `case`, because `sh` is dash on Debian-based builders, where
// odo's version printed "[[: not found" on every restart.
const copyFilesToVolumeScript = `
SRC=/opt/app-root
DEST=/mnt/app-root

if [ -f $DEST/.delete-volume ]; then
    rm -rf $DEST
fi
if [ -d $DEST ]; then
    if [ -f $DEST/.sync-volume ]; then
        case "$JUPYTER_SYNC_VOLUME" in
            false|no|n|0) ;;
            *) JUPYTER_SYNC_VOLUME=yes ;;
        esac
    fi
    case "$JUPYTER_SYNC_VOLUME" in
        true|yes|y|1) rsync -ar --ignore-existing $SRC/. $DEST ;;
    esac
    exit
fi
if [ -d $DEST.setup-volume ]; then
    rm -rf $DEST.setup-volume
fi

mkdir -p $DEST.setup-volume
tar -C $SRC -cf - . | tar -C $DEST.setup-volume -xvf -
mv $DEST.setup-volume $DEST
`

// WorkloadKind is the kind of object that runs the component's pod.
type WorkloadKind string

// Workload kinds.
const (
	// WorkloadDeployment is a Kubernetes Deployment (the default).
	WorkloadDeployment WorkloadKind = "Deployment"
	// WorkloadDeploymentConfig is an OpenShift DeploymentConfig, as odo
	// v1 created; only where the cluster serves apps.openshift.io/v1.
	WorkloadDeploymentConfig WorkloadKind = "DeploymentConfig"
)

// Builder is a resolved component type: the image to run and what odo's
// labels say about it.
type Builder struct {
	// Type is what the settings say ("nodejs", "nodejs:14", an image).
	Type string
	// Name is the builder's name: the app.kubernetes.io/name label.
	Name string
	// Tag is the builder's version: the runtime-version label.
	Tag string
	// Image is the pullable image reference.
	Image string
	// ImageStream is the ImageStreamTag the type came from, if any; a
	// DeploymentConfig gets an ImageChange trigger on it.
	ImageStream *ImageStreamTagRef
}

// ImageStreamTagRef names an ImageStreamTag.
type ImageStreamTagRef struct {
	Namespace string
	Name      string
	Tag       string
}

// ComponentSpec is everything Desired needs; it holds no clients, so
// Desired is a pure function of it.
type ComponentSpec struct {
	// Namespace the objects go to.
	Namespace string
	// Settings are the component's settings (.odo/config.yaml).
	Settings config.ComponentSettings
	// Builder is the resolved type (Client.ResolveType).
	Builder Builder
	// Image is the builder image's config (ImageInspector.Inspect).
	Image ImageInfo
	// InitImage is odod's init image, run as copy-supervisord.
	InitImage string
	// Workload is Deployment (default) or DeploymentConfig.
	Workload WorkloadKind
	// RoutesServed makes URLs without a Kind Routes, else Ingresses.
	RoutesServed bool
	// ManagedByVersion is the managed-by-version label's value (odod's
	// version).
	ManagedByVersion string
}

// Ref is the component's name and application.
func (s ComponentSpec) Ref() ComponentRef {
	return ComponentRef{Name: s.Settings.Name, App: s.Settings.App()}
}

// Objects are a component's desired objects. Exactly one of Deployment
// and DeploymentConfig is set. Owner references are not set here: they
// need the workload's UID, which Apply learns by applying it first.
type Objects struct {
	Deployment       *appsv1.Deployment
	DeploymentConfig *oappsv1.DeploymentConfig
	// Service is nil when the component has no ports.
	Service   *corev1.Service
	Secrets   []*corev1.Secret
	PVCs      []*corev1.PersistentVolumeClaim
	Routes    []*routev1.Route
	Ingresses []*networkingv1.Ingress
}

// All lists the objects in apply order: the workload first, then what it
// owns.
func (o Objects) All() []runtime.Object {
	var all []runtime.Object
	if o.Deployment != nil {
		all = append(all, o.Deployment)
	}
	if o.DeploymentConfig != nil {
		all = append(all, o.DeploymentConfig)
	}
	for _, p := range o.PVCs {
		all = append(all, p)
	}
	if o.Service != nil {
		all = append(all, o.Service)
	}
	for _, s := range o.Secrets {
		all = append(all, s)
	}
	for _, r := range o.Routes {
		all = append(all, r)
	}
	for _, i := range o.Ingresses {
		all = append(all, i)
	}
	return all
}

// Desired computes a component's objects from its spec: odo v1's
// BootstrapSupervisoredS2I objects (workload with the copy-files-to-volume
// and copy-supervisord init containers, Service, a Secret per port, the
// s2idata PVC) plus the storage PVCs and the URLs' Routes or Ingresses.
// It is pure: the same spec gives the same objects.
func Desired(spec ComponentSpec) (Objects, error) {
	if err := checkSpec(spec); err != nil {
		return Objects{}, err
	}
	s := spec.Settings
	ref := spec.Ref()
	name := ref.ObjectName()
	paths, err := S2IPathsFromImage(spec.Image)
	if err != nil {
		return Objects{}, err
	}
	ports, err := containerPorts(s, spec.Image)
	if err != nil {
		return Objects{}, err
	}
	resources, err := resourceRequirements(s)
	if err != nil {
		return Objects{}, err
	}
	lbls := componentLabels(spec)
	meta := func(objName string, extra map[string]string) metav1.ObjectMeta {
		return metav1.ObjectMeta{
			Name:        objName,
			Namespace:   spec.Namespace,
			Labels:      mergeLabels(lbls, extra),
			Annotations: map[string]string{AnnotationSourceType: string(s.EffectiveSourceType())},
		}
	}

	podLabelKey := PodLabelDeployment
	if spec.Workload == WorkloadDeploymentConfig {
		podLabelKey = PodLabelDeploymentConfig
	}
	podSelector := map[string]string{podLabelKey: name}
	pod := podSpec(spec, ref, paths, ports, resources)
	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: mergeLabels(lbls, podSelector)},
		Spec:       pod,
	}

	var objs Objects
	switch spec.Workload {
	case WorkloadDeploymentConfig:
		// https://github.com/openshift/odo/pull/622#issuecomment-413410736
		template.Annotations = map[string]string{"alpha.image.policy.openshift.io/resolve-names": "*"}
		dc := &oappsv1.DeploymentConfig{
			TypeMeta:   metav1.TypeMeta{APIVersion: oappsv1.GroupVersion.String(), Kind: "DeploymentConfig"},
			ObjectMeta: meta(name, nil),
			Spec: oappsv1.DeploymentConfigSpec{
				Replicas: 1,
				Strategy: dcStrategy(s),
				Selector: podSelector,
				Template: &template,
				// Not nil: an empty list is what tells OpenShift "no
				// triggers"; nil would get the default ConfigChange.
				Triggers: oappsv1.DeploymentTriggerPolicies{},
			},
		}
		if s.HasTrigger(config.TriggerConfigChange) {
			dc.Spec.Triggers = append(dc.Spec.Triggers, oappsv1.DeploymentTriggerPolicy{Type: oappsv1.DeploymentTriggerOnConfigChange})
		}
		if is := spec.Builder.ImageStream; is != nil && s.HasTrigger(config.TriggerImageChange) {
			dc.Spec.Triggers = append(dc.Spec.Triggers, oappsv1.DeploymentTriggerPolicy{
				Type: oappsv1.DeploymentTriggerOnImageChange,
				ImageChangeParams: &oappsv1.DeploymentTriggerImageChangeParams{
					Automatic:      true,
					ContainerNames: []string{name, InitCopyFilesToVolumeName},
					From:           corev1.ObjectReference{Kind: "ImageStreamTag", Name: is.Name + ":" + is.Tag, Namespace: is.Namespace},
				},
			})
		}
		objs.DeploymentConfig = dc
	default:
		objs.Deployment = &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: meta(name, nil),
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: podSelector},
				Strategy: deploymentStrategy(s),
				Template: template,
			},
		}
	}

	objs.PVCs = append(objs.PVCs, pvc(meta(ref.AppRootPVCName(), nil), "1Gi"))
	for _, st := range s.Storage {
		objs.PVCs = append(objs.PVCs, pvc(meta(ref.StoragePVCName(st.Name), map[string]string{LabelStorageName: st.Name}), st.Size))
	}

	if len(ports) > 0 {
		svc := &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: meta(name, nil),
			Spec:       corev1.ServiceSpec{Selector: podSelector},
		}
		for _, p := range ports {
			svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
				Name: p.Name, Port: p.ContainerPort, Protocol: p.Protocol, TargetPort: intstr.FromInt32(p.ContainerPort),
			})
			m := meta(ref.SecretName(p.ContainerPort), nil)
			port := strconv.Itoa(int(p.ContainerPort))
			m.Annotations[AnnotationComponentPort] = port
			objs.Secrets = append(objs.Secrets, &corev1.Secret{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
				ObjectMeta: m,
				Type:       corev1.SecretTypeOpaque,
				// Data, not odo's StringData: the server turns stringData
				// into data, so applying data keeps apply idempotent.
				Data: map[string][]byte{
					secretKeyName(ref.Name, "host"): []byte(name),
					secretKeyName(ref.Name, "port"): []byte(port),
				},
			})
		}
		objs.Service = svc
	}

	objs.Secrets = append(objs.Secrets, linkSecrets(s, ref, meta)...)

	for _, u := range s.URL {
		if err := addURL(&objs, spec, ref, u, ports); err != nil {
			return Objects{}, err
		}
	}
	return objs, nil
}

// deploymentStrategy is the Deployment's strategy. Recreate is the
// default, as odo's DeploymentConfig: the s2idata PVC is ReadWriteOnce,
// and two supervisors should not share it. Rolling starts the new pod
// before the old one stops (one extra pod, none unavailable); its
// parameters are set, not left to the server's defaults, so that this
// field manager owns them and a switch back to Recreate removes them
// (the API refuses rollingUpdate beside Recreate).
func deploymentStrategy(s config.ComponentSettings) appsv1.DeploymentStrategy {
	if s.EffectiveStrategy() == config.StrategyRolling {
		return appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromInt32(0)),
		}}
	}
	return appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
}

// dcStrategy is the DeploymentConfig's strategy, as deploymentStrategy.
func dcStrategy(s config.ComponentSettings) oappsv1.DeploymentStrategy {
	if s.EffectiveStrategy() == config.StrategyRolling {
		return oappsv1.DeploymentStrategy{Type: oappsv1.DeploymentStrategyTypeRolling, RollingParams: &oappsv1.RollingDeploymentStrategyParams{
			MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromInt32(0)),
		}}
	}
	return oappsv1.DeploymentStrategy{Type: oappsv1.DeploymentStrategyTypeRecreate}
}

func checkSpec(spec ComponentSpec) error {
	lc := config.LocalConfig{Kind: config.Kind, APIVersion: config.APIVersion, ComponentSettings: spec.Settings}
	if err := lc.Validate(); err != nil {
		return &Error{Kind: KindInvalid, Message: "the component settings cannot be applied", Err: err}
	}
	var missing []string
	if spec.Builder.Image == "" {
		missing = append(missing, "builder image")
	}
	if spec.InitImage == "" {
		missing = append(missing, "init image")
	}
	if spec.Namespace == "" {
		missing = append(missing, "namespace")
	}
	if len(missing) > 0 {
		return &Error{Kind: KindInvalid, Message: "component spec lacks " + strings.Join(missing, ", "), Suggestion: "this is a bug in odod's caller: resolve the type and pass the init image"}
	}
	switch spec.Workload {
	case "", WorkloadDeployment, WorkloadDeploymentConfig:
	default:
		return &Error{Kind: KindInvalid, Message: fmt.Sprintf("unknown workload kind %q", spec.Workload), Suggestion: "use Deployment or DeploymentConfig"}
	}
	return nil
}

func componentLabels(spec ComponentSpec) map[string]string {
	ref := spec.Ref()
	l := map[string]string{
		LabelApp:            ref.App,
		LabelPartOf:         ref.App,
		LabelInstance:       ref.Name,
		LabelManagedBy:      ManagedBy,
		LabelName:           labelValue(spec.Builder.Name),
		LabelRuntimeVersion: labelValue(spec.Builder.Tag),
	}
	if v := labelValue(spec.ManagedByVersion); v != "" {
		l[LabelManagedByVersion] = v
	}
	for k, v := range l {
		if v == "" {
			delete(l, k)
		}
	}
	return l
}

// labelValue makes s a valid label value (63 characters of [A-Za-z0-9_.-],
// alphanumeric at both ends); "" when nothing is left.
func labelValue(s string) string {
	if len(validation.IsValidLabelValue(s)) == 0 {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '-'
		}
	}
	out := string(b)
	if len(out) > 63 {
		out = out[:63]
	}
	return strings.Trim(out, "-_.")
}

func mergeLabels(base, extra map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// containerPorts are the settings' ports, else the image's exposed ports
// (as odo's), named <port>-<proto>.
func containerPorts(s config.ComponentSettings, image ImageInfo) ([]corev1.ContainerPort, error) {
	raw := s.Ports
	fromImage := len(raw) == 0
	if fromImage {
		raw = image.ExposedPorts
	}
	var out []corev1.ContainerPort
	seen := map[string]bool{}
	for _, r := range raw {
		p, err := config.ParsePort(r)
		if err != nil {
			return nil, &Error{Kind: KindInvalid, Message: "bad port", Err: err, Suggestion: "fix Ports in .odo/config.yaml"}
		}
		if seen[p.Name()] {
			continue
		}
		seen[p.Name()] = true
		out = append(out, corev1.ContainerPort{Name: p.Name(), ContainerPort: p.Number, Protocol: corev1.Protocol(p.Protocol)})
	}
	if fromImage {
		// An image config's ports are a map: sort them so that Desired is
		// deterministic (odo's order was random).
		sort.Slice(out, func(i, j int) bool {
			if out[i].ContainerPort != out[j].ContainerPort {
				return out[i].ContainerPort < out[j].ContainerPort
			}
			return out[i].Protocol < out[j].Protocol
		})
	}
	return out, nil
}

func resourceRequirements(s config.ComponentSettings) (corev1.ResourceRequirements, error) {
	var rr corev1.ResourceRequirements
	set := func(list *corev1.ResourceList, name corev1.ResourceName, value string) error {
		if value == "" {
			return nil
		}
		q, err := resource.ParseQuantity(value)
		if err != nil {
			return &Error{Kind: KindInvalid, Message: fmt.Sprintf("%s %q is not a quantity", name, value), Err: err}
		}
		if *list == nil {
			*list = corev1.ResourceList{}
		}
		(*list)[name] = q
		return nil
	}
	return rr, errors.Join(
		set(&rr.Requests, corev1.ResourceCPU, s.MinCPU),
		set(&rr.Limits, corev1.ResourceCPU, s.MaxCPU),
		set(&rr.Requests, corev1.ResourceMemory, s.MinMemory),
		set(&rr.Limits, corev1.ResourceMemory, s.MaxMemory),
	)
}

// envVars are odo's, in odo's order: the user's, DEBUG_PORT, the S2I
// paths, then the source backup dir for local components. A later one
// with a name already present overwrites it in place (odo's
// uniqueAppendOrOverwriteEnvVars).
func envVars(s config.ComponentSettings, p S2IPaths) []corev1.EnvVar {
	var env []corev1.EnvVar
	for _, e := range s.Envs {
		env = appendOrOverwrite(env, corev1.EnvVar{Name: e.Name, Value: e.Value})
	}
	env = appendOrOverwrite(env,
		corev1.EnvVar{Name: EnvDebugPort, Value: strconv.Itoa(s.EffectiveDebugPort())},
		corev1.EnvVar{Name: EnvS2IScriptsURL, Value: p.ScriptsPath},
		corev1.EnvVar{Name: EnvS2IScriptsProtocol, Value: p.ScriptsProtocol},
		corev1.EnvVar{Name: EnvS2ISrcOrBinPath, Value: p.SrcOrBinPath},
		corev1.EnvVar{Name: EnvS2IDeploymentDir, Value: p.DeploymentDir},
		corev1.EnvVar{Name: EnvS2IWorkingDir, Value: p.WorkingDir},
		corev1.EnvVar{Name: EnvS2IBuilderImage, Value: p.BuilderImageName},
	)
	if s.EffectiveSourceType() == config.Local {
		env = appendOrOverwrite(env, corev1.EnvVar{Name: EnvSrcBackupDir, Value: p.SrcBackupDir})
	}
	return env
}

func appendOrOverwrite(env []corev1.EnvVar, add ...corev1.EnvVar) []corev1.EnvVar {
	for _, a := range add {
		replaced := false
		for i := range env {
			if env[i].Name == a.Name {
				env[i] = a
				replaced = true
				break
			}
		}
		if !replaced {
			env = append(env, a)
		}
	}
	return env
}

func podSpec(spec ComponentSpec, ref ComponentRef, paths S2IPaths, ports []corev1.ContainerPort, resources corev1.ResourceRequirements) corev1.PodSpec {
	name := ref.ObjectName()
	appRoot := ref.AppRootPVCName()
	mounts := []corev1.VolumeMount{
		{Name: SupervisordVolumeName, MountPath: initimage.MountPath + "/"},
		{Name: appRoot, MountPath: AppRootDir, SubPath: "app-root"},
	}
	// The deployment dir persists on the PVC too, unless it is already
	// under /opt/app-root (odo's isSubDir check).
	if d := paths.DeploymentDir; d != "" && !isSubDir(AppRootDir, d) {
		mounts = append(mounts, corev1.VolumeMount{Name: appRoot, MountPath: d, SubPath: "deployment"})
	}
	volumes := []corev1.Volume{
		{Name: SupervisordVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: appRoot, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: appRoot}}},
	}
	for _, st := range spec.Settings.Storage {
		claim := ref.StoragePVCName(st.Name)
		// odo named the volume <pvc>-<5 random chars>-volume; odod's name
		// is deterministic so that Desired stays pure and pushes idempotent.
		vol := truncateName(claim, 63-len("-volume")) + "-volume"
		volumes = append(volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
		mounts = append(mounts, corev1.VolumeMount{Name: vol, MountPath: st.Path})
	}
	// The init image defines its own entry points: copy-supervisord's
	// copy, and go-init → s2i-setup → supervisord in the app container.
	initCmd := initimage.InitContainerCommand()
	appCmd, appArgs := initimage.AppContainerCommand()
	return corev1.PodSpec{
		InitContainers: []corev1.Container{
			{
				Name:            InitCopyFilesToVolumeName,
				Image:           spec.Builder.Image,
				ImagePullPolicy: pullPolicy(spec.Builder.Image),
				Command:         []string{"sh", "-c"},
				Args:            []string{copyFilesToVolumeScript},
				VolumeMounts:    []corev1.VolumeMount{{Name: appRoot, MountPath: "/mnt"}},
			},
			{
				Name:            InitCopySupervisordName,
				Image:           spec.InitImage,
				ImagePullPolicy: pullPolicy(spec.InitImage),
				Command:         initCmd[:1],
				Args:            initCmd[1:],
				VolumeMounts:    []corev1.VolumeMount{{Name: SupervisordVolumeName, MountPath: initimage.MountPath + "/"}},
			},
		},
		Containers: []corev1.Container{{
			Name:            name,
			Image:           spec.Builder.Image,
			ImagePullPolicy: pullPolicy(spec.Builder.Image),
			Command:         appCmd,
			Args:            appArgs,
			Ports:           ports,
			Env:             envVars(spec.Settings, paths),
			EnvFrom:         linkEnvFrom(spec.Settings, ref),
			Resources:       resources,
			VolumeMounts:    mounts,
		}},
		Volumes: volumes,
	}
}

func isSubDir(base, dir string) bool {
	b, d := path.Clean(base), path.Clean(dir)
	return d == b || strings.HasPrefix(d, b+"/")
}

func pvc(meta metav1.ObjectMeta, size string) *corev1.PersistentVolumeClaim {
	// Validate has parsed size; a bad one cannot reach here.
	q := resource.MustParse(size)
	// odo gave PVCs labels but not the source-type annotation.
	meta.Annotations = nil
	return &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: meta,
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: q}},
		},
	}
}

func addURL(objs *Objects, spec ComponentSpec, ref ComponentRef, u config.ConfigURL, ports []corev1.ContainerPort) error {
	found := false
	for _, p := range ports {
		if int(p.ContainerPort) == u.Port {
			found = true
		}
	}
	if !found {
		var have []string
		for _, p := range ports {
			have = append(have, strconv.Itoa(int(p.ContainerPort)))
		}
		sort.Strings(have)
		return &Error{Kind: KindInvalid, Message: fmt.Sprintf("URL %q points at port %d, which the component does not expose (ports: %s)", u.Name, u.Port, strings.Join(have, ", ")),
			Suggestion: "change the URL's port or add the port to Ports in .odo/config.yaml"}
	}
	// odo's URL labels: part-of, instance, url-name (no `app`), plus
	// odod's managed-by labels.
	l := map[string]string{LabelPartOf: ref.App, LabelInstance: ref.Name, LabelURLName: u.Name, LabelManagedBy: ManagedBy}
	if v := labelValue(spec.ManagedByVersion); v != "" {
		l[LabelManagedByVersion] = v
	}
	meta := metav1.ObjectMeta{Name: ref.URLObjectName(u.Name), Namespace: spec.Namespace, Labels: l}
	kind := u.Kind
	if kind == config.URLKindAuto {
		kind = config.URLKindIngress
		if spec.RoutesServed {
			kind = config.URLKindRoute
		}
	}
	svc := ref.ObjectName()
	if kind == config.URLKindRoute {
		r := &routev1.Route{
			TypeMeta:   metav1.TypeMeta{APIVersion: routev1.GroupVersion.String(), Kind: "Route"},
			ObjectMeta: meta,
			Spec: routev1.RouteSpec{
				Host: u.Host,
				To:   routev1.RouteTargetReference{Kind: "Service", Name: svc, Weight: ptr.To[int32](100)},
				Port: &routev1.RoutePort{TargetPort: intstr.FromInt(u.Port)},
			},
		}
		if u.Secure {
			r.Spec.TLS = &routev1.TLSConfig{Termination: routev1.TLSTerminationEdge, InsecureEdgeTerminationPolicy: routev1.InsecureEdgeTerminationPolicyRedirect}
		}
		objs.Routes = append(objs.Routes, r)
		return nil
	}
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: meta,
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: u.Host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path:     "/",
				PathType: ptr.To(networkingv1.PathTypePrefix),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: svc, Port: networkingv1.ServiceBackendPort{Number: int32(u.Port)},
				}},
			}}}},
		}}},
	}
	if u.Secure && u.Host != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{u.Host}}}
	}
	objs.Ingresses = append(objs.Ingresses, ing)
	return nil
}

// pullPolicy is Kubernetes's own default for an image reference: a
// ":latest" or untagged image is pulled every time the pod starts (a new
// init image pushed under the same tag reaches the next pod), any other
// tag or a digest only when missing.
func pullPolicy(ref string) corev1.PullPolicy {
	if strings.Contains(ref, "@") {
		return corev1.PullIfNotPresent
	}
	name := ref[strings.LastIndex(ref, "/")+1:]
	tag := ""
	if i := strings.LastIndex(name, ":"); i >= 0 {
		tag = name[i+1:]
	}
	if tag == "" || tag == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}
