package config

import (
	"net/url"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// GitSchemes are the URL schemes a Git component's repository may use:
// the build runs in the cluster, where no SSH key of the user's is.
var GitSchemes = []string{"https", "http", "git"}

// git checks a Git component's repository, ref and context directory.
func (v *validator) git(s ComponentSettings) {
	const cs = "ComponentSettings."
	if msg := CheckGitURL(s.SourceLocation); msg != "" {
		v.add(cs+"SourceLocation", "%s", msg)
	}
	if s.Ref != "" {
		if msg := CheckGitRef(s.Ref); msg != "" {
			v.add(cs+"Ref", "%s", msg)
		}
	}
}

// build checks the settings of odod's builds that any component may have.
func (v *validator) build(s ComponentSettings) {
	const cs = "ComponentSettings."
	if s.ContextDir != "" {
		if s.SourceType != Git {
			v.add(cs+"ContextDir", "is set but the component is not a git component: remove it, or set SourceType git")
		} else if msg := CheckContextDir(s.ContextDir); msg != "" {
			v.add(cs+"ContextDir", "%s", msg)
		}
	}
	if s.Ref != "" && s.SourceType != Git {
		v.add(cs+"Ref", "is set but the component is not a git component: remove it, or set SourceType git")
	}
	if s.Registry != "" {
		if msg := CheckRegistry(s.Registry); msg != "" {
			v.add(cs+"Registry", "%s", msg)
		}
	}
}

// CheckGitURL says what is wrong with a Git repository URL, or "".
func CheckGitURL(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return "is empty: a git component names its repository, e.g. https://github.com/org/repo.git"
	}
	if strings.TrimSpace(raw) != raw || strings.ContainsAny(raw, " \t\r\n") {
		return "\"" + raw + "\" contains white space: give the repository's URL alone"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if strings.Contains(raw, "@") && strings.Contains(raw, ":") && !strings.Contains(raw, "://") {
			return "\"" + raw + "\" is an SSH address: the build runs in the cluster, which has no SSH key of yours; use the repository's https URL"
		}
		return "\"" + raw + "\" is not a URL: write it as https://host/path/repo.git"
	}
	scheme := strings.ToLower(u.Scheme)
	for _, s := range GitSchemes {
		if scheme == s {
			return ""
		}
	}
	if scheme == "ssh" {
		return "\"" + raw + "\" is an SSH URL: the build runs in the cluster, which has no SSH key of yours; use the repository's https URL"
	}
	return "\"" + raw + "\": scheme " + u.Scheme + " is not supported: use " + strings.Join(GitSchemes, ", ")
}

// CheckGitRef says what is wrong with a branch, tag or commit name, or ""
// (git check-ref-format's rules, for one name).
func CheckGitRef(ref string) string {
	bad := func(why string) string {
		return "\"" + ref + "\" is not a git ref: " + why + "; give a branch, a tag or a commit"
	}
	switch {
	case strings.HasPrefix(ref, "-"):
		return bad("it starts with '-'")
	case strings.Contains(ref, ".."), strings.Contains(ref, "@{"), strings.Contains(ref, "//"):
		return bad("it contains '..', '@{' or '//'")
	case strings.HasSuffix(ref, "/"), strings.HasSuffix(ref, "."), strings.HasSuffix(ref, ".lock"), strings.HasPrefix(ref, "/"):
		return bad("it starts or ends with '/', or ends with '.' or '.lock'")
	case ref == "@":
		return bad("'@' alone is not allowed")
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return bad("it contains a space, a control character or one of ~^:?*[\\")
		}
	}
	return ""
}

// CheckContextDir says what is wrong with a directory inside the
// repository, or "": it must be relative and stay inside.
func CheckContextDir(dir string) string {
	if strings.Contains(dir, "\\") {
		return "\"" + dir + "\" contains '\\': separate directories with '/'"
	}
	if path.IsAbs(dir) {
		return "\"" + dir + "\" is absolute: give the directory relative to the repository's root, e.g. services/web"
	}
	clean := path.Clean(dir)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "\"" + dir + "\" leaves the repository: give a directory inside it"
	}
	return ""
}

// CheckRegistry says what is wrong with a registry (host[:port][/path]),
// or "".
func CheckRegistry(reg string) string {
	if strings.Contains(reg, "://") {
		return "\"" + reg + "\" has a scheme: write host[:port][/path], e.g. 127.0.0.1:5000/me or quay.io/me"
	}
	host := strings.SplitN(reg, "/", 2)[0]
	if !strings.ContainsAny(host, ".:") && host != "localhost" {
		return "\"" + reg + "\" does not start with a registry host: write host[:port][/path], e.g. quay.io/" + reg
	}
	if _, err := name.NewRepository(strings.TrimSuffix(reg, "/")+"/probe", name.StrictValidation); err != nil {
		return "\"" + reg + "\" is not a registry: write host[:port][/path] in lower case, e.g. quay.io/me: " + err.Error()
	}
	return ""
}
