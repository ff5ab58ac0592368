package indexer

import (
	"bytes"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

const (
	odoIgnoreFile = ".odoignore"
	gitIgnoreFile = ".gitignore"
)

// alwaysExcluded names are never indexed, watched or pushed, at any depth,
// whatever the rules say (odo #1510, #2390, #3819). A ".git" file (a
// worktree or submodule pointer) is as private as the directory.
func alwaysExcluded(name string) bool {
	return name == ".git" || name == ".odo" || strings.HasPrefix(name, cookiePrefix)
}

// editorTempPatterns are the lowest-priority rules of every workspace: the
// swap, backup and lock files editors leave beside the file being edited.
// A "!" rule in an ignore file can bring any of them back. Short-lived temp
// files (vim's 4913 probe, sed -i's sedXXXXXX, JetBrains' safe-write pair)
// need no rule: they are created and gone within one coalescing window.
var editorTempPatterns = []string{
	"*.swp", "*.swo", "*.swx", ".*.sw[a-p]", // vim swap files
	"*~",               // vim and emacs backups
	".#*",              // emacs lock links
	`\#*#`,             // emacs auto-save files ("#" would start a comment)
	".*.kate-swp",      // Kate swap files
	"*___jb_tmp___",    // JetBrains safe write: the new content
	"*___jb_old___",    // JetBrains safe write: the previous file
	".goutputstream-*", // GLib's g_file_replace (gedit, GNOME editors)
}

// rule is one line of an ignore file. Matching is go-git's gitignore
// pattern, wrapped so that the result follows git where go-git does not:
//   - a pattern without a slash is matched against the last path component
//     only (go-git also matches it against any parent component, so
//     "*.txt" + "!keep/" would wrongly re-include keep/a.txt);
//   - a pattern with a slash but no "**" must span exactly the path (go-git
//     accepts prefixes, so "a/b" would match a/b/c and defeat a later "!b");
//   - "dir/**" matches what is inside dir but not dir itself;
//   - "**/name" is the same as "name".
//
// A rule's domain (the directory holding the ignore file) is handled by
// ruleChain, which hands match only the components below it.
type rule struct {
	pattern  gitignore.Pattern
	basename bool
	segments int // exact component count for slash patterns without "**"; else 0
}

func (r rule) match(rel []string, isDir bool) gitignore.MatchResult {
	if len(rel) == 0 {
		return gitignore.NoMatch
	}
	if r.basename {
		return r.pattern.Match(rel[len(rel)-1:], isDir)
	}
	if r.segments > 0 && len(rel) != r.segments {
		return gitignore.NoMatch
	}
	return r.pattern.Match(rel, isDir)
}

// parseRules reads an ignore file's content in gitignore syntax. It never
// fails: a line that cannot match anything is dropped, as git does.
func parseRules(data []byte) []rule {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var rules []rule
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if r, ok := parseRule(string(line)); ok {
			rules = append(rules, r)
		}
	}
	return rules
}

func parseRule(line string) (rule, bool) {
	line = strings.TrimSuffix(line, "\r")
	if strings.HasPrefix(line, "#") || strings.TrimRight(line, " ") == "" {
		return rule{}, false
	}
	include := strings.HasPrefix(line, "!")
	body := strings.TrimPrefix(line, "!")
	if !strings.HasSuffix(body, `\ `) {
		body = strings.TrimRight(body, " ")
	}
	dirOnly := strings.HasSuffix(body, "/")
	core := strings.TrimRight(body, "/")
	if rest, ok := strings.CutPrefix(core, "**/"); ok && rest != "" && !strings.Contains(rest, "/") {
		core = rest
	}
	if strings.HasSuffix(core, "/**") {
		core += "/*"
	}
	if core == "" || core == "/" {
		return rule{}, false
	}
	r := rule{}
	switch {
	case !strings.Contains(core, "/"):
		r.basename = true
	case !strings.Contains(core, "**"):
		r.segments = strings.Count(strings.TrimPrefix(core, "/"), "/") + 1
	}
	src := core
	if dirOnly {
		src += "/"
	}
	if include {
		src = "!" + src
	}
	r.pattern = gitignore.ParsePattern(src, nil)
	return r, true
}

// ruleChain is the immutable stack of rule sets that apply inside one
// directory: its own ignore file on top, then each ancestor's, then the
// editor defaults at the bottom. Deeper files take precedence, and within a
// file later lines do, as in git.
type ruleChain struct {
	parent *ruleChain
	depth  int // components in the directory the rules belong to
	rules  []rule
}

func (c *ruleChain) push(depth int, rules []rule) *ruleChain {
	if len(rules) == 0 {
		return c
	}
	return &ruleChain{parent: c, depth: depth, rules: rules}
}

func matchRules(rules []rule, rel []string, isDir bool) gitignore.MatchResult {
	for i := len(rules) - 1; i >= 0; i-- {
		if res := rules[i].match(rel, isDir); res != gitignore.NoMatch {
			return res
		}
	}
	return gitignore.NoMatch
}

func (c *ruleChain) excluded(comps []string, isDir bool) bool {
	for ; c != nil; c = c.parent {
		if len(comps) <= c.depth {
			continue
		}
		switch matchRules(c.rules, comps[c.depth:], isDir) {
		case gitignore.Exclude:
			return true
		case gitignore.Include:
			return false
		}
	}
	return false
}

// ignorer decides whether a path is out of the index. Its parent
// directories are already known to be in: the walk never descends into an
// ignored directory, and an event is only looked at when its parent is
// indexed.
type ignorer struct {
	// extra rules come from the caller (workspace/open's ignore.patterns) and
	// beat every file.
	extra []rule
	// base is the bottom of every chain: the editor temp-file defaults.
	base        *ruleChain
	noGitignore bool
}

func newIgnorer(extraPatterns []string, noGitignore bool) *ignorer {
	ig := &ignorer{noGitignore: noGitignore}
	for _, p := range extraPatterns {
		if r, ok := parseRule(p); ok {
			ig.extra = append(ig.extra, r)
		}
	}
	var defaults []rule
	for _, p := range editorTempPatterns {
		if r, ok := parseRule(p); ok {
			defaults = append(defaults, r)
		}
	}
	ig.base = (*ruleChain)(nil).push(0, defaults)
	return ig
}

// ignoreFileFor picks the file whose rules apply in a directory holding
// the given names: .odoignore wins over .gitignore, as in odo.
func (ig *ignorer) ignoreFileFor(has func(name string) bool) string {
	if has(odoIgnoreFile) {
		return odoIgnoreFile
	}
	if !ig.noGitignore && has(gitIgnoreFile) {
		return gitIgnoreFile
	}
	return ""
}

func isIgnoreFileName(name string) bool { return name == odoIgnoreFile || name == gitIgnoreFile }

func (ig *ignorer) ignored(chain *ruleChain, comps []string, isDir bool) bool {
	if alwaysExcluded(comps[len(comps)-1]) {
		return true
	}
	if res := matchRules(ig.extra, comps, isDir); res != gitignore.NoMatch {
		return res == gitignore.Exclude
	}
	return chain.excluded(comps, isDir)
}

// chainFor builds the chain of rules from the root down to dir, from the
// rules stored per directory; dir's own rules are included when self is
// true (a walk of dir reads dir's own file itself, so it passes false).
func (ig *ignorer) chainFor(dirRules map[string][]rule, dir string, self bool) *ruleChain {
	c := ig.base
	if dir == "" {
		if self {
			c = c.push(0, dirRules[""])
		}
		return c
	}
	c = c.push(0, dirRules[""])
	comps := strings.Split(dir, "/")
	for depth := 1; depth <= len(comps); depth++ {
		if depth == len(comps) && !self {
			break
		}
		c = c.push(depth, dirRules[strings.Join(comps[:depth], "/")])
	}
	return c
}
