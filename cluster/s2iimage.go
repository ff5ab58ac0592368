package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// CommitOptions describe the image a build commits: the builder image
// with the assembled tree as one more layer, as S2I does.
type CommitOptions struct {
	// Builder is the builder image's reference.
	Builder string
	// LayerFile is a tar of the assembled tree (paths relative to /).
	LayerFile string
	// Repository is where the image goes (registry/path, no tag).
	Repository string
	// Tag is also pointed at the image ("latest" when empty).
	Tag string
	// Cmd is the image's command: the builder's S2I run script.
	Cmd []string
	// Labels and Env are added to the builder's (S2I's
	// io.openshift.build.* labels, OPENSHIFT_BUILD_* variables).
	Labels map[string]string
	Env    []string
	// Created is the image's creation time (zero: now).
	Created time.Time
	// Keychain supplies credentials; nil means authn.DefaultKeychain.
	Keychain authn.Keychain
	// RemoteOptions are added to every registry call (tests).
	RemoteOptions []remote.Option
}

// CommitImage makes the built image with go-containerregistry (the
// builder's layers untouched, one layer appended, the config's command,
// labels and env set) and pushes it; it returns the image by digest,
// which is what the workload runs.
func CommitImage(ctx context.Context, o CommitOptions) (string, error) {
	keychain := o.Keychain
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	ropts := append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(keychain)}, o.RemoteOptions...)
	builderRef, err := ParseImageRef(o.Builder)
	if err != nil {
		return "", &Error{Kind: KindInvalid, Message: fmt.Sprintf("%q is not an image reference", o.Builder), Err: err}
	}
	base, err := remote.Image(builderRef, ropts...)
	if err != nil {
		return "", &Error{Kind: KindImage, Message: fmt.Sprintf("cannot read builder image %s", o.Builder), Err: err,
			Suggestion: "check that the builder image's registry is reachable from this machine"}
	}
	mt, err := base.MediaType()
	if err != nil {
		return "", &Error{Kind: KindImage, Message: fmt.Sprintf("cannot read builder image %s's manifest", o.Builder), Err: err}
	}
	layerType := types.DockerLayer
	if mt == types.OCIManifestSchema1 {
		layerType = types.OCILayer
	}
	layer, err := tarball.LayerFromFile(o.LayerFile, tarball.WithMediaType(layerType))
	if err != nil {
		return "", fmt.Errorf("the assembled tree as a layer: %w", err)
	}
	created := o.Created
	if created.IsZero() {
		created = time.Now()
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: created}, CreatedBy: "odod build: S2I assemble", Comment: "the assembled application",
	}})
	if err != nil {
		return "", fmt.Errorf("append the build's layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("read the image config: %w", err)
	}
	cfg := *cf.Config.DeepCopy()
	if len(o.Cmd) > 0 {
		cfg.Cmd = o.Cmd
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	for k, v := range o.Labels {
		cfg.Labels[k] = v
	}
	cfg.Env = append(cfg.Env, o.Env...)
	if img, err = mutate.Config(img, cfg); err != nil {
		return "", fmt.Errorf("set the image config: %w", err)
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: created}); err != nil {
		return "", fmt.Errorf("set the image's creation time: %w", err)
	}
	tag := o.Tag
	if tag == "" {
		tag = "latest"
	}
	dst, err := ParseImageRef(o.Repository + ":" + tag)
	if err != nil {
		return "", &Error{Kind: KindInvalid, Message: fmt.Sprintf("%q is not an image repository", o.Repository), Err: err,
			Suggestion: "set Registry in .odo/config.yaml to host[:port][/path]"}
	}
	if err := remote.Write(dst, img, ropts...); err != nil {
		return "", &Error{Kind: KindImage, Reason: "PushFailed", Message: fmt.Sprintf("cannot push the built image to %s", dst), Err: err,
			Suggestion: "check that the registry is reachable from this machine and that you may push to it (docker login)"}
	}
	digest, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("the built image's digest: %w", err)
	}
	return dst.Context().Name() + "@" + digest.String(), nil
}
