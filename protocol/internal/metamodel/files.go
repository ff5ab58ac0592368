package metamodel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// JSON encodes the model as metaModel.json: indented, HTML left alone.
func (m *MetaModel) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encoding the metaModel: %w", err)
	}
	return compact(buf.Bytes()), nil
}

// leafObject is an indented JSON object without nested objects or arrays.
var leafObject = regexp.MustCompile(`\{\n(?:[ ]+"[^"\n]+": [^{}\[\]\n]+\n)+[ ]*\}`)

// compact puts each small leaf object, such as a type reference, on one
// line: the file stays readable and a third of the size.
func compact(b []byte) []byte {
	return leafObject.ReplaceAllFunc(b, func(obj []byte) []byte {
		lines := bytes.Split(obj, []byte("\n"))
		parts := make([][]byte, 0, len(lines))
		for _, l := range lines[1 : len(lines)-1] {
			parts = append(parts, bytes.TrimSpace(l))
		}
		one := append(append([]byte("{ "), bytes.Join(parts, []byte(" "))...), " }"...)
		if len(one) > 100 {
			return obj
		}
		return one
	})
}

// Generate returns every generated file, by its path relative to the
// repository's root: the description of root/protocol, and what is made
// from it.
func Generate(root string) (map[string][]byte, error) {
	m, err := Build(filepath.Join(root, "protocol"))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	if files["protocol/metaModel.json"], err = m.JSON(); err != nil {
		return nil, err
	}
	files["docs/protocol-reference.md"] = m.Reference()
	files["clients/typescript/src/protocol.ts"] = m.TypeScript()
	java, err := m.Java()
	if err != nil {
		return nil, fmt.Errorf("the Java bindings: %w", err)
	}
	for name, b := range java {
		files[name] = b
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "protocol.md"))
	if err != nil {
		return nil, fmt.Errorf("reading docs/protocol.md: %w", err)
	}
	if doc, err = Splice(doc, "methods", m.MethodTable()); err != nil {
		return nil, fmt.Errorf("docs/protocol.md: %w", err)
	}
	if doc, err = Splice(doc, "error codes", m.ErrorTable()); err != nil {
		return nil, fmt.Errorf("docs/protocol.md: %w", err)
	}
	files["docs/protocol.md"] = doc
	return files, nil
}

// Write writes the generated files under root.
func Write(root string, files map[string][]byte) error {
	for _, name := range sortedKeys(files) {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}
