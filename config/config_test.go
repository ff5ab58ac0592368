package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// odoWritten is a file as odo v1.2 wrote it (yaml.v2, struct order,
// lower-case apiversion).
const odoWritten = `kind: LocalConfig
apiversion: odo.openshift.io/v1alpha1
ComponentSettings:
  Type: nodejs
  SourceLocation: ./
  SourceType: local
  Ports:
  - 8080/TCP
  - 5000/udp
  Application: app
  Project: myproject
  Name: nodejs-ex
  MinMemory: 100Mi
  MaxMemory: 512Mi
  DebugPort: 9229
  Storage:
  - Name: data
    Size: 1Gi
    Path: /data
  MinCPU: 100m
  MaxCPU: "1"
  Envs:
  - Name: FOO
    Value: bar
  Url:
  - Name: web
    Port: 8080
`

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, DirName), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(Path(dir), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadOdoFile(t *testing.T) {
	dir := writeConfig(t, odoWritten)
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("odo's file does not validate: %v", err)
	}
	s := cfg.ComponentSettings
	want := ComponentSettings{
		Type: "nodejs", SourceLocation: "./", SourceType: Local,
		Ports:       []string{"8080/TCP", "5000/udp"},
		Application: "app", Project: "myproject", Name: "nodejs-ex",
		MinMemory: "100Mi", MaxMemory: "512Mi", DebugPort: 9229,
		Storage: []ComponentStorageSettings{{Name: "data", Size: "1Gi", Path: "/data"}},
		MinCPU:  "100m", MaxCPU: "1",
		Envs: EnvVarList{{Name: "FOO", Value: "bar"}},
		URL:  []ConfigURL{{Name: "web", Port: 8080}},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("settings:\n got %+v\nwant %+v", s, want)
	}
	if cfg.Kind != Kind || cfg.APIVersion != APIVersion {
		t.Fatalf("type meta %q %q", cfg.Kind, cfg.APIVersion)
	}
	ports, err := s.ParsedPorts()
	if err != nil {
		t.Fatal(err)
	}
	if ports[1].Name() != "5000-udp" || ports[1].Protocol != "UDP" || ports[0].Name() != "8080-tcp" {
		t.Fatalf("ports %+v", ports)
	}
}

func TestAcceptsCamelCaseAPIVersion(t *testing.T) {
	cfg, err := Parse([]byte("kind: LocalConfig\napiVersion: odo.openshift.io/v1alpha1\nComponentSettings:\n  Name: a\n  Type: nodejs\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIVersion != APIVersion {
		t.Fatalf("apiVersion not read: %q", cfg.APIVersion)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(t.TempDir())
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "odod create") {
		t.Fatalf("want a NotFoundError with a suggestion, got %v", err)
	}
}

func TestLoadBadYAMLHasLine(t *testing.T) {
	dir := writeConfig(t, "kind: LocalConfig\nComponentSettings:\n  Name: a\n   Type: b\n")
	_, err := Load(dir)
	var perr *ParseError
	if !errors.As(err, &perr) {
		t.Fatalf("want ParseError, got %v", err)
	}
	if perr.Line != 4 {
		t.Fatalf("line = %d, want 4 (%v)", perr.Line, err)
	}
	if !strings.Contains(err.Error(), Path(dir)+":4") || !strings.Contains(err.Error(), "odod create") {
		t.Fatalf("message lacks file:line or suggestion: %v", err)
	}
}

func TestLoadWrongTypes(t *testing.T) {
	for name, content := range map[string]string{
		"debug port string": "kind: LocalConfig\nComponentSettings:\n  DebugPort: abc\n",
		"not a mapping":     "- a\n- b\n",
		"empty":             "",
		"unrelated":         "foo: bar\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(content), "f.yaml")
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("want ParseError, got %v", err)
			}
		})
	}
}

func TestSaveRoundTripAndAtomic(t *testing.T) {
	dir := t.TempDir()
	cfg := New("frontend", "nodejs")
	cfg.ComponentSettings.Ports = []string{"8080/TCP"}
	cfg.SetEnv("A", "1")
	if err := cfg.AddStorage(ComponentStorageSettings{Name: "data", Size: "2Gi", Path: "/data"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.AddURL(ConfigURL{Name: "web", Port: 8080}); err != nil {
		t.Fatal(err)
	}
	if err := Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: LocalConfig\n", "apiversion: odo.openshift.io/v1alpha1\n", "ComponentSettings:\n", "  Application: app\n", "  Url:\n", "  - Name: web\n"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("saved file lacks %q:\n%s", want, raw)
		}
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cfg) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, cfg)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, DirName))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	// An invalid config is refused and the old file stays.
	bad := *cfg
	bad.ComponentSettings.Name = "Bad_Name"
	if err := Save(dir, &bad); err == nil {
		t.Fatal("saved an invalid config")
	}
	again, err := Load(dir)
	if err != nil || again.ComponentSettings.Name != "frontend" {
		t.Fatalf("old file damaged: %v %+v", err, again)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := &LocalConfig{Kind: "Other", ComponentSettings: ComponentSettings{
		Name:       "Bad_Name",
		Ports:      []string{"8080/TCP", "http", "70000", "8080/tcp", "53/icmp"},
		DebugPort:  -1,
		MinCPU:     "2",
		MaxCPU:     "1",
		MinMemory:  "lots",
		SourceType: "svn",
		Storage: []ComponentStorageSettings{
			{Name: "d", Size: "1Gi", Path: "relative"},
			{Name: "d", Size: "x", Path: "/opt/app-root/src"},
		},
		URL:  []ConfigURL{{Name: "u", Port: 9090}, {Name: "v", Port: 8080, Kind: "loadbalancer"}},
		Envs: EnvVarList{{Name: "1A", Value: ""}, {Name: "B"}, {Name: "B"}},
	}}
	err := cfg.Validate()
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("want ValidationError, got %v", err)
	}
	fields := map[string]bool{}
	for _, p := range verr.Problems {
		fields[p.Field] = true
	}
	for _, want := range []string{
		"kind", "ComponentSettings.Name", "ComponentSettings.Type", "ComponentSettings.SourceType",
		"ComponentSettings.Ports[1]", "ComponentSettings.Ports[2]", "ComponentSettings.Ports[3]", "ComponentSettings.Ports[4]",
		"ComponentSettings.DebugPort", "ComponentSettings.MinCPU", "ComponentSettings.MinMemory",
		"ComponentSettings.Storage[0].Path", "ComponentSettings.Storage[1].Name", "ComponentSettings.Storage[1].Size",
		"ComponentSettings.Storage[1].Path", "ComponentSettings.Url[0].Port", "ComponentSettings.Url[1].Kind",
		"ComponentSettings.Envs[0]", "ComponentSettings.Envs[2]",
	} {
		if !fields[want] {
			t.Errorf("no problem reported for %s; got %v", want, verr.Problems)
		}
	}
	if fields["ComponentSettings.Ports[0]"] || fields["ComponentSettings.Url[1].Port"] || fields["ComponentSettings.Envs[1]"] {
		t.Errorf("valid entries reported: %v", verr.Problems)
	}
}

func TestDefaults(t *testing.T) {
	var s ComponentSettings
	if s.App() != "app" || s.EffectiveDebugPort() != 5858 || s.EffectiveSourceType() != Local {
		t.Fatalf("defaults: %q %d %q", s.App(), s.EffectiveDebugPort(), s.EffectiveSourceType())
	}
}

func TestStorageAndURLHelpers(t *testing.T) {
	cfg := New("c", "nodejs")
	if err := cfg.AddStorage(ComponentStorageSettings{Name: "a", Size: "1Gi", Path: "/a"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.AddStorage(ComponentStorageSettings{Name: "a", Size: "1Gi", Path: "/b"}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate storage: %v", err)
	}
	if err := cfg.AddStorage(ComponentStorageSettings{Name: "b", Size: "1Gi", Path: "/a"}); err == nil {
		t.Fatal("two storages on one path accepted")
	}
	if len(cfg.ComponentSettings.Storage) != 1 {
		t.Fatalf("a refused add changed the config: %+v", cfg.ComponentSettings.Storage)
	}
	if err := cfg.RemoveStorage("zzz"); !errors.Is(err, ErrStorageNotFound) {
		t.Fatalf("remove unknown: %v", err)
	}
	if err := cfg.RemoveStorage("a"); err != nil || len(cfg.ComponentSettings.Storage) != 0 {
		t.Fatalf("remove: %v %+v", err, cfg.ComponentSettings.Storage)
	}
	if err := cfg.AddURL(ConfigURL{Name: "web", Port: 8080}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.AddURL(ConfigURL{Name: "web", Port: 8081}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate URL: %v", err)
	}
	if err := cfg.RemoveURL("nope"); !errors.Is(err, ErrURLNotFound) {
		t.Fatalf("remove unknown URL: %v", err)
	}
	if err := cfg.RemoveURL("web"); err != nil || len(cfg.ComponentSettings.URL) != 0 {
		t.Fatalf("remove URL: %v", err)
	}
	cfg.SetEnv("A", "1")
	cfg.SetEnv("B", "2")
	cfg.SetEnv("A", "3")
	if got := cfg.ComponentSettings.Envs; !reflect.DeepEqual(got, EnvVarList{{"A", "3"}, {"B", "2"}}) {
		t.Fatalf("envs %+v", got)
	}
	if !cfg.UnsetEnv("A") || cfg.UnsetEnv("A") {
		t.Fatal("UnsetEnv result wrong")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(odoWritten))
	f.Add([]byte("kind: LocalConfig\nComponentSettings:\n  Name: a\n   Type: b\n"))
	f.Add([]byte("ComponentSettings: {Ports: [\"8080/TCP\", 1], Storage: [{Size: 1Gi}]}"))
	f.Add([]byte("&a [*a, *a]"))
	f.Add([]byte("ComponentSettings:\n  DebugPort: 99999999999999999999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if cfg.Validate() != nil {
			return
		}
		// A valid config survives a write and a read unchanged.
		out, err := Marshal(cfg)
		if err != nil {
			t.Fatalf("marshal of a valid config failed: %v", err)
		}
		back, err := Parse(out, "again.yaml")
		if err != nil {
			t.Fatalf("re-parse failed: %v\n%s", err, out)
		}
		want := *cfg
		want.Kind, want.APIVersion = Kind, APIVersion
		if !reflect.DeepEqual(*back, want) {
			t.Fatalf("round trip changed the config:\n got %#v\nwant %#v", *back, want)
		}
	})
}

func TestLinks(t *testing.T) {
	cfg := New("frontend", "nodejs")
	if err := cfg.AddLink(ComponentLink{Name: "backend", Port: 8080}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.AddLink(ComponentLink{Name: "backend", Port: 9090}); err != nil {
		t.Fatal(err)
	}
	if len(cfg.ComponentSettings.Link) != 1 || cfg.ComponentSettings.Link[0].Port != 9090 {
		t.Fatalf("relinking changes the port in place: %+v", cfg.ComponentSettings.Link)
	}
	for _, bad := range []ComponentLink{
		{Name: "frontend", Port: 8080},
		{Name: "Bad_Name", Port: 8080},
		{Name: "db", Port: 0},
		{Name: "db", Port: 5432, Kind: "database"},
	} {
		if err := cfg.AddLink(bad); err == nil {
			t.Errorf("AddLink(%+v) accepted", bad)
		}
	}
	if len(cfg.ComponentSettings.Link) != 1 {
		t.Fatalf("a rejected link was kept: %+v", cfg.ComponentSettings.Link)
	}
	dir := t.TempDir()
	if err := Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.ComponentSettings.Link) != 1 || back.ComponentSettings.Link[0] != (ComponentLink{Name: "backend", Port: 9090}) {
		t.Fatalf("links after a round trip: %+v", back.ComponentSettings.Link)
	}
	if err := back.RemoveLink("db"); !errors.Is(err, ErrLinkNotFound) {
		t.Fatalf("RemoveLink(db) = %v", err)
	}
	if err := back.RemoveLink("backend"); err != nil || len(back.ComponentSettings.Link) != 0 {
		t.Fatalf("RemoveLink(backend) = %v, links %+v", err, back.ComponentSettings.Link)
	}
	if h, p := (ComponentLink{Name: "my-db"}).EnvNames(); h != "COMPONENT_MY_DB_HOST" || p != "COMPONENT_MY_DB_PORT" {
		t.Errorf("EnvNames = %s %s", h, p)
	}
}
