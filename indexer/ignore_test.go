package indexer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ignoreCase is one gitignore scenario: ignore files by directory, and the
// paths (a trailing "/" marks a directory) with git's verdict. The table is
// checked against `git check-ignore` itself in TestIgnoreTableMatchesGit.
type ignoreCase struct {
	name    string
	files   map[string]string // dir ("" = root) -> .gitignore content
	ignored []string
	kept    []string
}

var ignoreCases = []ignoreCase{
	{name: "basename anywhere", files: map[string]string{"": "*.log\n"},
		ignored: []string{"a.log", "x/y/b.log"}, kept: []string{"a.log.txt", "x/log"}},
	{name: "comment and blank lines", files: map[string]string{"": "# *.js\n\n   \n*.o\n"},
		ignored: []string{"a.o"}, kept: []string{"a.js", "# *.js"}},
	{name: "escaped hash and bang", files: map[string]string{"": "\\#notes\n\\!bang\n"},
		ignored: []string{"#notes", "!bang"}, kept: []string{"notes"}},
	{name: "negation", files: map[string]string{"": "*.log\n!keep.log\n"},
		ignored: []string{"a.log", "d/b.log"}, kept: []string{"keep.log", "d/keep.log"}},
	{name: "negation order matters", files: map[string]string{"": "!keep.log\n*.log\n"},
		ignored: []string{"keep.log"}},
	{name: "dir only", files: map[string]string{"": "build/\n"},
		ignored: []string{"build/", "build/x.js", "src/build/", "src/build/y"}, kept: []string{"lib/build", "lib/x/build"}},
	{name: "anchored with leading slash", files: map[string]string{"": "/dist\n"},
		ignored: []string{"dist/", "dist/a.js"}, kept: []string{"lib/dist", "src/dist/", "src/dist/a.js"}},
	{name: "middle slash anchors", files: map[string]string{"": "doc/frotz\n"},
		ignored: []string{"doc/frotz/", "doc/frotz/x"}, kept: []string{"a/doc/frotz", "frotz"}},
	{name: "double star prefix", files: map[string]string{"": "**/foo\n"},
		ignored: []string{"foo", "a/foo", "a/b/foo/", "a/b/foo/c"}, kept: []string{"foobar", "a/foobar"}},
	{name: "double star prefix with path", files: map[string]string{"": "**/foo/bar\n"},
		ignored: []string{"foo/bar", "x/foo/bar", "x/y/foo/bar"}, kept: []string{"bar", "foo/baz"}},
	{name: "double star suffix", files: map[string]string{"": "abc/**\n"},
		ignored: []string{"abc/x", "abc/y/z", "abc/d/"}, kept: []string{"abc/", "x/abc/y"}},
	{name: "double star suffix with re-include", files: map[string]string{"": "abc/**\n!abc/keep\n"},
		ignored: []string{"abc/x"}, kept: []string{"abc/", "abc/keep"}},
	{name: "double star middle", files: map[string]string{"": "a/**/b\n"},
		ignored: []string{"a/b", "a/x/b", "a/x/y/b"}, kept: []string{"a/x/c", "b", "x/a/b"}},
	{name: "star does not cross slash", files: map[string]string{"": "/src/*.js\n"},
		ignored: []string{"src/a.js"}, kept: []string{"src/lib/a.js", "a.js"}},
	{name: "question mark and class", files: map[string]string{"": "?.tmp\n[ab].c\n"},
		ignored: []string{"x.tmp", "a.c", "b.c"}, kept: []string{"xy.tmp", "c.c"}},
	{name: "cannot re-include inside excluded dir", files: map[string]string{"": "build/\n!build/keep.js\n"},
		ignored: []string{"build/", "build/keep.js", "build/other.js"}},
	{name: "re-included dir does not re-include its files", files: map[string]string{"": "*.txt\n!keep/\n"},
		ignored: []string{"a.txt", "keep/x.txt"}, kept: []string{"keep/", "keep/x.js"}},
	{name: "whitelist", files: map[string]string{"": "*\n!*/\n!*.js\n"},
		ignored: []string{"a.txt", "src/a.txt", "README"}, kept: []string{"a.js", "src/", "src/b.js"}},
	{name: "whitelist anchored", files: map[string]string{"": "/*\n!/src\n"},
		ignored: []string{"README", "docs/", "docs/x"}, kept: []string{"src/", "src/a.js", "src/docs/x"}},
	{name: "slash pattern does not match deeper path", files: map[string]string{"": "a/b\n!b\n"},
		kept: []string{"a/b/", "a/b/c"}},
	{name: "nested ignore file is relative to its dir", files: map[string]string{"": "*.log\n", "sub": "/only\n!keep.log\n"},
		ignored: []string{"a.log", "sub/only", "sub/x.log", "sub/x/y.log"}, kept: []string{"only", "sub/keep.log", "sub/x/only", "sub/x/keep.log"}},
	{name: "deeper file wins", files: map[string]string{"": "!*.gen\n", "a": "*.gen\n"},
		ignored: []string{"a/x.gen"}, kept: []string{"x.gen", "b/x.gen"}},
	{name: "trailing spaces trimmed unless escaped", files: map[string]string{"": "foo  \nbar\\ \n"},
		ignored: []string{"foo", "bar "}, kept: []string{"foo  ", "bar"}},
	{name: "crlf line endings", files: map[string]string{"": "*.log\r\nout/\r\n"},
		ignored: []string{"a.log", "out/"}, kept: []string{"a.lo"}},
	{name: "dir-only negation", files: map[string]string{"": "node_modules\n!node_modules/\n"},
		kept: []string{"node_modules/", "node_modules/x"}, ignored: []string{"a/node_modules"}},
}

// ignoredBy evaluates a path as the walk does: each parent directory first
// (an ignored one hides everything under it), then the path itself.
func ignoredBy(ig *ignorer, dirRules map[string][]rule, p string) bool {
	isDir := strings.HasSuffix(p, "/")
	comps := strings.Split(strings.TrimSuffix(p, "/"), "/")
	for i := 1; i <= len(comps); i++ {
		dir := strings.Join(comps[:i-1], "/")
		chain := ig.chainFor(dirRules, dir, true)
		if ig.ignored(chain, comps[:i], i < len(comps) || isDir) {
			return true
		}
	}
	return false
}

func TestIgnoreTable(t *testing.T) {
	for _, tc := range ignoreCases {
		t.Run(tc.name, func(t *testing.T) {
			ig := newIgnorer(nil, false)
			dirRules := map[string][]rule{}
			for dir, content := range tc.files {
				dirRules[dir] = parseRules([]byte(content))
			}
			for _, p := range tc.ignored {
				if !ignoredBy(ig, dirRules, p) {
					t.Errorf("%q: kept, git ignores it", p)
				}
			}
			for _, p := range tc.kept {
				if ignoredBy(ig, dirRules, p) {
					t.Errorf("%q: ignored, git keeps it", p)
				}
			}
		})
	}
}

// TestIgnoreTableMatchesGit checks the table's expectations against git
// itself, so the table states gitignore's semantics and not ours.
func TestIgnoreTableMatchesGit(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed; the table was checked against git 2.39")
	}
	for _, tc := range ignoreCases {
		t.Run(tc.name, func(t *testing.T) {
			repo := t.TempDir()
			for dir, content := range tc.files {
				if err := os.MkdirAll(filepath.Join(repo, dir), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(repo, dir, ".gitignore"), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if out, err := exec.Command(gitBin, "init", "-q", repo).CombinedOutput(); err != nil {
				t.Fatalf("git init: %v: %s", err, out)
			}
			var all []string
			for _, p := range append(append([]string(nil), tc.ignored...), tc.kept...) {
				full := filepath.Join(repo, p)
				if strings.HasSuffix(p, "/") {
					if err := os.MkdirAll(full, 0o755); err != nil {
						t.Fatal(err)
					}
				} else {
					if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(full, nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				all = append(all, strings.TrimSuffix(p, "/"))
			}
			cmd := exec.Command(gitBin, "-c", "core.excludesFile=/dev/null", "check-ignore", "--no-index", "--stdin")
			cmd.Dir = repo
			cmd.Stdin = strings.NewReader(strings.Join(all, "\n") + "\n")
			out, err := cmd.Output()
			if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
				t.Fatalf("git check-ignore: %v", err)
			}
			gitIgnored := map[string]bool{}
			for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
				gitIgnored[line] = true
			}
			for _, p := range tc.ignored {
				if !gitIgnored[strings.TrimSuffix(p, "/")] {
					t.Errorf("%q: the table says ignored, git keeps it", p)
				}
			}
			for _, p := range tc.kept {
				if gitIgnored[strings.TrimSuffix(p, "/")] {
					t.Errorf("%q: the table says kept, git ignores it", p)
				}
			}
		})
	}
}

func TestAlwaysExcludedBeatsNegation(t *testing.T) {
	ig := newIgnorer([]string{"!.git", "!.odo/"}, false)
	rules := map[string][]rule{"": parseRules([]byte("!.odo\n!.git\n"))}
	for _, p := range []string{".git/", ".git", ".odo/", "sub/.git/", "sub/.odo/x"} {
		if !ignoredBy(ig, rules, p) {
			t.Errorf("%q must always be excluded", p)
		}
	}
}

func TestEditorTempDefaultsAndOverride(t *testing.T) {
	ig := newIgnorer(nil, false)
	none := map[string][]rule{}
	for _, p := range []string{".main.go.swp", "main.go~", ".#main.go", "#main.go#", "main.go___jb_tmp___", "a/b/.x.swp"} {
		if !ignoredBy(ig, none, p) {
			t.Errorf("%q: editor temp file should be ignored by default", p)
		}
	}
	if ignoredBy(ig, none, "main.go") {
		t.Error("main.go ignored by the defaults")
	}
	keep := map[string][]rule{"": parseRules([]byte("!*~\n"))}
	if ignoredBy(ig, keep, "data~") {
		t.Error("a ! rule in the ignore file must override the editor defaults")
	}
}

func TestExtraPatternsBeatFiles(t *testing.T) {
	ig := newIgnorer([]string{"*.secret", "!important.log"}, false)
	rules := map[string][]rule{"": parseRules([]byte("*.log\n!x.secret\n"))}
	if !ignoredBy(ig, rules, "x.secret") {
		t.Error("extra pattern *.secret should win over the file's !x.secret")
	}
	if ignoredBy(ig, rules, "important.log") {
		t.Error("extra !important.log should win over the file's *.log")
	}
	if !ignoredBy(ig, rules, "other.log") {
		t.Error("file rule *.log lost")
	}
}

func FuzzParseRules(f *testing.F) {
	for _, tc := range ignoreCases {
		for _, content := range tc.files {
			f.Add(content, "a/b/c.txt")
		}
	}
	f.Add("**/**/**\n!**\n/\n!/\n[\n\\", "x")
	f.Add("a/**/", "a/b/")
	f.Fuzz(func(t *testing.T, content, p string) {
		rules := parseRules([]byte(content))
		ig := newIgnorer(strings.Split(content, "\n"), false)
		if p == "" || !validRelPath(strings.TrimSuffix(p, "/")) {
			return
		}
		// Must not panic, and must be deterministic.
		dirRules := map[string][]rule{"": rules, parentDir(strings.TrimSuffix(p, "/")): rules}
		a := ignoredBy(ig, dirRules, p)
		b := ignoredBy(ig, dirRules, p)
		if a != b {
			t.Fatalf("non-deterministic verdict for %q", p)
		}
	})
}
