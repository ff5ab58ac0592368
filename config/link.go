package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// LinkKind says what a link reaches.
type LinkKind string

// Link kinds.
const (
	// LinkComponent is another component of the same application: its
	// per-port Secret (odo's COMPONENT_<NAME>_HOST and _PORT) is used.
	LinkComponent LinkKind = "component"
	// LinkService is a Service of the namespace that is not a component
	// (a database deployed some other way): odod makes the Secret, owned
	// by the linking component.
	LinkService LinkKind = "service"
)

// ComponentLink is one link: odo's `odo link TARGET --port P`. odo v1 kept
// links only in the DeploymentConfig's envFrom; odod keeps them in the
// settings (its own key, which odo ignores) so that every push applies
// them again.
type ComponentLink struct {
	// Name is the target component or Service.
	Name string `json:"Name,omitempty"`
	// Port is the target's port whose host and port become env vars.
	Port int `json:"Port,omitempty"`
	// Kind is component (empty means component) or service.
	Kind LinkKind `json:"Kind,omitempty"`
}

// EffectiveKind is the link's kind, defaulted to component.
func (l ComponentLink) EffectiveKind() LinkKind {
	if l.Kind == "" {
		return LinkComponent
	}
	return l.Kind
}

// EnvNames are the variables a link sets: odo's COMPONENT_<NAME>_HOST and
// COMPONENT_<NAME>_PORT, NAME upper-cased with '-' as '_'.
func (l ComponentLink) EnvNames() (host, port string) {
	return LinkEnvName(l.Name, "host"), LinkEnvName(l.Name, "port")
}

// LinkEnvName is odo's COMPONENT_<NAME>_<KEY>.
func LinkEnvName(name, key string) string {
	return fmt.Sprintf("COMPONENT_%s_%s", strings.ReplaceAll(strings.ToUpper(name), "-", "_"), strings.ToUpper(key))
}

// ErrLinkNotFound is matched (errors.Is) by RemoveLink's error for a name
// that is not linked.
var ErrLinkNotFound = errors.New("no such link")

// AddLink adds a link, or changes the port of an existing link to the same
// target. The result must still Validate.
func (c *LocalConfig) AddLink(l ComponentLink) error {
	next := *c
	next.ComponentSettings.Link = nil
	replaced := false
	for _, existing := range c.ComponentSettings.Link {
		if existing.Name == l.Name {
			existing, replaced = l, true
		}
		next.ComponentSettings.Link = append(next.ComponentSettings.Link, existing)
	}
	if !replaced {
		next.ComponentSettings.Link = append(next.ComponentSettings.Link, l)
	}
	if err := next.Validate(); err != nil {
		return err
	}
	*c = next
	return nil
}

// RemoveLink removes the link to name.
func (c *LocalConfig) RemoveLink(name string) error {
	list := c.ComponentSettings.Link
	for i, l := range list {
		if l.Name == name {
			c.ComponentSettings.Link = append(append([]ComponentLink(nil), list[:i]...), list[i+1:]...)
			return nil
		}
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Name)
	}
	linked := "it links nothing"
	if len(names) > 0 {
		linked = "its links: " + strings.Join(names, ", ")
	}
	return fmt.Errorf("%q: %w (%s)", name, ErrLinkNotFound, linked)
}

func (v *validator) links(list []ComponentLink, self string) {
	names := map[string]bool{}
	for i, l := range list {
		field := fmt.Sprintf("ComponentSettings.Link[%d]", i)
		if l.Name == "" {
			v.add(field+".Name", "is empty: name the component or Service to link to")
		} else {
			v.dns1123(field+".Name", l.Name)
		}
		if names[l.Name] {
			v.add(field+".Name", "%q is linked twice", l.Name)
		}
		names[l.Name] = true
		if l.EffectiveKind() == LinkComponent && l.Name == self && self != "" {
			v.add(field+".Name", "a component cannot link to itself")
		}
		if msgs := validation.IsValidPortNum(l.Port); len(msgs) > 0 {
			v.add(field+".Port", "%s", strings.Join(msgs, ", "))
		}
		switch l.Kind {
		case "", LinkComponent, LinkService:
		default:
			v.add(field+".Kind", "is %q: use %s or %s", l.Kind, LinkComponent, LinkService)
		}
	}
}

// String is "NAME:PORT (KIND)", for messages.
func (l ComponentLink) String() string {
	return l.Name + ":" + strconv.Itoa(l.Port) + " (" + string(l.EffectiveKind()) + ")"
}
