package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// parseNode reads one schema as invopop/jsonschema emitted it. Anything
// outside the supported subset is an error naming the keyword and where it
// is, so a tag such as `jsonschema:"title=…"` or `default=…` fails loudly
// instead of shipping a keyword the validator would silently ignore.
// Cross-field keywords (allOf, if, then, const) come only from Rules, so the
// parser refuses them too.
func parseNode(raw json.RawMessage, at string) (*node, error) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "true" {
		return &node{}, nil
	}
	n := &node{}
	err := eachMember(raw, func(k string, v json.RawMessage) error {
		var err error
		switch k {
		case "type":
			err = json.Unmarshal(v, &n.typ)
			if err == nil && !jsonTypes[n.typ] {
				err = fmt.Errorf("type %q is not supported", n.typ)
			}
		case "description":
			err = json.Unmarshal(v, &n.desc)
		case "enum":
			err = json.Unmarshal(v, &n.enum)
			if err != nil {
				err = errors.New("enum values must be strings")
			}
		case "format":
			err = json.Unmarshal(v, &n.format)
			if err == nil && n.format != "date-time" {
				err = fmt.Errorf("format %q is not supported (only date-time)", n.format)
			}
		case "minimum", "maximum":
			var b *bound
			b, err = parseBound(v)
			if k == "minimum" {
				n.minimum = b
			} else {
				n.maximum = b
			}
		case "minLength":
			err = json.Unmarshal(v, &n.minLength)
		case "maxLength":
			err = json.Unmarshal(v, &n.maxLength)
		case "minItems":
			err = json.Unmarshal(v, &n.minItems)
		case "maxItems":
			err = json.Unmarshal(v, &n.maxItems)
		case "items":
			n.items, err = parseNode(v, at+"[]")
		case "properties":
			err = eachMember(v, func(name string, pv json.RawMessage) error {
				c, err := parseNode(pv, join(at, name))
				n.props = append(n.props, prop{name: name, n: c})
				return err
			})
		case "required":
			err = json.Unmarshal(v, &n.required)
		case "additionalProperties":
			if string(bytes.TrimSpace(v)) == "false" {
				n.closed = true
			} else {
				n.extra, err = parseNode(v, at+"{}")
			}
		default:
			return fmt.Errorf("%s: keyword %q is not supported; remove the tag or type that produces it", where(at), k)
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", where(at), k, err)
		}
		return nil
	})
	return n, err
}

var jsonTypes = map[string]bool{
	"object": true, "array": true, "string": true, "integer": true, "number": true, "boolean": true,
}

func parseBound(v json.RawMessage) (*bound, error) {
	var num json.Number
	if err := json.Unmarshal(v, &num); err != nil {
		return nil, err
	}
	b, ok := newBound(num.String())
	if !ok {
		return nil, fmt.Errorf("%s is not a number", num)
	}
	return b, nil
}

// eachMember calls fn for every member of a JSON object, in document order
// (a map would lose the struct's property order).
func eachMember(raw json.RawMessage, fn func(string, json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("expected a JSON object, got %.40s", raw)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if err := fn(tok.(string), v); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// join appends a property name to a JSON path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func where(at string) string {
	if at == "" {
		return "root"
	}
	return "property " + at
}
