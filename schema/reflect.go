package schema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
)

var timeType = reflect.TypeFor[time.Time]()

// build reflects t into a compiled node tree: invopop does the reflection,
// parseNode narrows its output to the supported subset, annotate adds what
// needs the Go types (description checks, nullability, rules).
func build(t reflect.Type, output bool) (*node, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == timeType {
		return nil, fmt.Errorf("schema: %s is not a struct; tool arguments and results are JSON objects", t)
	}
	// invopop recurses without a guard when it does not reference
	// definitions, and a stack overflow cannot be recovered: check first.
	if err := checkType(t, t, map[reflect.Type]bool{}); err != nil {
		return nil, fmt.Errorf("schema: %s: %w", t.Name(), err)
	}
	raw, err := invopopJSON(t)
	if err != nil {
		return nil, fmt.Errorf("schema: %s: %w", t.Name(), err)
	}
	root, err := parseNode(raw, "")
	if err != nil {
		return nil, fmt.Errorf("schema: %s: %w", t.Name(), err)
	}
	root.finish()
	if err := annotate(t, root, "", output); err != nil {
		return nil, fmt.Errorf("schema: %s: %w", t.Name(), err)
	}
	root.finish()
	return root, nil
}

// invopopJSON runs the reflector configured for inline, compact schemas.
func invopopJSON(t reflect.Type) (raw []byte, err error) {
	var mapErr error
	r := &jsonschema.Reflector{
		Anonymous:                  true, // no $id
		DoNotReference:             true, // inline: no $ref, no $defs
		ExpandedStruct:             true,
		RequiredFromJSONSchemaTags: true, // `jsonschema:"required"`; open drops an output's
		LookupComment:              descTag,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			vals, ok, err := enumValues(t)
			if err != nil && mapErr == nil {
				mapErr = err
			}
			if !ok {
				return nil
			}
			enum := make([]any, len(vals))
			for i, v := range vals {
				enum[i] = v
			}
			return &jsonschema.Schema{Type: "string", Enum: enum}
		},
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reflection failed: %v", p)
		}
	}()
	s := r.ReflectFromType(t)
	if mapErr != nil {
		return nil, mapErr
	}
	s.Version, s.ID, s.Definitions = "", "", nil
	return json.Marshal(s)
}

// descTag reads the house description tag, desc:"…". invopop asks for a
// field's comment only when neither jsonschema_description nor
// jsonschema:"description=…" gave one.
func descTag(t reflect.Type, field string) string {
	if field == "" || t.Kind() != reflect.Struct {
		return "" // type-level descriptions would only add bytes
	}
	if f, ok := t.FieldByName(field); ok {
		return f.Tag.Get("desc")
	}
	return ""
}

// enumValues reports the allowed values of an enumeration type: a string
// type with a method Values() []T, T of kind string (client.Status and its
// siblings). The lists live once, in package client.
func enumValues(t reflect.Type) (vals []string, ok bool, err error) {
	if t.Kind() != reflect.String {
		return nil, false, nil
	}
	m, found := t.MethodByName("Values")
	if !found || m.Type.NumIn() != 1 || m.Type.NumOut() != 1 {
		return nil, false, nil
	}
	out := m.Type.Out(0)
	if out.Kind() != reflect.Slice || out.Elem().Kind() != reflect.String {
		return nil, false, nil
	}
	defer func() {
		if p := recover(); p != nil {
			vals, ok, err = nil, false, fmt.Errorf("%s.Values panicked: %v", t, p)
		}
	}()
	res := reflect.Zero(t).Method(m.Index).Call(nil)[0]
	if res.Len() == 0 {
		return nil, false, fmt.Errorf("%s.Values returns no values", t)
	}
	vals = make([]string, res.Len())
	for i := range vals {
		vals[i] = res.Index(i).String()
	}
	return vals, true, nil
}

// field is one property encoding/json would write for a struct.
type field struct {
	owner  reflect.Type // the struct declaring it (differs for promoted fields)
	goName string
	name   string
	typ    reflect.Type
	omit   bool // omitempty or omitzero
}

// jsonFields lists t's JSON properties the way encoding/json (and invopop)
// name them, promoting the fields of embedded structs.
func jsonFields(t reflect.Type, seen map[reflect.Type]bool) []field {
	if seen[t] {
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || strings.Split(f.Tag.Get("jsonschema"), ",")[0] == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, jsonFields(ft, seen)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := false
		for _, o := range strings.Split(opts, ",") {
			omit = omit || o == "omitempty" || o == "omitzero"
		}
		out = append(out, field{owner: t, goName: f.Name, name: name, typ: f.Type, omit: omit})
	}
	return out
}

// checkType rejects what has no JSON form and recursive types (an inline
// schema of a recursive type is infinite).
func checkType(root, t reflect.Type, onPath map[reflect.Type]bool) error {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return checkType(root, t.Elem(), onPath)
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128,
		reflect.UnsafePointer, reflect.Uintptr:
		return fmt.Errorf("type %s has no JSON form", t)
	case reflect.Struct:
		if t == timeType {
			return nil
		}
		if onPath[t] {
			return fmt.Errorf("type %s is recursive; an inline schema cannot describe it", t)
		}
		onPath[t] = true
		defer delete(onPath, t)
		for _, f := range jsonFields(t, map[reflect.Type]bool{}) {
			if err := checkType(root, f.typ, onPath); err != nil {
				return fmt.Errorf("%s.%s: %w", f.owner.Name(), f.goName, err)
			}
		}
	}
	return nil
}

// annotate walks the Go type alongside its node: input properties must have
// a description; output fields that encoding/json may write as null are
// marked nullable; a struct's Rules become allOf conditions.
func annotate(t reflect.Type, n *node, path string, output bool) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if n.items != nil {
			return annotate(t.Elem(), n.items, path+"[]", output)
		}
	case reflect.Map:
		if n.extra != nil {
			return annotate(t.Elem(), n.extra, path+"{}", output)
		}
	case reflect.Struct:
		if t == timeType || n.typ != "object" {
			return nil
		}
		for _, f := range jsonFields(t, map[reflect.Type]bool{}) {
			p := n.prop(f.name)
			if p == nil {
				continue
			}
			if !output && p.desc == "" {
				return fmt.Errorf("%s.%s (argument %q) has no description; add a desc:\"…\" tag",
					f.owner.Name(), f.goName, join(path, f.name))
			}
			if output && !f.omit && p.typ != "" && mayBeNull(f.typ) {
				p.nullable = true
			}
			if err := annotate(f.typ, p, join(path, f.name), output); err != nil {
				return err
			}
		}
		return attachRules(t, n, path)
	}
	return nil
}

// mayBeNull reports whether encoding/json writes a zero value of t as null.
func mayBeNull(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return true
	}
	return false
}
