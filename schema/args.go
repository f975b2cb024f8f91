package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// check validates args and returns JSON text that decodes into exactly the
// validated tree.
func (s *Schema) check(args any) ([]byte, error) {
	raw, canonical, err := argBytes(args)
	if err != nil {
		return nil, ArgErrors{{Kind: KindInvalid, Problem: err.Error()}}
	}
	if len(raw) > MaxArgsBytes {
		return nil, ArgErrors{{Kind: KindInvalid,
			Problem: fmt.Sprintf("arguments are %d bytes of JSON; the limit is %d", len(raw), MaxArgsBytes)}}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // exact integers; float64 would round above 2^53
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, ArgErrors{{Kind: KindInvalid, Problem: "arguments are not valid JSON: " + err.Error()}}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, ArgErrors{{Kind: KindInvalid, Problem: "arguments are not valid JSON: unexpected data after the object"}}
	}
	if tree == nil {
		tree = map[string]any{} // "null" is no arguments
	}
	if _, ok := tree.(map[string]any); !ok {
		return nil, ArgErrors{{Kind: KindInvalid, Problem: "arguments must be a JSON object of named arguments, got " + describe(tree)}}
	}
	c := &checker{}
	c.value(s.root, tree, "", 0)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	if canonical {
		return raw, nil
	}
	// Text from the wire may repeat a key. The tree keeps the last value,
	// but decoding the text into a struct would merge an earlier object or
	// map into the later one, letting unvalidated values through. Decode the
	// validated tree instead.
	clean, err := json.Marshal(tree)
	if err != nil {
		return nil, ArgErrors{{Kind: KindInvalid, Problem: "arguments cannot be encoded: " + err.Error()}}
	}
	return clean, nil
}

// argBytes returns the JSON text of what mcp-go hands a tool, and whether
// encoding/json wrote it (so it cannot repeat a key).
func argBytes(args any) (raw []byte, canonical bool, err error) {
	switch a := args.(type) {
	case nil:
		return []byte("{}"), true, nil
	case json.RawMessage:
		raw = a
	case []byte:
		raw = a
	default:
		b, err := json.Marshal(a)
		if err != nil {
			return nil, false, fmt.Errorf("arguments cannot be encoded as JSON: %v", err)
		}
		return b, true, nil
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return []byte("{}"), true, nil
	}
	return raw, false, nil
}

// decodeError turns a failure to decode validated arguments into T (an int8
// overflow, say) into an ArgError.
func decodeError(err error) ArgErrors {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return ArgErrors{{Field: te.Field, Kind: KindInvalid,
			Problem: clip(te.Value) + " is out of range for this argument"}}
	}
	return ArgErrors{{Kind: KindInvalid, Problem: "arguments could not be decoded: " + err.Error()}}
}
