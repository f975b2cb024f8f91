package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// capture records the headers and JSON body of each request and answers
// with the next of its bodies (the last one repeats).
type capture struct {
	mu      sync.Mutex
	headers []http.Header
	bodies  []map[string]any
	answers []string
	status  int
}

func (cp *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	cp.mu.Lock()
	cp.headers = append(cp.headers, r.Header.Clone())
	cp.bodies = append(cp.bodies, m)
	i := min(len(cp.bodies), len(cp.answers)) - 1
	answer := cp.answers[i]
	cp.mu.Unlock()
	w.Header().Set("X-Request-Id", "hdr-rid")
	status := cp.status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, answer)
}

func TestEveryRequestIsAuthenticated(t *testing.T) {
	cp := &capture{answers: []string{okEnvelope(`[]`)}}
	c, _, _ := newTestClient(t, cp)
	if _, err := c.ListUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := cp.headers[0]
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(testID+":"+testSecret))
	if got := h.Get("Authorization"); got != want {
		t.Errorf("Authorization = %q, want HTTP Basic of id:secret", got)
	}
	if got := h.Get("User-Agent"); got != "contraforce-mcp/"+Version {
		t.Errorf("User-Agent = %q", got)
	}
	if got := h.Get("Accept"); !strings.Contains(got, "application/json") {
		t.Errorf("Accept = %q", got)
	}
	c2, _, _ := newTestClient(t, cp, func(c *Config) { c.UserAgent = "custom/1" })
	if _, err := c2.ListUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := cp.headers[1].Get("User-Agent"); got != "custom/1" {
		t.Errorf("custom User-Agent = %q", got)
	}
}

func TestListIncidentsSendsEveryFilter(t *testing.T) {
	cp := &capture{answers: []string{okEnvelope(`{"incidents":[]}`)}}
	c, _, _ := newTestClient(t, cp)
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 4, 15, 23, 59, 59, 0, time.UTC)
	f := IncidentFilter{
		Severities: []Severity{SeverityHigh, SeverityMedium}, Statuses: []Status{StatusNew, StatusActive},
		Sources:             []Source{SourceSentinel, SourceDefenderXDR},
		TimeFilterSelection: &TimeFilter{Type: TimeCustom, CustomStartUTC: &start, CustomEndUTC: &end},
		Query:               "malware", AssigneeIDs: []string{"u1"}, AssigneeEmails: []string{"analyst@contoso.com"},
		IncludeUnassigned: true,
	}
	if _, err := c.ListIncidents(context.Background(), f, PageToken{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"severities": []any{"High", "Medium"}, "statuses": []any{"New", "Active"}, "sources": []any{"Sentinel", "DefenderXDR"},
		"timeFilterSelection": map[string]any{"type": "Custom", "customStartUtc": "2026-04-01T00:00:00Z", "customEndUtc": "2026-04-15T23:59:59Z"},
		"query":               "malware", "assigneeIds": []any{"u1"}, "assigneeEmails": []any{"analyst@contoso.com"},
		"includeUnassigned": true, "isFirstCall": true,
	}
	if !reflect.DeepEqual(cp.bodies[0], want) {
		t.Errorf("body = %v\nwant %v", cp.bodies[0], want)
	}
	if ct := cp.headers[0].Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

// Next-page tokens are accepted in either documented place and sent back as received.
func TestListIncidentsPagination(t *testing.T) {
	row := func(id, ws string) string {
		return `{"id":"` + id + `","title":"t","number":1,"source":"Sentinel","severity":"High","status":"New","creationTime":"2026-04-15T10:00:00Z","alertsCount":1,"isAssigned":false,"workspaceId":"` + ws + `"}`
	}
	t.Run("data.workspacePageTokens", func(t *testing.T) {
		cp := &capture{answers: []string{
			okEnvelope(`{"incidents":[` + row("a", "w1") + `],"workspacePageTokens":[{"workspaceId":"w1","sourceTokens":{"Sentinel":"tok-1"}}],"hasMore":true}`),
			okEnvelope(`{"incidents":[` + row("b", "w1") + `],"workspacePageTokens":[],"hasMore":false}`),
		}}
		c, _, _ := newTestClient(t, cp)
		ids := walk(t, c)
		if !reflect.DeepEqual(ids, []string{"a", "b"}) {
			t.Errorf("ids = %v", ids)
		}
		wantSecond := map[string]any{"isFirstCall": false, "query": "q",
			"workspacePageTokens": []any{map[string]any{"workspaceId": "w1", "sourceTokens": map[string]any{"Sentinel": "tok-1"}}}}
		if !reflect.DeepEqual(cp.bodies[1], wantSecond) {
			t.Errorf("second request = %v\nwant %v", cp.bodies[1], wantSecond)
		}
	})
	t.Run("tokens without hasMore", func(t *testing.T) {
		cp := &capture{answers: []string{
			okEnvelope(`{"incidents":[` + row("a", "w1") + `],"workspacePageTokens":[{"workspaceId":"w1","sourceTokens":{"QRadar":"7"}}]}`),
			okEnvelope(`{"incidents":[` + row("b", "w1") + `]}`),
		}}
		c, _, _ := newTestClient(t, cp)
		if ids := walk(t, c); !reflect.DeepEqual(ids, []string{"a", "b"}) {
			t.Errorf("ids = %v", ids)
		}
	})
	t.Run("pagination.continuationToken", func(t *testing.T) {
		meta := `"meta":{"requestId":"r","timestamp":"t"}`
		cp := &capture{answers: []string{
			`{"data":{"incidents":[` + row("a", "w1") + `]},"pagination":{"continuationToken":"eyJjb250","hasMore":true},` + meta + `}`,
			`{"data":[` + row("b", "w2") + `],"pagination":{"continuationToken":"next","hasMore":true},` + meta + `}`,
			`{"data":{"incidents":[` + row("c", "w1") + `]},"pagination":{"hasMore":false},` + meta + `}`,
		}}
		c, _, _ := newTestClient(t, cp)
		if ids := walk(t, c); !reflect.DeepEqual(ids, []string{"a", "b", "c"}) {
			t.Errorf("ids = %v", ids)
		}
		if cp.bodies[1]["continuationToken"] != "eyJjb250" || cp.bodies[1]["isFirstCall"] != false ||
			cp.bodies[2]["continuationToken"] != "next" {
			t.Errorf("continuation tokens not sent back: %v", cp.bodies)
		}
	})
	t.Run("more without a position ends", func(t *testing.T) {
		cp := &capture{answers: []string{okEnvelope(`{"incidents":[` + row("a", "w1") + `],"hasMore":true}`)}}
		c, _, _ := newTestClient(t, cp)
		p, err := c.ListIncidents(context.Background(), IncidentFilter{}, PageToken{})
		if err != nil || p.HasMore || !p.Next.IsZero() {
			t.Errorf("page = %+v, %v; want HasMore false", p, err)
		}
	})
}

// walk lists every page with query "q" and returns the ids in order.
func walk(t *testing.T, c *Client) []string {
	t.Helper()
	var ids []string
	var tok PageToken
	for range 10 {
		p, err := c.ListIncidents(context.Background(), IncidentFilter{Query: "q"}, tok)
		if err != nil {
			t.Fatal(err)
		}
		for _, inc := range p.Incidents {
			ids = append(ids, inc.ID)
		}
		if !p.HasMore {
			return ids
		}
		tok = p.Next
	}
	t.Fatal("pagination did not end")
	return nil
}

func TestWorkspaceAllowlist(t *testing.T) {
	cp := &capture{answers: []string{okEnvelope(`{"incidents":[
		{"id":"a","workspaceId":"11111111-aaaa-0000-0000-000000000000"},{"id":"b","workspaceId":"22222222-bbbb-0000-0000-000000000000"}],
		"workspacePageTokens":[{"workspaceId":"11111111-AAAA-0000-0000-000000000000","sourceTokens":{"Sentinel":"t1"}},
		{"workspaceId":"22222222-bbbb-0000-0000-000000000000","sourceTokens":{"Sentinel":"t2"}}],"hasMore":true}`)}}
	c, _, _ := newTestClient(t, cp, func(c *Config) { c.Workspaces = []string{"11111111-AAAA-0000-0000-000000000000"} })
	ctx := context.Background()
	p, err := c.ListIncidents(ctx, IncidentFilter{}, PageToken{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Incidents) != 1 || p.Incidents[0].ID != "a" {
		t.Errorf("rows = %+v, want only workspace 1111's", p.Incidents)
	}
	if !p.HasMore || len(p.Next.WorkspacePageTokens) != 1 || p.Next.WorkspacePageTokens[0].SourceTokens[SourceSentinel] != "t1" {
		t.Errorf("next = %+v, want only the allowed workspace's token", p.Next)
	}
	// A position naming only other workspaces lists nothing rather than page one.
	other := PageToken{WorkspacePageTokens: []WorkspacePageToken{{WorkspaceID: "22222222-bbbb-0000-0000-000000000000", SourceTokens: map[Source]string{SourceSentinel: "t2"}}}}
	before := len(cp.bodies)
	if p, err := c.ListIncidents(ctx, IncidentFilter{}, other); err != nil || len(p.Incidents) != 0 || p.HasMore || len(cp.bodies) != before {
		t.Errorf("page = %+v, %v, %d requests; want an empty last page and no request", p, err, len(cp.bodies)-before)
	}

	denied := IncidentRef{WorkspaceID: "22222222-bbbb-0000-0000-000000000000", Source: SourceSentinel, IncidentID: "x"}
	calls := map[string]func() error{
		"get":      func() error { _, err := c.GetIncident(ctx, denied, true); return err },
		"comments": func() error { _, err := c.ListComments(ctx, denied); return err },
		"comment":  func() error { _, _, err := c.AddComment(ctx, denied, AddCommentRequest{Content: "x"}); return err },
		"status": func() error {
			_, err := c.UpdateStatus(ctx, denied, UpdateStatusRequest{Status: StatusClosed})
			return err
		},
		"assign":   func() error { _, err := c.Assign(ctx, denied, AssignRequest{Email: "a@b"}); return err },
		"evidence": func() error { _, err := c.GetEvidence(ctx, denied); return err },
	}
	before = len(cp.bodies)
	for name, call := range calls {
		err := call()
		e, ok := AsAPIError(err)
		if !ok || e.Code != CodeWorkspaceNotAllowed || e.Status != 0 || !strings.Contains(err.Error(), "11111111-AAAA") {
			t.Errorf("%s: err = %v, want WORKSPACE_NOT_ALLOWED listing the allowed workspace", name, err)
		}
	}
	if len(cp.bodies) != before {
		t.Errorf("%d requests sent for workspaces outside the allowlist", len(cp.bodies)-before)
	}
	allowed := IncidentRef{WorkspaceID: "11111111-aaaa-0000-0000-000000000000", Source: SourceSentinel, IncidentID: "x"}
	if _, err := c.ListComments(ctx, allowed); err != nil && ErrorCode(err) == CodeWorkspaceNotAllowed {
		t.Errorf("an allowed workspace (other case) was refused: %v", err)
	}
}

func TestWritesSendEveryFieldAndReturnMeta(t *testing.T) {
	ctx := context.Background()
	ptr := func(s string) *string { return &s }
	cls, reason := ClassificationFalsePositive, ReasonInaccurateData
	cp := &capture{status: http.StatusNoContent, answers: []string{""}}
	c, _, _ := newTestClient(t, cp)
	meta, err := c.UpdateStatus(ctx, testRef, UpdateStatusRequest{
		Status: StatusClosed, Comment: ptr("benign"), Classification: &cls,
		ClassificationReason: &reason, UpdateTicket: true, TicketID: ptr("T-1"),
	})
	if err != nil || meta.RequestID != "hdr-rid" {
		t.Fatalf("UpdateStatus = %+v, %v; want the X-Request-Id as Meta.RequestID", meta, err)
	}
	want := map[string]any{"status": "Closed", "comment": "benign", "classification": "FalsePositive",
		"classificationReason": "InaccurateData", "updateTicket": true, "ticketId": "T-1"}
	if !reflect.DeepEqual(cp.bodies[0], want) {
		t.Errorf("status body = %v\nwant %v (no source: the path carries it)", cp.bodies[0], want)
	}
	for _, req := range []AssignRequest{{UserID: "u-1"}, {Email: "a@contoso.com"}} {
		if _, err := c.Assign(ctx, testRef, req); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(cp.bodies[1], map[string]any{"userId": "u-1"}) || !reflect.DeepEqual(cp.bodies[2], map[string]any{"email": "a@contoso.com"}) {
		t.Errorf("assign bodies = %v, %v", cp.bodies[1], cp.bodies[2])
	}

	cp2 := &capture{status: http.StatusCreated, answers: []string{`{"data":{"id":"c9","message":"hi","createdTime":"2026-04-15T16:00:00Z",
		"authorEmail":"sa@x","authorName":"Agent","isActivityComment":false,"isAgentComment":true,"agentName":"Agent",
		"isClosingComment":false,"ticketNoteId":null,"ticketId":null},"meta":{"requestId":"body-rid","timestamp":"2026-04-15T16:00:00Z"}}`}}
	c2, _, _ := newTestClient(t, cp2)
	cm, m, err := c2.AddComment(ctx, testRef, AddCommentRequest{Content: "hi", ExtensionID: "ext-1"})
	if err != nil || cm.ID != "c9" || !cm.IsAgentComment || m.RequestID != "body-rid" {
		t.Fatalf("AddComment = %+v, %+v, %v", cm, m, err)
	}
	if !reflect.DeepEqual(cp2.bodies[0], map[string]any{"content": "hi", "extensionId": "ext-1"}) {
		t.Errorf("comment body = %v", cp2.bodies[0])
	}
}

func TestReadsDecode(t *testing.T) {
	ctx := context.Background()
	detail := okEnvelope(`{"source":"Sentinel","incident":{"id":"inc-1","title":"t","severity":"High","status":"Active",
		"workspaceId":"w","createdAt":"c","updatedAt":"u"},"investigationDetails":{"entities":[{"kind":"host","friendlyName":"pc"}],"alerts":[]},
		"evidence":{"columns":[{"name":"a"}],"rows":[[1,"x"]]},"gamebookCatalog":{"k":1}}`)
	c, _, _ := newTestClient(t, &capture{answers: []string{detail}})
	d, err := c.GetIncident(ctx, testRef, true)
	if err != nil || d.Incident.ID != "inc-1" || len(d.InvestigationDetails.Entities) != 1 || string(d.GamebookCatalog) != `{"k":1}` {
		t.Fatalf("GetIncident = %+v, %v", d, err)
	}
	c, _, _ = newTestClient(t, &capture{answers: []string{okEnvelope(`{"title":"e","columns":[{"name":"a","type":"string"}],"rows":[["v"]]}`)}})
	ev, err := c.GetEvidence(ctx, testRef)
	if err != nil || ev.Title != "e" || ev.Rows[0][0] != "v" {
		t.Fatalf("GetEvidence = %+v, %v", ev, err)
	}
	c, _, _ = newTestClient(t, &capture{answers: []string{okEnvelope(`null`)}})
	cs, err := c.ListComments(ctx, testRef)
	if err != nil || cs == nil || len(cs) != 0 {
		t.Errorf("ListComments of null = %#v, %v; want an empty non-nil slice", cs, err)
	}
	c, _, _ = newTestClient(t, &capture{answers: []string{okEnvelope(`[{"id":"u","displayName":"D","email":"e","isActive":true,"isServiceAccount":true}]`)}})
	us, err := c.ListUsers(ctx)
	if err != nil || len(us) != 1 || !us[0].IsServiceAccount {
		t.Errorf("ListUsers = %+v, %v", us, err)
	}
}

// A 200 that is not JSON (a login page behind a misconfigured BaseURL) gives a readable error.
func TestSuccessWithNonJSONBody(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html><head><title>Sign in</title></head><body>"+strings.Repeat("x", 10000)+"</body></html>")
	})
	c, _, _ := newTestClient(t, h)
	_, err := c.ListUsers(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Sign in") || !strings.Contains(err.Error(), "check BaseURL") || strings.Contains(err.Error(), "<") {
		t.Errorf("err = %v", err)
	}
}
