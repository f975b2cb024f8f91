package client

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Entity is an entity involved in an incident (an account, host, IP, file…).
// The list page documents it as {id, type, kind, displayName, …} (newer
// crawl) and {id, kind, displayName, friendlyName, fileName, hostName,
// accountEntityId, deviceId, …} (older crawl): a flat object whose
// kind-specific members sit beside the common ones. ID, Type, Kind,
// DisplayName and FriendlyName hold the members of those names; every other
// member is in Properties, and encoding writes them back flat. A nested
// "properties" object (the shape Sentinel itself uses) is merged into
// Properties, without overriding flat members.
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
// properties in key order.
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

// UnmarshalJSON reads a flat entity. An id sent as a number is read as its
// decimal text; another named member that is not a string is kept in
// Properties rather than refused.
func (e *Entity) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*e = Entity{}
	if nested, ok := m["properties"].(map[string]any); ok {
		delete(m, "properties")
		for k, v := range nested {
			if _, flat := m[k]; !flat {
				m[k] = v
			}
		}
	}
	if n, ok := m["id"].(float64); ok {
		m["id"] = strconv.FormatFloat(n, 'f', -1, 64)
	}
	for _, k := range entityNamed {
		s, ok := m[k].(string)
		if !ok {
			if m[k] == nil {
				delete(m, k)
			}
			continue
		}
		delete(m, k)
		switch k {
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
	}
	if len(m) > 0 {
		e.Properties = m
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
