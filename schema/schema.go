package schema

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sync"
)

// Schema is the compiled JSON Schema of one Go struct: its compact JSON for
// tools/list and the validator Decode runs. A Schema is immutable and safe
// for concurrent use.
type Schema struct {
	root *node
	json []byte
}

// cacheKey distinguishes a type's input and output schemas, which differ in
// their required lists, closedness and nullability.
type cacheKey struct {
	t      reflect.Type
	output bool
}

type cacheEntry struct {
	s   *Schema
	err error
}

// cache holds every compiled schema (and every failure, so a broken type
// is not reflected again on each call). Decode is on the hot path.
var cache sync.Map // cacheKey → *cacheEntry

// For returns the input schema of the struct T: inline, every object closed
// with additionalProperties: false, required from `jsonschema:"required"`
// tags, a description on every property (an error names the field that
// lacks one), enums from the client's Values methods, and the allOf/if/then
// of T's Rules. The result is cached per type.
func For[T any]() (*Schema, error) {
	return lookup(reflect.TypeFor[T](), false)
}

// ForOutput returns the output schema of the struct T, for a tool's
// outputSchema: fields encoding/json may write as null (pointers, slices,
// maps without omitempty) accept null, and descriptions are optional but
// encouraged. Unlike input objects, output objects are left open: no
// additionalProperties: false (a newer server may add a field, and a client
// must not reject the result for it) and no required list (which fields
// are always present matters to a client's typing, not to calling the
// tool, and the lists were a twentieth of tools/list).
func ForOutput[T any]() (*Schema, error) {
	return lookup(reflect.TypeFor[T](), true)
}

func lookup(t reflect.Type, output bool) (*Schema, error) {
	key := cacheKey{t, output}
	if e, ok := cache.Load(key); ok {
		return e.(*cacheEntry).s, e.(*cacheEntry).err
	}
	var e cacheEntry
	root, err := build(t, output)
	if err != nil {
		e.err = err
	} else {
		if output {
			root.open()
		}
		e.s = &Schema{root: root, json: root.appendJSON(nil)}
	}
	got, _ := cache.LoadOrStore(key, &e)
	return got.(*cacheEntry).s, got.(*cacheEntry).err
}

// JSON returns the schema as compact JSON with properties in struct field
// order, for mcp.Tool's RawInputSchema or RawOutputSchema. The caller owns
// the returned slice.
func (s *Schema) JSON() json.RawMessage {
	return bytes.Clone(s.json)
}

// Properties lists the top-level property names in struct field order.
func (s *Schema) Properties() []string {
	return s.root.propNames()
}

// Validate checks arguments against the schema without decoding them. args
// is what mcp-go hands a tool (map[string]any or json.RawMessage), or nil
// for no arguments. Every problem comes back in one ArgErrors.
func (s *Schema) Validate(args any) error {
	_, err := s.check(args)
	return err
}

// Decode validates args against T's input schema and, only if they pass,
// decodes them into a T and runs T's Check method when it has one. Problems
// the caller can fix come back as ArgErrors (one sentence each, all of them
// at once); any other error means T itself cannot be reflected, a bug.
// Prefer the request's raw arguments (mcp.CallToolRequest.GetRawArguments):
// they keep numbers exact.
func Decode[T any](args any) (T, error) {
	var out T
	s, err := For[T]()
	if err != nil {
		return out, err
	}
	data, err := s.check(args)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		var zero T
		return zero, decodeError(err)
	}
	for _, v := range []any{&out, out} {
		if c, ok := v.(Checker); ok {
			if err := c.Check(); err != nil {
				var zero T
				return zero, asArgErrors(err)
			}
			break
		}
	}
	return out, nil
}
