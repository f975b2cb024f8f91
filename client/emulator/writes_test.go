package emulator_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

var demoSAEmail = "contraforce-mcp-demo@serviceaccounts.contraforce.com"

func TestStatusValidation(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	sentinel := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceSentinel, client.StatusActive))
	cases := []struct {
		name string
		body any
		keys []string
	}{
		{"sentinel close without verdict", map[string]any{"status": "Closed"}, []string{"classification", "classificationReason"}},
		{"sentinel close without reason", map[string]any{"status": "Closed", "classification": "TruePositive"}, []string{"classificationReason"}},
		{"sentinel close without classification", map[string]any{"status": "Closed", "classificationReason": "SuspiciousActivity"}, []string{"classification"}},
		{"missing status", map[string]any{"comment": "x"}, []string{"status"}},
		{"unknown status", map[string]any{"status": "Resolved"}, []string{"status"}},
		{"unknown classification", map[string]any{"status": "Active", "classification": "Benign"}, []string{"classification"}},
		{"unknown reason", map[string]any{"status": "Active", "classificationReason": "Because"}, []string{"classificationReason"}},
		{"updateTicket without ticketId", map[string]any{"status": "Active", "updateTicket": true}, []string{"ticketId"}},
		{"updateTicket with blank ticketId", map[string]any{"status": "Active", "updateTicket": true, "ticketId": " "}, []string{"ticketId"}},
		{"comment too long", map[string]any{"status": "Active", "comment": strings.Repeat("a", 30001)}, []string{"comment"}},
		{"body source disagrees", map[string]any{"status": "Active", "source": "QRadar"}, []string{"source"}},
		{"body source, even the path's", map[string]any{"status": "Active", "source": "Sentinel"}, []string{"source"}},
	}
	before, _ := h.e.Incident(sentinel)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := problemOf(t, h.do(http.MethodPut, incidentPath(sentinel)+"/status", tc.body), http.StatusBadRequest, client.CodeValidation)
			for _, k := range tc.keys {
				fieldError(t, p, k)
			}
			if len(p.Errors) != len(tc.keys) {
				t.Errorf("errors = %v, want only %v", p.Errors, tc.keys)
			}
		})
	}
	if after, _ := h.e.Incident(sentinel); after.Status != before.Status || after.UpdatedAt != before.UpdatedAt {
		t.Error("a rejected status change was applied")
	}
	if got := h.e.Stats().Applied[emulator.EndpointUpdateStatus]; got != 0 {
		t.Errorf("Applied = %d after rejected writes", got)
	}
}

func TestCloseAndReopenSentinel(t *testing.T) {
	now := fixedNow
	h := newHarness(t, emulator.Options{Now: func() time.Time { return now }})
	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceSentinel, client.StatusNew))
	n := len(h.e.Comments(ref))
	now = fixedNow.Add(time.Minute)
	h.do(http.MethodPut, incidentPath(ref)+"/status", map[string]any{
		"status": "Closed", "classification": "FalsePositive", "classificationReason": "InaccurateData",
		"comment": "Confirmed benign. User was traveling.", "updateTicket": true, "ticketId": "INC0042",
		"unknownMember": "ignored",
	}).expect(t, http.StatusNoContent)

	d := data[client.IncidentDetail](t, h.do(http.MethodGet, incidentPath(ref)+"?withDetails=true", nil).expect(t, http.StatusOK))
	got := d.Incident
	if got.Status != client.StatusClosed || got.Classification.Value == nil || *got.Classification.Value != client.ClassificationFalsePositive ||
		got.ClassificationReason.Value == nil || *got.ClassificationReason.Value != client.ReasonInaccurateData ||
		got.TicketID.Value == nil || *got.TicketID.Value != "INC0042" ||
		got.ClassificationComment == nil || *got.ClassificationComment != "Confirmed benign. User was traveling." {
		t.Fatalf("after closing: %+v", got)
	}
	if want := now.Format(time.RFC3339); got.UpdatedAt != want || got.LastActivityTime != want {
		t.Errorf("updatedAt %s lastActivityTime %s, want %s", got.UpdatedAt, got.LastActivityTime, want)
	}
	for _, a := range d.InvestigationDetails.Alerts {
		if a.Status != "Resolved" {
			t.Errorf("alert %s still %s after closing", a.ID, a.Status)
		}
	}
	cs := data[[]client.Comment](t, h.do(http.MethodGet, incidentPath(ref)+"/comments", nil).expect(t, http.StatusOK))
	if len(cs) != n+1 {
		t.Fatalf("%d comments, want %d", len(cs), n+1)
	}
	c := cs[len(cs)-1]
	if c.Message != "Confirmed benign. User was traveling." || !c.IsClosingComment || !c.IsAgentComment || c.IsActivityComment ||
		c.AgentName == nil || *c.AgentName != emulator.DemoName || c.AuthorEmail != demoSAEmail || c.AuthorName != emulator.DemoName ||
		c.TicketID == nil || *c.TicketID != "INC0042" || c.CreatedTime != now.Format(time.RFC3339) {
		t.Errorf("closing comment = %+v", c)
	}
	row := findRow(t, h, ref, map[string]any{"statuses": []string{"Closed"}})
	if row.Classification.Value == nil || row.ClassificationComment == nil || row.LastModificationTime != now.Format(time.RFC3339) {
		t.Errorf("list row after closing = %+v", row)
	}

	// Reopening clears the verdict; its comment is a plain one.
	now = now.Add(time.Minute)
	h.do(http.MethodPut, incidentPath(ref)+"/status", map[string]any{"status": "Active", "comment": "Reopened: new evidence."}).expect(t, http.StatusNoContent)
	inc, _ := h.e.Incident(ref)
	if inc.Status != client.StatusActive || inc.Classification != nil || inc.ClassificationReason != nil || inc.ClassificationComment != nil {
		t.Errorf("after reopening: %+v", inc)
	}
	cs = h.e.Comments(ref)
	if c := cs[len(cs)-1]; c.IsClosingComment || c.Message != "Reopened: new evidence." || c.TicketID != nil {
		t.Errorf("reopen comment = %+v", c)
	}
	// A blank comment is no comment.
	h.do(http.MethodPut, incidentPath(ref)+"/status", map[string]any{"status": "New", "comment": "   "}).expect(t, http.StatusNoContent)
	if got := len(h.e.Comments(ref)); got != len(cs) {
		t.Errorf("a blank status comment was recorded")
	}
	if got := h.e.Stats().Applied[emulator.EndpointUpdateStatus]; got != 3 {
		t.Errorf("Applied = %d, want 3", got)
	}
}

// findRow lists with a filter and returns the row of ref.
func findRow(t *testing.T, h *harness, ref client.IncidentRef, filter map[string]any) client.IncidentSummary {
	t.Helper()
	rows, _ := h.listAll(filter)
	for _, r := range rows {
		if r.ID == ref.IncidentID && r.WorkspaceID == ref.WorkspaceID {
			return r
		}
	}
	t.Fatalf("%v not listed with %v", ref, filter)
	return client.IncidentSummary{}
}

func TestClassificationPerSource(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	verdict := map[string]any{"status": "Closed", "classification": "TruePositive", "classificationReason": "Malware"}
	cases := []struct {
		src  client.Source
		body map[string]any
		kept bool
	}{
		{client.SourceDefenderXDR, verdict, true},
		{client.SourceDefenderXDR, map[string]any{"status": "Closed"}, false}, // optional outside Sentinel
		{client.SourceQRadar, verdict, false},
		{client.SourceSplunk, map[string]any{"status": "Closed"}, false},
		{client.SourceCrowdStrike, verdict, false},
		{client.SourceSentinelOne, verdict, false},
	}
	for _, tc := range cases {
		ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, tc.src, client.StatusNew, client.StatusActive))
		h.do(http.MethodPut, incidentPath(ref)+"/status", tc.body).expect(t, http.StatusNoContent)
		inc, _ := h.e.Incident(ref)
		if inc.Status != client.StatusClosed || (inc.Classification != nil) != tc.kept || (inc.ClassificationReason != nil) != tc.kept {
			t.Errorf("%s %v: status %s classification %v, want kept=%v", tc.src, tc.body, inc.Status, inc.Classification, tc.kept)
		}
	}
}

func TestAssign(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ref := h.findRef(func(inc emulator.IncidentState, r client.IncidentRef) bool {
		return r.WorkspaceID == emulator.WorkspaceOwnerID && inc.Assignee == nil
	})
	path := incidentPath(ref) + "/assignee"
	h.do(http.MethodPut, path, map[string]any{"email": "ANALYST@contoso.com"}).expect(t, http.StatusNoContent)
	inc, _ := h.e.Incident(ref)
	if inc.Assignee == nil || inc.Assignee.ID != emulator.UserAnalystID || inc.Assignee.Email != "analyst@contoso.com" || inc.Assignee.DisplayName != "Alex Morgan" {
		t.Fatalf("assignee = %+v", inc.Assignee)
	}
	if row := findRow(t, h, ref, map[string]any{"assigneeIds": []string{emulator.UserAnalystID}}); !*row.IsAssigned || row.User.Value == nil {
		t.Errorf("row = %+v", row)
	}
	h.do(http.MethodPut, path, map[string]any{"userId": emulator.UserJaneDoeID, "email": "jane.doe@contoso.com"}).expect(t, http.StatusNoContent)
	if inc, _ = h.e.Incident(ref); inc.Assignee.ID != emulator.UserJaneDoeID {
		t.Fatalf("assignee = %+v", inc.Assignee)
	}
	// A service account can be assigned (an agent taking an incident).
	h.do(http.MethodPut, path, map[string]any{"userId": emulator.DemoUserID}).expect(t, http.StatusNoContent)

	cases := []struct {
		name string
		body any
		key  string
	}{
		{"neither", map[string]any{}, ""},
		{"blank", map[string]any{"userId": " ", "email": ""}, ""},
		{"unknown id", map[string]any{"userId": "no-such-user"}, "userId"},
		{"unknown email", map[string]any{"email": "nobody@contoso.com"}, "email"},
		{"id and email disagree", map[string]any{"userId": emulator.UserJaneDoeID, "email": "analyst@contoso.com"}, "email"},
		{"inactive user", map[string]any{"userId": emulator.UserInactiveID}, "userId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fieldError(t, problemOf(t, h.do(http.MethodPut, path, tc.body), http.StatusBadRequest, client.CodeValidation), tc.key)
		})
	}
	unknown := ref
	unknown.IncidentID += "0"
	problemOf(t, h.do(http.MethodPut, incidentPath(unknown)+"/assignee", map[string]any{"userId": emulator.UserJaneDoeID}), http.StatusNotFound, client.CodeNotFound)
	if got := h.e.Stats().Applied[emulator.EndpointAssign]; got != 3 {
		t.Errorf("Applied = %d, want 3", got)
	}
}

func TestAddComment(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ref := h.findRef(inWorkspace(emulator.WorkspaceResponderID, client.SourceSentinel))
	inc, _ := h.e.Incident(ref)
	if inc.ExtensionID == "" || inc.ExtensionID != inc.ProductID {
		t.Fatalf("a Sentinel incident's extension = %q (product %q), want its product id", inc.ExtensionID, inc.ProductID)
	}
	path := incidentPath(ref) + "/comments"
	n := len(h.e.Comments(ref))
	msg := "Escalating to Tier 2 — lateral movement indicators confirmed. [agent]"
	c := data[client.Comment](t, h.do(http.MethodPost, path, map[string]any{"content": msg, "extensionId": inc.ExtensionID}).expect(t, http.StatusCreated))
	if c.ID == "" || c.Message != msg || !c.IsAgentComment || c.AgentName == nil || *c.AgentName != emulator.DemoName ||
		c.AuthorEmail != demoSAEmail || c.IsClosingComment || c.IsActivityComment || c.CreatedTime != fixedNow.Format(time.RFC3339) {
		t.Errorf("comment = %+v", c)
	}
	if ext, ok := h.e.CommentExtensionID(ref, c.ID); !ok || ext != inc.ExtensionID {
		t.Errorf("recorded extension %q, %v; want %q", ext, ok, inc.ExtensionID)
	}
	cs := data[[]client.Comment](t, h.do(http.MethodGet, path, nil).expect(t, http.StatusOK))
	if len(cs) != n+1 || !reflect.DeepEqual(cs[len(cs)-1], c) {
		t.Errorf("listed comments end with %+v, want %+v", cs[len(cs)-1], c)
	}
	if inc, _ := h.e.Incident(ref); inc.LastActivityTime != fixedNow.Format(time.RFC3339) {
		t.Errorf("lastActivityTime = %s", inc.LastActivityTime)
	}
	// The limit counts characters as .NET does (UTF-16 code units); without
	// an extensionId the comment is stored all the same.
	long := data[client.Comment](t, h.do(http.MethodPost, path, map[string]any{"content": strings.Repeat("x", 30000)}).expect(t, http.StatusCreated))
	if ext, ok := h.e.CommentExtensionID(ref, long.ID); !ok || ext != "" {
		t.Errorf("recorded extension %q, %v; want none", ext, ok)
	}
	cases := []struct {
		name string
		body any
		key  string
	}{
		{"missing", map[string]any{}, "content"},
		{"empty", map[string]any{"content": ""}, "content"},
		{"whitespace", map[string]any{"content": " \n\t "}, "content"},
		{"too long", map[string]any{"content": strings.Repeat("x", 30001)}, "content"},
		{"too long in UTF-16", map[string]any{"content": strings.Repeat("😀", 15001)}, "content"},
		{"body source", map[string]any{"content": "x", "source": "Sentinel"}, "source"},
		{"another extension", map[string]any{"content": "x", "extensionId": "ext-1"}, "extensionId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fieldError(t, problemOf(t, h.do(http.MethodPost, path, tc.body), http.StatusBadRequest, client.CodeValidation), tc.key)
		})
	}
	problemOf(t, h.do(http.MethodPost, path, rawBody(`{"content": "unterminated`)), http.StatusBadRequest, client.CodeBadRequest)
	if got := len(h.e.Comments(ref)); got != n+2 {
		t.Errorf("%d comments, want %d", got, n+2)
	}

	// Sources without a write-back extension refuse one.
	cs1 := h.findRef(inWorkspace(emulator.WorkspaceResponderID, client.SourceCrowdStrike))
	if inc, _ := h.e.Incident(cs1); inc.ExtensionID != "" || inc.ProductID == "" {
		t.Errorf("CrowdStrike incident: extension %q, product %q; want none and one", inc.ExtensionID, inc.ProductID)
	}
	fieldError(t, problemOf(t, h.do(http.MethodPost, incidentPath(cs1)+"/comments",
		map[string]any{"content": "x", "extensionId": inc.ProductID}), http.StatusBadRequest, client.CodeValidation), "extensionId")
	h.do(http.MethodPost, incidentPath(cs1)+"/comments", map[string]any{"content": "x", "extensionId": nil}).expect(t, http.StatusCreated)
}
