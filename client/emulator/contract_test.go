package emulator_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// Contract tests of what the emulator answers: every member of the current
// pages' response examples (../testdata/current, ../testdata) must be in
// every answer, with the example's JSON type (or null: the emulator sends
// null where it has nothing) and, for enum members, a documented value.
// Across the whole dataset each member must also be non-null at least once,
// except the few the emulator never fills, which are listed with the reason.

// conformance checks answers against an example and remembers which
// documented members were ever non-null.
type conformance struct {
	t       *testing.T
	nonNull map[string]bool // documented path -> seen non-null
	// enums are the enum members checked (default enumMembers).
	enums map[string][]string
}

func newConformance(t *testing.T) *conformance {
	return &conformance{t: t, nonNull: map[string]bool{}}
}

// enumMembers are the example members whose value is the first of an enum,
// with the documented values.
var enumMembers = map[string][]string{
	"source":   client.EnumStrings[client.Source](),
	"severity": client.EnumStrings[client.Severity](),
	"status":   client.EnumStrings[client.Status](),
	// The classification members are "null | any" of the status page's lists.
	"classification":       client.EnumStrings[client.Classification](),
	"classificationReason": client.EnumStrings[client.ClassificationReason](),
}

// check compares one answer (decoded JSON) with the example at path.
func (c *conformance) check(where string, example, got any, path string) {
	c.t.Helper()
	if _, ok := c.nonNull[path]; !ok && path != "" {
		c.nonNull[path] = false
	}
	if got == nil {
		return
	}
	if path != "" {
		c.nonNull[path] = true
	}
	switch ex := example.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			c.t.Errorf("%s: %s is %T, the example has an object", where, path, got)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(ex)) {
			p := strings.TrimPrefix(path+"."+k, ".")
			gv, present := g[k]
			if !present {
				c.t.Errorf("%s: documented member %s is missing", where, p)
				c.nonNull[p] = c.nonNull[p] || false
				continue
			}
			c.check(where, ex[k], gv, p)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			c.t.Errorf("%s: %s is %T, the example has an array", where, path, got)
			return
		}
		if len(ex) == 0 {
			return
		}
		for _, v := range g {
			c.check(where, ex[0], v, path+"[]")
		}
	default:
		if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", example) {
			c.t.Errorf("%s: %s is %T (%v), the example has %T", where, path, got, got, example)
			return
		}
		leaf := path[strings.LastIndexAny(path, ".]")+1:]
		s, isString := got.(string)
		enums := c.enums
		if enums == nil {
			enums = enumMembers
		}
		if allowed, ok := enums[leaf]; ok && isString && !slices.Contains(allowed, s) {
			c.t.Errorf("%s: %s = %v is not a documented value", where, path, got)
		}
	}
}

// coverage fails for every documented member never seen non-null, except
// the listed ones.
func (c *conformance) coverage(what string, neverFilled map[string]string) {
	c.t.Helper()
	for _, p := range slices.Sorted(maps.Keys(c.nonNull)) {
		_, excused := neverFilled[p]
		switch {
		case !c.nonNull[p] && !excused:
			c.t.Errorf("%s: documented member %s is null in every answer", what, p)
		case c.nonNull[p] && excused:
			c.t.Errorf("%s: %s is listed as never filled but has a value", what, p)
		}
	}
}

// example reads a documented example.
func example(t *testing.T, file string) any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return v
}

func decoded(t *testing.T, r *response) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return v
}

// TestContractListAnswers walks every page the demo credential sees and
// checks every row against the list page's example (newer crawl).
func TestContractListAnswers(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ex := example(t, "current/list-incidents-response.json")
	meta := example(t, "current/comment-created.json").(map[string]any)["meta"]
	c := newConformance(t)
	body := map[string]any{"isFirstCall": true}
	pages := 0
	for ; pages < 100; pages++ {
		r := h.do(http.MethodPost, listPath, body).expect(t, http.StatusOK)
		got := decoded(t, r)
		c.check(fmt.Sprintf("page %d", pages+1), ex, got, "")
		newConformance(t).check("meta", meta, got.(map[string]any)["meta"], "meta")
		d := data[client.ListIncidentsData](t, r)
		if !*d.HasMore {
			break
		}
		body = map[string]any{"isFirstCall": false, "workspacePageTokens": d.WorkspacePageTokens}
	}
	if pages < 2 {
		t.Fatalf("%d pages: the walk proves little", pages+1)
	}
	c.coverage("list rows", map[string]string{
		"data.incidents[].type":    "no page says what an incident's type is",
		"data.incidents[].comment": "no page says what the row's comment is (the verdict's note is classificationComment)",
	})
}

// TestContractDetailAnswers checks every visible incident's detail, with
// and without details, against the data-models page's example, and the
// DetailDocumented variant's incident for exactly the seven documented members.
func TestContractDetailAnswers(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ex := example(t, "incident-object.json")
	with, without := newConformance(t), newConformance(t)
	n := 0
	for _, ref := range h.e.Refs() {
		if ref.WorkspaceID == emulator.WorkspaceNoRoleID {
			continue
		}
		n++
		got := decoded(t, h.do(http.MethodGet, incidentPath(ref)+"?withDetails=true", nil).expect(t, http.StatusOK))
		with.check(ref.IncidentID, ex, got.(map[string]any)["data"], "")
		got = decoded(t, h.do(http.MethodGet, incidentPath(ref)+"?withDetails=false", nil).expect(t, http.StatusOK))
		without.check(ref.IncidentID, ex, got.(map[string]any)["data"], "")
	}
	if n < 200 {
		t.Fatalf("%d incidents checked", n)
	}
	with.coverage("detail with details", nil)
	without.coverage("detail without details", map[string]string{
		"investigationDetails": "null unless withDetails=true", "evidence": "null unless withDetails=true",
		"gamebookCatalog": "null unless withDetails=true",
	})

	doc := newHarness(t, emulator.Options{Detail: emulator.DetailDocumented})
	ref := doc.e.Refs()[0]
	got := decoded(t, doc.do(http.MethodGet, incidentPath(ref), nil).expect(t, http.StatusOK))
	inc := got.(map[string]any)["data"].(map[string]any)["incident"].(map[string]any)
	want := slices.Sorted(maps.Keys(ex.(map[string]any)["incident"].(map[string]any)))
	if keys := slices.Sorted(maps.Keys(inc)); !slices.Equal(keys, want) {
		t.Errorf("DetailDocumented incident members = %v, want exactly %v", keys, want)
	}
}

// TestContractCommentAnswers checks the comments of every visible incident
// and a created comment (201) against the create-comment page's example.
func TestContractCommentAnswers(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ex := example(t, "current/comment-created.json").(map[string]any)
	c := newConformance(t)
	for _, ref := range h.e.Refs() {
		if ref.WorkspaceID == emulator.WorkspaceNoRoleID {
			continue
		}
		got := decoded(t, h.do(http.MethodGet, incidentPath(ref)+"/comments", nil).expect(t, http.StatusOK)).(map[string]any)
		list, ok := got["data"].([]any)
		if !ok {
			t.Fatalf("comments data is %T, want an array", got["data"])
		}
		for _, cm := range list {
			c.check(ref.IncidentID, ex["data"], cm, "data")
		}
	}
	c.coverage("listed comments", nil)

	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceSentinel))
	created := newConformance(t)
	created.check("created comment", ex, decoded(t, h.do(http.MethodPost, incidentPath(ref)+"/comments",
		map[string]any{"content": "[AI agent: test] checked"}).expect(t, http.StatusCreated)), "")
}

// TestContractUserAnswers checks GET /users against the get-user page's User.
func TestContractUserAnswers(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ex := example(t, "current/user.json").(map[string]any)
	got := decoded(t, h.do(http.MethodGet, "/api/v2/users", nil).expect(t, http.StatusOK)).(map[string]any)
	c := newConformance(t)
	for _, u := range got["data"].([]any) {
		c.check("users", ex["data"], u, "data")
	}
	c.coverage("users", map[string]string{
		"data.profilePictureUrl": "the emulator has no pictures",
		"data.workspaceRole":     "GET /users lists the organisation, not one workspace",
	})
}

// TestContractProblemAnswers checks error answers against the errors page.
func TestContractProblemAnswers(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ex := example(t, "current/problem-details.json")
	unknown := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceSentinel))
	unknown.IncidentID = "00000000-0000-4000-8000-000000000000"
	for _, r := range []*response{
		h.do(http.MethodGet, incidentPath(unknown), nil).expect(t, http.StatusNotFound),
		h.do(http.MethodPost, listPath, map[string]any{"severities": []string{"Critical"}}).expect(t, http.StatusBadRequest),
	} {
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Errorf("Content-Type = %q", ct)
		}
		got := decoded(t, r).(map[string]any)
		newConformance(t).check("problem", ex, got, "")
		if got["type"] != ex.(map[string]any)["type"] {
			t.Errorf("type = %v, want the errors page", got["type"])
		}
	}
	nf := decoded(t, h.do(http.MethodGet, incidentPath(unknown), nil)).(map[string]any)
	if nf["title"] != "Resource not found" || nf["code"] != client.CodeNotFound {
		t.Errorf("404 problem = %v, want the errors page's title and code", nf)
	}
}

// TestContractAgentAnswers checks the answers of the users, related
// incidents, gamebook and bulk endpoints against their pages' examples.
func TestContractAgentAnswers(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	get := func(file, method, path string, body any) {
		t.Helper()
		ex := example(t, "current/"+file)
		newConformance(t).check(file, ex, decoded(t, h.do(method, path, body).expect(t, http.StatusOK)), "")
	}
	get("profile.json", http.MethodGet, "/api/v2/users/profile", nil)
	get("workspace-users-response.json", http.MethodPost, "/api/v2/users/workspace/users", map[string]any{"accountId": emulator.WorkspaceOwnerID})

	related := newConformance(t)
	gamebooks := newConformance(t)
	// Gamebook statuses are not an incident's: the pages list none.
	gamebooks.enums = map[string][]string{"source": client.EnumStrings[client.Source]()}
	exRelated, exGamebooks := example(t, "current/related-incidents-response.json"), example(t, "current/incident-gamebooks-response.json")
	for _, ref := range h.e.Refs() {
		if ref.WorkspaceID != emulator.WorkspaceOwnerID {
			continue
		}
		q := "?TimeFilteringType=Custom&StartDate=2026-01-01T00:00:00Z"
		related.check(ref.IncidentID, exRelated, decoded(t, h.do(http.MethodGet, "/api/v2/workspaces/"+ref.WorkspaceID+
			"/agent/tools/incidents/"+string(ref.Source)+"/"+url.PathEscape(ref.IncidentID)+"/related-by-entity"+q, nil).expect(t, http.StatusOK)), "")
		gamebooks.check(ref.IncidentID, exGamebooks, decoded(t, h.do(http.MethodGet, "/api/v2/workspaces/"+ref.WorkspaceID+
			"/gamebooks/by-incident/"+url.PathEscape(ref.IncidentID), nil).expect(t, http.StatusOK)), "")
	}
	related.coverage("related incidents", nil)
	gamebooks.coverage("incident gamebooks", map[string]string{
		"data[].originalGamebookId":       "no gamebook is a retry of another",
		"data[].originalGamebookTitle":    "no gamebook is a retry of another",
		"data[].playbooks[].errorMessage": "no action fails",
		"data[].playbooks[].tracingId":    "the emulator traces nothing",
	})
	history := newConformance(t)
	history.enums = gamebooks.enums
	history.check("history", example(t, "current/gamebook-history-response.json"),
		decoded(t, h.do(http.MethodGet, "/api/v2/workspaces/"+emulator.WorkspaceOwnerID+"/gamebooks/history", nil).expect(t, http.StatusOK)), "")

	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceDefenderXDR, client.StatusNew))
	st, _ := h.e.Incident(ref)
	gb := gamebooksOf(t, h, ref)[0]
	submitted := newConformance(t)
	submitted.enums = gamebooks.enums
	submitted.check("submit", example(t, "current/submit-gamebook-response.json"), decoded(t, h.do(http.MethodPost,
		"/api/v2/workspaces/"+ref.WorkspaceID+"/agent/tools/incidents/"+string(ref.Source)+"/"+url.PathEscape(ref.IncidentID)+"/gamebooks",
		submission(gb, st.Number, "ManualInvestigateAndRespond")).expect(t, http.StatusOK)), "")
	get("bulk-update-response.json", http.MethodPost, "/api/v2/incidents/across-workspaces/bulk-update", map[string]any{"items": []any{
		map[string]any{"id": ref.IncidentID, "workspace": ref.WorkspaceID, "incidentSource": string(ref.Source), "status": "Active"},
		map[string]any{"id": "nope", "workspace": emulator.WorkspaceNoRoleID, "incidentSource": "Sentinel", "status": "Active"},
	}})
}
