package schema

import (
	"strconv"
	"strings"
)

// Describe renders the schema as a markdown table for the README's
// generated tool reference: one row per property, nested properties as
// dotted paths ("filter.type", "items[].id"), then the cross-field rules.
func (s *Schema) Describe() string {
	var b strings.Builder
	b.WriteString("| Name | Type | Required | Allowed values | Description |\n")
	b.WriteString("|---|---|---|---|---|\n")
	var rules []string
	describeObject(&b, s.root, "", &rules)
	if len(rules) > 0 {
		b.WriteString("\n")
		for _, r := range rules {
			b.WriteString("- " + r + "\n")
		}
	}
	return b.String()
}

func describeObject(b *strings.Builder, n *node, path string, rules *[]string) {
	for _, p := range n.props {
		name := join(path, p.name)
		req := "no"
		if p.required {
			req = "yes"
		}
		b.WriteString("| `" + name + "` | " + typeName(p.n) + " | " + req + " | " +
			cell(allowedText(p.n)) + " | " + cell(p.n.desc) + " |\n")
		switch {
		case len(p.n.props) > 0:
			describeObject(b, p.n, name, rules)
		case p.n.items != nil && len(p.n.items.props) > 0:
			describeObject(b, p.n.items, name+"[]", rules)
		}
	}
	for _, c := range n.allOf {
		req := make([]string, len(c.then.required))
		for i, r := range c.then.required {
			req[i] = "`" + join(path, r) + "`"
		}
		*rules = append(*rules, strings.Join(req, ", ")+" required when "+c.when+": "+c.why+".")
	}
}

// typeName reads like "string (date-time)", "array of string", "integer".
func typeName(n *node) string {
	t := n.typ
	switch {
	case t == "":
		t = "any"
	case t == "array" && n.items != nil && n.items.typ != "":
		t = "array of " + typeName(n.items)
	case n.format != "":
		t += " (" + n.format + ")"
	}
	if n.nullable {
		t += " or null"
	}
	return t
}

// allowedText summarises the constraints on a value.
func allowedText(n *node) string {
	var parts []string
	if vals := n.allowed(); len(vals) > 0 {
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = "`" + v + "`"
		}
		parts = append(parts, strings.Join(q, ", "))
	}
	switch {
	case n.minimum != nil && n.maximum != nil:
		parts = append(parts, n.minimum.text+" to "+n.maximum.text)
	case n.minimum != nil:
		parts = append(parts, "at least "+n.minimum.text)
	case n.maximum != nil:
		parts = append(parts, "at most "+n.maximum.text)
	}
	if n.minLength != nil {
		parts = append(parts, "at least "+utoa(*n.minLength)+" characters")
	}
	if n.maxLength != nil {
		parts = append(parts, "at most "+utoa(*n.maxLength)+" characters")
	}
	if n.minItems != nil {
		parts = append(parts, "at least "+utoa(*n.minItems)+" items")
	}
	if n.maxItems != nil {
		parts = append(parts, "at most "+utoa(*n.maxItems)+" items")
	}
	return strings.Join(parts, "; ")
}

// cell keeps a value inside its table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

func utoa(u uint64) string { return strconv.FormatUint(u, 10) }
