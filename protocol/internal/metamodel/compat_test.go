package metamodel

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// described is the protocol package's description, built once.
var described = sync.OnceValues(func() ([]byte, error) {
	m, err := Build("../..")
	if err != nil {
		return nil, err
	}
	return m.JSON()
})

// current returns a fresh copy of the description, read from JSON as the
// checked-in release is; rename renames a type throughout.
func current(t *testing.T, rename ...string) *MetaModel {
	t.Helper()
	b, err := described()
	if err != nil {
		t.Fatal(err)
	}
	if len(rename) == 2 {
		b = bytes.ReplaceAll(b, []byte(`"`+rename[0]+`"`), []byte(`"`+rename[1]+`"`))
	}
	m, err := Read(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func property(t *testing.T, m *MetaModel, structure, name string) *Property {
	t.Helper()
	s := m.Index().Structures[structure]
	if s == nil {
		t.Fatalf("no structure %s", structure)
	}
	for i := range s.Properties {
		if s.Properties[i].Name == name {
			return &s.Properties[i]
		}
	}
	t.Fatalf("%s has no property %s", structure, name)
	return nil
}

func TestIncompatibilities(t *testing.T) {
	cases := []struct {
		name   string
		change func(t *testing.T, m *MetaModel)
		want   string // "" = compatible
	}{
		{"unchanged", func(*testing.T, *MetaModel) {}, ""},
		{"a request removed", func(_ *testing.T, m *MetaModel) {
			m.Requests = m.Requests[1:]
		}, "initialize: request removed"},
		{"a notification removed", func(_ *testing.T, m *MetaModel) {
			m.Notifications = m.Notifications[:len(m.Notifications)-1]
		}, "notification removed"},
		{"a result's property retyped", func(t *testing.T, m *MetaModel) {
			property(t, m, "IndexStats", "files").Type = Base(BaseString)
		}, "odod/workspace/open result.index.files: retyped from integer to string"},
		{"a result's property removed", func(t *testing.T, m *MetaModel) {
			s := m.Index().Structures["WorkspaceOpenResult"]
			s.Properties = s.Properties[1:]
		}, "odod/workspace/open result.workspaceId: property removed"},
		{"a params property made required", func(t *testing.T, m *MetaModel) {
			property(t, m, "PushParams", "force").Optional = false
		}, "odod/push params.force: made required"},
		{"a new required params property", func(t *testing.T, m *MetaModel) {
			s := m.Index().Structures["PushParams"]
			s.Properties = append(s.Properties, Property{Name: "target", Type: Base(BaseString)})
		}, "odod/push params.target: new required property"},
		{"a new optional params property", func(t *testing.T, m *MetaModel) {
			s := m.Index().Structures["PushParams"]
			s.Properties = append(s.Properties, Property{Name: "target", Type: Base(BaseString), Optional: true})
		}, ""},
		{"a new result property and a new method", func(t *testing.T, m *MetaModel) {
			s := m.Index().Structures["PushResult"]
			s.Properties = append(s.Properties, Property{Name: "target", Type: Base(BaseString)})
			m.Requests = append(m.Requests, Request{Method: "odod/new", MessageDirection: ClientToServer, Result: Base(BaseNull)})
		}, ""},
		{"a result property made optional", func(t *testing.T, m *MetaModel) {
			property(t, m, "PushResult", "pushId").Optional = true
		}, "odod/push result.pushId: made optional"},
		{"an enumeration value removed", func(t *testing.T, m *MetaModel) {
			e := m.Index().Enumerations["ComponentState"]
			e.Values = e.Values[1:]
		}, "enumeration ComponentState lost the value Absent"},
		{"an error code removed", func(t *testing.T, m *MetaModel) {
			e := m.Index().Enumerations["ErrorCodes"]
			e.Values = e.Values[:len(e.Values)-1]
		}, "error codes: enumeration ErrorCodes lost the value"},
		{"a Go type renamed", func(t *testing.T, m *MetaModel) {
			*m = *current(t, "IndexStats", "IndexTotals")
			if m.Index().Structures["IndexTotals"] == nil {
				t.Fatal("not renamed")
			}
		}, ""},
		{"anything, with a new major version", func(_ *testing.T, m *MetaModel) {
			m.Requests = nil
			m.MetaData.Version = "1.0.0"
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, cur := current(t), current(t)
			tc.change(t, cur)
			got := Incompatibilities(old, cur)
			if tc.want == "" {
				if len(got) > 0 {
					t.Errorf("want compatible, got %q", got)
				}
				return
			}
			if !strings.Contains(strings.Join(got, "\n"), tc.want) {
				t.Errorf("want %q among %q", tc.want, got)
			}
		})
	}
}

func TestTrimCommonPrefix(t *testing.T) {
	got := strings.Join(trimCommonPrefix([]string{"SettingPushed", "SettingNotPushed", "SettingLocallyDeleted"}), ",")
	if got != "Pushed,NotPushed,LocallyDeleted" {
		t.Errorf("got %s", got)
	}
	got = strings.Join(trimCommonPrefix([]string{"StateA", "StateAb"}), ",")
	if got != "A,Ab" {
		t.Errorf("got %s", got)
	}
}
