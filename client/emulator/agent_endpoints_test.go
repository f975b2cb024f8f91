package emulator_test

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

func TestProfileAndUser(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	p := data[client.Profile](t, h.do(http.MethodGet, "/api/v2/users/profile", nil).expect(t, http.StatusOK))
	if p.Name != emulator.DemoName || p.UserID != emulator.DemoUserID || p.Organization == "" || p.Email == "" {
		t.Errorf("profile = %+v", p)
	}
	// A user's roles are shown only on the caller's workspaces.
	jane := data[client.User](t, h.do(http.MethodGet, "/api/v2/users/"+emulator.UserJaneDoeID, nil).expect(t, http.StatusOK))
	if jane.Email != "jane.doe@contoso.com" || len(jane.RoleAssignments) != 2 {
		t.Errorf("jane = %+v", jane)
	}
	demo := data[client.User](t, h.do(http.MethodGet, "/api/v2/users/"+emulator.DemoUserID, nil).expect(t, http.StatusOK))
	roles := map[string]client.WorkspaceRole{}
	for _, ra := range demo.RoleAssignments {
		roles[ra.WorkspaceID] = ra.Role
	}
	if roles[emulator.WorkspaceOwnerID] != client.RoleOwner || roles[emulator.WorkspaceReaderID] != client.RoleWorkspaceReader || len(roles) != 3 {
		t.Errorf("the demo account's roles = %v", roles)
	}
	problemOf(t, h.do(http.MethodGet, "/api/v2/users/nobody", nil), http.StatusNotFound, client.CodeNotFound)
}

func TestWorkspaceUsers(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	path := "/api/v2/users/workspace/users"
	rows := data[[]client.WorkspaceUser](t, h.do(http.MethodPost, path, map[string]any{"accountId": emulator.WorkspaceOwnerID}).expect(t, http.StatusOK))
	byEmail := map[string]client.WorkspaceRole{}
	for _, r := range rows {
		if r.WorkspaceID != emulator.WorkspaceOwnerID || r.UserID == "" {
			t.Errorf("row %+v", r)
		}
		byEmail[r.Email] = r.Role
	}
	if byEmail["jane.doe@contoso.com"] != client.RoleOwner || byEmail["analyst@contoso.com"] != client.RoleIncidentResponder {
		t.Errorf("roles = %v", byEmail)
	}
	if _, ok := byEmail["olivia.brooks@contoso.com"]; ok {
		t.Error("a deactivated user is listed")
	}
	if _, ok := byEmail["tom.becker@fabrikam.com"]; ok {
		t.Error("a user of another workspace is listed")
	}
	owners := data[[]client.WorkspaceUser](t, h.do(http.MethodPost, path, map[string]any{"accountId": emulator.WorkspaceOwnerID,
		"role": "Owner", "query": "JANE"}).expect(t, http.StatusOK))
	if len(owners) != 1 || owners[0].UserID != emulator.UserJaneDoeID {
		t.Errorf("owners named jane = %+v", owners)
	}
	problemOf(t, h.do(http.MethodPost, path, map[string]any{"accountId": emulator.WorkspaceNoRoleID}), http.StatusForbidden, client.CodeInsufficientWorkspaceRole)
	fieldError(t, problemOf(t, h.do(http.MethodPost, path, map[string]any{"accountId": "x"}), http.StatusBadRequest, client.CodeValidation), "accountId")
	fieldError(t, problemOf(t, h.do(http.MethodPost, path, map[string]any{"accountId": emulator.WorkspaceOwnerID, "role": "Admin"}),
		http.StatusBadRequest, client.CodeValidation), "role")
}

// entityKeys reads an incident's entities: kind → main identifiers.
func entityKeys(t *testing.T, h *harness, ref client.IncidentRef) map[string][]string {
	t.Helper()
	d := data[client.IncidentDetail](t, h.do(http.MethodGet, incidentPath(ref)+"?withDetails=true", nil).expect(t, http.StatusOK))
	out := map[string][]string{}
	for _, en := range d.InvestigationDetails.Entities {
		if en.Kind == "account" {
			out["account"] = append(out["account"], strings.ToLower(en.Properties["upn"].(string)))
		}
	}
	return out
}

func TestRelatedIncidents(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	// The incidents of the owner workspace and their accounts, read the way a client reads them.
	accounts := map[client.IncidentRef][]string{}
	var refs []client.IncidentRef
	for _, ref := range h.e.Refs() {
		if ref.WorkspaceID == emulator.WorkspaceOwnerID {
			refs = append(refs, ref)
			accounts[ref] = entityKeys(t, h, ref)["account"]
		}
	}
	// An incident whose account appears in at least three others.
	var target client.IncidentRef
	var upn string
	for _, ref := range refs {
		for _, a := range accounts[ref] {
			n := 0
			for _, other := range refs {
				if other != ref && slices.Contains(accounts[other], a) {
					n++
				}
			}
			if n >= 3 && upn == "" {
				target, upn = ref, a
			}
		}
	}
	if upn == "" {
		t.Fatal("no account is shared by four incidents")
	}
	q := url.Values{"EntityKind": {"Account"}, "EntityFilter": {strings.ToUpper(upn)}, "TimeFilteringType": {"Custom"},
		"StartDate": {fixedNow.Add(-60 * 24 * time.Hour).Format(time.RFC3339)}}
	path := "/api/v2/workspaces/" + target.WorkspaceID + "/agent/tools/incidents/" + string(target.Source) + "/" +
		url.PathEscape(target.IncidentID) + "/related-by-entity"
	got := data[struct{ Incidents []client.RelatedIncident }](t, h.do(http.MethodGet, path+"?"+q.Encode(), nil).expect(t, http.StatusOK))
	var gotIDs, wantIDs []string
	for _, r := range got.Incidents {
		gotIDs = append(gotIDs, r.ID)
		st, _ := h.e.Incident(client.IncidentRef{WorkspaceID: r.WorkspaceID, Source: r.Source, IncidentID: r.ID})
		if st.Status != r.Status || st.Title != r.Title || (st.Classification == nil) != (r.Classification == nil) {
			t.Errorf("row %s does not match the incident: %+v vs %+v", r.ID, r, st)
		}
	}
	for _, other := range refs {
		if other != target && slices.Contains(accounts[other], upn) {
			wantIDs = append(wantIDs, other.IncidentID)
		}
	}
	slices.Sort(gotIDs)
	slices.Sort(wantIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("related to %s = %v, want %v", upn, gotIDs, wantIDs)
	}
	// The default window is the last 24 hours: a subset.
	day := data[struct{ Incidents []client.RelatedIncident }](t, h.do(http.MethodGet, path+"?EntityKind=account&EntityFilter="+url.QueryEscape(upn), nil).expect(t, http.StatusOK))
	for _, r := range day.Incidents {
		if c, _ := time.Parse(time.RFC3339, r.CreationTime); c.Before(fixedNow.Add(-24 * time.Hour)) {
			t.Errorf("%s is older than the default window", r.ID)
		}
	}
	for _, bad := range []string{"TimeFilteringType=SevenDays", "TimeFilteringType=Custom", "EntityKind=Planet",
		"TimeFilteringType=ThreeHours&StartDate=2026-01-01T00:00:00Z", "TimeFilteringType=Custom&StartDate=yesterday"} {
		problemOf(t, h.do(http.MethodGet, path+"?"+bad, nil), http.StatusBadRequest, client.CodeValidation)
	}
	other := h.findRef(inWorkspace(emulator.WorkspaceNoRoleID, client.SourceSentinel))
	problemOf(t, h.do(http.MethodGet, "/api/v2/workspaces/"+other.WorkspaceID+"/agent/tools/incidents/Sentinel/"+other.IncidentID+"/related-by-entity", nil),
		http.StatusForbidden, client.CodeInsufficientWorkspaceRole)
}

// gamebooksOf lists an incident's gamebooks.
func gamebooksOf(t *testing.T, h *harness, ref client.IncidentRef) []client.Gamebook {
	t.Helper()
	return data[[]client.Gamebook](t, h.do(http.MethodGet, "/api/v2/workspaces/"+ref.WorkspaceID+"/gamebooks/by-incident/"+
		url.PathEscape(ref.IncidentID), nil).expect(t, http.StatusOK))
}

func TestProposedGamebooksActOnTheIncidentsEntities(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceDefenderXDR, client.StatusNew, client.StatusActive))
	d := data[client.IncidentDetail](t, h.do(http.MethodGet, incidentPath(ref)+"?withDetails=true", nil).expect(t, http.StatusOK))
	names := map[string]string{}
	for _, en := range d.InvestigationDetails.Entities {
		names[en.ID] = en.Name()
	}
	gbs := gamebooksOf(t, h, ref)
	if len(gbs) == 0 {
		t.Fatal("no gamebook proposed")
	}
	for _, gb := range gbs {
		if gb.Status != "Pending" || gb.IncidentID != ref.IncidentID || gb.IncidentNumber == 0 || len(gb.Playbooks) == 0 {
			t.Errorf("gamebook %+v", gb)
		}
		for _, p := range gb.Playbooks {
			if names[p.EntityID] != p.AffectedEntity || p.ReferenceID == "" || p.Name == "" {
				t.Errorf("playbook %+v does not act on an entity of the incident", p)
			}
		}
	}
	if again := gamebooksOf(t, h, ref); !reflect.DeepEqual(again, gbs) {
		t.Error("the proposals differ between two reads")
	}
	problemOf(t, h.do(http.MethodGet, "/api/v2/workspaces/"+ref.WorkspaceID+"/gamebooks/by-incident/nope", nil), http.StatusNotFound, client.CodeNotFound)
	problemOf(t, h.do(http.MethodGet, "/api/v2/workspaces/"+ref.WorkspaceID+"/gamebooks/by-incident/"+ref.IncidentID, nil,
		withCred(emulator.ReaderClientID, emulator.ReaderClientSecret)), http.StatusForbidden, client.CodeInsufficientScope)
}

func TestGamebookHistoryPages(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	path := "/api/v2/workspaces/" + emulator.WorkspaceOwnerID + "/gamebooks/history"
	var all []client.Gamebook
	tok, total := "", -1
	for range 50 {
		p := path
		if tok != "" {
			p += "?pageToken=" + url.QueryEscape(tok)
		}
		page := data[client.GamebookHistory](t, h.do(http.MethodGet, p, nil).expect(t, http.StatusOK))
		all = append(all, page.Gamebooks...)
		total = page.TotalCount
		if tok = page.PageToken; tok == "" {
			break
		}
	}
	if total < 5 || len(all) != total {
		t.Fatalf("history: %d rows of totalCount %d", len(all), total)
	}
	for i, gb := range all {
		st, ok := h.e.Incident(client.IncidentRef{WorkspaceID: gb.WorkspaceID, Source: gb.Source, IncidentID: gb.IncidentID})
		if !ok || st.Status != client.StatusClosed || gb.Status != "Success" {
			t.Errorf("seeded run %s of incident %s (%s): status %s", gb.ID, gb.IncidentID, st.Status, gb.Status)
		}
		if i > 0 && gb.CreationDate > all[i-1].CreationDate {
			t.Error("the history is not newest first")
		}
	}
	fieldError(t, problemOf(t, h.do(http.MethodGet, path+"?pageToken=x", nil), http.StatusBadRequest, client.CodeValidation), "pageToken")
	problemOf(t, h.do(http.MethodGet, "/api/v2/workspaces/"+emulator.WorkspaceNoRoleID+"/gamebooks/history", nil), http.StatusForbidden, client.CodeInsufficientWorkspaceRole)
}

// submission builds a valid submission of a gamebook's playbooks.
func submission(gb client.Gamebook, number int, trigger string) map[string]any {
	var ps []map[string]any
	for i, p := range gb.Playbooks {
		ps = append(ps, map[string]any{"playbook_id": p.ReferenceID, "entity_id": p.EntityID, "affected_entity": p.AffectedEntity, "sequence": i + 1})
	}
	return map[string]any{"incident_number": number, "incident_title": "t", "trigger_type": trigger, "playbooks": ps}
}

func TestSubmitGamebook(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	submitPath := func(ref client.IncidentRef) string {
		return "/api/v2/workspaces/" + ref.WorkspaceID + "/agent/tools/incidents/" + string(ref.Source) + "/" + url.PathEscape(ref.IncidentID) + "/gamebooks"
	}
	for _, tc := range []struct {
		ws         string
		wantStatus string
	}{
		{emulator.WorkspaceOwnerID, "Success"},
		{emulator.WorkspaceResponderID, "PendingApproval"}, // an IncidentResponder's high-impact actions wait for an Owner
	} {
		ref := h.findRef(func(st emulator.IncidentState, r client.IncidentRef) bool {
			if r.WorkspaceID != tc.ws || st.Status == client.StatusClosed {
				return false
			}
			gbs := gamebooksOf(t, h, r)
			return len(gbs) > 0 && gbs[0].IsAdminRequired
		})
		st, _ := h.e.Incident(ref)
		gb := gamebooksOf(t, h, ref)[0]
		res := data[client.SubmitGamebookResult](t, h.do(http.MethodPost, submitPath(ref), submission(gb, st.Number, "ManualInvestigateAndRespond")).expect(t, http.StatusOK))
		if !res.Success || res.Status != tc.wantStatus || res.GamebookID == "" {
			t.Errorf("%s: submit = %+v, want status %s", tc.ws, res, tc.wantStatus)
		}
		runs := h.e.GamebookRuns(ref)
		if len(runs) != 1 || runs[0].ID != res.GamebookID || len(runs[0].Playbooks) != len(gb.Playbooks) {
			t.Fatalf("runs = %+v", runs)
		}
		if listed := gamebooksOf(t, h, ref); listed[0].ID != res.GamebookID {
			t.Errorf("the run is not listed first for the incident")
		}
	}
	if n := h.e.Stats().Applied[emulator.EndpointSubmitGamebook]; n != 2 {
		t.Errorf("applied %d submissions, want 2", n)
	}

	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceDefenderXDR, client.StatusNew))
	st, _ := h.e.Incident(ref)
	gb := gamebooksOf(t, h, ref)[0]
	bad := func(mutate func(m map[string]any)) map[string]any {
		m := submission(gb, st.Number, "ManualInvestigateAndRespond")
		mutate(m)
		return m
	}
	for name, tc := range map[string]struct {
		body map[string]any
		key  string
	}{
		"no playbooks":      {bad(func(m map[string]any) { m["playbooks"] = []any{} }), "playbooks"},
		"investigate only":  {bad(func(m map[string]any) { m["trigger_type"] = "ManualInvestigateOnly" }), "trigger_type"},
		"unknown trigger":   {bad(func(m map[string]any) { m["trigger_type"] = "Now" }), "trigger_type"},
		"wrong number":      {bad(func(m map[string]any) { m["incident_number"] = st.Number + 1 }), "incident_number"},
		"unknown playbook":  {bad(func(m map[string]any) { m["playbooks"].([]map[string]any)[0]["playbook_id"] = "nope" }), "playbooks[0].playbook_id"},
		"unknown entity":    {bad(func(m map[string]any) { m["playbooks"].([]map[string]any)[0]["entity_id"] = "nope" }), "playbooks[0].entity_id"},
		"other entity name": {bad(func(m map[string]any) { m["playbooks"].([]map[string]any)[0]["affected_entity"] = "x" }), "playbooks[0].affected_entity"},
		"repeated sequence": {bad(func(m map[string]any) { m["playbooks"].([]map[string]any)[0]["sequence"] = 0 }), "playbooks[0].sequence"},
	} {
		t.Run(name, func(t *testing.T) {
			fieldError(t, problemOf(t, h.do(http.MethodPost, submitPath(ref), tc.body), http.StatusBadRequest, client.CodeValidation), tc.key)
		})
	}
	low := h.findRef(func(s emulator.IncidentState, r client.IncidentRef) bool {
		return r.WorkspaceID == emulator.WorkspaceOwnerID && s.Severity == client.SeverityLow && len(gamebooksOf(t, h, r)) > 0
	})
	lowSt, _ := h.e.Incident(low)
	lowRuns := len(h.e.GamebookRuns(low))
	fieldError(t, problemOf(t, h.do(http.MethodPost, submitPath(low), submission(gamebooksOf(t, h, low)[0], lowSt.Number, "OnQueue")),
		http.StatusBadRequest, client.CodeValidation), "trigger_type")
	reader := h.findRef(inWorkspace(emulator.WorkspaceReaderID, client.SourceSentinel))
	problemOf(t, h.do(http.MethodPost, submitPath(reader), map[string]any{}), http.StatusForbidden, client.CodeInsufficientWorkspaceRole)
	problemOf(t, h.do(http.MethodPost, submitPath(ref), submission(gb, st.Number, "ManualInvestigateAndRespond"),
		withCred(emulator.ResponderNoCommentClientID, emulator.ResponderNoCommentClientSecret)), http.StatusForbidden, client.CodeInsufficientScope)
	if len(h.e.GamebookRuns(ref)) != 0 || len(h.e.GamebookRuns(low)) != lowRuns {
		t.Error("a refused submission was recorded")
	}
}

func TestBulkUpdate(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	open := client.StatusActive
	owned := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceDefenderXDR, client.StatusNew, client.StatusActive))
	sentinel := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceSentinel, client.StatusNew, client.StatusActive))
	readOnly := h.findRef(inWorkspace(emulator.WorkspaceReaderID, client.SourceSentinel, client.StatusNew, client.StatusActive))
	noRole := h.findRef(inWorkspace(emulator.WorkspaceNoRoleID, client.SourceSentinel))
	item := func(ref client.IncidentRef, extra map[string]any) map[string]any {
		m := map[string]any{"id": ref.IncidentID, "workspace": ref.WorkspaceID, "incidentSource": string(ref.Source)}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	path := "/api/v2/incidents/across-workspaces/bulk-update"
	// Validation is of the whole body: nothing is applied.
	p := problemOf(t, h.do(http.MethodPost, path, map[string]any{"items": []any{
		item(owned, map[string]any{"status": "Active"}), item(sentinel, map[string]any{"status": "Closed", "comment": "x"})}}),
		http.StatusBadRequest, client.CodeValidation)
	fieldError(t, p, "items[1].classification")
	for _, body := range []map[string]any{
		{"items": []any{}},
		{"items": []any{item(owned, map[string]any{"user": map[string]any{"email": "nobody@x.example"}})}},
		{"items": []any{item(owned, map[string]any{"user": map[string]any{"id": emulator.UserAnalystID}, "removeAssignee": true})}},
		{"items": []any{item(owned, nil)}},
	} {
		problemOf(t, h.do(http.MethodPost, path, body), http.StatusBadRequest, client.CodeValidation)
	}
	if h.e.Stats().Applied[emulator.EndpointBulkUpdate] != 0 {
		t.Fatal("a refused body was applied")
	}
	before, _ := h.e.Incident(readOnly)
	res := data[client.BulkUpdateResult](t, h.do(http.MethodPost, path, map[string]any{"items": []any{
		item(owned, map[string]any{"status": open, "user": map[string]any{"email": "ANALYST@contoso.com"}, "comment": "bulk note"}),
		item(readOnly, map[string]any{"status": open}),
		item(noRole, map[string]any{"status": open}),
		item(client.IncidentRef{WorkspaceID: emulator.WorkspaceOwnerID, Source: client.SourceSentinel, IncidentID: "nope"}, map[string]any{"status": open}),
	}}).expect(t, http.StatusOK))
	if !slices.Equal(res.Accepted, []string{owned.IncidentID}) || len(res.Forbidden) != 3 {
		t.Fatalf("result = %+v", res)
	}
	for _, f := range res.Forbidden {
		if f.Reason == "" || f.WorkspaceID == "" {
			t.Errorf("forbidden without reason: %+v", f)
		}
	}
	after, _ := h.e.Incident(owned)
	cms := h.e.Comments(owned)
	if after.Status != client.StatusActive || after.Assignee == nil || after.Assignee.ID != emulator.UserAnalystID ||
		cms[len(cms)-1].Message != "bulk note" || !cms[len(cms)-1].IsAgentComment {
		t.Errorf("the accepted incident is %+v, last comment %+v", after, cms[len(cms)-1])
	}
	if ro, _ := h.e.Incident(readOnly); ro.Status != before.Status || ro.UpdatedAt != before.UpdatedAt {
		t.Error("a forbidden incident changed")
	}
	// removeAssignee unassigns.
	data[client.BulkUpdateResult](t, h.do(http.MethodPost, path, map[string]any{"items": []any{item(owned, map[string]any{"removeAssignee": true})}}).expect(t, http.StatusOK))
	if st, _ := h.e.Incident(owned); st.Assignee != nil {
		t.Errorf("still assigned to %+v", st.Assignee)
	}
}
