package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// Integration tests: the client against the project's emulator, over
// loopback HTTP, as the MCP server will use it.

// headerTransport adds headers to every request (e.g. the emulator's legacy
// errors switch) or removes them ("" value).
type headerTransport struct {
	base http.RoundTripper
	set  map[string]string
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.set {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	return h.base.RoundTrip(r)
}

// startEmulator serves a fresh emulator on loopback.
func startEmulator(t *testing.T) (*emulator.Emulator, *httptest.Server) {
	t.Helper()
	e := emulator.New(emulator.Options{})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv
}

// newClient returns a client of srv with the given credential and fast backoff.
func newClient(t *testing.T, srv *httptest.Server, id, secret string, mutate ...func(*client.Config)) *client.Client {
	t.Helper()
	cfg := client.Config{BaseURL: srv.URL + "/api/v2", ClientID: id, ClientSecret: client.Secret(secret), HTTPClient: srv.Client()}
	client.FastRetries(&cfg)
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func demoClient(t *testing.T, srv *httptest.Server, mutate ...func(*client.Config)) *client.Client {
	return newClient(t, srv, emulator.DemoClientID, emulator.DemoClientSecret, mutate...)
}

// refIn returns the first incident of a workspace and source.
func refIn(t *testing.T, e *emulator.Emulator, ws string, src client.Source) client.IncidentRef {
	t.Helper()
	for _, r := range e.Refs() {
		if r.WorkspaceID == ws && r.Source == src && !strings.ContainsAny(r.IncidentID, "/ %") {
			return r
		}
	}
	t.Fatalf("no %s incident in workspace %s", src, ws)
	return client.IncidentRef{}
}

// wantAPIError checks an error's status and code, and returns it.
func wantAPIError(t *testing.T, err error, status int, code string) *client.APIError {
	t.Helper()
	e, ok := client.AsAPIError(err)
	if !ok {
		t.Fatalf("err = %v, want an *APIError %d %s", err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("err = %v, want HTTP %d %s", err, status, code)
	}
	if e.RequestID == "" {
		t.Errorf("err = %v has no request id", err)
	}
	return e
}

func TestEmulatorEveryOperation(t *testing.T) {
	e, srv := startEmulator(t)
	c := demoClient(t, srv)
	ctx := context.Background()
	ref := refIn(t, e, emulator.WorkspaceOwnerID, client.SourceSentinel)

	users, err := c.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	foundSelf := false
	for _, u := range users {
		foundSelf = foundSelf || (u.ID == emulator.DemoUserID && u.IsServiceAccount)
	}
	if !foundSelf {
		t.Errorf("ListUsers lacks the demo service account: %+v", users)
	}

	d, err := c.GetIncident(ctx, ref, true)
	if err != nil || d.Incident.ID != ref.IncidentID || d.Source != client.SourceSentinel || d.InvestigationDetails == nil {
		t.Fatalf("GetIncident(withDetails) = %+v, %v", d, err)
	}
	if d, err = c.GetIncident(ctx, ref, false); err != nil || d.Incident.ID != ref.IncidentID {
		t.Fatalf("GetIncident = %+v, %v", d, err)
	}
	if _, err := c.GetEvidence(ctx, ref); err != nil {
		t.Fatalf("GetEvidence: %v", err)
	}
	before, err := c.ListComments(ctx, ref)
	if err != nil || len(before) != len(e.Comments(ref)) {
		t.Fatalf("ListComments = %d comments, %v; emulator has %d", len(before), err, len(e.Comments(ref)))
	}

	cm, meta, err := c.AddComment(ctx, ref, client.AddCommentRequest{Content: "Triage started by the agent."})
	if err != nil {
		t.Fatal(err)
	}
	if !cm.IsAgentComment || cm.AgentName == nil || *cm.AgentName != emulator.DemoName || meta.RequestID == "" {
		t.Errorf("comment = %+v, meta %+v: want an agent comment by %s", cm, meta, emulator.DemoName)
	}
	if after := e.Comments(ref); len(after) != len(before)+1 || after[len(after)-1].Message != "Triage started by the agent." {
		t.Errorf("emulator comments after AddComment: %d (was %d)", len(after), len(before))
	}

	meta, err = c.UpdateStatus(ctx, ref, client.UpdateStatusRequest{Status: client.StatusActive})
	if err != nil || meta.RequestID == "" {
		t.Fatalf("UpdateStatus = %+v, %v", meta, err)
	}
	cls, reason := client.ClassificationFalsePositive, client.ReasonInaccurateData
	comment := "Benign: the user was travelling."
	if _, err := c.UpdateStatus(ctx, ref, client.UpdateStatusRequest{Status: client.StatusClosed,
		Classification: &cls, ClassificationReason: &reason, Comment: &comment}); err != nil {
		t.Fatal(err)
	}
	if inc, _ := e.Incident(ref); inc.Status != client.StatusClosed || inc.Classification == nil || *inc.Classification != cls {
		t.Errorf("incident after close = %+v", inc)
	}

	if meta, err = c.Assign(ctx, ref, client.AssignRequest{UserID: emulator.UserAnalystID}); err != nil || meta.RequestID == "" {
		t.Fatalf("Assign by id = %+v, %v", meta, err)
	}
	if inc, _ := e.Incident(ref); inc.Assignee == nil || inc.Assignee.ID != emulator.UserAnalystID {
		t.Errorf("assignee = %+v", inc.Assignee)
	}
	if _, err = c.Assign(ctx, ref, client.AssignRequest{Email: "jane.doe@contoso.com"}); err != nil {
		t.Fatalf("Assign by email: %v", err)
	}
	if inc, _ := e.Incident(ref); inc.Assignee == nil || inc.Assignee.ID != emulator.UserJaneDoeID {
		t.Errorf("assignee = %+v", inc.Assignee)
	}

	// An id that needs escaping (it holds "/", a space, "%" and "@") is found.
	tricky := 0
	for _, r := range e.Refs() {
		if strings.Contains(r.IncidentID, "/") {
			tricky++
			if d, err := c.GetIncident(ctx, r, false); err != nil || d.Incident.ID != r.IncidentID {
				t.Errorf("GetIncident(%q) = %+v, %v", r.IncidentID, d, err)
			}
			if _, err := c.ListComments(ctx, r); err != nil && client.ErrorCode(err) != client.CodeInsufficientWorkspaceRole {
				t.Errorf("ListComments(%q): %v", r.IncidentID, err)
			}
		}
	}
	if tricky == 0 {
		t.Error("the dataset has no incident id with a '/': the escaping check proved nothing")
	}
}

func TestEmulatorErrors(t *testing.T) {
	e, srv := startEmulator(t)
	ctx := context.Background()
	demo := demoClient(t, srv)
	ref := refIn(t, e, emulator.WorkspaceOwnerID, client.SourceSentinel)
	other := refIn(t, e, emulator.WorkspaceOwnerID, client.SourceDefenderXDR)
	ptr := func(s string) *string { return &s }

	t.Run("wrong secret", func(t *testing.T) {
		c := newClient(t, srv, emulator.DemoClientID, "cf_sa_wrong")
		_, err := c.ListUsers(ctx)
		wantAPIError(t, err, 401, client.CodeUnauthorized)
		if strings.Contains(err.Error(), "cf_sa_wrong") {
			t.Errorf("error leaks the secret: %v", err)
		}
	})
	t.Run("missing credentials", func(t *testing.T) {
		c := demoClient(t, srv, func(cfg *client.Config) {
			cfg.HTTPClient = &http.Client{Transport: headerTransport{srv.Client().Transport, map[string]string{"Authorization": ""}}}
		})
		_, err := c.ListUsers(ctx)
		wantAPIError(t, err, 401, client.CodeUnauthorized)
	})
	t.Run("missing scope", func(t *testing.T) {
		reader := newClient(t, srv, emulator.ReaderClientID, emulator.ReaderClientSecret)
		if _, err := reader.GetIncident(ctx, ref, false); err != nil {
			t.Fatalf("the reader can read: %v", err)
		}
		_, err := reader.UpdateStatus(ctx, ref, client.UpdateStatusRequest{Status: client.StatusActive})
		if e := wantAPIError(t, err, 403, client.CodeInsufficientScope); !strings.Contains(e.Detail, "incidents:write") {
			t.Errorf("detail does not name the scope: %v", err)
		}
		noComment := newClient(t, srv, emulator.ResponderNoCommentClientID, emulator.ResponderNoCommentClientSecret)
		_, _, err = noComment.AddComment(ctx, ref, client.AddCommentRequest{Content: "x"})
		if e := wantAPIError(t, err, 403, client.CodeInsufficientScope); !strings.Contains(e.Detail, "incidents:comments") {
			t.Errorf("detail does not name the scope: %v", err)
		}
	})
	t.Run("no role on the workspace", func(t *testing.T) {
		_, err := demo.GetIncident(ctx, refIn(t, e, emulator.WorkspaceNoRoleID, client.SourceSentinel), false)
		wantAPIError(t, err, 403, client.CodeInsufficientWorkspaceRole)
	})
	t.Run("WorkspaceReader cannot write", func(t *testing.T) {
		ro := refIn(t, e, emulator.WorkspaceReaderID, client.SourceSentinel)
		if _, err := demo.GetIncident(ctx, ro, false); err != nil {
			t.Fatalf("a WorkspaceReader can read: %v", err)
		}
		_, err := demo.UpdateStatus(ctx, ro, client.UpdateStatusRequest{Status: client.StatusActive})
		wantAPIError(t, err, 403, client.CodeInsufficientWorkspaceRole)
		_, _, err = demo.AddComment(ctx, ro, client.AddCommentRequest{Content: "x"})
		wantAPIError(t, err, 403, client.CodeInsufficientWorkspaceRole)
	})
	t.Run("Sentinel close without classification", func(t *testing.T) {
		_, err := demo.UpdateStatus(ctx, ref, client.UpdateStatusRequest{Status: client.StatusClosed})
		e := wantAPIError(t, err, 400, client.CodeValidation)
		for _, field := range []string{"classification", "classificationReason"} {
			if len(e.Errors[field]) == 0 {
				t.Errorf("Errors = %v, want an entry for %s", e.Errors, field)
			}
		}
	})
	t.Run("updateTicket without ticketId", func(t *testing.T) {
		_, err := demo.UpdateStatus(ctx, other, client.UpdateStatusRequest{Status: client.StatusActive, UpdateTicket: true})
		wantAPIError(t, err, 400, client.CodeValidation)
	})
	t.Run("unknown enum", func(t *testing.T) {
		_, err := demo.UpdateStatus(ctx, ref, client.UpdateStatusRequest{Status: "Resolved", Comment: ptr("x")})
		if e, ok := client.AsAPIError(err); !ok || e.Status != 400 {
			t.Errorf("err = %v, want a 400", err)
		}
	})
	t.Run("empty comment", func(t *testing.T) {
		_, _, err := demo.AddComment(ctx, ref, client.AddCommentRequest{Content: "  "})
		if e, ok := client.AsAPIError(err); !ok || e.Status != 400 {
			t.Errorf("err = %v, want a 400", err)
		}
	})
	t.Run("assign with neither", func(t *testing.T) {
		_, err := demo.Assign(ctx, ref, client.AssignRequest{})
		if e, ok := client.AsAPIError(err); !ok || e.Status != 400 {
			t.Errorf("err = %v, want a 400", err)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		_, err := demo.Assign(ctx, ref, client.AssignRequest{Email: "nobody@nowhere.example"})
		if e, ok := client.AsAPIError(err); !ok || e.Status != 400 {
			t.Errorf("err = %v, want a 400", err)
		}
	})
	t.Run("unknown incident and wrong source", func(t *testing.T) {
		missing := ref
		missing.IncidentID = "does-not-exist"
		_, err := demo.GetIncident(ctx, missing, false)
		wantAPIError(t, err, 404, client.CodeNotFound)
		wrongSource := ref
		wrongSource.Source = client.SourceDefenderXDR
		_, err = demo.ListComments(ctx, wrongSource)
		wantAPIError(t, err, 404, client.CodeNotFound)
	})
	t.Run("older error envelope", func(t *testing.T) {
		legacy := demoClient(t, srv, func(cfg *client.Config) {
			cfg.HTTPClient = &http.Client{Transport: headerTransport{srv.Client().Transport, map[string]string{emulator.LegacyErrorsHeader: "1"}}}
		})
		missing := ref
		missing.IncidentID = "does-not-exist"
		_, err := legacy.GetIncident(ctx, missing, false)
		e := wantAPIError(t, err, 404, client.CodeNotFound)
		if e.Title == "" || e.Target != "incidentId" || e.Type != "" {
			t.Errorf("legacy 404 decoded as %+v", e)
		}
		_, err = legacy.UpdateStatus(ctx, ref, client.UpdateStatusRequest{Status: client.StatusClosed})
		e = wantAPIError(t, err, 400, client.CodeValidation)
		if !strings.Contains(e.Detail, "classificationReason") {
			t.Errorf("legacy validation details lost: %+v", e)
		}
	})
}

// Walking every page lists each visible incident exactly once.
func TestEmulatorPagination(t *testing.T) {
	e, srv := startEmulator(t)
	ctx := context.Background()
	visible := map[string]bool{emulator.WorkspaceOwnerID: true, emulator.WorkspaceResponderID: true, emulator.WorkspaceReaderID: true}
	count := func(allowed map[string]bool) int {
		n := 0
		for _, r := range e.Refs() {
			if allowed[r.WorkspaceID] {
				n++
			}
		}
		return n
	}
	walkAll := func(t *testing.T, c *client.Client, f client.IncidentFilter) map[client.IncidentRef]bool {
		t.Helper()
		seen := map[client.IncidentRef]bool{}
		var tok client.PageToken
		for page := 0; ; page++ {
			if page > 500 {
				t.Fatal("pagination did not end")
			}
			p, err := c.ListIncidents(ctx, f, tok)
			if err != nil {
				t.Fatalf("page %d: %v", page, err)
			}
			for _, inc := range p.Incidents {
				r := client.IncidentRef{WorkspaceID: inc.WorkspaceID, Source: inc.Source, IncidentID: inc.ID}
				if seen[r] {
					t.Errorf("page %d repeats %+v", page, r)
				}
				seen[r] = true
			}
			if !p.HasMore {
				return seen
			}
			tok = p.Next
		}
	}
	t.Run("everything visible", func(t *testing.T) {
		seen := walkAll(t, demoClient(t, srv), client.IncidentFilter{})
		if want := count(visible); len(seen) != want || want == 0 {
			t.Errorf("listed %d incidents, want %d", len(seen), want)
		}
		for r := range seen {
			if !visible[r.WorkspaceID] {
				t.Errorf("listed an incident of a workspace without a role: %+v", r)
			}
		}
	})
	t.Run("allowlist", func(t *testing.T) {
		c := demoClient(t, srv, func(cfg *client.Config) { cfg.Workspaces = []string{emulator.WorkspaceResponderID} })
		seen := walkAll(t, c, client.IncidentFilter{})
		if want := count(map[string]bool{emulator.WorkspaceResponderID: true}); len(seen) != want || want == 0 {
			t.Errorf("listed %d incidents, want %d", len(seen), want)
		}
	})
	t.Run("filtered", func(t *testing.T) {
		c := demoClient(t, srv)
		f := client.IncidentFilter{Severities: []client.Severity{client.SeverityHigh}, Sources: []client.Source{client.SourceSentinel, client.SourceQRadar}}
		seen := walkAll(t, c, f)
		if len(seen) == 0 {
			t.Fatal("the filter matched nothing")
		}
		for r := range seen {
			if r.Source != client.SourceSentinel && r.Source != client.SourceQRadar {
				t.Errorf("filter by source ignored: %+v", r)
			}
		}
	})
}

// The client walks every placement of the next-page position an emulator
// variant uses, listing each visible incident exactly once; against a
// server that ignores page tokens it stops after the first page, saying why.
func TestEmulatorPagingPlacements(t *testing.T) {
	ctx := context.Background()
	var want int
	for _, r := range emulator.New(emulator.Options{}).Refs() {
		if r.WorkspaceID != emulator.WorkspaceNoRoleID {
			want++
		}
	}
	for name, paging := range map[string]emulator.Paging{
		"data.workspacePageTokens":          emulator.PagingWorkspaceTokens,
		"pagination.continuationToken":      emulator.PagingContinuation,
		"pagination with data a bare array": emulator.PagingContinuationArray,
		"a server that ignores page tokens": emulator.PagingIgnoresTokens,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := emulator.New(emulator.Options{Paging: paging, PageSize: 7})
			srv := httptest.NewServer(e)
			t.Cleanup(srv.Close)
			c := demoClient(t, srv)
			seen := map[client.IncidentRef]bool{}
			var tok client.PageToken
			pages, halted := 0, ""
			for ; pages < 500; pages++ {
				p, err := c.ListIncidents(ctx, client.IncidentFilter{}, tok)
				if err != nil {
					t.Fatalf("page %d: %v", pages+1, err)
				}
				for _, inc := range p.Incidents {
					r := client.IncidentRef{WorkspaceID: inc.WorkspaceID, Source: inc.Source, IncidentID: inc.ID}
					if seen[r] {
						t.Fatalf("page %d repeats %+v", pages+1, r)
					}
					seen[r] = true
				}
				if halted = p.Halted; !p.HasMore {
					break
				}
				tok = p.Next
			}
			if paging == emulator.PagingIgnoresTokens {
				if pages != 1 || halted == "" || !strings.Contains(halted, "ignore page tokens") || len(seen) == 0 || len(seen) >= want {
					t.Errorf("%d pages, %d incidents, halted %q; want the first page, then a stop that says why", pages+1, len(seen), halted)
				}
				return
			}
			if halted != "" || len(seen) != want || pages < 2 {
				t.Errorf("%d pages, %d incidents (want %d), halted %q", pages+1, len(seen), want, halted)
			}
		})
	}
}

// A next page that hands back the very position it was asked for ends the
// listing too, even with rows the client has not seen.
func TestListingStopsWhenThePositionRepeats(t *testing.T) {
	answer := `{"data":{"incidents":[{"id":"%s","source":"Sentinel","workspaceId":"w"}],
		"workspacePageTokens":[{"workspaceId":"w","sourceTokens":{"Sentinel":"same"}}],"hasMore":true},"meta":{"requestId":"r","timestamp":"t"}}`
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, answer, fmt.Sprint("inc-", n))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv, emulator.DemoClientID, emulator.DemoClientSecret)
	p, err := c.ListIncidents(context.Background(), client.IncidentFilter{}, client.PageToken{})
	if err != nil || !p.HasMore {
		t.Fatalf("first page %+v, %v", p, err)
	}
	p, err = c.ListIncidents(context.Background(), client.IncidentFilter{}, p.Next)
	if err != nil || p.HasMore || len(p.Incidents) != 0 || !strings.Contains(p.Halted, "very page position") {
		t.Errorf("second page %+v, %v; want a halt naming the repeated position", p, err)
	}
}

func TestEmulatorRetriesUnderFaults(t *testing.T) {
	e, srv := startEmulator(t)
	ctx := context.Background()
	c := demoClient(t, srv, func(cfg *client.Config) { cfg.MaxAttempts = 5 })
	ref := refIn(t, e, emulator.WorkspaceOwnerID, client.SourceSentinel)

	t.Run("read survives a 429 and 503 burst", func(t *testing.T) {
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointListComments, Count: 2, Status: 429, RetryAfter: "0"})
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointListComments, Count: 1, Status: 503, RetryAfter: "1"})
		before := e.Stats().Requests[emulator.EndpointListComments]
		if _, err := c.ListComments(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if n := e.Stats().Requests[emulator.EndpointListComments] - before; n != 4 {
			t.Errorf("%d requests, want 4", n)
		}
	})
	t.Run("list survives a 502 and a drop", func(t *testing.T) {
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointListIncidents, Count: 1, Status: 502})
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointListIncidents, Count: 1, DropBeforeApply: true})
		if _, err := c.ListIncidents(ctx, client.IncidentFilter{}, client.PageToken{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("PUT survives a 502 and dropped connections", func(t *testing.T) {
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, Count: 1, Status: 502})
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, Count: 1, DropAfterApply: true})
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, Count: 1, DropBeforeApply: true})
		if _, err := c.UpdateStatus(ctx, ref, client.UpdateStatusRequest{Status: client.StatusActive}); err != nil {
			t.Fatal(err)
		}
		if inc, _ := e.Incident(ref); inc.Status != client.StatusActive {
			t.Errorf("status = %s, want Active", inc.Status)
		}
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAssign, Count: 1, DropAfterApply: true})
		if _, err := c.Assign(ctx, ref, client.AssignRequest{UserID: emulator.UserAnalystID}); err != nil {
			t.Fatal(err)
		}
	})
	countMsg := func(msg string) int {
		n := 0
		for _, cm := range e.Comments(ref) {
			if cm.Message == msg {
				n++
			}
		}
		return n
	}
	t.Run("comment dropped after apply is reported unknown and exists once", func(t *testing.T) {
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, Count: 1, DropAfterApply: true})
		_, _, err := c.AddComment(ctx, ref, client.AddCommentRequest{Content: "after-apply"})
		if !errors.Is(err, client.ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
		}
		if n := countMsg("after-apply"); n != 1 {
			t.Errorf("the comment exists %d times, want 1", n)
		}
	})
	t.Run("comment dropped before apply is reported unknown and absent", func(t *testing.T) {
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, Count: 1, DropBeforeApply: true})
		_, _, err := c.AddComment(ctx, ref, client.AddCommentRequest{Content: "before-apply"})
		if !errors.Is(err, client.ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
		}
		if n := countMsg("before-apply"); n != 0 {
			t.Errorf("the comment exists %d times, want 0", n)
		}
	})
	t.Run("status change with a comment dropped after apply is unknown and posts the comment once", func(t *testing.T) {
		// The comment of a status change is posted with it: repeating the PUT
		// would post it twice, so it follows the comment's policy.
		msg := "closing-after-apply"
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, Count: 1, DropAfterApply: true})
		cls, reason := client.ClassificationBenignPositive, client.ReasonSuspiciousButExpected
		_, err := c.UpdateStatus(ctx, ref, client.UpdateStatusRequest{Status: client.StatusClosed, Comment: &msg,
			Classification: &cls, ClassificationReason: &reason})
		if !errors.Is(err, client.ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
		}
		if n := countMsg(msg); n != 1 {
			t.Errorf("the closing comment exists %d times, want 1", n)
		}
		if inc, _ := e.Incident(ref); inc.Status != client.StatusClosed {
			t.Errorf("status = %s, want Closed (the change was applied)", inc.Status)
		}
		// A status change with a comment is still retried when certainly not processed.
		reopen := "reopening-after-429"
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, Count: 2, Status: 429, RetryAfter: "0"})
		if _, err := c.UpdateStatus(ctx, ref, client.UpdateStatusRequest{Status: client.StatusActive, Comment: &reopen}); err != nil {
			t.Fatal(err)
		}
		if n := countMsg(reopen); n != 1 {
			t.Errorf("the reopening comment exists %d times, want 1", n)
		}
	})
	t.Run("comment under a 429 burst is posted once", func(t *testing.T) {
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, Count: 3, Status: 429, RetryAfter: "0"})
		if _, _, err := c.AddComment(ctx, ref, client.AddCommentRequest{Content: "burst"}); err != nil {
			t.Fatal(err)
		}
		if n := countMsg("burst"); n != 1 {
			t.Errorf("the comment exists %d times, want 1", n)
		}
	})
	t.Run("comment under a 502 is not retried", func(t *testing.T) {
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, Count: 1, Status: 502})
		_, _, err := c.AddComment(ctx, ref, client.AddCommentRequest{Content: "gateway"})
		if !errors.Is(err, client.ErrOutcomeUnknown) || client.ErrorCode(err) != client.CodeBadGateway {
			t.Fatalf("err = %v, want ErrOutcomeUnknown wrapping the 502", err)
		}
	})
	t.Run("non-JSON 502 from a proxy", func(t *testing.T) {
		html := "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
		one := demoClient(t, srv, func(cfg *client.Config) { cfg.MaxAttempts = 1 })
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUsers, Count: 1, Status: 502, Body: &html, ContentType: "text/html"})
		_, err := one.ListUsers(ctx)
		wantAPIError(t, err, 502, client.CodeBadGateway)
		if strings.Contains(err.Error(), "<") {
			t.Errorf("Error() carries HTML: %v", err)
		}
	})
	t.Run("budget exhausted by Retry-After", func(t *testing.T) {
		short := demoClient(t, srv, func(cfg *client.Config) { cfg.MaxRetryTime = 2e9 })
		e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUsers, Count: 1, Status: 503, RetryAfter: "3600"})
		_, err := short.ListUsers(ctx)
		if e := wantAPIError(t, err, 503, client.CodeServiceUnavailable); e.RetryAfter.Hours() != 1 {
			t.Errorf("RetryAfter = %v, want 1h", e.RetryAfter)
		}
	})
}
