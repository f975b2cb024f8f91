package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

var update = flag.Bool("update", false, "rewrite the golden schemas in testdata")

// TestGolden pins the exact emitted JSON (indented in the golden file for
// review; the comparison covers every byte of the compact form's structure
// and key order).
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		get  func() (*Schema, error)
	}{
		{"update_status.input", For[UpdateStatusInput]},
		{"list.input", For[ListInput]},
		{"embedded.input", For[Embedded]},
		{"out.output", ForOutput[Out]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, s.JSON(), "", "  "); err != nil {
				t.Fatalf("schema is not valid JSON: %v", err)
			}
			got.WriteByte('\n')
			path := filepath.Join("testdata", tc.name+".json")
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./schema -run TestGolden -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("schema changed; run with -update and review the diff\ngot:\n%s", got.Bytes())
			}
		})
	}
}

// TestSchemaShape spells out the properties the tools and the benchmark rely
// on, independent of the golden file.
func TestSchemaShape(t *testing.T) {
	s, err := For[UpdateStatusInput]()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(s.JSON(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"$schema", "$id", "$ref", "$defs", "title"} {
		if strings.Contains(string(s.JSON()), `"`+k+`"`) {
			t.Errorf("schema contains %s", k)
		}
	}
	if m["type"] != "object" || m["additionalProperties"] != false {
		t.Errorf("root must be a closed object: type=%v additionalProperties=%v", m["type"], m["additionalProperties"])
	}
	if got, want := m["required"], []any{"workspaceId", "source", "incidentId", "status"}; !reflect.DeepEqual(got, want) {
		t.Errorf("required = %v, want %v", got, want)
	}
	props := m["properties"].(map[string]any)
	for name, p := range props {
		if p.(map[string]any)["description"] == nil {
			t.Errorf("property %s has no description", name)
		}
	}
	since := props["since"].(map[string]any)
	if since["type"] != "string" || since["format"] != "date-time" {
		t.Errorf("since = %v, want a date-time string", since)
	}
	limit := props["limit"].(map[string]any)
	if limit["type"] != "integer" || limit["minimum"] != 1.0 || limit["maximum"] != 100.0 {
		t.Errorf("limit = %v", limit)
	}
	wantIf := `{"if":{"properties":{"source":{"const":"Sentinel"},"status":{"const":"Closed"}},"required":["source","status"]},"then":{"required":["classification","classificationReason"]}}`
	if !strings.Contains(string(s.JSON()), `"allOf":[`+wantIf+`,`) {
		t.Errorf("schema lacks the Sentinel closing rule %s", wantIf)
	}
	want := []string{"workspaceId", "source", "incidentId", "status", "comment", "classification",
		"classificationReason", "updateTicket", "ticketId", "severities", "limit", "since"}
	if got := s.Properties(); !slices.Equal(got, want) {
		t.Errorf("Properties() = %v, want %v", got, want)
	}
}

// TestEnumsFromClient checks every client enum reaches the schema in its
// documented order, as a field and as a slice element.
func TestEnumsFromClient(t *testing.T) {
	type AllEnums struct {
		Source         client.Source               `json:"source" desc:"d"`
		Status         client.Status               `json:"status" desc:"d"`
		Severity       []client.Severity           `json:"severity" desc:"d"`
		Classification *client.Classification      `json:"classification" desc:"d"`
		Reason         client.ClassificationReason `json:"reason" desc:"d"`
		Time           []client.TimeFilterType     `json:"time" desc:"d"`
		Scope          client.Scope                `json:"scope" desc:"d"`
		Role           client.WorkspaceRole        `json:"role" desc:"d"`
	}
	s, err := For[AllEnums]()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"source":         client.EnumStrings[client.Source](),
		"status":         client.EnumStrings[client.Status](),
		"severity":       client.EnumStrings[client.Severity](),
		"classification": client.EnumStrings[client.Classification](),
		"reason":         client.EnumStrings[client.ClassificationReason](),
		"time":           client.EnumStrings[client.TimeFilterType](),
		"scope":          client.EnumStrings[client.Scope](),
		"role":           client.EnumStrings[client.WorkspaceRole](),
	}
	for name, vals := range want {
		if got := s.root.prop(name).allowed(); !slices.Equal(got, vals) {
			t.Errorf("%s enum = %v, want %v", name, got, vals)
		}
	}
}

// TestReflectErrors: a bad struct fails at For with an error naming the
// field and the fix; tools' tests rely on the description check.
func TestReflectErrors(t *testing.T) {
	type NoDesc struct {
		ID   string `json:"id" desc:"ok"`
		Name string `json:"name"`
	}
	type NestedNoDesc struct {
		Inner struct {
			X int `json:"x"`
		} `json:"inner" desc:"ok"`
	}
	type Titled struct {
		ID string `json:"id" jsonschema:"title=Id" desc:"d"`
	}
	type Defaulted struct {
		N int `json:"n" jsonschema:"default=5" desc:"d"`
	}
	type Bytes struct {
		B []byte `json:"b" desc:"d"`
	}
	type Chan struct {
		C chan int `json:"c" desc:"d"`
	}
	type IntKeys struct {
		M map[int]string `json:"m" desc:"d"`
	}
	for _, tc := range []struct {
		name string
		get  func() (*Schema, error)
		want string
	}{
		{"missing description", For[NoDesc], `NoDesc.Name (argument "name") has no description; add a desc:"…" tag`},
		{"nested missing description", For[NestedNoDesc], `.X (argument "inner.x") has no description`},
		{"title tag", For[Titled], `property id: keyword "title" is not supported`},
		{"default tag", For[Defaulted], `property n: keyword "default" is not supported`},
		{"bytes", For[Bytes], `keyword "contentEncoding" is not supported`},
		{"chan", For[Chan], "Chan.C: type chan int has no JSON form"},
		{"int map keys", For[IntKeys], `keyword "patternProperties" is not supported`},
		{"recursive", For[Node], "type schema.Node is recursive"},
		{"not a struct", For[[]string], "[]string is not a struct"},
		{"time is not an object", For[time.Time], "time.Time is not a struct"},
		{"rule names no property", For[BadRuleName], `When names "stat", which is not a property`},
		{"rule value outside enum", For[BadRuleValue], `When["status"]: "Resolved" is not one of the property's values`},
		{"rule value of wrong type", For[BadRuleType], `When["flag"]: "yes" is a string, the property is a boolean`},
		{"rule without why", For[NoWhy], "RequiredWhen needs When, Require and Why"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.get()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// Node is recursive: an inline schema of it would be infinite.
type Node struct {
	Next *Node `json:"next" desc:"d"`
}

type ruleBase struct {
	Status client.Status `json:"status" desc:"d"`
	Flag   bool          `json:"flag" desc:"d"`
	X      string        `json:"x" desc:"d"`
}

type BadRuleName struct{ ruleBase }

func (BadRuleName) Rules() []Rule {
	return []Rule{RequiredWhen{When: map[string]any{"stat": "Closed"}, Require: []string{"x"}, Why: "w"}}
}

type BadRuleValue struct{ ruleBase }

func (BadRuleValue) Rules() []Rule {
	return []Rule{RequiredWhen{When: map[string]any{"status": "Resolved"}, Require: []string{"x"}, Why: "w"}}
}

type BadRuleType struct{ ruleBase }

func (BadRuleType) Rules() []Rule {
	return []Rule{RequiredWhen{When: map[string]any{"flag": "yes"}, Require: []string{"x"}, Why: "w"}}
}

type NoWhy struct{ ruleBase }

func (NoWhy) Rules() []Rule {
	return []Rule{RequiredWhen{When: map[string]any{"flag": true}, Require: []string{"x"}}}
}

// TestOutputSchema: no required list, null where Go writes null,
// descriptions optional, and an output schema is an object.
func TestOutputSchema(t *testing.T) {
	s, err := ForOutput[Out]()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.root.required; len(got) != 0 {
		t.Errorf("required = %v; an output schema lists no required fields", got)
	}
	if err := s.Validate(json.RawMessage(`{"id":"1","status":"Bogus"}`)); err == nil {
		t.Errorf("a status outside the enum should fail, got nil")
	}
	reason := client.ReasonPhishing
	b, _ := json.Marshal(Out{ID: "1", Status: client.StatusNew, At: time.Now()})
	if err := s.Validate(json.RawMessage(b)); err != nil {
		t.Errorf("output with null reason and tags: %v", err)
	}
	b, _ = json.Marshal(Out{ID: "1", Status: client.StatusNew, Reason: &reason, Tags: []string{"a"},
		Entities: []Entity{{Kind: "host", Properties: map[string]any{"a": 1}}}})
	if err := s.Validate(json.RawMessage(b)); err != nil {
		t.Errorf("full output: %v", err)
	}
	// The same struct as input: required only from tags, so nothing here.
	if _, err := For[Out](); err == nil || !strings.Contains(err.Error(), `Out.Status (argument "status") has no description`) {
		t.Errorf("For[Out] = %v, want the missing description of Status", err)
	}
}

// TestKeywordsSupported walks every schema the tests reflect and fails if
// the reflector emits a keyword the validator does not implement.
func TestKeywordsSupported(t *testing.T) {
	all := []struct {
		get    func() (*Schema, error)
		closed bool // input objects are closed; output objects open
	}{
		{For[UpdateStatusInput], true}, {For[ListInput], true}, {For[Embedded], true}, {ForOutput[Out], false},
		{ForOutput[client.IncidentDetail], false}, {ForOutput[client.ListIncidentsData], false}, {ForOutput[client.Comment], false},
	}
	for _, sc := range all {
		s, err := sc.get()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(s.JSON(), &v); err != nil {
			t.Fatal(err)
		}
		walkSchema(t, v, "", sc.closed)
	}
}

// walkSchema checks one schema object and recurses into its subschemas:
// every keyword is validated, and struct objects are closed (inputs) or
// open (outputs).
func walkSchema(t *testing.T, v any, at string, closed bool) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Errorf("%s: schema is %T, want an object", at, v)
		return
	}
	for k, sub := range m {
		if !keywords[k] {
			t.Errorf("%s: keyword %q is emitted but not validated", at, k)
		}
		switch k {
		case "properties":
			for name, p := range sub.(map[string]any) {
				walkSchema(t, p, at+"."+name, closed)
			}
		case "items", "if", "then":
			walkSchema(t, sub, at+"/"+k, closed)
		case "additionalProperties":
			if sub != false {
				walkSchema(t, sub, at+"{}", closed)
			}
		case "allOf":
			for _, c := range sub.([]any) {
				walkSchema(t, c, at+"/allOf", closed)
			}
		}
	}
	isClosed := m["additionalProperties"] == false
	if m["type"] == "object" && m["properties"] != nil && isClosed != closed {
		t.Errorf("%s: struct object closed = %v, want %v", at, isClosed, closed)
	}
}

// TestCache: one compiled schema per type and mode, failures included.
func TestCache(t *testing.T) {
	a, _ := For[UpdateStatusInput]()
	b, _ := For[UpdateStatusInput]()
	if a != b {
		t.Error("For returned two schemas for one type")
	}
	o, _ := ForOutput[Embedded]()
	i, _ := For[Embedded]()
	if o == i {
		t.Error("input and output schemas of one type share a cache entry")
	}
	if _, ok := cache.Load(cacheKey{reflect.TypeFor[UpdateStatusInput](), false}); !ok {
		t.Error("schema not cached under its reflect.Type")
	}
	_, err1 := For[Node]()
	e, ok := cache.Load(cacheKey{reflect.TypeFor[Node](), false})
	if !ok || e.(*cacheEntry).err != err1 {
		t.Error("a reflection failure is not cached")
	}
	j := a.JSON()
	j[0] = 'X'
	if a.JSON()[0] != '{' {
		t.Error("JSON() exposes the cached bytes")
	}
}

// TestConcurrentUse: first use of a type from many goroutines at once
// yields one schema, and Decode is safe in parallel (run with -race).
func TestConcurrentUse(t *testing.T) {
	type Fresh struct {
		ID string `json:"id" jsonschema:"required" desc:"Id."`
	}
	const n = 16
	got := make(chan *Schema, n)
	done := make(chan error, n)
	for range n {
		go func() {
			s, err := For[Fresh]()
			got <- s
			_, derr := Decode[Fresh](map[string]any{"id": "x"})
			done <- errors.Join(err, derr)
		}()
	}
	first := <-got
	for range n - 1 {
		if s := <-got; s != first {
			t.Error("concurrent For returned different schemas")
		}
	}
	for range n {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
