package cluster

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/odod-dev/odod/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func nodejsImage() ImageInfo {
	return ImageInfo{
		Ref: "127.0.0.1:5000/odod/nodejs-builder:latest",
		Labels: map[string]string{
			LabelS2IScriptsURL:  "image:///usr/libexec/s2i",
			LabelS2IDestination: "/tmp",
			LabelBuilderName:    "odod/nodejs-builder",
		},
		WorkingDir:   "/opt/app-root/src",
		ExposedPorts: []string{"8080/tcp"},
	}
}

func nodejsSpec() ComponentSpec {
	return ComponentSpec{
		Namespace: "dev",
		Settings: config.ComponentSettings{
			Type: "nodejs", SourceType: config.Local, SourceLocation: "./",
			Name: "frontend", Application: "shop",
			Ports:     []string{"8080/TCP", "9229"},
			MinMemory: "128Mi", MaxMemory: "512Mi", MinCPU: "100m", MaxCPU: "1",
			Envs:    config.EnvVarList{{Name: "NODE_ENV", Value: "development"}, {Name: "DEBUG_PORT", Value: "1"}},
			Storage: []config.ComponentStorageSettings{{Name: "cache", Size: "2Gi", Path: "/cache"}},
			URL:     []config.ConfigURL{{Name: "web", Port: 8080, Host: "frontend.example.test"}},
		},
		Builder:          Builder{Type: "nodejs", Name: "nodejs", Tag: "latest", Image: "127.0.0.1:5000/odod/nodejs-builder:latest"},
		Image:            nodejsImage(),
		InitImage:        "127.0.0.1:5000/odod/init:test",
		ManagedByVersion: "v0.0.0-test",
	}
}

func javaDCSpec() ComponentSpec {
	return ComponentSpec{
		Namespace: "proj",
		Settings: config.ComponentSettings{
			Type: "java:11", SourceType: config.Binary, SourceLocation: "target/app.jar", Name: "backend",
			URL: []config.ConfigURL{{Name: "api", Port: 8080, Secure: true}},
		},
		Builder: Builder{Type: "java:11", Name: "java", Tag: "11", Image: "image-registry.openshift-image-registry.svc:5000/openshift/java@sha256:0123",
			ImageStream: &ImageStreamTagRef{Namespace: "openshift", Name: "java", Tag: "11"}},
		Image: ImageInfo{
			Labels: map[string]string{
				LabelS2IScriptsURL:           "image:///usr/local/s2i",
				LabelS2IDestination:          "/tmp",
				"org.jboss.deployments-dir":  "/deployments",
				LabelBuilderName:             "openjdk/openjdk-11-rhel7",
				"com.redhat.deployments-dir": "/deployments",
			},
			WorkingDir:   "/home/jboss",
			ExposedPorts: []string{"8778/tcp", "8080/tcp", "8443/tcp"},
		},
		InitImage:        "quay.io/odod/init:1",
		Workload:         WorkloadDeploymentConfig,
		RoutesServed:     true,
		ManagedByVersion: "v0.0.0-test",
	}
}

func minimalSpec() ComponentSpec {
	return ComponentSpec{
		Namespace: "default",
		Settings:  config.ComponentSettings{Type: "registry.example.com/team/py:3", Name: "worker"},
		Builder:   Builder{Type: "registry.example.com/team/py:3", Name: "py", Tag: "3", Image: "registry.example.com/team/py:3"},
		InitImage: "init:1",
	}
}

func renderObjects(t *testing.T, objs Objects) []byte {
	t.Helper()
	var buf bytes.Buffer
	for i, o := range objs.All() {
		if i > 0 {
			buf.WriteString("---\n")
		}
		y, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(y)
	}
	return buf.Bytes()
}

func TestDesiredGolden(t *testing.T) {
	for name, spec := range map[string]ComponentSpec{
		"nodejs-deployment":     nodejsSpec(),
		"java-deploymentconfig": javaDCSpec(),
		"minimal-no-ports":      minimalSpec(),
	} {
		t.Run(name, func(t *testing.T) {
			objs, err := Desired(spec)
			if err != nil {
				t.Fatal(err)
			}
			got := renderObjects(t, objs)
			file := filepath.Join("testdata", name+".golden.yaml")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./cluster -run TestDesiredGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Desired differs from %s (rerun with -update if the change is intended):\n%s", file, firstDiff(string(want), string(got)))
			}
			again, _ := Desired(spec)
			if !bytes.Equal(renderObjects(t, again), got) {
				t.Fatal("Desired is not deterministic")
			}
		})
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + wl + "\n  got: " + gl
		}
	}
	return ""
}

func TestDesiredPodShape(t *testing.T) {
	objs, err := Desired(nodejsSpec())
	if err != nil {
		t.Fatal(err)
	}
	d := objs.Deployment
	if d == nil || objs.DeploymentConfig != nil {
		t.Fatal("want a Deployment only")
	}
	if d.Name != "frontend-shop" || d.Spec.Selector.MatchLabels[PodLabelDeployment] != "frontend-shop" {
		t.Fatalf("name/selector: %s %v", d.Name, d.Spec.Selector.MatchLabels)
	}
	pod := d.Spec.Template.Spec
	if pod.InitContainers[0].Name != InitCopyFilesToVolumeName || pod.InitContainers[1].Name != InitCopySupervisordName {
		t.Fatalf("init container order: %s, %s", pod.InitContainers[0].Name, pod.InitContainers[1].Name)
	}
	cp := pod.InitContainers[1]
	if strings.Join(append(cp.Command, cp.Args...), " ") != "/opt/odo-init/bin/odod-init cp -r /opt/odo-init/. /opt/odo/" || cp.Image != "127.0.0.1:5000/odod/init:test" {
		t.Fatalf("copy-supervisord: %v %v %s", cp.Command, cp.Args, cp.Image)
	}
	app := pod.Containers[0]
	if app.Command[0] != "/opt/odo/bin/go-init" || strings.Join(app.Args, "|") != "-pre|/opt/odo/bin/s2i-setup|-main|/opt/odo/bin/supervisord -c /opt/app-root/conf/supervisor.conf" {
		t.Fatalf("app command: %v %v", app.Command, app.Args)
	}
	var names []string
	env := map[string]string{}
	for _, e := range app.Env {
		names = append(names, e.Name)
		env[e.Name] = e.Value
	}
	wantOrder := []string{"NODE_ENV", "DEBUG_PORT", EnvS2IScriptsURL, EnvS2IScriptsProtocol, EnvS2ISrcOrBinPath, EnvS2IDeploymentDir, EnvS2IWorkingDir, EnvS2IBuilderImage, EnvSrcBackupDir}
	if !reflect.DeepEqual(names, wantOrder) {
		t.Fatalf("env order %v, want %v", names, wantOrder)
	}
	if env["DEBUG_PORT"] != "5858" || env[EnvS2IScriptsURL] != "/usr/libexec/s2i" || env[EnvS2IScriptsProtocol] != "image://" ||
		env[EnvS2IWorkingDir] != "/opt/app-root/src" || env[EnvS2IBuilderImage] != "odod/nodejs-builder" || env[EnvSrcBackupDir] != "/opt/app-root/src-backup" {
		t.Fatalf("env values %v", env)
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range app.VolumeMounts {
		mounts[m.MountPath] = m
	}
	if mounts["/opt/odo/"].Name != SupervisordVolumeName || mounts["/opt/app-root"].SubPath != "app-root" || mounts["/opt/app-root"].Name != "frontend-shop-s2idata" || mounts["/cache"].Name != "cache-shop-pvc-volume" {
		t.Fatalf("mounts %v", app.VolumeMounts)
	}
	if len(objs.Secrets) != 2 || string(objs.Secrets[0].Data["COMPONENT_FRONTEND_HOST"]) != "frontend-shop" || objs.Secrets[1].Name != "frontend-shop-9229" {
		t.Fatalf("secrets %+v", objs.Secrets)
	}
	if objs.PVCs[0].Name != "frontend-shop-s2idata" || objs.PVCs[1].Name != "cache-shop-pvc" || objs.PVCs[1].Labels[LabelStorageName] != "cache" {
		t.Fatalf("pvcs %s %s", objs.PVCs[0].Name, objs.PVCs[1].Name)
	}
	if len(objs.Ingresses) != 1 || objs.Ingresses[0].Name != "web-shop" || len(objs.Routes) != 0 {
		t.Fatal("URL should be an Ingress when Routes are not served")
	}
	if d.Labels[LabelManagedBy] != "odod" || d.Labels[LabelName] != "nodejs" || d.Labels[LabelRuntimeVersion] != "latest" || d.Labels[LabelApp] != "shop" {
		t.Fatalf("labels %v", d.Labels)
	}
}

func TestDesiredDeploymentConfig(t *testing.T) {
	objs, err := Desired(javaDCSpec())
	if err != nil {
		t.Fatal(err)
	}
	dc := objs.DeploymentConfig
	if dc == nil || objs.Deployment != nil {
		t.Fatal("want a DeploymentConfig")
	}
	if len(dc.Spec.Triggers) != 2 || dc.Spec.Triggers[1].ImageChangeParams.From.Name != "java:11" ||
		!reflect.DeepEqual(dc.Spec.Triggers[1].ImageChangeParams.ContainerNames, []string{"backend-app", InitCopyFilesToVolumeName}) {
		t.Fatalf("triggers %+v", dc.Spec.Triggers)
	}
	// Ports come from the image, sorted; deployment dir is mounted from
	// the PVC because it is outside /opt/app-root.
	ports := dc.Spec.Template.Spec.Containers[0].Ports
	if len(ports) != 3 || ports[0].Name != "8080-tcp" {
		t.Fatalf("ports %+v", ports)
	}
	found := false
	for _, m := range dc.Spec.Template.Spec.Containers[0].VolumeMounts {
		if m.MountPath == "/deployments" && m.SubPath == "deployment" {
			found = true
		}
	}
	if !found {
		t.Fatal("deployment dir not mounted")
	}
	for _, e := range dc.Spec.Template.Spec.Containers[0].Env {
		if e.Name == EnvSrcBackupDir {
			t.Fatal("binary components get no ODO_SRC_BACKUP_DIR")
		}
		if e.Name == EnvS2IDeploymentDir && e.Value != "/deployments" {
			t.Fatalf("deployment dir %q", e.Value)
		}
	}
	if len(objs.Routes) != 1 || objs.Routes[0].Spec.TLS == nil || objs.Routes[0].Labels[LabelApp] != "" {
		t.Fatalf("route %+v", objs.Routes)
	}
}

func TestDesiredErrors(t *testing.T) {
	bad := nodejsSpec()
	bad.Settings.URL = []config.ConfigURL{{Name: "x", Port: 7777}}
	bad.Settings.Ports = nil
	if _, err := Desired(bad); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "7777") {
		t.Fatalf("URL on an unexposed port: %v", err)
	}
	bad = nodejsSpec()
	bad.InitImage = ""
	if _, err := Desired(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("missing init image: %v", err)
	}
	bad = nodejsSpec()
	bad.Settings.Name = "UPPER"
	if _, err := Desired(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad name: %v", err)
	}
	bad = nodejsSpec()
	bad.Image.Labels[LabelS2IScriptsURL] = "ftp://x"
	if _, err := Desired(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown scripts protocol: %v", err)
	}
}

func TestNames(t *testing.T) {
	long := ComponentRef{Name: strings.Repeat("a", 40), App: strings.Repeat("b", 30)}
	if n := long.ObjectName(); len(n) != 54 {
		t.Fatalf("object name %d chars", len(n))
	}
	if n := long.AppRootPVCName(); len(n) > 63 {
		t.Fatalf("pvc name %d chars", len(n))
	}
	dash := ComponentRef{Name: strings.Repeat("a", 53), App: "x"}
	if n := dash.ObjectName(); strings.HasSuffix(n, "-") {
		t.Fatalf("trailing dash: %s", n)
	}
	if got := secretKeyName("my-comp", "host"); got != "COMPONENT_MY_COMP_HOST" {
		t.Fatal(got)
	}
	r := ComponentRef{Name: "c", App: "a"}
	if r.Selector().String() != "app.kubernetes.io/instance=c,app.kubernetes.io/part-of=a" {
		t.Fatal(r.Selector().String())
	}
	if labelValue("odod/nodejs-builder") != "odod-nodejs-builder" || labelValue("sha256:abc") != "sha256-abc" {
		t.Fatal("labelValue")
	}
	if !isSubDir("/opt/app-root", "/opt/app-root/src") || isSubDir("/opt/app-root", "/opt/app-rootx") || isSubDir("/opt/app-root", "/deployments") {
		t.Fatal("isSubDir")
	}
}

func TestS2IPathsFromImage(t *testing.T) {
	cases := []struct {
		labels          map[string]string
		proto, path     string
		src, deployment string
	}{
		{map[string]string{LabelS2IScriptsURL: "image:///usr/libexec/s2i"}, "image://", "/usr/libexec/s2i", "/tmp", ""},
		{map[string]string{LabelS2IScriptsURL: "file:///opt/s2i", LabelS2IDestination: "/opt/src"}, "file://", "/opt/s2i", "/opt/src", ""},
		{map[string]string{LabelS2IScriptsURL: "https://example.test/s2i", "org.jboss.container.deployments-dir": "/deployments"}, "http(s)://", "https://example.test/s2i", "/tmp", "/deployments"},
		{nil, "image://", "/usr/libexec/s2i", "/tmp", ""},
	}
	for _, c := range cases {
		p, err := S2IPathsFromImage(ImageInfo{Labels: c.labels})
		if err != nil {
			t.Fatal(err)
		}
		if p.ScriptsProtocol != c.proto || p.ScriptsPath != c.path || p.SrcOrBinPath != c.src || p.DeploymentDir != c.deployment {
			t.Errorf("%v: got %+v", c.labels, p)
		}
	}
}

func TestPullPolicyFollowsKubernetesDefault(t *testing.T) {
	for ref, want := range map[string]corev1.PullPolicy{
		"127.0.0.1:5000/odod/odod-init:latest": corev1.PullAlways,
		"127.0.0.1:5000/odod/odod-init":        corev1.PullAlways,
		"quay.io/odod/odod-init:v1.2.3":        corev1.PullIfNotPresent,
		"registry:5000/img@sha256:0123":        corev1.PullIfNotPresent,
		"localhost:5000/img":                   corev1.PullAlways,
	} {
		if got := pullPolicy(ref); got != want {
			t.Errorf("pullPolicy(%q) = %s, want %s", ref, got, want)
		}
	}
}
