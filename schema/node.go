package schema

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// node is one compiled schema: exactly the JSON Schema keywords this package
// emits, in the form the validator walks. The emitted JSON is written from
// the same tree, so the contract an agent reads and the one Decode enforces
// cannot drift apart.
type node struct {
	typ      string // JSON type; "" accepts any value
	nullable bool   // output schemas: a pointer, slice or map field without omitempty may be null
	desc     string

	enum    []string            // allowed strings in documented order
	enumSet map[string]struct{} // built by finish

	hasConst bool
	constVal any // string, bool or json.Number

	format               string // only "date-time"
	minimum, maximum     *bound
	minLength, maxLength *uint64 // characters (runes), as JSON Schema counts them
	minItems, maxItems   *uint64

	items    *node
	props    []prop
	propIdx  map[string]int // built by finish
	required []string
	closed   bool  // additionalProperties: false
	extra    *node // additionalProperties as a schema: the values of a Go map

	allOf []*cond // cross-field rules, emitted as allOf[{if, then}]
}

// open leaves n and every object below it open, as an output schema is:
// no additionalProperties: false and no required list (see ForOutput).
func (n *node) open() {
	if n == nil {
		return
	}
	n.closed = false
	n.required = nil
	n.items.open()
	n.extra.open()
	for i := range n.props {
		n.props[i].required = false
		n.props[i].n.open()
	}
}

// prop is one named property of an object node.
type prop struct {
	name     string
	n        *node
	required bool // set by finish from the owner's required list
}

// cond is one if/then pair of allOf. then only ever holds required, and
// when/why carry the rule's wording for the error sentence.
type cond struct {
	ifn, then *node
	when, why string
}

// bound is a minimum or maximum as written in the tag, plus its value.
type bound struct {
	text  string // the literal, emitted as is
	f     float64
	i     int64
	isInt bool // text is an integer literal that fits int64
}

func newBound(text string) (*bound, bool) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, false
	}
	b := &bound{text: text, f: f}
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		b.i, b.isInt = i, true
	}
	return b, true
}

// keywords is every keyword appendJSON can write, and so every keyword the
// validator understands. The keyword test walks emitted schemas against it.
var keywords = map[string]bool{
	"type": true, "description": true, "enum": true, "const": true, "format": true,
	"minimum": true, "maximum": true, "minLength": true, "maxLength": true,
	"minItems": true, "maxItems": true, "items": true, "properties": true,
	"required": true, "additionalProperties": true, "allOf": true, "if": true, "then": true,
}

// finish builds the lookup tables of n and its children.
func (n *node) finish() {
	if n == nil {
		return
	}
	if len(n.enum) > 0 {
		n.enumSet = make(map[string]struct{}, len(n.enum))
		for _, v := range n.enum {
			n.enumSet[v] = struct{}{}
		}
	}
	if len(n.props) > 0 {
		n.propIdx = make(map[string]int, len(n.props))
		for i := range n.props {
			n.propIdx[n.props[i].name] = i
		}
		for _, r := range n.required {
			if i, ok := n.propIdx[r]; ok {
				n.props[i].required = true
			}
		}
	}
	for i := range n.props {
		n.props[i].n.finish()
	}
	n.items.finish()
	n.extra.finish()
	for _, c := range n.allOf {
		c.ifn.finish()
		c.then.finish()
	}
}

// prop returns the property called name, or nil.
func (n *node) prop(name string) *node {
	if i, ok := n.propIdx[name]; ok {
		return n.props[i].n
	}
	return nil
}

// propNames lists the property names in declaration order.
func (n *node) propNames() []string {
	out := make([]string, len(n.props))
	for i, p := range n.props {
		out[i] = p.name
	}
	return out
}

// allowed lists the values an agent may send for n: its enum, or its items'
// enum for an array of enums.
func (n *node) allowed() []string {
	if n == nil {
		return nil
	}
	if len(n.enum) > 0 {
		return n.enum
	}
	if n.items != nil {
		return n.items.enum
	}
	return nil
}

// appendJSON writes n as compact JSON with a fixed key order: the output is
// byte-for-byte stable, so golden files and tools/list sizes do not churn.
func (n *node) appendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
	}
	if n.typ != "" {
		key("type")
		if n.nullable {
			b = append(b, '[')
			b = appendString(b, n.typ)
			b = append(b, `,"null"]`...)
		} else {
			b = appendString(b, n.typ)
		}
	}
	if n.desc != "" {
		key("description")
		b = appendString(b, n.desc)
	}
	if len(n.enum) > 0 {
		key("enum")
		b = appendStrings(b, n.enum)
		if n.nullable {
			b = append(b[:len(b)-1], ",null]"...)
		}
	}
	if n.hasConst {
		key("const")
		b = appendScalar(b, n.constVal)
	}
	if n.format != "" {
		key("format")
		b = appendString(b, n.format)
	}
	for _, kb := range []struct {
		k string
		v *bound
	}{{"minimum", n.minimum}, {"maximum", n.maximum}} {
		if kb.v != nil {
			key(kb.k)
			b = append(b, kb.v.text...)
		}
	}
	for _, ku := range []struct {
		k string
		v *uint64
	}{{"minLength", n.minLength}, {"maxLength", n.maxLength}, {"minItems", n.minItems}, {"maxItems", n.maxItems}} {
		if ku.v != nil {
			key(ku.k)
			b = strconv.AppendUint(b, *ku.v, 10)
		}
	}
	if n.items != nil {
		key("items")
		b = n.items.appendJSON(b)
	}
	if len(n.props) > 0 {
		key("properties")
		b = append(b, '{')
		for i, p := range n.props {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, p.name)
			b = append(b, ':')
			b = p.n.appendJSON(b)
		}
		b = append(b, '}')
	}
	if len(n.required) > 0 {
		key("required")
		b = appendStrings(b, n.required)
	}
	if n.closed {
		key("additionalProperties")
		b = append(b, "false"...)
	} else if n.extra != nil {
		key("additionalProperties")
		b = n.extra.appendJSON(b)
	}
	if len(n.allOf) > 0 {
		key("allOf")
		b = append(b, '[')
		for i, c := range n.allOf {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"if":`...)
			b = c.ifn.appendJSON(b)
			b = append(b, `,"then":`...)
			b = c.then.appendJSON(b)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendString writes s as a JSON string without HTML escaping: descriptions
// such as "a < b" stay readable and short.
func appendString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendScalar writes a const: a string, bool or json.Number.
func appendScalar(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case json.Number:
		return append(b, v...)
	}
	return append(b, "null"...)
}
