// Package metamodel describes odod's protocol in the shape of LSP's
// metaModel.json (https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/metaModel/metaModel.json),
// builds that description from the protocol package's Go types and doc
// comments, and generates from it the reference docs and the TypeScript and
// Java bindings. protocol/internal/gen writes the files (go generate
// ./protocol); protocol's tests regenerate them in memory and compare.
//
// Additions to LSP's schema, which LSP generators ignore:
//   - a base type may carry "format": "int64" or "uint64" (a Go int64 or
//     uint64: more than LSP's 32-bit integer) or "date-time" (a string in
//     RFC 3339 with nanoseconds);
//   - the enumeration "ErrorCodes" lists every error code odod answers;
//   - every request names "errorData": ErrorData, the data of each error.
//
// The protocol package can state a type Go cannot say with a directive line
// in a type's or field's doc comment: "//metamodel:type integer|string"
// ("|" separates alternatives: LSP base type names, names of the package's
// types, or "quoted" string literals).
package metamodel

import (
	"encoding/json"
	"fmt"
)

// MetaModel is the whole description.
type MetaModel struct {
	MetaData      MetaData       `json:"metaData"`
	Requests      []Request      `json:"requests"`
	Notifications []Notification `json:"notifications"`
	Structures    []Structure    `json:"structures"`
	Enumerations  []Enumeration  `json:"enumerations"`
	TypeAliases   []TypeAlias    `json:"typeAliases"`
}

// MetaData holds the protocol's version.
type MetaData struct {
	Version string `json:"version"`
}

// Message directions, as LSP's MessageDirection.
const (
	ClientToServer = "clientToServer"
	ServerToClient = "serverToClient"
	Both           = "both"
)

// Request is a method that is answered.
type Request struct {
	Method           string `json:"method"`
	Result           *Type  `json:"result"`
	MessageDirection string `json:"messageDirection"`
	Params           *Type  `json:"params,omitempty"`
	ErrorData        *Type  `json:"errorData,omitempty"`
	Documentation    string `json:"documentation,omitempty"`
}

// Notification is a method that is not answered.
type Notification struct {
	Method           string `json:"method"`
	MessageDirection string `json:"messageDirection"`
	Params           *Type  `json:"params,omitempty"`
	Documentation    string `json:"documentation,omitempty"`
}

// Structure is an object type.
type Structure struct {
	Name string `json:"name"`
	// Mixins are the structures whose properties this one has too (a Go
	// embedded struct).
	Mixins        []*Type    `json:"mixins,omitempty"`
	Properties    []Property `json:"properties"`
	Documentation string     `json:"documentation,omitempty"`
}

// Property is one field of a structure, named as it travels.
type Property struct {
	Name          string `json:"name"`
	Type          *Type  `json:"type"`
	Optional      bool   `json:"optional,omitempty"`
	Documentation string `json:"documentation,omitempty"`
}

// Enumeration is a set of string or integer values.
type Enumeration struct {
	Name          string             `json:"name"`
	Type          *Type              `json:"type"`
	Values        []EnumerationEntry `json:"values"`
	Documentation string             `json:"documentation,omitempty"`
}

// EnumerationEntry is one value; Value is a string or an int.
type EnumerationEntry struct {
	Name          string `json:"name"`
	Value         any    `json:"value"`
	Documentation string `json:"documentation,omitempty"`
}

// TypeAlias names a type.
type TypeAlias struct {
	Name          string `json:"name"`
	Type          *Type  `json:"type"`
	Documentation string `json:"documentation,omitempty"`
}

// Type kinds, as LSP's.
const (
	KindBase          = "base"
	KindReference     = "reference"
	KindArray         = "array"
	KindMap           = "map"
	KindOr            = "or"
	KindLiteral       = "literal"
	KindStringLiteral = "stringLiteral"
)

// LSP's base type names odod uses.
const (
	BaseString   = "string"
	BaseInteger  = "integer"
	BaseUinteger = "uinteger"
	BaseDecimal  = "decimal"
	BaseBoolean  = "boolean"
	BaseNull     = "null"
)

// Type is a type reference, one of LSP's kinds.
type Type struct {
	Kind string `json:"kind"`
	// Name is a base type's or a reference's name.
	Name string `json:"name,omitempty"`
	// Format refines a base type: "int64", "uint64", "date-time".
	Format string `json:"format,omitempty"`
	// Element is an array's element type.
	Element *Type `json:"element,omitempty"`
	// Key and Value are a map's.
	Key   *Type `json:"key,omitempty"`
	Value any   `json:"value,omitempty"`
	// Items are an or's alternatives.
	Items []*Type `json:"items,omitempty"`
}

// Literal is the value of a literal type: an object with these properties.
type Literal struct {
	Properties []Property `json:"properties"`
}

// ValueType is a map's value type (Value holds a *Type for maps, a
// *Literal for literals, a string for string literals).
func (t *Type) ValueType() *Type {
	v, _ := t.Value.(*Type)
	return v
}

// Base returns a base type.
func Base(name string) *Type { return &Type{Kind: KindBase, Name: name} }

// Ref returns a reference to a named structure, enumeration or alias.
func Ref(name string) *Type { return &Type{Kind: KindReference, Name: name} }

// Lookup indexes a model's named types.
type Lookup struct {
	Structures   map[string]*Structure
	Enumerations map[string]*Enumeration
	Aliases      map[string]*TypeAlias
}

// Index returns the model's named types by name.
func (m *MetaModel) Index() Lookup {
	l := Lookup{map[string]*Structure{}, map[string]*Enumeration{}, map[string]*TypeAlias{}}
	for i := range m.Structures {
		l.Structures[m.Structures[i].Name] = &m.Structures[i]
	}
	for i := range m.Enumerations {
		l.Enumerations[m.Enumerations[i].Name] = &m.Enumerations[i]
	}
	for i := range m.TypeAliases {
		l.Aliases[m.TypeAliases[i].Name] = &m.TypeAliases[i]
	}
	return l
}

// AllProperties returns a structure's properties, its mixins' first.
func (l Lookup) AllProperties(s *Structure) []Property {
	var out []Property
	for _, m := range s.Mixins {
		if ms := l.Structures[m.Name]; ms != nil {
			out = append(out, l.AllProperties(ms)...)
		}
	}
	return append(out, s.Properties...)
}

// UnmarshalJSON reads a type whose "value" depends on its kind.
func (t *Type) UnmarshalJSON(b []byte) error {
	type plain Type
	var raw struct {
		plain
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*t = Type(raw.plain)
	t.Value = nil
	if len(raw.Value) == 0 {
		return nil
	}
	var v any
	switch t.Kind {
	case KindMap:
		v = new(Type)
	case KindLiteral:
		v = new(Literal)
	default:
		var s any
		if err := json.Unmarshal(raw.Value, &s); err != nil {
			return err
		}
		t.Value = s
		return nil
	}
	if err := json.Unmarshal(raw.Value, v); err != nil {
		return fmt.Errorf("the value of a %s type: %w", t.Kind, err)
	}
	t.Value = v
	return nil
}

// Read decodes a metaModel.json.
func Read(b []byte) (*MetaModel, error) {
	var m MetaModel
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading a metaModel: %w", err)
	}
	return &m, nil
}
