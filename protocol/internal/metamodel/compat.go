package metamodel

import (
	"fmt"

	"github.com/odod-dev/odod/protocol"
)

// Incompatibilities lists what a client written against old finds broken
// in cur, by docs/protocol.md's compatibility rules: a method removed or
// its direction changed; a property removed or retyped; a property the
// client sends made required, or a new required one; a property the client
// reads made optional; an enumeration value removed. Types are compared by
// their shape on the wire, so renaming a Go type breaks nothing. A higher
// major version allows everything.
func Incompatibilities(old, cur *MetaModel) []string {
	om, err1 := protocol.MajorVersion(old.MetaData.Version)
	nm, err2 := protocol.MajorVersion(cur.MetaData.Version)
	if err1 != nil || err2 != nil {
		return []string{fmt.Sprintf("versions %q and %q must be MAJOR.MINOR.PATCH", old.MetaData.Version, cur.MetaData.Version)}
	}
	if nm > om {
		return nil
	}
	c := &comparer{old: old.Index(), cur: cur.Index(), seen: map[string]bool{}}
	if nm < om {
		c.fail("", "the major version went down from %s to %s", old.MetaData.Version, cur.MetaData.Version)
	}
	reqs := map[string]Request{}
	for _, r := range cur.Requests {
		reqs[r.Method] = r
	}
	for _, o := range old.Requests {
		n, ok := reqs[o.Method]
		if !ok {
			c.fail(o.Method, "request removed")
			continue
		}
		if n.MessageDirection != o.MessageDirection {
			c.fail(o.Method, "direction changed from %s to %s", o.MessageDirection, n.MessageDirection)
			continue
		}
		toServer := o.MessageDirection != ServerToClient
		c.compare(o.Method+" params", o.Params, n.Params, toServer)
		c.compare(o.Method+" result", o.Result, n.Result, !toServer)
	}
	notes := map[string]Notification{}
	for _, n := range cur.Notifications {
		notes[n.Method] = n
	}
	for _, o := range old.Notifications {
		n, ok := notes[o.Method]
		if !ok {
			c.fail(o.Method, "notification removed")
			continue
		}
		if n.MessageDirection != o.MessageDirection {
			c.fail(o.Method, "direction changed from %s to %s", o.MessageDirection, n.MessageDirection)
			continue
		}
		c.compare(o.Method+" params", o.Params, n.Params, o.MessageDirection != ServerToClient)
	}
	c.compare("error codes", Ref("ErrorCodes"), Ref("ErrorCodes"), false)
	return c.problems
}

type comparer struct {
	old, cur Lookup
	seen     map[string]bool
	problems []string
}

func (c *comparer) fail(where, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if where != "" {
		msg = where + ": " + msg
	}
	c.problems = append(c.problems, msg)
}

// resolve follows aliases (not enumerations or structures).
func resolve(l Lookup, t *Type) *Type {
	for i := 0; t != nil && t.Kind == KindReference && i < 20; i++ {
		a := l.Aliases[t.Name]
		if a == nil {
			return t
		}
		t = a.Type
	}
	return t
}

// compare checks that cur can stand for old at path; clientSends says who
// writes the value.
func (c *comparer) compare(path string, o, n *Type, clientSends bool) {
	if o != nil && n != nil && o.Kind == KindReference && n.Kind == KindReference {
		key := fmt.Sprintf("%s|%s|%v", o.Name, n.Name, clientSends)
		if c.seen[key] {
			return
		}
		c.seen[key] = true
	}
	o, n = resolve(c.old, o), resolve(c.cur, n)
	if o == nil || n == nil {
		if (o == nil) != (n == nil) {
			c.fail(path, "retyped from %s to %s", notation(o, plain), notation(n, plain))
		}
		return
	}
	if o.Kind == KindReference && n.Kind == KindReference {
		if oe, ne := c.old.Enumerations[o.Name], c.cur.Enumerations[n.Name]; oe != nil && ne != nil {
			c.enumeration(path, oe, ne)
			return
		}
		if os, ns := c.old.Structures[o.Name], c.cur.Structures[n.Name]; os != nil && ns != nil {
			c.properties(path, c.old.AllProperties(os), c.cur.AllProperties(ns), clientSends)
			return
		}
	}
	if o.Kind != n.Kind {
		c.fail(path, "retyped from %s to %s", notation(o, plain), notation(n, plain))
		return
	}
	switch o.Kind {
	case KindBase:
		if o.Name != n.Name || o.Format != n.Format {
			c.fail(path, "retyped from %s to %s", notation(o, plain), notation(n, plain))
		}
	case KindReference:
		c.fail(path, "retyped from %s to %s", o.Name, n.Name)
	case KindArray:
		c.compare(path+"[]", o.Element, n.Element, clientSends)
	case KindMap:
		c.compare(path+" key", o.Key, n.Key, clientSends)
		c.compare(path+" value", o.ValueType(), n.ValueType(), clientSends)
	case KindOr:
		if len(o.Items) != len(n.Items) {
			c.fail(path, "retyped from %s to %s", notation(o, plain), notation(n, plain))
			return
		}
		for i := range o.Items {
			c.compare(path, o.Items[i], n.Items[i], clientSends)
		}
	case KindLiteral:
		ol, _ := o.Value.(*Literal)
		nl, _ := n.Value.(*Literal)
		if ol == nil || nl == nil {
			return
		}
		c.properties(path, ol.Properties, nl.Properties, clientSends)
	case KindStringLiteral:
		if o.Value != n.Value {
			c.fail(path, "retyped from %s to %s", notation(o, plain), notation(n, plain))
		}
	}
}

func (c *comparer) properties(path string, old, cur []Property, clientSends bool) {
	byName := map[string]Property{}
	for _, p := range cur {
		byName[p.Name] = p
	}
	was := map[string]bool{}
	for _, o := range old {
		was[o.Name] = true
		n, ok := byName[o.Name]
		at := path + "." + o.Name
		switch {
		case !ok:
			c.fail(at, "property removed")
			continue
		case clientSends && o.Optional && !n.Optional:
			c.fail(at, "made required: clients that leave it out would fail")
		case !clientSends && !o.Optional && n.Optional:
			c.fail(at, "made optional: clients that read it would miss it")
		}
		c.compare(at, o.Type, n.Type, clientSends)
	}
	if clientSends {
		for _, n := range cur {
			if !was[n.Name] && !n.Optional {
				c.fail(path+"."+n.Name, "new required property: clients that do not know it would fail")
			}
		}
	}
}

func (c *comparer) enumeration(path string, o, n *Enumeration) {
	if o.Type.Name != n.Type.Name {
		c.fail(path, "enumeration %s retyped from %s to %s", o.Name, o.Type.Name, n.Type.Name)
	}
	values := map[string]bool{}
	for _, v := range n.Values {
		values[fmt.Sprint(v.Value)] = true
	}
	for _, v := range o.Values {
		if !values[fmt.Sprint(v.Value)] {
			c.fail(path, "enumeration %s lost the value %s (%v)", o.Name, v.Name, v.Value)
		}
	}
}

func plain(name string) string { return name }
