package component

import (
	"context"
	"errors"
	"sort"

	"go.uber.org/zap"

	"github.com/odod-dev/odod/cluster"
	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// Settings is a workspace's .odo/config.yaml and what reconciles it with
// the cluster: URLs and storage are added, listed and removed here, and
// the desired objects made from it. It needs no index: `odod storage add`
// edits one YAML file without walking the workspace.
type Settings struct {
	root      string
	connect   Connector
	initImage string
	version   string
	log       *zap.Logger
}

// SettingsOptions configure Settings; the fields mean what Options' do.
type SettingsOptions struct {
	// Root is the workspace's directory, the one holding .odo.
	Root      string
	Connect   Connector
	InitImage string
	Version   string
	Logger    *zap.Logger
}

// NewSettings makes the settings of the workspace at opts.Root.
func NewSettings(opts SettingsOptions) *Settings {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Settings{root: opts.Root, connect: opts.Connect, initImage: opts.InitImage, version: opts.Version, log: opts.Logger}
}

// load reads .odo/config.yaml.
func (s *Settings) load() (*config.LocalConfig, error) {
	return config.Load(s.root)
}

// connected loads the settings and connects to their project.
func (s *Settings) connected(ctx context.Context) (*config.LocalConfig, Cluster, error) {
	cfg, err := s.load()
	if err != nil {
		return nil, nil, err
	}
	cl, err := s.connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		return nil, nil, err
	}
	return cfg, cl, nil
}

func ref(cfg *config.LocalConfig) cluster.ComponentRef {
	return cluster.ComponentRef{Name: cfg.ComponentSettings.Name, App: cfg.ComponentSettings.App()}
}

// spec resolves the builder and makes the desired objects' input.
func (s *Settings) spec(ctx context.Context, cl Resolver, cfg *config.LocalConfig) (cluster.ComponentSpec, cluster.S2IPaths, error) {
	builder, err := cl.ResolveType(ctx, cfg.ComponentSettings.Type)
	if err != nil {
		return cluster.ComponentSpec{}, cluster.S2IPaths{}, err
	}
	info, err := cl.InspectImage(ctx, builder.Image)
	if err != nil {
		return cluster.ComponentSpec{}, cluster.S2IPaths{}, err
	}
	paths, err := cluster.S2IPathsFromImage(info)
	if err != nil {
		return cluster.ComponentSpec{}, cluster.S2IPaths{}, err
	}
	workload := cluster.WorkloadDeployment
	if cfg.ComponentSettings.Workload == string(cluster.WorkloadDeploymentConfig) {
		workload = cluster.WorkloadDeploymentConfig
	}
	spec := cluster.ComponentSpec{
		Namespace:        cl.Namespace(),
		Settings:         cfg.ComponentSettings,
		Builder:          builder,
		Image:            info,
		InitImage:        s.initImage,
		Workload:         workload,
		RoutesServed:     cl.Platform().Route,
		ManagedByVersion: s.version,
	}
	if paths.SrcOrBinPath == "" {
		paths.SrcOrBinPath = "/tmp"
	}
	return spec, paths, nil
}

// onCluster reports whether the component's workload exists.
func onCluster(ctx context.Context, cl Describer, cfg *config.LocalConfig) (cluster.Description, bool, error) {
	d, err := cl.Describe(ctx, ref(cfg))
	if err != nil {
		return d, false, err
	}
	return d, d.Workload != nil, nil
}

// applySettings applies the settings' objects without syncing files, so
// that a URL is usable at once when the component is already pushed.
func (s *Settings) applySettings(ctx context.Context, cl objectsCluster, cfg *config.LocalConfig) error {
	spec, _, err := s.spec(ctx, cl, cfg)
	if err != nil {
		return err
	}
	objs, err := cluster.Desired(spec)
	if err != nil {
		return err
	}
	_, err = cl.Apply(ctx, objs, cluster.ApplyOptions{})
	return err
}

// CreateURL adds a URL to the settings and, when the component is on the
// cluster, creates its Route or Ingress at once.
func (s *Settings) CreateURL(ctx context.Context, u config.ConfigURL) (protocol.URL, error) {
	cfg, err := s.load()
	if err != nil {
		return protocol.URL{}, err
	}
	if err := cfg.AddURL(u); err != nil {
		return protocol.URL{}, invalid("name", err)
	}
	if err := cfg.Validate(); err != nil {
		return protocol.URL{}, err
	}
	if err := config.Save(s.root, cfg); err != nil {
		return protocol.URL{}, err
	}
	out := localURL(u)
	out.State = protocol.SettingNotPushed
	cl, err := s.connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		s.log.Info("URL saved; it is created on the cluster at the next push")
		return out, nil
	}
	if _, pushed, err := onCluster(ctx, cl, cfg); err != nil || !pushed {
		return out, nil
	}
	if err := s.applySettings(ctx, cl, cfg); err != nil {
		return out, err
	}
	urls, err := s.ListURLs(ctx)
	if err != nil {
		return out, err
	}
	for _, x := range urls {
		if x.Name == u.Name {
			return x, nil
		}
	}
	return out, nil
}

// ListURLs lists the URLs of the settings and of the cluster, as odo url
// list did (Pushed, Not pushed, Locally deleted).
func (s *Settings) ListURLs(ctx context.Context) ([]protocol.URL, error) {
	cfg, err := s.load()
	if err != nil {
		return nil, err
	}
	local := make([]protocol.URL, 0, len(cfg.ComponentSettings.URL))
	for _, u := range cfg.ComponentSettings.URL {
		local = append(local, localURL(u))
	}
	var remote []protocol.URL
	if cl, err := s.connect(ctx, cfg.ComponentSettings.Project); err == nil {
		onCluster, err := cl.ListURLs(ctx, ref(cfg))
		if err != nil {
			return nil, err
		}
		for _, r := range onCluster {
			remote = append(remote, protocol.URL{Name: r.Name, Kind: r.Kind, Host: r.Host, URL: r.URL, Port: r.Port, Secure: r.Secure})
		}
	}
	// The cluster knows the host and the URL: a pushed URL is shown as it is there.
	return mergeByName(local, remote, func(u protocol.URL) string { return u.Name },
		func(_, r protocol.URL) protocol.URL { return r },
		func(u *protocol.URL) *protocol.SettingState { return &u.State }), nil
}

func localURL(u config.ConfigURL) protocol.URL {
	return protocol.URL{Name: u.Name, Port: u.Port, Secure: u.Secure, Host: u.Host}
}

// DeleteURL removes a URL from the settings and, when pushed, from the
// cluster.
func (s *Settings) DeleteURL(ctx context.Context, name string) error {
	cfg, err := s.load()
	if err != nil {
		return err
	}
	if err := cfg.RemoveURL(name); err != nil {
		if !errors.Is(err, config.ErrURLNotFound) {
			return err
		}
		// Not in the settings: it may still be on the cluster.
	} else if err := config.Save(s.root, cfg); err != nil {
		return err
	}
	cl, err := s.connect(ctx, cfg.ComponentSettings.Project)
	if err != nil {
		return nil
	}
	if _, pushed, err := onCluster(ctx, cl, cfg); err == nil && pushed {
		return s.applySettings(ctx, cl, cfg) // prunes the URL's object
	}
	return nil
}

// AddStorage adds a PVC mount to the settings (applied on the next push).
func (s *Settings) AddStorage(name, mountPath, size string) error {
	cfg, err := s.load()
	if err != nil {
		return err
	}
	if err := cfg.AddStorage(config.ComponentStorageSettings{Name: name, Path: mountPath, Size: size}); err != nil {
		return invalid("name", err)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return config.Save(s.root, cfg)
}

// RemoveStorage removes a PVC mount from the settings (applied on the next
// push, which deletes the PVC).
func (s *Settings) RemoveStorage(name string) error {
	cfg, err := s.load()
	if err != nil {
		return err
	}
	if err := cfg.RemoveStorage(name); err != nil {
		return &Error{Code: protocol.CodeNotFound, Reason: "NotFound", Message: err.Error(), Suggestion: "odod storage list shows the component's storage", Err: err}
	}
	return config.Save(s.root, cfg)
}

// ListStorage lists the settings' storage and what is on the cluster.
func (s *Settings) ListStorage(ctx context.Context) ([]protocol.Storage, error) {
	cfg, err := s.load()
	if err != nil {
		return nil, err
	}
	local := make([]protocol.Storage, 0, len(cfg.ComponentSettings.Storage))
	for _, st := range cfg.ComponentSettings.Storage {
		local = append(local, protocol.Storage{Name: st.Name, Path: st.Path, Size: st.Size})
	}
	var remote []protocol.Storage
	if cl, err := s.connect(ctx, cfg.ComponentSettings.Project); err == nil {
		onCluster, err := cl.ListStorage(ctx, ref(cfg))
		if err != nil {
			return nil, err
		}
		for _, r := range onCluster {
			remote = append(remote, protocol.Storage{Name: r.Name, Path: r.Path, Size: r.Size})
		}
	}
	// A pushed storage is shown as the settings say.
	return mergeByName(local, remote, func(st protocol.Storage) string { return st.Name },
		func(l, _ protocol.Storage) protocol.Storage { return l },
		func(st *protocol.Storage) *protocol.SettingState { return &st.State }), nil
}

// mergeByName lists what the settings declare (local) and what the
// cluster holds (remote) by name, sorted, as odo's url and storage lists
// did: in both, Pushed, as pushed(local, remote) shows it; in the settings
// only, Not pushed; on the cluster only, Locally deleted. state points at
// an item's state.
func mergeByName[T any](local, remote []T, name func(T) string, pushed func(local, remote T) T, state func(*T) *protocol.SettingState) []T {
	byName := make(map[string]T, len(local)+len(remote))
	for _, l := range local {
		*state(&l) = protocol.SettingNotPushed
		byName[name(l)] = l
	}
	for _, r := range remote {
		item := r
		*state(&item) = protocol.SettingLocallyDeleted
		if l, ok := byName[name(r)]; ok {
			item = pushed(l, r)
			*state(&item) = protocol.SettingPushed
		}
		byName[name(r)] = item
	}
	out := make([]T, 0, len(byName))
	for _, item := range byName {
		out = append(out, item)
	}
	sort.Slice(out, func(i, j int) bool { return name(out[i]) < name(out[j]) })
	return out
}
