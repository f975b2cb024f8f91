package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Rule is a cross-field constraint a flat schema cannot state property by
// property. An input struct lists its rules once, in a Rules method:
//
//	func (UpdateStatusInput) Rules() []schema.Rule {
//		return []schema.Rule{schema.RequiredWhen{
//			When:    map[string]any{"status": client.StatusClosed, "source": client.SourceSentinel},
//			Require: []string{"classification", "classificationReason"},
//			Why:     "Sentinel requires a classification and reason to close",
//		}}
//	}
//
// and both the emitted schema (allOf with if/then) and Decode's validation
// come from that one declaration. RequiredWhen is the only Rule; a rule JSON
// Schema cannot express belongs in a Check() error method instead.
type Rule interface {
	// cond compiles the rule for the object node at path ("" for the root).
	cond(obj *node, path string) (*cond, error)
}

// Ruler is implemented by a struct that declares cross-field rules. The
// method is called once per type, on the zero value, when its schema is built.
type Ruler interface {
	Rules() []Rule
}

// Checker is implemented by an input struct whose constraints no schema can
// state (one of two arguments, a time window that must be ordered…). Decode
// calls Check after the arguments passed the schema and were decoded; return
// an *ArgError (or ArgErrors) to name the argument at fault, or any error
// whose message is one sentence the agent can act on.
type Checker interface {
	Check() error
}

// RequiredWhen requires the Require arguments (present, not null, not "")
// whenever every When argument equals its value. When values are strings
// (or string enums such as client.Status), booleans or numbers.
type RequiredWhen struct {
	When    map[string]any
	Require []string
	// Why is the reason, in the agent's terms; it ends the error sentence.
	Why string
}

func (r RequiredWhen) cond(obj *node, path string) (*cond, error) {
	if len(r.When) == 0 || len(r.Require) == 0 || strings.TrimSpace(r.Why) == "" {
		return nil, errors.New("RequiredWhen needs When, Require and Why")
	}
	keys := make([]string, 0, len(r.When))
	for k := range r.When {
		if obj.prop(k) == nil {
			return nil, fmt.Errorf("RequiredWhen: When names %q, which is not a property", k)
		}
		keys = append(keys, k)
	}
	// Property order, not map order: stable output, natural wording.
	slices.SortFunc(keys, func(a, b string) int { return obj.propIdx[a] - obj.propIdx[b] })
	ifn := &node{}
	var when []string
	for _, k := range keys {
		v, err := constValue(obj.prop(k), r.When[k])
		if err != nil {
			return nil, fmt.Errorf("RequiredWhen: When[%q]: %w", k, err)
		}
		ifn.props = append(ifn.props, prop{name: k, n: &node{hasConst: true, constVal: v}})
		ifn.required = append(ifn.required, k)
		when = append(when, join(path, k)+" is "+renderScalar(v))
	}
	for _, k := range r.Require {
		if obj.prop(k) == nil {
			return nil, fmt.Errorf("RequiredWhen: Require names %q, which is not a property", k)
		}
	}
	return &cond{
		ifn:  ifn,
		then: &node{required: slices.Clone(r.Require)},
		when: strings.Join(when, " and "),
		why:  strings.TrimSpace(r.Why),
	}, nil
}

// constValue converts a When value to its JSON form and checks that the
// property could ever hold it, so a typo in a rule fails at startup.
func constValue(p *node, v any) (any, error) {
	rv := reflect.ValueOf(v)
	var out any
	var jt string
	switch {
	case !rv.IsValid():
		return nil, errors.New("value is nil")
	case rv.Kind() == reflect.String:
		out, jt = rv.String(), "string"
	case rv.Kind() == reflect.Bool:
		out, jt = rv.Bool(), "boolean"
	case rv.CanInt():
		out, jt = json.Number(strconv.FormatInt(rv.Int(), 10)), "integer"
	case rv.CanUint():
		out, jt = json.Number(strconv.FormatUint(rv.Uint(), 10)), "integer"
	case rv.CanFloat():
		out, jt = json.Number(strconv.FormatFloat(rv.Float(), 'g', -1, 64)), "number"
	default:
		return nil, fmt.Errorf("%T is not a string, boolean or number", v)
	}
	if p.typ != jt && !(p.typ == "number" && jt == "integer") {
		return nil, fmt.Errorf("%s is a %s, the property is a %s", renderScalar(out), jt, p.typ)
	}
	if s, ok := out.(string); ok && p.enumSet != nil {
		if _, ok := p.enumSet[s]; !ok {
			return nil, fmt.Errorf("%q is not one of the property's values", s)
		}
	}
	return out, nil
}

// attachRules compiles the Rules of struct type t onto its object node.
func attachRules(t reflect.Type, n *node, path string) (err error) {
	r, ok := reflect.New(t).Interface().(Ruler)
	if !ok {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s.Rules panicked: %v", t.Name(), p)
		}
	}()
	for i, rule := range r.Rules() {
		if rule == nil {
			return fmt.Errorf("%s.Rules()[%d] is nil", t.Name(), i)
		}
		c, err := rule.cond(n, path)
		if err != nil {
			return fmt.Errorf("%s rule %d%s: %w", t.Name(), i, atPath(path), err)
		}
		n.allOf = append(n.allOf, c)
	}
	return nil
}

func atPath(path string) string {
	if path == "" {
		return ""
	}
	return " (at " + path + ")"
}

// renderScalar writes a const as it reads in a sentence: strings quoted.
func renderScalar(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}
