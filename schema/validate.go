package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits on arguments, whatever the schema says: an agent (or a prompt
// injection) must not make the server hold or echo huge values.
const (
	// MaxArgsBytes caps the JSON encoding of a call's arguments.
	MaxArgsBytes = 1 << 20
	// MaxStringBytes caps every string value.
	MaxStringBytes = 64 << 10
	// MaxDepth caps the nesting of objects and arrays.
	MaxDepth = 32
	// maxProblems caps the sentences of one ArgErrors.
	maxProblems = 20
)

// checker validates a decoded JSON value (map[string]any, []any, string,
// bool, json.Number, nil) against a node and collects every problem.
type checker struct {
	errs   ArgErrors
	silent bool // evaluating an "if": record only that something failed
	failed bool
}

func (c *checker) add(e *ArgError) {
	c.failed = true
	if !c.silent && len(c.errs) < maxProblems {
		c.errs = append(c.errs, e)
	}
}

func (c *checker) invalid(n *node, path, format string, args ...any) {
	c.add(&ArgError{Field: path, Kind: KindInvalid, Problem: fmt.Sprintf(format, args...), Allowed: n.allowed()})
}

func (c *checker) value(n *node, v any, path string, depth int) {
	if depth > MaxDepth {
		c.invalid(n, path, "is nested more than %d levels deep", MaxDepth)
		return
	}
	if n.hasConst && !equalScalar(n.constVal, v) {
		c.invalid(n, path, "must be %s", renderScalar(n.constVal))
		return
	}
	if v == nil {
		if n.typ != "" && !n.nullable {
			c.typeErr(n, v, path)
		}
		return
	}
	switch v := v.(type) {
	case string:
		if n.typ != "" && n.typ != "string" {
			c.typeErr(n, v, path)
			return
		}
		c.str(n, v, path)
	case json.Number:
		switch n.typ {
		case "integer":
			c.integer(n, v, path)
		case "number", "":
			c.number(n, v, path)
		default:
			c.typeErr(n, v, path)
		}
	case bool:
		if n.typ != "" && n.typ != "boolean" {
			c.typeErr(n, v, path)
		}
	case []any:
		if n.typ != "" && n.typ != "array" {
			c.typeErr(n, v, path)
			return
		}
		c.array(n, v, path, depth)
	case map[string]any:
		if n.typ != "" && n.typ != "object" {
			c.typeErr(n, v, path)
			return
		}
		c.object(n, v, path, depth)
	default:
		c.invalid(n, path, "has an unsupported Go type %T", v)
	}
}

func (c *checker) str(n *node, s string, path string) {
	if len(s) > MaxStringBytes {
		c.invalid(n, path, "is %d bytes long; the limit is %d bytes", len(s), MaxStringBytes)
		return
	}
	if n.minLength != nil || n.maxLength != nil {
		l := uint64(utf8.RuneCountInString(s))
		if n.minLength != nil && l < *n.minLength {
			c.invalid(n, path, "is %d characters long; the minimum is %d", l, *n.minLength)
		}
		if n.maxLength != nil && l > *n.maxLength {
			c.invalid(n, path, "is %d characters long; the maximum is %d", l, *n.maxLength)
		}
	}
	if n.enumSet != nil {
		if _, ok := n.enumSet[s]; !ok {
			c.add(&ArgError{Field: path, Kind: KindInvalid, Problem: strconv.Quote(clip(s)) + " is not allowed",
				Allowed: n.enum, Suggest: closest(s, n.enum)})
		}
	}
	if n.format == "date-time" {
		// time.Time's own parser, so whatever passes here also decodes.
		var t time.Time
		if t.UnmarshalText([]byte(s)) != nil {
			c.invalid(n, path, "%q is not an RFC 3339 date-time; use a value like 2025-01-31T09:00:00Z", clip(s))
		}
	}
}

func (c *checker) integer(n *node, v json.Number, path string) {
	i, err := strconv.ParseInt(string(v), 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		c.invalid(n, path, "%s is out of range", clip(string(v)))
		return
	}
	if err != nil {
		// 2.5, and also 1.0 or 1e2: encoding/json cannot decode those into a Go int.
		c.typeErr(n, v, path)
		return
	}
	c.bounds(n, path, string(v), func(b *bound) int {
		if b.isInt {
			return cmpOrdered(i, b.i)
		}
		return cmpOrdered(float64(i), b.f)
	})
}

func (c *checker) number(n *node, v json.Number, path string) {
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		c.invalid(n, path, "%s is out of range", clip(string(v)))
		return
	}
	c.bounds(n, path, string(v), func(b *bound) int { return cmpOrdered(f, b.f) })
}

// bounds checks minimum and maximum; cmp compares the value with a bound.
func (c *checker) bounds(n *node, path, text string, cmp func(*bound) int) {
	low := n.minimum != nil && cmp(n.minimum) < 0
	high := n.maximum != nil && cmp(n.maximum) > 0
	switch {
	case (low || high) && n.minimum != nil && n.maximum != nil:
		c.invalid(n, path, "%s is out of range; use a value from %s to %s", text, n.minimum.text, n.maximum.text)
	case low:
		c.invalid(n, path, "%s is below the minimum of %s", text, n.minimum.text)
	case high:
		c.invalid(n, path, "%s is above the maximum of %s", text, n.maximum.text)
	}
}

func (c *checker) array(n *node, a []any, path string, depth int) {
	if n.minItems != nil && uint64(len(a)) < *n.minItems {
		c.invalid(n, path, "has %d items; the minimum is %d", len(a), *n.minItems)
	}
	if n.maxItems != nil && uint64(len(a)) > *n.maxItems {
		c.invalid(n, path, "has %d items; the maximum is %d", len(a), *n.maxItems)
	}
	items := n.items
	if items == nil {
		items = &anyNode
	}
	for i, x := range a {
		c.value(items, x, path+"["+strconv.Itoa(i)+"]", depth+1)
		if c.silent && c.failed {
			return
		}
	}
}

var anyNode node

func (c *checker) object(n *node, m map[string]any, path string, depth int) {
	known := 0
	for _, p := range n.props {
		x, ok := m[p.name]
		if ok {
			known++
			if x == nil && p.n.nullable {
				continue // null is a value of this (output) property
			}
		}
		if absent(x, ok, p.required || p.n.enumSet != nil) {
			// null (and "" for an enum) means "not given" for an optional
			// argument: agents often fill unused parameters that way.
			if p.required {
				c.add(&ArgError{Field: join(path, p.name), Kind: KindMissing, Problem: p.n.desc, Allowed: p.n.allowed()})
			}
			continue
		}
		c.value(p.n, x, join(path, p.name), depth+1)
		if c.silent && c.failed {
			return
		}
	}
	if known < len(m) && !(c.silent && !n.closed) {
		c.others(n, m, path, depth)
	}
	for _, cd := range n.allOf {
		if !c.matches(cd.ifn, m, path, depth) {
			continue
		}
		for _, r := range cd.then.required {
			x, ok := m[r]
			i, isProp := n.propIdx[r]
			if !isProp || n.props[i].required || !absent(x, ok, true) {
				continue // present, or already reported as missing
			}
			c.add(&ArgError{Field: join(path, r), Kind: KindRule,
				Problem: "is required when " + cd.when + " (" + cd.why + ")", Allowed: n.props[i].n.allowed()})
		}
	}
}

// others checks the keys the properties do not name, in a stable order:
// unknown arguments of a closed object, or the entries of a map.
func (c *checker) others(n *node, m map[string]any, path string, depth int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if _, ok := n.propIdx[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		at := join(path, clip(k)) // a key can be as long as the arguments
		switch {
		case n.closed:
			names := n.propNames()
			c.add(&ArgError{Field: at, Kind: KindUnknown, Allowed: names, Suggest: closest(k, names)})
		case n.extra != nil:
			c.value(n.extra, m[k], at, depth+1)
		default:
			c.value(&anyNode, m[k], at, depth+1) // limits only
		}
	}
}

// matches evaluates an "if" schema against the object without reporting.
func (c *checker) matches(ifn *node, m map[string]any, path string, depth int) bool {
	sub := &checker{silent: true}
	sub.value(ifn, m, path, depth)
	return !sub.failed
}

// absent reports whether a property counts as not given: missing, null,
// or (when emptyIsAbsent) the empty string.
func absent(x any, ok, emptyIsAbsent bool) bool {
	if !ok || x == nil {
		return true
	}
	s, isStr := x.(string)
	return emptyIsAbsent && isStr && s == ""
}

func (c *checker) typeErr(n *node, v any, path string) {
	c.invalid(n, path, "expected %s, got %s%s", expected(n), describe(v), hint(n, v))
}

// expected names the JSON type of n for a sentence.
func expected(n *node) string {
	s := map[string]string{
		"string": "a string", "integer": "an integer", "number": "a number",
		"boolean": "a boolean", "array": "an array", "object": "an object",
	}[n.typ]
	if n.format == "date-time" {
		s = "an RFC 3339 date-time string"
	}
	if n.nullable {
		s += " or null"
	}
	return s
}

// describe names a value's type, with the value when it is short.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "string " + strconv.Quote(clip(v))
	case json.Number:
		return "number " + clip(string(v))
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// hint suggests the fix for the commonest type slips of agents.
func hint(n *node, v any) string {
	if s, ok := v.(string); ok {
		switch n.typ {
		case "integer", "number":
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				return "; send the number without quotes"
			}
		case "boolean":
			if s == "true" || s == "false" {
				return "; send true or false without quotes"
			}
		}
	}
	if n.typ == "array" && n.items != nil && n.items.typ != "" && v != nil {
		if _, isObj := v.(map[string]any); !isObj {
			return "; wrap a single value in [ ]"
		}
	}
	return ""
}

// equalScalar compares a const with a decoded value.
func equalScalar(c, v any) bool {
	switch c := c.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == c
	case bool:
		b, ok := v.(bool)
		return ok && b == c
	case json.Number:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		a, err1 := strconv.ParseFloat(string(c), 64)
		b, err2 := strconv.ParseFloat(string(n), 64)
		return err1 == nil && err2 == nil && a == b
	}
	return false
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
