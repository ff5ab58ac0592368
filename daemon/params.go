package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sourcegraph/jsonrpc2"
)

// decodeParams decodes a request's params into v. A type mismatch is
// answered -32602 naming the field and the type it should have.
func decodeParams(raw *json.RawMessage, v any) *jsonrpc2.Error {
	if raw == nil || len(bytes.TrimSpace(*raw)) == 0 || string(bytes.TrimSpace(*raw)) == "null" {
		return nil
	}
	trimmed := bytes.TrimSpace(*raw)
	if trimmed[0] != '{' {
		return invalidParams("params", "must be an object", "Send params as a JSON object with named fields.")
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field := typeErr.Field
			if field == "" {
				field = "params"
			}
			return invalidParams(field, fmt.Sprintf("must be %s, not a JSON %s", describeType(typeErr.Type.String()), typeErr.Value),
				"Fix the field's type; docs/protocol.md gives every field.")
		}
		return invalidParams("params", err.Error(), "Send params matching docs/protocol.md.")
	}
	return nil
}

// describeType names a Go type in JSON terms for error messages.
func describeType(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint64", "uint32", "uint", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "json.RawMessage":
		return "a JSON value"
	}
	if len(goType) > 2 && goType[:2] == "[]" {
		return "an array"
	}
	return "an object"
}
