package component

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/odod-dev/odod/config"
	"github.com/odod-dev/odod/protocol"
)

// A binary component's push sends its artifact alone, and only when it
// changed; the workspace's other files are not synced.
func TestBinaryPushSendsTheArtifactOnly(t *testing.T) {
	h := newHarness(t, map[string]string{"src/Main.java": "class Main {}", "target/app.jar": "jar1", "README": "r"})
	cfg, err := config.Load(h.root)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ComponentSettings.SourceType, cfg.ComponentSettings.SourceLocation = config.Binary, "./target/app.jar"
	if err := config.Save(h.root, cfg); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := h.c.Push(ctx, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesCopied != 1 || res.BuildExitCode == nil {
		t.Fatalf("first push = %+v", res)
	}
	if got, want := h.podFiles(), []string{"target/app.jar=jar1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pod files = %v, want %v", got, want)
	}

	// An edit elsewhere: nothing to send, no build.
	writeFile(t, filepath.Join(h.root, "README"), "r2")
	res, err = h.c.Push(ctx, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesCopied != 0 || res.BuildExitCode != nil {
		t.Fatalf("push after an edit of another file = %+v", res)
	}

	// A new artifact is sent and built.
	writeFile(t, filepath.Join(h.root, "target", "app.jar"), "jar-2")
	res, err = h.c.Push(ctx, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesCopied != 1 || res.Bytes != 5 || res.BuildExitCode == nil {
		t.Fatalf("push of a new jar = %+v", res)
	}
	if got, want := h.podFiles(), []string{"target/app.jar=jar-2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pod files = %v, want %v", got, want)
	}

	// An artifact that is not there is an error that says what to do.
	cfg.ComponentSettings.SourceLocation = "target/missing.jar"
	if err := config.Save(h.root, cfg); err != nil {
		t.Fatal(err)
	}
	_, err = h.c.Push(ctx, PushOptions{})
	wantCode(t, err, protocol.CodeInvalidConfig, "NoArtifact", "missing.jar", "build the artifact")
}
