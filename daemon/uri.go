package daemon

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"runtime"
	"strings"
)

// pathStyle is how an OS spells local paths in file:// URIs, and whether
// its usual file systems (NTFS, APFS) ignore the case of names. The
// functions below take the style rather than asking the host, so the tests
// run the Windows and macOS rules on any OS.
type pathStyle struct {
	windows  bool // drive letters, UNC shares, `\` separators
	foldCase bool // names differing only in case are the same file
}

var (
	unixPaths    = pathStyle{}
	macPaths     = pathStyle{foldCase: true}
	windowsPaths = pathStyle{windows: true, foldCase: true}
	// hostPaths is this OS's style.
	hostPaths = pathStyleOf(runtime.GOOS)
)

func pathStyleOf(goos string) pathStyle {
	switch goos {
	case "windows":
		return windowsPaths
	case "darwin", "ios":
		return macPaths
	default:
		return unixPaths
	}
}

// separator is the style's path separator.
func (st pathStyle) separator() string {
	if st.windows {
		return `\`
	}
	return "/"
}

// pathFromURI turns a file:// URI into a clean absolute local path. It
// takes URIs as editors write them: VS Code's file:///c%3A/Users/me (the
// drive's colon percent-encoded, its letter lower-case), file:///C:/Users/me,
// UNC shares as file://server/share/dir (or file:////server/share/dir), and
// on Unix file:///home/me and file://localhost/home/me.
func (st pathStyle) pathFromURI(uri string) (string, error) {
	if st.windows && len(uri) >= 2 && isDriveLetter(uri[0]) && uri[1] == ':' {
		return "", fmt.Errorf("%q is a Windows path, not a URI: pass it as file:///%s", uri, strings.ReplaceAll(uri, `\`, "/"))
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("not a URI: %w", err)
	}
	if u.Scheme != "file" {
		return "", fmt.Errorf("scheme %q is not file: odod works on local folders only", u.Scheme)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q has a query or fragment: percent-encode ? and # in file names (%%3F, %%23)", uri)
	}
	host := u.Host
	if strings.EqualFold(host, "localhost") {
		host = ""
	}
	if !st.windows {
		if host != "" {
			return "", fmt.Errorf("host %q is not this machine", u.Host)
		}
		if !strings.HasPrefix(u.Path, "/") {
			return "", fmt.Errorf("path %q is not absolute", u.Path)
		}
		return path.Clean(u.Path), nil
	}
	return windowsPathFromURI(host, u.Path)
}

// windowsPathFromURI is pathFromURI's Windows half: host and p are the
// URI's host (empty for this machine) and decoded path.
func windowsPathFromURI(host, p string) (string, error) {
	p = strings.ReplaceAll(p, `\`, "/") // a %5C is a separator too
	if host == "" && strings.HasPrefix(p, "//") {
		// file:////server/share: the UNC host is in the path.
		host, p, _ = strings.Cut(p[2:], "/")
		p = "/" + p
	}
	if len(host) == 2 && host[1] == ':' && isDriveLetter(host[0]) {
		// file://C:/dir: the drive was parsed as a host.
		p, host = "/"+host+p, ""
	}
	if host != "" {
		share, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
		if share == "" {
			return "", fmt.Errorf("UNC path \\\\%s has no share name: use file://%s/share/folder", host, host)
		}
		return `\\` + host + `\` + share + windowsRest(rest), nil
	}
	// "/c:" or "/c:/dir"
	if len(p) < 3 || p[0] != '/' || !isDriveLetter(p[1]) || p[2] != ':' || (len(p) > 3 && p[3] != '/') {
		return "", fmt.Errorf("path %q has no drive letter: use file:///C:/folder or file://server/share/folder", p)
	}
	rest := windowsRest(p[3:])
	if rest == "" {
		rest = `\` // the drive's root, not its current directory
	}
	return strings.ToUpper(p[1:2]) + ":" + rest, nil
}

// windowsRest cleans the slash-separated rest of a path after its volume,
// returning "" or `\a\b`.
func windowsRest(rest string) string {
	cleaned := path.Clean("/" + rest)
	if cleaned == "/" {
		return ""
	}
	return strings.ReplaceAll(cleaned, "/", `\`)
}

func isDriveLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// uriFromPath is the file:// URI of a clean absolute local path, the
// inverse of pathFromURI: C:\Users\me is file:///C:/Users/me, \\server\share\dir
// is file://server/share/dir, /home/me is file:///home/me.
func (st pathStyle) uriFromPath(p string) string {
	if !st.windows {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	slashed := strings.ReplaceAll(p, `\`, "/")
	if unc, ok := strings.CutPrefix(slashed, "//"); ok {
		host, rest, _ := strings.Cut(unc, "/")
		return (&url.URL{Scheme: "file", Host: host, Path: "/" + rest}).String()
	}
	return (&url.URL{Scheme: "file", Path: "/" + slashed}).String()
}

// within returns p relative to root, slash-separated, when p is inside
// root. Both are clean absolute paths of this style. Where case does not
// matter it is ignored: an editor may spell the folder as it was opened
// (file:///c%3A/users/...) while root is spelled as it is on disk.
func (st pathStyle) within(root, p string) (string, bool) {
	if len(p) <= len(root) {
		return "", false
	}
	prefix, rest := p[:len(root)], p[len(root):]
	if prefix != root && !(st.foldCase && strings.EqualFold(prefix, root)) {
		return "", false
	}
	sep := st.separator()
	if !strings.HasSuffix(root, sep) {
		if !strings.HasPrefix(rest, sep) {
			return "", false // root /a/b, p /a/bc
		}
		rest = rest[1:]
	}
	if rest == "" {
		return "", false
	}
	if st.windows {
		rest = strings.ReplaceAll(rest, `\`, "/")
	}
	return rest, true
}

// canonical is the one spelling of an existing folder's path that
// identifies its workspace, given the path filepath.EvalSymlinks returned.
// On Windows EvalSymlinks already spells every name as it is on disk
// (and upper-cases the drive letter), but keeps a UNC host and share as
// given; on macOS it keeps the case it was given, so the names are looked
// up in their directories.
func (st pathStyle) canonical(p string, readDirNames func(dir string) ([]string, error)) string {
	switch {
	case st.windows && strings.HasPrefix(p, `\\`):
		host, rest, _ := strings.Cut(p[2:], `\`)
		share, rest, found := strings.Cut(rest, `\`)
		volume := `\\` + strings.ToLower(host) + `\` + strings.ToLower(share)
		if !found {
			return volume
		}
		return volume + `\` + rest
	case st.foldCase && !st.windows:
		return onDiskCase(p, readDirNames)
	default:
		return p
	}
}

// onDiskCase spells each name of the absolute slash path p as its
// directory lists it. A name found as given is kept (on a case-sensitive
// volume it is the right one); otherwise the one entry equal to it but for
// case is used. Where a directory cannot be read, or the match is
// ambiguous, the rest is kept as given.
func onDiskCase(p string, readDirNames func(dir string) ([]string, error)) string {
	if p == "/" {
		return p
	}
	names := strings.Split(strings.TrimPrefix(p, "/"), "/")
	dir := "/"
	for i, name := range names {
		entries, err := readDirNames(dir)
		if err != nil {
			return path.Join(append([]string{dir}, names[i:]...)...)
		}
		dir = path.Join(dir, caseOf(name, entries))
	}
	return dir
}

// caseOf is name as spelled in names, or name when that is not clear.
func caseOf(name string, names []string) string {
	found := ""
	for _, n := range names {
		if n == name {
			return name
		}
		if strings.EqualFold(n, name) {
			if found != "" {
				return name // two entries fold to name: a case-sensitive volume
			}
			found = n
		}
	}
	if found == "" {
		return name
	}
	return found
}

// readDirNames lists the names in dir, unsorted.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
