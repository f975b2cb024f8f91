package emulator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// dump renders the whole dataset through the API: every incident with
// details, its comments, and the users (meta stripped).
func dump(t *testing.T, h *harness) []byte {
	t.Helper()
	cred := emulator.Credential{ClientID: "dump", ClientSecret: "cf_sa_dump", Name: "dump",
		Scopes: []client.Scope{client.ScopeIncidentsRead}, Roles: map[string]client.WorkspaceRole{}}
	for _, ws := range h.e.Workspaces() {
		cred.Roles[ws.ID] = client.RoleWorkspaceReader
	}
	h.e.AddCredential(cred)
	h.hc = &http.Client{} // keep-alive: hundreds of requests
	as := withCred("dump", "cf_sa_dump")
	var buf bytes.Buffer
	for _, ref := range h.e.Refs() {
		d := data[json.RawMessage](t, h.do(http.MethodGet, incidentPath(ref)+"?withDetails=true", nil, as).expect(t, http.StatusOK))
		c := data[json.RawMessage](t, h.do(http.MethodGet, incidentPath(ref)+"/comments", nil, as).expect(t, http.StatusOK))
		buf.Write(d)
		buf.Write(c)
	}
	buf.Write(data[json.RawMessage](t, h.do(http.MethodGet, "/api/v2/users", nil, as).expect(t, http.StatusOK)))
	return buf.Bytes()
}

func TestDatasetIsDeterministic(t *testing.T) {
	a := dump(t, newHarness(t, emulator.Options{Seed: 7}))
	b := dump(t, newHarness(t, emulator.Options{Seed: 7}))
	if !bytes.Equal(a, b) {
		t.Fatal("two emulators with the same seed and clock serve different datasets")
	}
	if c := dump(t, newHarness(t, emulator.Options{Seed: 8})); bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 serve the same dataset")
	}
	zero, one := newHarness(t, emulator.Options{}), newHarness(t, emulator.Options{Seed: 1})
	if !reflect.DeepEqual(zero.e.Refs(), one.e.Refs()) {
		t.Fatal("seed 0 is not the default seed 1")
	}
}

var idStyles = map[client.Source]*regexp.Regexp{
	client.SourceSentinel:    regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`),
	client.SourceDefenderXDR: regexp.MustCompile(`^[0-9]{5,6}$`),
	client.SourceQRadar:      regexp.MustCompile(`^[0-9]{4,5}$`),
	client.SourceSplunk:      regexp.MustCompile(`^[0-9A-F-]{36}@@notable@@[0-9a-f]{32}$`),
	client.SourceCrowdStrike: regexp.MustCompile(`^inc:[0-9a-f]{32}:[0-9a-f]{32}$`),
	client.SourceSentinelOne: regexp.MustCompile(`^[0-9]{19}$`),
}

func TestDatasetShape(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	refs := h.e.Refs()
	if len(refs) < 300 {
		t.Fatalf("%d incidents, want 300+", len(refs))
	}
	if ws := h.e.Workspaces(); len(ws) != 4 {
		t.Fatalf("%d workspaces, want 4", len(ws))
	}
	tricky := map[client.IncidentRef]bool{}
	for _, ti := range emulator.TrickyIncidents() {
		tricky[ti.Ref] = true
	}
	seen := map[client.IncidentRef]bool{}
	numbers := map[string]map[int]bool{}
	count := map[string]int{}
	var agent, activity, closing int
	for _, ref := range refs {
		if seen[ref] {
			t.Fatalf("duplicate ref %v", ref)
		}
		seen[ref] = true
		inc, ok := h.e.Incident(ref)
		if !ok {
			t.Fatalf("Refs lists %v but Incident does not find it", ref)
		}
		count["src:"+string(ref.Source)]++
		count["ws:"+ref.WorkspaceID]++
		count["sev:"+string(inc.Severity)]++
		count["st:"+string(inc.Status)]++
		if inc.Assignee != nil {
			count["assigned"]++
		}
		if !tricky[ref] && !idStyles[ref.Source].MatchString(ref.IncidentID) {
			t.Errorf("%s id %q is not in the source's style", ref.Source, ref.IncidentID)
		}
		if numbers[ref.WorkspaceID] == nil {
			numbers[ref.WorkspaceID] = map[int]bool{}
		}
		if numbers[ref.WorkspaceID][inc.Number] {
			t.Errorf("number %d repeated in workspace %s", inc.Number, ref.WorkspaceID)
		}
		numbers[ref.WorkspaceID][inc.Number] = true
		created, err := time.Parse(time.RFC3339, inc.CreatedAt)
		if err != nil || created.After(fixedNow) || fixedNow.Sub(created) > 30*24*time.Hour {
			t.Errorf("%v created %q: want within the 30 days before now", ref, inc.CreatedAt)
		}
		surfaces := ref.Source == client.SourceSentinel || ref.Source == client.SourceDefenderXDR
		hasVerdict := inc.Classification != nil && inc.ClassificationReason != nil
		if want := inc.Status == client.StatusClosed && surfaces; hasVerdict != want {
			t.Errorf("%v (%s): classification %v, want present=%v", ref, inc.Status, inc.Classification, want)
		}
		for _, c := range h.e.Comments(ref) {
			if c.IsAgentComment {
				agent++
				if c.AgentName == nil || *c.AgentName == "" {
					t.Errorf("agent comment without agentName on %v", ref)
				}
			}
			if c.IsActivityComment {
				activity++
			}
			if c.IsClosingComment {
				closing++
			}
		}
	}
	for _, key := range []string{"assigned"} {
		if count[key] == 0 {
			t.Errorf("no incident is %s", key)
		}
	}
	for _, s := range client.Source("").Values() {
		if count["src:"+string(s)] < 10 {
			t.Errorf("source %s has %d incidents, want 10+", s, count["src:"+string(s)])
		}
	}
	for _, s := range client.Severity("").Values() {
		if count["sev:"+string(s)] == 0 {
			t.Errorf("no %s incident", s)
		}
	}
	for _, s := range client.Status("").Values() {
		if count["st:"+string(s)] < 10 {
			t.Errorf("%d %s incidents, want 10+", count["st:"+string(s)], s)
		}
	}
	for _, ws := range h.e.Workspaces() {
		if count["ws:"+ws.ID] < 50 {
			t.Errorf("workspace %s has %d incidents", ws.Name, count["ws:"+ws.ID])
		}
	}
	if agent == 0 || activity == 0 || closing == 0 {
		t.Errorf("comments: %d agent, %d activity, %d closing; want some of each", agent, activity, closing)
	}
}

func TestDatasetDetails(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	queries := map[client.Source]string{
		client.SourceSentinel: "| where ", client.SourceDefenderXDR: "| project ", client.SourceQRadar: "SELECT ",
		client.SourceSplunk: "| ", client.SourceCrowdStrike: "#event_simpleName", client.SourceSentinelOne: "EventType = ",
	}
	for _, src := range client.Source("").Values() {
		ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, src))
		d := data[client.IncidentDetail](t, h.do(http.MethodGet, incidentPath(ref)+"?withDetails=true", nil).expect(t, http.StatusOK))
		if d.Source != src || d.Incident.ID != ref.IncidentID || d.Incident.Title == "" || d.Incident.ProviderIncidentURL == "" {
			t.Errorf("%s: incident %+v", src, d.Incident)
		}
		if d.InvestigationDetails == nil || len(d.InvestigationDetails.Alerts) == 0 || len(d.InvestigationDetails.Entities) == 0 {
			t.Fatalf("%s: investigation details %+v", src, d.InvestigationDetails)
		}
		if d.Incident.AlertsCount != len(d.InvestigationDetails.Alerts) || len(d.Incident.Tactics) == 0 {
			t.Errorf("%s: alertsCount %d for %d alerts, tactics %v", src, d.Incident.AlertsCount, len(d.InvestigationDetails.Alerts), d.Incident.Tactics)
		}
		ev := d.Evidence
		if ev == nil || !strings.Contains(ev.Query, queries[src]) || len(ev.Columns) == 0 || len(ev.Rows) < 3 {
			t.Fatalf("%s: evidence %+v", src, ev)
		}
		for _, row := range ev.Rows {
			if len(row) != len(ev.Columns) {
				t.Fatalf("%s: row %v for %d columns", src, row, len(ev.Columns))
			}
		}
		got := data[client.Evidence](t, h.do(http.MethodGet, incidentPath(ref)+"/evidence", nil).expect(t, http.StatusOK))
		if got.Query != ev.Query || len(got.Rows) != len(ev.Rows) {
			t.Errorf("%s: GET evidence differs from the incident's evidence", src)
		}
		// Without details, the heavy parts are null (the members stay, as documented).
		raw := h.do(http.MethodGet, incidentPath(ref), nil).expect(t, http.StatusOK).body
		if !bytes.Contains(raw, []byte(`"investigationDetails":null`)) || !bytes.Contains(raw, []byte(`"evidence":null`)) ||
			!bytes.Contains(raw, []byte(`"gamebookCatalog":null`)) {
			t.Errorf("%s: details sent without withDetails=true: %s", src, raw)
		}
	}
}

func TestTrickyIncidents(t *testing.T) {
	h := newHarness(t, emulator.Options{Seed: 42})
	checks := map[string]func(d client.IncidentDetail, comments []client.Comment) bool{
		emulator.TrickyPromptInjection: func(d client.IncidentDetail, cs []client.Comment) bool {
			return strings.Contains(strings.ToLower(d.Incident.Description), "ignore all previous instructions") &&
				strings.Contains(strings.ToLower(cs[len(cs)-1].Message), "ignore all previous instructions")
		},
		emulator.TrickyBidiOverride: func(d client.IncidentDetail, _ []client.Comment) bool {
			for _, en := range d.InvestigationDetails.Entities {
				if en.Kind == "file" && strings.ContainsRune(en.Name(), '\u202e') {
					return true
				}
			}
			return false
		},
		emulator.TrickyLongDescription: func(d client.IncidentDetail, _ []client.Comment) bool {
			return len(d.Incident.Description) > 20000
		},
		emulator.TrickyPathUnsafeID: func(d client.IncidentDetail, _ []client.Comment) bool {
			return strings.Contains(d.Incident.ID, "/") && strings.Contains(d.Incident.ID, "%")
		},
		emulator.TrickyControlChars: func(d client.IncidentDetail, _ []client.Comment) bool {
			return strings.Contains(d.Incident.Description, "\x1b[") && strings.ContainsRune(d.Incident.Title, '\u200b')
		},
	}
	list := emulator.TrickyIncidents()
	if len(list) != len(checks) {
		t.Fatalf("%d tricky incidents, want %d", len(list), len(checks))
	}
	firstPage := map[string]bool{}
	for _, row := range data[client.ListIncidentsData](t, h.do(http.MethodPost, listPath, map[string]any{"isFirstCall": true}).expect(t, http.StatusOK)).Incidents {
		firstPage[row.ID] = true
	}
	for _, ti := range list {
		d := data[client.IncidentDetail](t, h.do(http.MethodGet, incidentPath(ti.Ref)+"?withDetails=true", nil).expect(t, http.StatusOK))
		cs := data[[]client.Comment](t, h.do(http.MethodGet, incidentPath(ti.Ref)+"/comments", nil).expect(t, http.StatusOK))
		if !checks[ti.Name](d, cs) {
			t.Errorf("%s (%v): tricky content missing", ti.Name, ti.Ref)
		}
		if d.Incident.Status != client.StatusNew || d.Incident.User.Value != nil || !firstPage[ti.Ref.IncidentID] {
			t.Errorf("%s: want New, unassigned and on the first page", ti.Name)
		}
	}
}

func TestUsers(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	users := data[[]client.User](t, h.do(http.MethodGet, "/api/v2/users", nil).expect(t, http.StatusOK))
	byID := map[string]client.User{}
	for _, u := range users {
		byID[u.ID] = u
		for _, ra := range u.RoleAssignments {
			if ra.WorkspaceID == emulator.WorkspaceNoRoleID {
				t.Errorf("user %s shows a role on a workspace the caller cannot see", u.DisplayName)
			}
		}
	}
	demo := byID[emulator.DemoUserID]
	if !demo.IsServiceAccount || demo.DisplayName != emulator.DemoName || len(demo.RoleAssignments) != 3 {
		t.Errorf("demo service account user = %+v", demo)
	}
	if u := byID[emulator.UserInactiveID]; u.Active() {
		t.Errorf("inactive user = %+v", u)
	}
	if u := byID[emulator.UserJaneDoeID]; u.Email != "jane.doe@contoso.com" || u.IsServiceAccount {
		t.Errorf("Jane Doe = %+v", u)
	}
	if len(users) != len(h.e.Users()) {
		t.Errorf("GET /users lists %d users, the organisation has %d", len(users), len(h.e.Users()))
	}
}
