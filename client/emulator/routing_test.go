package emulator_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

func TestUnknownPathIs404Problem(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	for _, path := range []string{"/api/v2/nope", "/", "/api/v1/users", "/api/v2/users/extra/more"} {
		p := problemOf(t, h.do(http.MethodGet, path, nil), http.StatusNotFound, client.CodeNotFound)
		if p.Type != "about:blank" || p.Instance != path {
			t.Errorf("%s: type %q instance %q", path, p.Type, p.Instance)
		}
	}
}

func TestWrongMethodIs405Problem(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ref := h.e.Refs()[0]
	cases := []struct{ method, path, allow string }{
		{http.MethodGet, listPath, "POST"},
		{http.MethodDelete, incidentPath(ref) + "/status", "PUT"},
		{http.MethodPost, incidentPath(ref), "GET"},
		{http.MethodPut, incidentPath(ref) + "/comments", "GET, POST"},
		{http.MethodPost, "/api/v2/users", "GET"},
	}
	for _, tc := range cases {
		r := h.do(tc.method, tc.path, nil)
		p := problemOf(t, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		if r.header.Get("Allow") != tc.allow || p.Detail == "" {
			t.Errorf("%s %s: Allow %q detail %q, want Allow %q", tc.method, tc.path, r.header.Get("Allow"), p.Detail, tc.allow)
		}
	}
}

func TestEveryAnswerCarriesARequestID(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceSplunk))
	answers := []*response{
		h.do(http.MethodGet, "/api/v2/users", nil),
		h.do(http.MethodPut, incidentPath(ref)+"/status", map[string]any{"status": "Active"}),
		h.do(http.MethodGet, "/api/v2/users", nil, noAuth()),
		h.do(http.MethodGet, "/api/v2/missing", nil),
		h.do(http.MethodDelete, "/api/v2/users", nil),
	}
	wantStatus := []int{200, 204, 401, 404, 405}
	seen := map[string]bool{}
	for i, r := range answers {
		id := r.header.Get("X-Request-Id")
		if r.status != wantStatus[i] || id == "" || seen[id] {
			t.Errorf("answer %d: status %d, X-Request-Id %q (want %d with a fresh id)", i, r.status, id, wantStatus[i])
		}
		seen[id] = true
	}
	if len(answers[1].body) != 0 {
		t.Errorf("204 with a body: %s", answers[1].body)
	}
}

func TestPathParameters(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	sentinel := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceSentinel))
	wrongSource := sentinel
	wrongSource.Source = client.SourceDefenderXDR
	unknown := sentinel
	unknown.IncidentID = "00000000-0000-4000-8000-000000000000"

	// An id with "/", " ", "%" and "@", escaped in the path, is found.
	for _, ti := range emulator.TrickyIncidents() {
		if ti.Name != emulator.TrickyPathUnsafeID {
			continue
		}
		if !strings.Contains(incidentPath(ti.Ref), "%2F") {
			t.Fatalf("path %s does not escape the slash", incidentPath(ti.Ref))
		}
		for _, suffix := range []string{"", "/comments", "/evidence"} {
			h.do(http.MethodGet, incidentPath(ti.Ref)+suffix, nil).expect(t, http.StatusOK)
		}
		d := data[client.IncidentDetail](t, h.do(http.MethodGet, incidentPath(ti.Ref), nil))
		if d.Incident.ID != ti.Ref.IncidentID {
			t.Errorf("got incident %q, want %q", d.Incident.ID, ti.Ref.IncidentID)
		}
	}

	p := problemOf(t, h.do(http.MethodGet, incidentPath(wrongSource), nil), http.StatusNotFound, client.CodeNotFound)
	if p.Target != "incidentId" || !strings.Contains(p.Detail, sentinel.IncidentID) {
		t.Errorf("wrong source: %+v", p)
	}
	problemOf(t, h.do(http.MethodGet, incidentPath(unknown)+"/comments", nil), http.StatusNotFound, client.CodeNotFound)

	bad := "/api/v2/workspaces/" + sentinel.WorkspaceID + "/incidents/Elastic/" + sentinel.IncidentID
	fieldError(t, problemOf(t, h.do(http.MethodGet, bad, nil), http.StatusBadRequest, client.CodeValidation), "source")
	lower := "/api/v2/workspaces/" + sentinel.WorkspaceID + "/incidents/sentinel/" + sentinel.IncidentID
	fieldError(t, problemOf(t, h.do(http.MethodGet, lower, nil), http.StatusBadRequest, client.CodeValidation), "source")

	notGUID := "/api/v2/workspaces/ws-abc123/incidents/Sentinel/" + sentinel.IncidentID
	problemOf(t, h.do(http.MethodGet, notGUID, nil), http.StatusNotFound, client.CodeNotFound)

	// The workspace GUID is case-insensitive.
	upper := "/api/v2/workspaces/" + strings.ToUpper(sentinel.WorkspaceID) + "/incidents/Sentinel/" + sentinel.IncidentID
	h.do(http.MethodGet, upper, nil).expect(t, http.StatusOK)

	fieldError(t, problemOf(t, h.do(http.MethodGet, incidentPath(sentinel)+"?withDetails=yes", nil),
		http.StatusBadRequest, client.CodeValidation), "withDetails")
}

func TestLegacyErrorEnvelope(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceSentinel))
	r := h.do(http.MethodPost, incidentPath(ref)+"/comments", map[string]any{"content": "  "}, withHeader(emulator.LegacyErrorsHeader, "1"))
	r.expect(t, http.StatusBadRequest)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	var le struct {
		Error struct {
			Code    string   `json:"code"`
			Message string   `json:"message"`
			Target  string   `json:"target"`
			Details []string `json:"details"`
		} `json:"error"`
		Meta client.Meta `json:"meta"`
	}
	if err := json.Unmarshal(r.body, &le); err != nil {
		t.Fatal(err)
	}
	if le.Error.Code != client.CodeValidation || le.Error.Message == "" || le.Error.Target != "content" ||
		len(le.Error.Details) != 1 || !strings.HasPrefix(le.Error.Details[0], "content: ") ||
		le.Meta.RequestID != r.header.Get("X-Request-Id") || le.Meta.Timestamp == "" {
		t.Errorf("legacy error = %+v", le)
	}
	nf := h.do(http.MethodGet, "/api/v2/nowhere", nil, withHeader(emulator.LegacyErrorsHeader, "1"))
	if nf.status != http.StatusNotFound || !strings.Contains(string(nf.body), `"code":"NOT_FOUND"`) {
		t.Errorf("legacy 404: %d %s", nf.status, nf.body)
	}
}

func TestProblemTypes(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	p := problemOf(t, h.do(http.MethodPost, listPath, map[string]any{"severities": []string{"Critical"}}), http.StatusBadRequest, client.CodeValidation)
	if p.Type != "https://docs.contraforce.com/api-reference/errors" || p.Title != "Validation failed" || p.Instance != listPath || p.Target != "severities[0]" {
		t.Errorf("problem = %+v", p)
	}
}
