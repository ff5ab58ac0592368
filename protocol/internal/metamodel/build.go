package metamodel

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/odod-dev/odod/protocol"
)

// directive is the doc-comment line that states a type Go cannot say.
const directive = "//metamodel:type "

// The LSP type aliases a json.RawMessage or an any becomes.
const anyName = "LSPAny"

// Build describes the protocol package found in dir (its Go sources, for
// the types and doc comments) and the methods protocol.Methods lists.
func Build(dir string) (*MetaModel, error) {
	b, err := load(dir)
	if err != nil {
		return nil, err
	}
	m := &MetaModel{MetaData: MetaData{Version: protocol.ProtocolVersion}}
	for _, mi := range protocol.Methods() {
		doc := b.methodDoc(mi.Name)
		dirs := direction(mi.Direction)
		params, err := b.methodType(mi.Params)
		if err != nil {
			return nil, fmt.Errorf("the params of %s: %w", mi.Name, err)
		}
		if mi.Kind == protocol.Notification {
			m.Notifications = append(m.Notifications, Notification{Method: mi.Name, MessageDirection: dirs, Params: params, Documentation: doc})
			continue
		}
		result, err := b.methodType(mi.Result)
		if err != nil {
			return nil, fmt.Errorf("the result of %s: %w", mi.Name, err)
		}
		if result == nil {
			result = Base(BaseNull)
		}
		m.Requests = append(m.Requests, Request{Method: mi.Name, Result: result, MessageDirection: dirs, Params: params,
			ErrorData: b.ref("ErrorData"), Documentation: doc})
	}
	codes, err := b.errorCodes()
	if err != nil {
		return nil, err
	}
	b.enums["ErrorCodes"] = codes
	if err := b.drain(); err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(b.structs) {
		m.Structures = append(m.Structures, *b.structs[name])
	}
	for _, name := range sortedKeys(b.enums) {
		m.Enumerations = append(m.Enumerations, *b.enums[name])
	}
	for _, name := range sortedKeys(b.aliases) {
		m.TypeAliases = append(m.TypeAliases, *b.aliases[name])
	}
	if m.Structures == nil {
		m.Structures = []Structure{}
	}
	if m.TypeAliases == nil {
		m.TypeAliases = []TypeAlias{}
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func direction(d protocol.Direction) string {
	switch d {
	case protocol.ServerToClient:
		return ServerToClient
	case protocol.Both:
		return Both
	}
	return ClientToServer
}

// builder holds the type-checked package, its docs, and what the model
// has collected so far.
type builder struct {
	pkg *types.Package
	// docs are the doc comments of types, constants and fields ("T.Field"),
	// directives the directive lines of types and fields.
	docs       map[string]string
	directives map[string]string

	structs map[string]*Structure
	enums   map[string]*Enumeration
	aliases map[string]*TypeAlias
	// pending are the named types referenced but not yet described.
	pending []types.Object
	queued  map[string]bool
}

func load(dir string) (*builder, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the protocol package: %w", err)
	}
	var files []*ast.File
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parsing the protocol package: %w", err)
		}
		files = append(files, f)
	}
	if err := knowGOROOT(); err != nil {
		return nil, err
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check("github.com/odod-dev/odod/protocol", fset, files, nil)
	if err != nil {
		return nil, fmt.Errorf("type-checking the protocol package (run go build ./protocol): %w", err)
	}
	b := &builder{pkg: pkg, docs: map[string]string{}, directives: map[string]string{},
		structs: map[string]*Structure{}, enums: map[string]*Enumeration{}, aliases: map[string]*TypeAlias{}, queued: map[string]bool{}}
	for _, f := range files {
		b.collectDocs(f)
	}
	return b, nil
}

// collectDocs records the doc comments of f's declarations.
func (b *builder) collectDocs(f *ast.File) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				doc := s.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				b.record(s.Name.Name, doc, s.Comment)
				st, ok := s.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fld := range st.Fields.List {
					for _, n := range fld.Names {
						b.record(s.Name.Name+"."+n.Name, fld.Doc, fld.Comment)
					}
				}
			case *ast.ValueSpec:
				for _, n := range s.Names {
					b.record(n.Name, s.Doc, s.Comment)
				}
			}
		}
	}
}

func (b *builder) record(key string, doc, line *ast.CommentGroup) {
	for _, cg := range []*ast.CommentGroup{doc, line} {
		if cg == nil {
			continue
		}
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, directive) {
				b.directives[key] = strings.TrimSpace(strings.TrimPrefix(c.Text, directive))
			}
		}
	}
	if d := docText(doc); d != "" {
		b.docs[key] = d
	} else if d := docText(line); d != "" {
		b.docs[key] = d
	}
}

// docText joins a comment's wrapped lines into paragraphs.
func docText(cg *ast.CommentGroup) string {
	if cg == nil {
		return ""
	}
	var paras []string
	for _, p := range strings.Split(strings.TrimSpace(cg.Text()), "\n\n") {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			paras = append(paras, p)
		}
	}
	return strings.Join(paras, "\n\n")
}

// methodDoc is the doc comment of the Method… constant whose value is name.
func (b *builder) methodDoc(name string) string {
	for _, n := range b.pkg.Scope().Names() {
		c, ok := b.pkg.Scope().Lookup(n).(*types.Const)
		if ok && strings.HasPrefix(n, "Method") && c.Val().Kind() == constant.String && constant.StringVal(c.Val()) == name {
			doc := strings.TrimPrefix(b.docs[n], n+" ")
			if doc != "" && doc != b.docs[n] {
				doc = strings.ToUpper(doc[:1]) + doc[1:]
			}
			return doc
		}
	}
	return ""
}

// methodType describes a params or result value of protocol.Methods.
func (b *builder) methodType(v any) (*Type, error) {
	if v == nil {
		return nil, nil
	}
	rt := reflect.TypeOf(v)
	if rt.Name() == "" {
		if rt.Kind() == reflect.Struct && rt.NumField() == 0 {
			return &Type{Kind: KindLiteral, Value: &Literal{Properties: []Property{}}}, nil
		}
		return nil, fmt.Errorf("%s: only named types of the protocol package or struct{}{} can be described", rt)
	}
	if rt.PkgPath() != b.pkg.Path() {
		return nil, fmt.Errorf("%s is not a type of the protocol package", rt)
	}
	obj := b.pkg.Scope().Lookup(rt.Name())
	if obj == nil {
		return nil, fmt.Errorf("%s is not declared in the protocol package's sources", rt.Name())
	}
	return b.convert(obj.Type())
}

// ref queues a named type of the package and refers to it.
func (b *builder) ref(name string) *Type {
	if !b.queued[name] {
		b.queued[name] = true
		b.pending = append(b.pending, b.pkg.Scope().Lookup(name))
	}
	return Ref(name)
}

// convert describes a Go type.
func (b *builder) convert(t types.Type) (*Type, error) {
	switch t := t.(type) {
	case *types.Alias:
		obj := t.Obj()
		if obj.Pkg() == b.pkg {
			return b.ref(obj.Name()), nil
		}
		return b.convert(t.Rhs())
	case *types.Named:
		obj := t.Obj()
		switch {
		case obj.Pkg() == nil:
			return b.convert(t.Underlying())
		case obj.Pkg().Path() == "time" && obj.Name() == "Time":
			return &Type{Kind: KindBase, Name: BaseString, Format: "date-time"}, nil
		case obj.Pkg().Path() == "encoding/json" && obj.Name() == "RawMessage":
			return b.lspAny(), nil
		case obj.Pkg() == b.pkg:
			return b.ref(obj.Name()), nil
		}
		if u, ok := t.Underlying().(*types.Basic); ok {
			// time.Duration and the like travel as their number or string.
			return basic(u)
		}
		return nil, fmt.Errorf("%s: a type from another package (%s) cannot be described; use a type of the protocol package", t, obj.Pkg().Path())
	case *types.Basic:
		return basic(t)
	case *types.Pointer:
		return b.convert(t.Elem())
	case *types.Slice:
		if e, ok := t.Elem().(*types.Basic); ok && e.Kind() == types.Uint8 {
			// encoding/json sends a []byte as a base64 string.
			return Base(BaseString), nil
		}
		el, err := b.convert(t.Elem())
		if err != nil {
			return nil, err
		}
		return &Type{Kind: KindArray, Element: el}, nil
	case *types.Map:
		k, err := b.convert(t.Key())
		if err != nil {
			return nil, err
		}
		v, err := b.convert(t.Elem())
		if err != nil {
			return nil, err
		}
		return &Type{Kind: KindMap, Key: k, Value: v}, nil
	case *types.Interface:
		if t.Empty() {
			return b.lspAny(), nil
		}
	case *types.Struct:
		s, err := b.structure("", t)
		if err != nil {
			return nil, err
		}
		if len(s.Mixins) > 0 {
			return nil, fmt.Errorf("an anonymous struct with embedded fields cannot be described")
		}
		return &Type{Kind: KindLiteral, Value: &Literal{Properties: s.Properties}}, nil
	}
	return nil, fmt.Errorf("%s cannot be described", t)
}

func basic(t *types.Basic) (*Type, error) {
	switch t.Kind() {
	case types.String:
		return Base(BaseString), nil
	case types.Bool:
		return Base(BaseBoolean), nil
	case types.Int, types.Int8, types.Int16, types.Int32:
		return Base(BaseInteger), nil
	case types.Int64:
		return &Type{Kind: KindBase, Name: BaseInteger, Format: "int64"}, nil
	case types.Uint8, types.Uint16, types.Uint32:
		return Base(BaseUinteger), nil
	case types.Uint, types.Uint64:
		return &Type{Kind: KindBase, Name: BaseUinteger, Format: "uint64"}, nil
	case types.Float32, types.Float64:
		return Base(BaseDecimal), nil
	}
	return nil, fmt.Errorf("%s cannot be described", t)
}

// lspAny refers to LSP's LSPAny, adding it and its parts to the model.
func (b *builder) lspAny() *Type {
	if b.aliases[anyName] == nil {
		b.aliases[anyName] = &TypeAlias{Name: anyName, Documentation: "Any JSON value, as LSP's LSPAny.", Type: &Type{Kind: KindOr, Items: []*Type{
			Ref("LSPObject"), Ref("LSPArray"), Base(BaseString), Base(BaseInteger), Base(BaseUinteger), Base(BaseDecimal), Base(BaseBoolean), Base(BaseNull),
		}}}
		b.aliases["LSPObject"] = &TypeAlias{Name: "LSPObject", Documentation: "A JSON object, as LSP's LSPObject.",
			Type: &Type{Kind: KindMap, Key: Base(BaseString), Value: Ref(anyName)}}
		b.aliases["LSPArray"] = &TypeAlias{Name: "LSPArray", Documentation: "A JSON array, as LSP's LSPArray.",
			Type: &Type{Kind: KindArray, Element: Ref(anyName)}}
	}
	return Ref(anyName)
}

// override is the type a directive states, or nil.
func (b *builder) override(key string) (*Type, error) {
	d, ok := b.directives[key]
	if !ok {
		return nil, nil
	}
	var items []*Type
	for _, alt := range strings.Split(d, "|") {
		alt = strings.TrimSpace(alt)
		switch {
		case strings.HasPrefix(alt, `"`) && strings.HasSuffix(alt, `"`) && len(alt) >= 2:
			items = append(items, &Type{Kind: KindStringLiteral, Value: alt[1 : len(alt)-1]})
		case alt == BaseString || alt == BaseInteger || alt == BaseUinteger || alt == BaseDecimal || alt == BaseBoolean || alt == BaseNull:
			items = append(items, Base(alt))
		case b.pkg.Scope().Lookup(alt) != nil:
			items = append(items, b.ref(alt))
		default:
			return nil, fmt.Errorf("%s: directive %q: %q is neither an LSP base type, a quoted string nor a type of the protocol package", key, directive+d, alt)
		}
	}
	if len(items) == 1 {
		return items[0], nil
	}
	return &Type{Kind: KindOr, Items: items}, nil
}

// drain describes every queued named type.
func (b *builder) drain() error {
	for len(b.pending) > 0 {
		obj := b.pending[0]
		b.pending = b.pending[1:]
		if err := b.describe(obj); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) describe(obj types.Object) error {
	name := obj.Name()
	doc := b.docs[name]
	if over, err := b.override(name); err != nil || over != nil {
		if err != nil {
			return err
		}
		b.aliases[name] = &TypeAlias{Name: name, Type: over, Documentation: doc}
		return nil
	}
	if a, ok := obj.Type().(*types.Alias); ok {
		t, err := b.convert(a.Rhs())
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		b.aliases[name] = &TypeAlias{Name: name, Type: t, Documentation: doc}
		return nil
	}
	named := obj.Type().(*types.Named)
	switch u := named.Underlying().(type) {
	case *types.Struct:
		s, err := b.structure(name, u)
		if err != nil {
			return err
		}
		s.Documentation = doc
		b.structs[name] = s
		return nil
	case *types.Basic:
		if values := b.enumValues(named); len(values) > 0 {
			base, err := basic(u)
			if err != nil {
				return err
			}
			b.enums[name] = &Enumeration{Name: name, Type: Base(base.Name), Values: values, Documentation: doc}
			return nil
		}
	}
	t, err := b.convert(named.Underlying())
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	b.aliases[name] = &TypeAlias{Name: name, Type: t, Documentation: doc}
	return nil
}

// structure describes a struct's fields as encoding/json encodes them.
func (b *builder) structure(name string, st *types.Struct) (*Structure, error) {
	s := &Structure{Name: name, Properties: []Property{}}
	for i := 0; i < st.NumFields(); i++ {
		f := st.Field(i)
		tag := reflect.StructTag(st.Tag(i)).Get("json")
		if tag == "-" {
			continue
		}
		jsonName, opts, _ := strings.Cut(tag, ",")
		if f.Embedded() && jsonName == "" {
			t := f.Type()
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			if n, ok := t.(*types.Named); ok && n.Obj().Pkg() == b.pkg {
				if _, isStruct := n.Underlying().(*types.Struct); isStruct {
					s.Mixins = append(s.Mixins, b.ref(n.Obj().Name()))
					continue
				}
			}
		}
		if !f.Exported() {
			continue
		}
		if jsonName == "" {
			jsonName = f.Name()
		}
		key := name + "." + f.Name()
		typ, err := b.override(key)
		if err != nil {
			return nil, err
		}
		if typ == nil {
			if typ, err = b.convert(f.Type()); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
		}
		optional := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		if _, ptr := f.Type().(*types.Pointer); ptr && !optional {
			typ = &Type{Kind: KindOr, Items: []*Type{typ, Base(BaseNull)}}
		}
		s.Properties = append(s.Properties, Property{Name: jsonName, Type: typ, Optional: optional, Documentation: b.docs[key]})
	}
	return s, nil
}

// enumValues are the package's constants of type t, in source order.
func (b *builder) enumValues(t *types.Named) []EnumerationEntry {
	var consts []*types.Const
	for _, n := range b.pkg.Scope().Names() {
		if c, ok := b.pkg.Scope().Lookup(n).(*types.Const); ok && types.Identical(c.Type(), t) {
			consts = append(consts, c)
		}
	}
	sort.Slice(consts, func(i, j int) bool { return consts[i].Pos() < consts[j].Pos() })
	names := make([]string, len(consts))
	for i, c := range consts {
		names[i] = c.Name()
	}
	short := trimCommonPrefix(names)
	var out []EnumerationEntry
	for i, c := range consts {
		out = append(out, EnumerationEntry{Name: short[i], Value: constValue(c.Val()), Documentation: b.docs[c.Name()]})
	}
	return out
}

func constValue(v constant.Value) any {
	if v.Kind() == constant.String {
		return constant.StringVal(v)
	}
	i, _ := constant.Int64Val(v)
	return int(i)
}

// trimCommonPrefix drops the words the names share (PhaseApply,
// PhaseWait → Apply, Wait), so long as every name keeps a word.
func trimCommonPrefix(names []string) []string {
	if len(names) < 2 {
		return names
	}
	n := len(names[0])
	for _, s := range names[1:] {
		i := 0
		for i < n && i < len(s) && s[i] == names[0][i] {
			i++
		}
		n = i
	}
	for ; n > 0; n-- {
		ok := true
		for _, s := range names {
			if n >= len(s) || !unicode.IsUpper(rune(s[n])) {
				ok = false
				break
			}
		}
		if ok {
			break
		}
	}
	out := make([]string, len(names))
	for i, s := range names {
		out[i] = s[n:]
	}
	return out
}

// errorCodes is the ErrorCodes enumeration: protocol.ErrorCodes, with the
// doc comments of the Code… constants.
func (b *builder) errorCodes() (*Enumeration, error) {
	e := &Enumeration{Name: "ErrorCodes", Type: Base(BaseInteger),
		Documentation: "The error codes odod answers with. The JSON-RPC and LSP codes keep their meaning; odod's own are in -32000…-32099, away from LSP's -32001 and -32002."}
	for _, c := range protocol.ErrorCodes() {
		doc := b.docs["Code"+c.Name]
		if obj, ok := b.pkg.Scope().Lookup("Code" + c.Name).(*types.Const); !ok || constValue(obj.Val()) != c.Code {
			return nil, fmt.Errorf("protocol.ErrorCodes lists %s (%d) but the package declares no constant Code%s = %d", c.Name, c.Code, c.Name, c.Code)
		}
		e.Values = append(e.Values, EnumerationEntry{Name: c.Name, Value: c.Code, Documentation: strings.TrimPrefix(doc, "Code"+c.Name+": ")})
	}
	return e, nil
}

// knowGOROOT makes sure go/build knows where the standard library is: the
// source importer reads it from build.Default.GOROOT, which a binary built
// with -trimpath (as make builds everything) leaves empty. Like go/packages,
// it asks the go command. build.Default is the importer's only input for
// this, hence the one write to it.
var knowGOROOT = sync.OnceValue(func() error {
	if build.Default.GOROOT != "" {
		return nil
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("finding the standard library (go env GOROOT): %w; put the go command on PATH", err)
	}
	build.Default.GOROOT = strings.TrimSpace(string(out))
	return nil
})
