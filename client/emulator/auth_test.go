package emulator_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

func TestAuthentication(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	cases := []struct {
		name string
		opt  reqOpt
	}{
		{"no credentials", noAuth()},
		{"wrong secret", withCred(emulator.DemoClientID, "cf_sa_wrong")},
		{"secret prefix", withCred(emulator.DemoClientID, emulator.DemoClientSecret[:10])},
		{"unknown client id", withCred("00000000-0000-0000-0000-000000000000", emulator.DemoClientSecret)},
		{"empty secret", withCred(emulator.DemoClientID, "")},
		{"bearer token", withHeader("Authorization", "Bearer "+emulator.DemoClientSecret)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(http.MethodGet, "/api/v2/users", nil, tc.opt)
			p := problemOf(t, r, http.StatusUnauthorized, client.CodeUnauthorized)
			if r.header.Get("WWW-Authenticate") != `Basic realm="ContraForce"` || p.Detail == "" {
				t.Errorf("WWW-Authenticate %q, detail %q", r.header.Get("WWW-Authenticate"), p.Detail)
			}
			if strings.Contains(string(r.body), emulator.DemoClientSecret) {
				t.Error("the answer echoes the secret")
			}
		})
	}
}

func TestScopes(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceDefenderXDR, client.StatusNew, client.StatusActive))
	reader := withCred(emulator.ReaderClientID, emulator.ReaderClientSecret)
	noComment := withCred(emulator.ResponderNoCommentClientID, emulator.ResponderNoCommentClientSecret)
	status := map[string]any{"status": "Active"}
	assign := map[string]any{"email": "analyst@contoso.com"}
	comment := map[string]any{"content": "looking"}
	cases := []struct {
		name        string
		opt         reqOpt
		method, sfx string
		body        any
		status      int
		scope       client.Scope
	}{
		{"reader lists", reader, http.MethodPost, "list", map[string]any{"isFirstCall": true}, 200, ""},
		{"reader gets", reader, http.MethodGet, "", nil, 200, ""},
		{"reader reads comments", reader, http.MethodGet, "/comments", nil, 200, ""},
		{"reader reads evidence", reader, http.MethodGet, "/evidence", nil, 200, ""},
		{"reader lists users", reader, http.MethodGet, "users", nil, 200, ""},
		{"reader cannot change status", reader, http.MethodPut, "/status", status, 403, client.ScopeIncidentsWrite},
		{"reader cannot assign", reader, http.MethodPut, "/assignee", assign, 403, client.ScopeIncidentsWrite},
		{"reader cannot comment", reader, http.MethodPost, "/comments", comment, 403, client.ScopeIncidentsComments},
		{"responder changes status", noComment, http.MethodPut, "/status", status, 204, ""},
		{"responder assigns", noComment, http.MethodPut, "/assignee", assign, 204, ""},
		{"responder cannot comment", noComment, http.MethodPost, "/comments", comment, 403, client.ScopeIncidentsComments},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := incidentPath(ref) + tc.sfx
			switch tc.sfx {
			case "list":
				path = listPath
			case "users":
				path = "/api/v2/users"
			}
			r := h.do(tc.method, path, tc.body, tc.opt)
			if tc.status != http.StatusForbidden {
				r.expect(t, tc.status)
				return
			}
			p := problemOf(t, r, http.StatusForbidden, client.CodeInsufficientScope)
			if !strings.Contains(p.Detail, string(tc.scope)) {
				t.Errorf("detail %q does not name the scope %s", p.Detail, tc.scope)
			}
		})
	}
}

func TestWorkspaceRoles(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	noRole := h.findRef(inWorkspace(emulator.WorkspaceNoRoleID, client.SourceSentinel))
	readOnly := h.findRef(inWorkspace(emulator.WorkspaceReaderID, client.SourceSentinel, client.StatusNew, client.StatusActive))
	responder := h.findRef(inWorkspace(emulator.WorkspaceResponderID, client.SourceSentinel, client.StatusNew))

	// No role: nothing at all, not even reading; an unknown workspace looks the same.
	for _, sfx := range []string{"", "/comments", "/evidence"} {
		problemOf(t, h.do(http.MethodGet, incidentPath(noRole)+sfx, nil), http.StatusForbidden, client.CodeInsufficientWorkspaceRole)
	}
	unknownWS := noRole
	unknownWS.WorkspaceID = "11111111-2222-4333-8444-555555555555"
	problemOf(t, h.do(http.MethodGet, incidentPath(unknownWS), nil), http.StatusForbidden, client.CodeInsufficientWorkspaceRole)

	// WorkspaceReader: reads, but every write is refused as read-only.
	before, _ := h.e.Incident(readOnly)
	beforeComments := len(h.e.Comments(readOnly))
	h.do(http.MethodGet, incidentPath(readOnly), nil).expect(t, http.StatusOK)
	writes := []struct {
		method, sfx string
		body        any
	}{
		{http.MethodPut, "/status", map[string]any{"status": "Active"}},
		{http.MethodPut, "/assignee", map[string]any{"email": "analyst@contoso.com"}},
		{http.MethodPost, "/comments", map[string]any{"content": "hello"}},
	}
	for _, w := range writes {
		p := problemOf(t, h.do(w.method, incidentPath(readOnly)+w.sfx, w.body), http.StatusForbidden, client.CodeInsufficientWorkspaceRole)
		if !strings.Contains(p.Detail, "read-only") || !strings.Contains(p.Detail, string(client.RoleWorkspaceReader)) {
			t.Errorf("%s: detail %q should say the role is read-only", w.sfx, p.Detail)
		}
	}
	if after, _ := h.e.Incident(readOnly); !reflect.DeepEqual(after, before) || len(h.e.Comments(readOnly)) != beforeComments {
		t.Error("a refused write changed the incident")
	}

	// IncidentResponder writes.
	h.do(http.MethodPut, incidentPath(responder)+"/status", map[string]any{"status": "Active"}).expect(t, http.StatusNoContent)

	// Listing covers only the workspaces with a role.
	rows, _ := h.listAll(nil)
	for _, row := range rows {
		if row.WorkspaceID == emulator.WorkspaceNoRoleID {
			t.Fatalf("list returned %s from a workspace without a role", row.ID)
		}
	}
}

func TestAddCredential(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	h.e.AddCredential(emulator.Credential{ClientID: "b1c2d3e4-0000-4000-8000-000000000001", ClientSecret: "cf_sa_northwind",
		Name: "northwind-bot", Scopes: []client.Scope{client.ScopeIncidentsRead, client.ScopeIncidentsComments},
		Roles: map[string]client.WorkspaceRole{emulator.WorkspaceNoRoleID: client.RoleIncidentAnalyst}})
	as := withCred("b1c2d3e4-0000-4000-8000-000000000001", "cf_sa_northwind")
	rows, _ := h.listAll(nil, as)
	if len(rows) == 0 {
		t.Fatal("no incidents for the new credential")
	}
	for _, row := range rows {
		if row.WorkspaceID != emulator.WorkspaceNoRoleID {
			t.Fatalf("row from workspace %s", row.WorkspaceID)
		}
	}
	ref := h.findRef(inWorkspace(emulator.WorkspaceNoRoleID, client.SourceSplunk))
	cm := data[client.Comment](t, h.do(http.MethodPost, incidentPath(ref)+"/comments", map[string]any{"content": "hi"}, as).expect(t, http.StatusCreated))
	if !cm.IsAgentComment || cm.AgentName == nil || *cm.AgentName != "northwind-bot" || cm.AuthorName != "northwind-bot" {
		t.Errorf("comment = %+v", cm)
	}
	var found bool
	for _, u := range h.e.Users() {
		found = found || u.DisplayName == "northwind-bot" && u.IsServiceAccount && u.Email == cm.AuthorEmail
	}
	if !found {
		t.Error("the new credential's service account is not among the users")
	}
}
