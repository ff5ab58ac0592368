//go:build unix

package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// genSpec describes the node_modules-like tree to generate.
type genSpec struct {
	files int
	dirs  int
	bytes int64
	seed  uint64
}

// generate writes a deterministic node_modules-like tree under dir:
// packages (some scoped) with package.json, README.md, LICENSE and nested
// lib/dist/src directories, file sizes log-normal (many small files, a few
// large bundles) scaled so that they add up to spec.bytes.
func generate(dir string, spec genSpec) error {
	rng := rand.New(rand.NewPCG(spec.seed, spec.seed^0x9e3779b97f4a7c15))
	subdirs := []string{"lib", "dist", "src", "lib/internal", "lib/utils", "dist/esm", "dist/cjs", "test", "types", "src/core", "bin"}
	perPkg := 1 + len(subdirs)
	pkgs := spec.dirs / perPkg
	if pkgs < 1 {
		pkgs = 1
	}
	var dirs []string
	var pkgDirs []string
	for i := range pkgs {
		name := fmt.Sprintf("node_modules/pkg-%04d", i)
		switch {
		case i%10 == 0:
			name = fmt.Sprintf("node_modules/@scope-%d/pkg-%04d", i%7, i)
		case i%13 == 0: // nested node_modules, as npm does for conflicting versions
			name = fmt.Sprintf("node_modules/pkg-%04d/node_modules/dep-%04d", i-1, i)
		}
		pkgDirs = append(pkgDirs, name)
		dirs = append(dirs, name)
		for _, s := range subdirs {
			dirs = append(dirs, name+"/"+s)
		}
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("generate %s: %w", d, err)
		}
	}

	type file struct {
		path string
		size float64
	}
	files := make([]file, 0, spec.files)
	for _, p := range pkgDirs {
		for _, n := range []string{"package.json", "README.md", "LICENSE"} {
			files = append(files, file{path: p + "/" + n})
		}
	}
	exts := []string{".js", ".js", ".js", ".d.ts", ".map", ".json", ".mjs", ".cjs", ".md"}
	for i := len(files); i < spec.files; i++ {
		d := dirs[rng.IntN(len(dirs))]
		files = append(files, file{path: fmt.Sprintf("%s/f%06d%s", d, i, exts[rng.IntN(len(exts))])})
	}
	var sum float64
	for i := range files {
		files[i].size = math.Exp(7 + 1.4*rng.NormFloat64()) // median ~1.1 KB, long tail
		sum += files[i].size
	}
	scale := float64(spec.bytes) / sum

	text := make([]byte, 1<<20)
	const alphabet = "abcdefghijklmnopqrstuvwxyz   \n{}();=.,'0123456789"
	for i := range text {
		text[i] = alphabet[rng.IntN(len(alphabet))]
	}
	chunk := func(n int) []byte {
		out := make([]byte, 0, n)
		for len(out) < n {
			off := rng.IntN(len(text))
			m := min(n-len(out), len(text)-off)
			out = append(out, text[off:off+m]...)
		}
		return out
	}
	for _, f := range files {
		n := int(f.size * scale)
		if n > 16<<20 {
			n = 16 << 20
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(f.path)), chunk(n), 0o644); err != nil {
			return fmt.Errorf("generate %s: %w", f.path, err)
		}
	}
	return nil
}
