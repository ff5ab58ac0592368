package daemon

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// The URI rules of all three OSes run on every OS: the style is a
// parameter, not the host's.

func TestPathFromURI(t *testing.T) {
	for _, tc := range []struct {
		style pathStyle
		uri   string
		want  string // "" means an error whose text contains wantErr
		// wantErr is part of the error's text.
		wantErr string
	}{
		// Windows: VS Code's spelling, the plain one, UNC shares.
		{windowsPaths, "file:///c%3A/Users/me/proj", `C:\Users\me\proj`, ""},
		{windowsPaths, "file:///C:/Users/me/proj", `C:\Users\me\proj`, ""},
		{windowsPaths, "file:///c:/Users/me/My%20Proj/", `C:\Users\me\My Proj`, ""},
		{windowsPaths, "file:///d%3A/src/%E6%97%A5%E6%9C%AC", `D:\src\日本`, ""},
		{windowsPaths, "file:///c%3A", `C:\`, ""},
		{windowsPaths, "file:///c%3A/", `C:\`, ""},
		{windowsPaths, "file:///c:/a/../b/./c", `C:\b\c`, ""},
		{windowsPaths, "file:///c:/a%5Cb", `C:\a\b`, ""},
		{windowsPaths, "file://localhost/c%3A/x", `C:\x`, ""},
		{windowsPaths, "file://C:/x", `C:\x`, ""},
		{windowsPaths, "file://server/share/dir/x", `\\server\share\dir\x`, ""},
		{windowsPaths, "file://server/share", `\\server\share`, ""},
		{windowsPaths, "file:////server/share/dir", `\\server\share\dir`, ""},
		{windowsPaths, "file://server.example.com/share/a/../b", `\\server.example.com\share\b`, ""},
		{windowsPaths, "file://server/", "", "no share name"},
		{windowsPaths, "file://server", "", "no share name"},
		{windowsPaths, "file:///home/me", "", "no drive letter"},
		{windowsPaths, "file:///c%3Ax", "", "no drive letter"},
		{windowsPaths, "file:///", "", "no drive letter"},
		{windowsPaths, `C:\Users\me`, "", "Windows path"},
		{windowsPaths, "c:/Users/me", "", "Windows path"},
		{windowsPaths, "https://example.com/x", "", "not file"},
		// Linux and macOS.
		{unixPaths, "file:///home/me/proj", "/home/me/proj", ""},
		{unixPaths, "file:///home/me/My%20Proj/", "/home/me/My Proj", ""},
		{unixPaths, "file://localhost/tmp/x", "/tmp/x", ""},
		{unixPaths, "file:///a/../b", "/b", ""},
		{unixPaths, "file:///", "/", ""},
		{unixPaths, "file:///c%3A/x", "/c:/x", ""}, // a legal Unix name
		{unixPaths, "file:///a%23b", "/a#b", ""},
		{macPaths, "file:///Users/Me/Proj", "/Users/Me/Proj", ""}, // case is kept; canonical fixes it
		{unixPaths, "file://server/share", "", "not this machine"},
		{unixPaths, "file:relative/path", "", "not absolute"},
		{unixPaths, "file:///a#b", "", "fragment"},
		{unixPaths, "file:///a?b", "", "query"},
		{unixPaths, "https://example.com/x", "", "not file"},
		{unixPaths, "::::", "", "not a URI"},
		{unixPaths, "", "", "not file"},
	} {
		got, err := tc.style.pathFromURI(tc.uri)
		switch {
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("%+v pathFromURI(%q) = %q, %v; want %q", tc.style, tc.uri, got, err, tc.want)
		case tc.want == "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%+v pathFromURI(%q) = %q, %v; want an error about %q", tc.style, tc.uri, got, err, tc.wantErr)
		}
	}
}

func TestURIFromPathRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		style pathStyle
		path  string
		want  string
	}{
		{windowsPaths, `C:\Users\me\My Proj`, "file:///C:/Users/me/My%20Proj"},
		{windowsPaths, `C:\`, "file:///C:/"},
		{windowsPaths, `D:\src\a#b`, "file:///D:/src/a%23b"},
		{windowsPaths, `\\server\share\dir`, "file://server/share/dir"},
		{windowsPaths, `\\server\share`, "file://server/share"},
		{unixPaths, "/home/me/a b", "file:///home/me/a%20b"},
		{unixPaths, "/", "file:///"},
		{macPaths, "/Users/me/100%", "file:///Users/me/100%25"},
	} {
		got := tc.style.uriFromPath(tc.path)
		if got != tc.want {
			t.Errorf("%+v uriFromPath(%q) = %q, want %q", tc.style, tc.path, got, tc.want)
		}
		back, err := tc.style.pathFromURI(got)
		if err != nil || back != tc.path {
			t.Errorf("%+v pathFromURI(%q) = %q, %v; want %q back", tc.style, got, back, err, tc.path)
		}
	}
}

func TestWithin(t *testing.T) {
	for _, tc := range []struct {
		style      pathStyle
		root, path string
		want       string // "" means not within
	}{
		{unixPaths, "/home/me/app", "/home/me/app/src/x.js", "src/x.js"},
		{unixPaths, "/home/me/app", "/home/me/app", ""},
		{unixPaths, "/home/me/app", "/home/me/apps/x", ""},
		{unixPaths, "/home/me/app", "/home/me", ""},
		{unixPaths, "/home/me/app", "/home/me/App/x", ""}, // Linux: another folder
		{unixPaths, "/", "/etc/hosts", "etc/hosts"},
		{macPaths, "/Users/me/App", "/users/me/app/src/x.js", "src/x.js"},
		{macPaths, "/Users/me/App", "/Users/me/Apps/x", ""},
		{windowsPaths, `C:\Users\me\app`, `c:\users\me\APP\src\x.js`, "src/x.js"},
		{windowsPaths, `C:\Users\me\app`, `C:\Users\me\app\src`, "src"},
		{windowsPaths, `C:\Users\me\app`, `C:\Users\me\app2\x`, ""},
		{windowsPaths, `C:\Users\me\app`, `D:\Users\me\app\x`, ""},
		{windowsPaths, `C:\`, `C:\x\y`, "x/y"},
		{windowsPaths, `\\server\share\app`, `\\SERVER\share\app\x`, "x"},
	} {
		got, ok := tc.style.within(tc.root, tc.path)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%+v within(%q, %q) = %q, %v; want %q", tc.style, tc.root, tc.path, got, ok, tc.want)
		}
	}
}

func TestCanonicalSpellsNamesAsOnDisk(t *testing.T) {
	// A macOS disk: "/Users/me" holds "Proj"; "/Volumes/cs" is a
	// case-sensitive volume holding both "app" and "App".
	disk := map[string][]string{
		"/":              {"Users", "Volumes"},
		"/Users":         {"Shared", "me"},
		"/Users/me":      {"Proj", "proj2", "private"},
		"/Users/me/Proj": {"src"},
		"/Volumes":       {"cs"},
		"/Volumes/cs":    {"app", "App"},
	}
	readDir := func(dir string) ([]string, error) {
		if dir == "/Users/me/private" {
			return nil, fs.ErrPermission
		}
		names, ok := disk[dir]
		if !ok {
			return nil, fs.ErrNotExist
		}
		return names, nil
	}
	for _, tc := range []struct {
		style      pathStyle
		path, want string
	}{
		{macPaths, "/users/ME/proj", "/Users/me/Proj"},
		{macPaths, "/Users/me/Proj/SRC", "/Users/me/Proj/src"},
		{macPaths, "/Users/me/proj2", "/Users/me/proj2"},
		{macPaths, "/Volumes/cs/APP", "/Volumes/cs/APP"}, // ambiguous: kept
		{macPaths, "/Volumes/cs/App", "/Volumes/cs/App"}, // exact: kept
		{macPaths, "/users/me/PRIVATE/X", "/Users/me/private/X"},
		{macPaths, "/", "/"},
		{unixPaths, "/users/ME/proj", "/users/ME/proj"}, // Linux: case is the name
		// Windows: EvalSymlinks already did the names; a UNC volume is folded.
		{windowsPaths, `C:\Users\me\Proj`, `C:\Users\me\Proj`},
		{windowsPaths, `\\Server\Share\Dir`, `\\server\share\Dir`},
		{windowsPaths, `\\Server\Share`, `\\server\share`},
	} {
		if got := tc.style.canonical(tc.path, readDir); got != tc.want {
			t.Errorf("%+v canonical(%q) = %q, want %q", tc.style, tc.path, got, tc.want)
		}
	}
	if _, err := readDir("/nowhere"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("the fake disk lists a folder it does not have")
	}
}

func TestPathStyleOf(t *testing.T) {
	if pathStyleOf("windows") != windowsPaths || pathStyleOf("darwin") != macPaths || pathStyleOf("linux") != unixPaths {
		t.Fatal("the OSes' path styles are mixed up")
	}
}
