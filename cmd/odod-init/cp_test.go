//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func cp(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	code := runCp(context.Background(), args, nil, &stderr)
	return code, stderr.String()
}

func TestCpInitContainerCommand(t *testing.T) {
	src := filepath.Join(t.TempDir(), "odo-init")
	dst := t.TempDir() // the emptyDir exists already, world-writable
	if err := os.Chmod(dst, 0o777); err != nil {
		t.Fatal(err)
	}
	writeTree(t, src, map[string]string{"bin/odod-init": "ELF", "conf/supervisor.conf": "[program:run]", "language-scripts/nodejs/dev-run": "#!/bin/sh"})
	if err := os.Symlink("odod-init", filepath.Join(src, "bin/go-init")); err != nil {
		t.Fatal(err)
	}
	if code, errs := cp(t, "-r", src+"/.", dst+"/"); code != 0 {
		t.Fatalf("cp: %d %s", code, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "conf/supervisor.conf")); string(b) != "[program:run]" {
		t.Errorf("conf not copied into the destination itself: %q", b)
	}
	if target, err := os.Readlink(filepath.Join(dst, "bin/go-init")); err != nil || target != "odod-init" {
		t.Errorf("link not copied as a link: %q %v", target, err)
	}
	if info, err := os.Stat(filepath.Join(dst, "bin/odod-init")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("mode not kept: %v %v", info, err)
	}
	if info, _ := os.Stat(dst); info.Mode().Perm() != 0o777 {
		t.Errorf("the existing destination's mode changed to %v; the app user could no longer create the control socket", info.Mode().Perm())
	}
	// Copying again (a restarted init container) overwrites cleanly.
	if code, errs := cp(t, "-r", src+"/.", dst); code != 0 {
		t.Fatalf("second cp: %d %s", code, errs)
	}
}

func TestCpIntoDirectoryAndRename(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	writeTree(t, src, map[string]string{"a.txt": "a", "sub/b.txt": "b"})
	into := filepath.Join(base, "into")
	if err := os.Mkdir(into, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, errs := cp(t, "-R", src, into); code != 0 {
		t.Fatal(errs)
	}
	if b, _ := os.ReadFile(filepath.Join(into, "src/sub/b.txt")); string(b) != "b" {
		t.Error("cp -R SRC DIR did not create DIR/SRC")
	}
	renamed := filepath.Join(base, "renamed")
	if code, errs := cp(t, "-r", src, renamed); code != 0 {
		t.Fatal(errs)
	}
	if b, _ := os.ReadFile(filepath.Join(renamed, "a.txt")); string(b) != "a" {
		t.Error("cp -r SRC NEW did not copy to NEW")
	}
	if code, errs := cp(t, filepath.Join(src, "a.txt"), filepath.Join(base, "single")); code != 0 {
		t.Fatal(errs)
	}
	if code, errs := cp(t, src, filepath.Join(base, "x")); code != 1 || !strings.Contains(errs, "-r not specified") {
		t.Errorf("directory without -r: %d %q", code, errs)
	}
	if code, errs := cp(t, "-r", src, filepath.Join(src, "sub")); code != 1 || !strings.Contains(errs, "into itself") {
		t.Errorf("copy into itself: %d %q", code, errs)
	}
	if code, _ := cp(t, "-z", src, into); code != 2 {
		t.Error("unknown option accepted")
	}
	if code, _ := cp(t, "-r", src, filepath.Join(src, "a.txt"), filepath.Join(base, "missing")); code != 1 {
		t.Error("several sources into a non-directory accepted")
	}
}

func TestCpReplacesSymlinkInsteadOfWritingThrough(t *testing.T) {
	base := t.TempDir()
	victim := filepath.Join(base, "victim")
	if err := os.WriteFile(victim, []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(base, "src")
	dst := filepath.Join(base, "dst")
	writeTree(t, src, map[string]string{"f": "new"})
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dst, "f")); err != nil {
		t.Fatal(err)
	}
	if code, errs := cp(t, "-r", src+"/.", dst); code != 0 {
		t.Fatal(errs)
	}
	if b, _ := os.ReadFile(victim); string(b) != "original" {
		t.Fatalf("cp wrote through a symlink: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); string(b) != "new" {
		t.Fatalf("destination not replaced: %q", b)
	}
}

func TestLanguageFor(t *testing.T) {
	for _, tc := range []struct{ image, override, want string }{
		{"odod/nodejs-builder", "", "nodejs"},
		{"centos/nodejs-8-centos7", "", "nodejs"},
		{"rhscl/nodejs-10-rhel7", "", "nodejs"},
		{"redhat-openjdk-18/openjdk18-openshift", "", "java"},
		{"fabric8/s2i-java", "", "java"},
		{"centos/python-36-centos7", "", ""},
		{"centos/python-36-centos7", "NodeJS", "nodejs"},
		{"", "", ""},
	} {
		if got := languageFor(tc.image, tc.override); got != tc.want {
			t.Errorf("languageFor(%q, %q) = %q, want %q", tc.image, tc.override, got, tc.want)
		}
	}
}

func TestCpParentsCopiesEachPathToItsPlace(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	writeTree(t, src, map[string]string{"a.txt": "a2", "lib/deep/b.js": "b2", "untouched.txt": "new", "newdir/inside.txt": "not copied"})
	work := filepath.Join(base, "work")
	writeTree(t, work, map[string]string{"a.txt": "a1", "untouched.txt": "old"})
	t.Chdir(src)
	if code, errs := cp(t, "--parents", "--", "a.txt", "lib/deep/b.js", "newdir", work); code != 0 {
		t.Fatal(errs)
	}
	if info, err := os.Stat(filepath.Join(work, "newdir")); err != nil || !info.IsDir() {
		t.Errorf("a listed directory was not made: %v", err)
	}
	if _, err := os.Stat(filepath.Join(work, "newdir/inside.txt")); err == nil {
		t.Error("--parents without -r copied a directory's contents")
	}
	for name, want := range map[string]string{"a.txt": "a2", "lib/deep/b.js": "b2", "untouched.txt": "old"} {
		if b, _ := os.ReadFile(filepath.Join(work, name)); string(b) != want {
			t.Errorf("%s = %q, want %q", name, b, want)
		}
	}
	if code, errs := cp(t, "--parents", "../escape", work); code != 1 || !strings.Contains(errs, "not a path below") {
		t.Errorf("a path outside the current directory: %d %q", code, errs)
	}
	if code, errs := cp(t, "--parents", "a.txt", filepath.Join(work, "a.txt")); code != 1 || !strings.Contains(errs, "must be a directory") {
		t.Errorf("--parents into a file: %d %q", code, errs)
	}
}
