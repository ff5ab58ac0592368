package metamodel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestDescribeGoTypes: how Go declarations become the description, on a
// package of its own.
func TestDescribeGoTypes(t *testing.T) {
	dir := t.TempDir()
	src := `package protocol

import (
	"encoding/json"
	"time"
)

// Base is embedded.
type Base struct {
	ID string ` + "`json:\"id\"`" + `
}

// Color is a string enumeration.
type Color string

// Colors.
const (
	ColorDarkRed Color = "dark red"
	// ColorBlue is blue.
	ColorBlue Color = "blue"
)

// Token is a number or a string.
//
//metamodel:type integer|string
type Token = json.RawMessage

// Thing has every kind of field.
type Thing struct {
	Base
	// Name is required.
	Name     string            ` + "`json:\"name\"`" + `
	Count    *int              ` + "`json:\"count,omitempty\"`" + `
	Parent   *Base             ` + "`json:\"parent\"`" + `
	Hidden   string            ` + "`json:\"-\"`" + `
	Color    Color             ` + "`json:\"color\"`" + `
	Token    Token             ` + "`json:\"token\"`" + `
	Wait     time.Duration     ` + "`json:\"wait\"`" + `
	When     time.Time         ` + "`json:\"when\"`" + `
	Data     []byte            ` + "`json:\"data\"`" + `
	Labels   map[string]string ` + "`json:\"labels,omitempty\"`" + `
	Any      any               ` + "`json:\"any\"`" + `
	//metamodel:type "begin"
	Kind     string ` + "`json:\"kind\"`" + `
	internal int
}
`
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.convert(b.pkg.Scope().Lookup("Thing").Type()); err != nil {
		t.Fatal(err)
	}
	if err := b.drain(); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(map[string]any{"thing": b.structs["Thing"], "color": b.enums["Color"], "token": b.aliases["Token"]})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"color":{"name":"Color","type":{"kind":"base","name":"string"},"values":[{"name":"DarkRed","value":"dark red"},{"name":"Blue","value":"blue","documentation":"ColorBlue is blue."}],"documentation":"Color is a string enumeration."},` +
		`"thing":{"name":"Thing","mixins":[{"kind":"reference","name":"Base"}],"properties":[` +
		`{"name":"name","type":{"kind":"base","name":"string"},"documentation":"Name is required."},` +
		`{"name":"count","type":{"kind":"base","name":"integer"},"optional":true},` +
		`{"name":"parent","type":{"kind":"or","items":[{"kind":"reference","name":"Base"},{"kind":"base","name":"null"}]}},` +
		`{"name":"color","type":{"kind":"reference","name":"Color"}},` +
		`{"name":"token","type":{"kind":"reference","name":"Token"}},` +
		`{"name":"wait","type":{"kind":"base","name":"integer","format":"int64"}},` +
		`{"name":"when","type":{"kind":"base","name":"string","format":"date-time"}},` +
		`{"name":"data","type":{"kind":"base","name":"string"}},` +
		`{"name":"labels","type":{"kind":"map","key":{"kind":"base","name":"string"},"value":{"kind":"base","name":"string"}},"optional":true},` +
		`{"name":"any","type":{"kind":"reference","name":"LSPAny"}},` +
		`{"name":"kind","type":{"kind":"stringLiteral","value":"begin"}}],"documentation":"Thing has every kind of field."},` +
		`"token":{"name":"Token","type":{"kind":"or","items":[{"kind":"base","name":"integer"},{"kind":"base","name":"string"}]},"documentation":"Token is a number or a string."}}`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if b.structs["Base"] == nil || b.aliases["LSPAny"] == nil {
		t.Error("Base and LSPAny are referenced but not described")
	}
}
