package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Entity is an entity involved in an incident (an account, host, IP, file…).
// The list page documents it as {id, type, kind, displayName, …} (newer
// crawl) and {id, kind, displayName, friendlyName, fileName, hostName,
// accountEntityId, deviceId, …} (older crawl): a flat object whose
// kind-specific members sit beside the common ones. ID, Type, Kind,
// DisplayName and FriendlyName hold the string members of those names;
// every other member is in Properties, and encoding writes them back flat. A
// named member that is not a string is kept in Properties when decoded, but
// encoding writes that name from its field only (empty), so such a value does
// not survive re-encoding. A nested "properties" object (the shape Sentinel
// itself uses) is merged into Properties, without overriding flat members.
type Entity struct {
	ID           string
	Type         string
	Kind         string
	DisplayName  string
	FriendlyName string
	Properties   map[string]any
}

// entityNamed are the members Entity holds in fields of their own.
var entityNamed = []string{"id", "type", "kind", "displayName", "friendlyName"}

// Name returns the entity's display name: displayName, else the older
// friendlyName, else "".
func (e Entity) Name() string {
	if e.DisplayName != "" {
		return e.DisplayName
	}
	return e.FriendlyName
}

// MarshalJSON writes the documented members first (id, type, kind and
// displayName always, null when empty), then friendlyName when set, then the
// properties in key order, except those named like a field (see Entity).
func (e Entity) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	write := func(k string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(vb)
		return nil
	}
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	_ = write("id", e.ID)
	_ = write("type", orNull(e.Type))
	_ = write("kind", e.Kind)
	_ = write("displayName", orNull(e.DisplayName))
	if e.FriendlyName != "" {
		_ = write("friendlyName", e.FriendlyName)
	}
	keys := make([]string, 0, len(e.Properties))
	for k := range e.Properties {
		if !slices.Contains(entityNamed, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := write(k, e.Properties[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a flat entity (see UnmarshalJSONFrom).
func (e *Entity) UnmarshalJSON(b []byte) error {
	return unmarshal(b, e)
}

// UnmarshalJSONFrom reads a flat entity from the stream. An id sent as a
// number is read as its decimal text; another named member that is not a
// string is kept in Properties rather than refused (MarshalJSON does not
// write it back); a named member that is null is dropped. Members of a
// nested "properties" object fill what the flat members leave unset, named
// members included.
func (e *Entity) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*e = Entity{}
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return err
	case '{':
	default:
		// The error names the entity's path and JSON kind.
		var m map[string]any
		return jsonv2.UnmarshalDecode(dec, &m)
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	var nested map[string]any
	var buf [16]string
	flat := buf[:0] // the top-level members' names, null ones too
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String()
		if name == "properties" {
			// A repeated member: the last one counts.
			nested = nil
			if e.Properties != nil {
				delete(e.Properties, name)
			}
			if dec.PeekKind() == '{' {
				if err := jsonv2.UnmarshalDecode(dec, &nested); err != nil {
					return err
				}
				continue
			}
		}
		flat = append(flat, name)
		var v any
		if dec.PeekKind() == '"' {
			// Most members are strings: read as the token they are, as
			// the decoder would read them into an any, without its call.
			s, err := dec.ReadToken()
			if err != nil {
				return err
			}
			v = s.String()
		} else if err := jsonv2.UnmarshalDecode(dec, &v); err != nil {
			return err
		}
		e.set(name, v)
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for k, v := range nested {
		if !slices.Contains(flat, k) {
			e.set(k, v)
		}
	}
	return nil
}

// set stores one member: a named one in its field, anything else in
// Properties (see UnmarshalJSONFrom).
func (e *Entity) set(name string, v any) {
	if n, ok := v.(float64); ok && name == "id" {
		v = strconv.FormatFloat(n, 'f', -1, 64)
	}
	if slices.Contains(entityNamed, name) {
		e.clear(name)
		switch s := v.(type) {
		case nil:
			return
		case string:
			switch name {
			case "id":
				e.ID = s
			case "type":
				e.Type = s
			case "kind":
				e.Kind = s
			case "displayName":
				e.DisplayName = s
			case "friendlyName":
				e.FriendlyName = s
			}
			return
		}
	}
	if e.Properties == nil {
		e.Properties = map[string]any{}
	}
	e.Properties[name] = v
}

// clear forgets a named member's earlier value (a repeated member: the
// last one counts).
func (e *Entity) clear(name string) {
	switch name {
	case "id":
		e.ID = ""
	case "type":
		e.Type = ""
	case "kind":
		e.Kind = ""
	case "displayName":
		e.DisplayName = ""
	case "friendlyName":
		e.FriendlyName = ""
	}
	delete(e.Properties, name)
	if len(e.Properties) == 0 {
		e.Properties = nil
	}
}

// RowEntities are a list row's entities as the API sent them (a JSON array,
// or null), decoded when asked (List). No list view shows them, and
// decoding every row's entities into maps was most of the cost of reading
// a page; the detail's entities (InvestigationDetails) are decoded at once.
type RowEntities struct {
	raw jsontext.Value // nil: the row had none, or no entities member
}

// EntitiesOf returns RowEntities holding es, encoded as the API sends them
// (an empty array for none).
func EntitiesOf(es []Entity) RowEntities {
	if es == nil {
		es = []Entity{}
	}
	raw, _ := json.Marshal(es) // Entity.MarshalJSON cannot fail on decoded values
	return RowEntities{raw: raw}
}

// List decodes the entities (nil for none); an entity that is not an
// object is an error.
func (r RowEntities) List() ([]Entity, error) {
	if len(r.raw) == 0 {
		return nil, nil
	}
	var es []Entity
	if err := unmarshal(r.raw, &es); err != nil {
		return nil, fmt.Errorf("entities: %w", err)
	}
	return es, nil
}

// MarshalJSON writes the entities as they were received (null for none).
func (r RowEntities) MarshalJSON() ([]byte, error) {
	if len(r.raw) == 0 {
		return []byte("null"), nil
	}
	return r.raw, nil
}

// UnmarshalJSON keeps the entities raw (see UnmarshalJSONFrom).
func (r *RowEntities) UnmarshalJSON(b []byte) error { return unmarshal(b, r) }

// UnmarshalJSONFrom keeps the array as sent, after checking that it is an
// array (or null), so that a row of the wrong shape fails where it is read.
func (r *RowEntities) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	k := dec.PeekKind()
	if k != '[' && k != 'n' {
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return &jsonv2.SemanticError{JSONKind: k, GoType: reflect.TypeFor[[]Entity]()}
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	r.raw = nil
	if k == '[' {
		r.raw = v.Clone()
	}
	return nil
}

// SourceFromDisplayName infers a Source from a source display name such as
// "Microsoft Sentinel" or "CrowdStrike Falcon" (an older list row has
// sourceDisplayName but no source); "" when it names none of the sources.
func SourceFromDisplayName(name string) Source {
	n := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	switch {
	case strings.Contains(n, "sentinelone"):
		return SourceSentinelOne
	case strings.Contains(n, "sentinel"):
		return SourceSentinel
	case strings.Contains(n, "defender"):
		return SourceDefenderXDR
	case strings.Contains(n, "qradar"):
		return SourceQRadar
	case strings.Contains(n, "splunk"):
		return SourceSplunk
	case strings.Contains(n, "crowdstrike"):
		return SourceCrowdStrike
	}
	return ""
}
