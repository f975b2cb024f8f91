package client

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// listOne serves one list answer whose data is data and returns what
// ListIncidents made of it.
func listOne(t *testing.T, data string) (*IncidentPage, error) {
	t.Helper()
	c, _, _ := newTestClient(t, &capture{answers: []string{okEnvelope(data)}})
	return c.ListIncidents(context.Background(), IncidentFilter{}, PageToken{})
}

// The decoder keeps encoding/json's leniency: what the client read before,
// it still reads.
func TestListRowsDecodeLeniently(t *testing.T) {
	p, err := listOne(t, `{"incidents":[{"ID":"i1","Title":"first","title":"second","workspaceId":"w",`+
		`"description":"bad `+"\xff"+` byte","number":7,"unknownMember":{"deep":[1,2]}}]}`)
	if err != nil || len(p.Incidents) != 1 {
		t.Fatalf("ListIncidents = %+v, %v", p, err)
	}
	r := p.Incidents[0]
	if r.ID != "i1" {
		t.Errorf("id = %q; a member named in another case must still be read", r.ID)
	}
	if r.Title != "second" {
		t.Errorf("title = %q; a repeated member takes its last value (an exact name over another case)", r.Title)
	}
	if r.Description != "bad \uFFFD byte" {
		t.Errorf("description = %q; invalid UTF-8 becomes U+FFFD", r.Description)
	}
}

func TestListRowEntitiesAreKeptUntilAsked(t *testing.T) {
	p, err := listOne(t, `[{"id":"a","workspaceId":"w","entities":[{"id":1e3,"kind":"host","displayName":null,"hostName":"h",`+
		`"properties":{"displayName":"from nested","kind":"ignored","os":"linux"}},{"id":"e2","kind":"ip","kind":"account"}]},`+
		`{"id":"b","workspaceId":"w","entities":null},{"id":"c","workspaceId":"w"}]`)
	if err != nil || len(p.Incidents) != 3 {
		t.Fatalf("a bare array of rows: ListIncidents = %+v, %v", p, err)
	}
	es, err := p.Incidents[0].Entities.List()
	if err != nil || len(es) != 2 {
		t.Fatalf("entities = %+v, %v", es, err)
	}
	// A flat member wins over a nested one, even when it is null; the
	// nested object fills what the flat members leave unset.
	if e := es[0]; e.ID != "1000" || e.Kind != "host" || e.DisplayName != "" || e.Properties["hostName"] != "h" || e.Properties["os"] != "linux" {
		t.Errorf("entity with nested properties = %+v", e)
	}
	if e := es[1]; e.Kind != "account" {
		t.Errorf("a repeated member: kind = %q, want the last one", e.Kind)
	}
	for _, r := range p.Incidents[1:] {
		if es, err := r.Entities.List(); err != nil || es != nil {
			t.Errorf("row %s: entities = %+v, %v; want none", r.ID, es, err)
		}
	}
	// Encoding writes the entities as received.
	b, _ := json.Marshal(p.Incidents[0].Entities)
	if !strings.HasPrefix(string(b), `[{"id":1e3,`) {
		t.Errorf("entities encode as %s", b)
	}
	if b, _ := json.Marshal(p.Incidents[2].Entities); string(b) != "null" {
		t.Errorf("no entities encode as %s", b)
	}
}

func TestListRowOfTheWrongShapeIsRefusedWhereItIsRead(t *testing.T) {
	for name, tc := range map[string]struct{ data, want string }{
		"entities an object": {`{"incidents":[{"id":"a","entities":{"id":"e"}}]}`, `member "data.incidents.0.entities" is a JSON object where []client.Entity was expected`},
		"data a string":      {`"nope"`, `member "data" is a JSON string where client.ListIncidentsData was expected`},
		"number a string":    {`{"incidents":[{"id":"a","number":"7"}]}`, `member "data.incidents.0.number" is a JSON string where int was expected`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := listOne(t, tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want it to say %q", err, tc.want)
			}
		})
	}
	// An entity that is not an object fails when the entities are read.
	p, err := listOne(t, `{"incidents":[{"id":"a","entities":["x"]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Incidents[0].Entities.List(); err == nil {
		t.Error("an entity that is a string was accepted")
	}
}

func TestEntitiesOfRoundTrips(t *testing.T) {
	in := []Entity{{ID: "e1", Kind: "host", DisplayName: "pc", Properties: map[string]any{"os": "linux"}}}
	out, err := EntitiesOf(in).List()
	if err != nil || len(out) != 1 || out[0].ID != "e1" || out[0].Name() != "pc" || out[0].Properties["os"] != "linux" {
		t.Errorf("EntitiesOf(…).List() = %+v, %v", out, err)
	}
	if b, _ := json.Marshal(EntitiesOf(nil)); string(b) != "[]" {
		t.Errorf("EntitiesOf(nil) encodes as %s, want []", b)
	}
}

func TestReadAllIsExactAndBounded(t *testing.T) {
	body := strings.Repeat("x", 300<<10)
	for range 3 { // a reused buffer must not leak into the next answer
		got, err := readAll(strings.NewReader(body), int64(len(body))+1)
		if err != nil || string(got) != body || cap(got) > len(body)+8<<10 {
			t.Fatalf("readAll = %d bytes (cap %d), %v", len(got), cap(got), err)
		}
		short, _ := readAll(strings.NewReader("ab"), 10)
		if string(short) != "ab" {
			t.Fatalf("readAll after a long answer = %q", short)
		}
	}
	if got, _ := readAll(strings.NewReader(body), 10); len(got) != 10 {
		t.Errorf("readAll read %d bytes past its limit of 10", len(got))
	}
	if got, err := readAll(strings.NewReader(""), 10); got == nil || len(got) != 0 || err != nil {
		t.Errorf("readAll of nothing = %v, %v; want an empty body", got, err)
	}
}
