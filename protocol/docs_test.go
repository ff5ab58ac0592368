package protocol_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/odod-dev/odod/protocol"
)

// TestDocsDescribeEveryMethodAndCode keeps docs/protocol.md and this package
// in step: every method has a section with an example exchange, every
// section names a method, every error code has a row and every row a code.
func TestDocsDescribeEveryMethodAndCode(t *testing.T) {
	raw, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)

	sections := map[string]string{}
	heading := regexp.MustCompile("(?m)^### `([^`]+)`\n")
	locs := heading.FindAllStringSubmatchIndex(doc, -1)
	for i, loc := range locs {
		name := doc[loc[2]:loc[3]]
		end := len(doc)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		if next := strings.Index(doc[loc[1]:end], "\n## "); next >= 0 {
			end = loc[1] + next
		}
		sections[name] = doc[loc[1]:end]
	}
	known := map[string]bool{}
	for _, m := range protocol.Methods() {
		known[m.Name] = true
		body, ok := sections[m.Name]
		if !ok {
			t.Errorf("docs/protocol.md has no section for %s", m.Name)
			continue
		}
		if !strings.Contains(body, "```json") {
			t.Errorf("the section of %s has no example exchange", m.Name)
		}
		kind := "Request"
		if m.Kind == protocol.Notification {
			kind = "Notification"
		}
		if !strings.Contains(body, kind+", "+string(m.Direction)) {
			t.Errorf("the section of %s does not say %q", m.Name, kind+", "+string(m.Direction))
		}
		if !strings.Contains(body, `"method":"`+m.Name+`"`) {
			t.Errorf("the example of %s does not show the method", m.Name)
		}
	}
	for name := range sections {
		if !known[name] {
			t.Errorf("docs/protocol.md describes %s, which protocol.Methods does not list", name)
		}
	}

	row := regexp.MustCompile(`(?m)^\| (-\d+) \| (\w+) \|`)
	rows := map[int]string{}
	for _, m := range row.FindAllStringSubmatch(doc, -1) {
		code, _ := strconv.Atoi(m[1])
		rows[code] = m[2]
	}
	codes := map[int]bool{}
	for _, c := range protocol.ErrorCodes() {
		codes[c.Code] = true
		if rows[c.Code] != c.Name {
			t.Errorf("error code %d (%s): docs row says %q", c.Code, c.Name, rows[c.Code])
		}
		if c.Name != "ServerNotInitialized" && (c.Code == -32001 || c.Code == -32002) {
			t.Errorf("odod code %d collides with LSP's reserved codes", c.Code)
		}
	}
	for code := range rows {
		if !codes[code] {
			t.Errorf("docs list error code %d, which protocol.ErrorCodes does not", code)
		}
	}
}

// TestMethodNamesAreUnique guards the catalog itself.
func TestMethodNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range protocol.Methods() {
		if seen[m.Name] {
			t.Errorf("%s listed twice", m.Name)
		}
		seen[m.Name] = true
	}
	seenCodes := map[int]bool{}
	for _, c := range protocol.ErrorCodes() {
		if seenCodes[c.Code] {
			t.Errorf("code %d listed twice", c.Code)
		}
		seenCodes[c.Code] = true
	}
}
