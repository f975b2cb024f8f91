package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// TestUsersAndGamebooksAgainstTheEmulator drives the users, related,
// gamebook and bulk methods against the emulator.
func TestUsersAndGamebooksAgainstTheEmulator(t *testing.T) {
	e, srv := startEmulator(t)
	c := demoClient(t, srv)
	ctx := context.Background()
	p, err := c.GetProfile(ctx)
	if err != nil || p.UserID != emulator.DemoUserID {
		t.Fatalf("GetProfile = %+v, %v", p, err)
	}
	u, err := c.GetUser(ctx, p.UserID)
	if err != nil || len(u.RoleAssignments) != 3 {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}
	rows, err := c.ListWorkspaceUsers(ctx, client.WorkspaceUsersRequest{AccountID: emulator.WorkspaceOwnerID, Role: client.RoleOwner})
	if err != nil || len(rows) == 0 || rows[0].UserIDOf() == "" {
		t.Fatalf("ListWorkspaceUsers = %+v, %v", rows, err)
	}
	ref := refIn(t, e, emulator.WorkspaceOwnerID, client.SourceDefenderXDR)
	if _, err := c.RelatedIncidents(ctx, ref, client.RelatedQuery{}); err != nil {
		t.Fatalf("RelatedIncidents: %v", err)
	}
	gbs, err := c.IncidentGamebooks(ctx, ref.WorkspaceID, ref.IncidentID)
	if err != nil || len(gbs) == 0 {
		t.Fatalf("IncidentGamebooks = %d, %v", len(gbs), err)
	}
	h, err := c.GamebookHistory(ctx, ref.WorkspaceID, "")
	if err != nil || h.TotalCount == 0 || h.PageToken == "" {
		t.Fatalf("GamebookHistory = %+v, %v", h, err)
	}
	if next, err := c.GamebookHistory(ctx, ref.WorkspaceID, h.PageToken); err != nil || len(next.Gamebooks) == 0 {
		t.Fatalf("GamebookHistory, page 2: %v", err)
	}
}

// TestAllowlistGuardsTheNewCalls: a workspace outside the allowlist is
// refused by the client, before any request; answers are filtered to it.
func TestAllowlistGuardsTheNewCalls(t *testing.T) {
	e, srv := startEmulator(t)
	c := demoClient(t, srv, func(cfg *client.Config) { cfg.Workspaces = []string{emulator.WorkspaceOwnerID} })
	ctx := context.Background()
	other := refIn(t, e, emulator.WorkspaceResponderID, client.SourceSentinel)
	st := client.StatusActive
	for name, call := range map[string]func() error{
		"ListWorkspaceUsers": func() error {
			_, err := c.ListWorkspaceUsers(ctx, client.WorkspaceUsersRequest{AccountID: other.WorkspaceID})
			return err
		},
		"RelatedIncidents": func() error { _, err := c.RelatedIncidents(ctx, other, client.RelatedQuery{}); return err },
		"IncidentGamebooks": func() error {
			_, err := c.IncidentGamebooks(ctx, other.WorkspaceID, other.IncidentID)
			return err
		},
		"GamebookHistory": func() error { _, err := c.GamebookHistory(ctx, other.WorkspaceID, ""); return err },
		"SubmitGamebook": func() error {
			_, _, err := c.SubmitGamebook(ctx, other, client.SubmitGamebookRequest{TriggerType: client.TriggerManualInvestigateAndRespond})
			return err
		},
		"BulkUpdate, one item of another workspace": func() error {
			own := refIn(t, e, emulator.WorkspaceOwnerID, client.SourceSentinel)
			_, _, err := c.BulkUpdate(ctx, client.BulkUpdateRequest{Items: []client.BulkUpdateItem{
				{ID: own.IncidentID, Workspace: own.WorkspaceID, IncidentSource: own.Source, Status: &st},
				{ID: other.IncidentID, Workspace: other.WorkspaceID, IncidentSource: other.Source, Status: &st}}})
			return err
		},
	} {
		if err := call(); client.ErrorCode(err) != client.CodeWorkspaceNotAllowed {
			t.Errorf("%s: err = %v, want WORKSPACE_NOT_ALLOWED", name, err)
		}
	}
	if n := len(e.Stats().Requests); n != 0 {
		t.Errorf("requests reached the API: %v", e.Stats().Requests)
	}
	demo, err := c.GetUser(ctx, emulator.DemoUserID)
	if err != nil || len(demo.RoleAssignments) != 1 || demo.RoleAssignments[0].WorkspaceID != emulator.WorkspaceOwnerID {
		t.Errorf("GetUser kept roles %+v, %v; want the allowed workspace's only", demo.RoleAssignments, err)
	}
}

// TestGamebookSubmittedOnce: a submission is never sent twice. Dropped
// after it was applied, or answered 502, it is reported unknown; a 503
// (not processed) is retried and lands once.
func TestGamebookSubmittedOnce(t *testing.T) {
	e, srv := startEmulator(t)
	c := demoClient(t, srv, func(cfg *client.Config) { cfg.MaxAttempts = 4 })
	ctx := context.Background()
	ref := refIn(t, e, emulator.WorkspaceOwnerID, client.SourceDefenderXDR)
	gbs, err := c.IncidentGamebooks(ctx, ref.WorkspaceID, ref.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	inc, _ := e.Incident(ref)
	req := client.SubmitGamebookRequest{IncidentNumber: inc.Number, TriggerType: client.TriggerManualInvestigateAndRespond}
	for i, p := range gbs[0].Playbooks {
		req.Playbooks = append(req.Playbooks, client.SubmittedPlaybook{PlaybookID: p.CatalogID(), EntityID: p.EntityID,
			AffectedEntity: p.AffectedEntity, Sequence: i + 1})
	}
	for _, tc := range []struct {
		name    string
		fault   emulator.Fault
		unknown bool
		landed  int
	}{
		{"dropped after apply", emulator.Fault{DropAfterApply: true}, true, 1},
		{"dropped before apply", emulator.Fault{DropBeforeApply: true}, true, 0},
		{"502", emulator.Fault{Status: http.StatusBadGateway}, true, 0},
		{"503 then served", emulator.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0"}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, runs := e.Stats().Requests[emulator.EndpointSubmitGamebook], len(e.GamebookRuns(ref))
			tc.fault.Endpoint, tc.fault.Count = emulator.EndpointSubmitGamebook, 1
			e.InjectFault(tc.fault)
			_, _, err := c.SubmitGamebook(ctx, ref, req)
			if got := errors.Is(err, client.ErrOutcomeUnknown); got != tc.unknown {
				t.Errorf("err = %v; outcome unknown %v, want %v", err, got, tc.unknown)
			}
			if n := len(e.GamebookRuns(ref)) - runs; n != tc.landed {
				t.Errorf("%d runs recorded, want %d", n, tc.landed)
			}
			sent := e.Stats().Requests[emulator.EndpointSubmitGamebook] - before
			if want := map[bool]int{true: 1, false: 2}[tc.unknown]; sent != want {
				t.Errorf("%d requests, want %d", sent, want)
			}
		})
	}
}

// TestBulkUpdateRetryPolicy: a batch with a comment is sent once (its
// comment must not be posted twice); one without is a state and is retried.
func TestBulkUpdateRetryPolicy(t *testing.T) {
	e, srv := startEmulator(t)
	c := demoClient(t, srv, func(cfg *client.Config) { cfg.MaxAttempts = 4 })
	ctx := context.Background()
	ref := refIn(t, e, emulator.WorkspaceOwnerID, client.SourceQRadar)
	st, comment := client.StatusActive, "bulk retry note"
	item := client.BulkUpdateItem{ID: ref.IncidentID, Workspace: ref.WorkspaceID, IncidentSource: ref.Source, Status: &st}

	e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointBulkUpdate, Count: 1, DropAfterApply: true})
	withComment := item
	withComment.Comment = &comment
	if _, _, err := c.BulkUpdate(ctx, client.BulkUpdateRequest{Items: []client.BulkUpdateItem{withComment}}); !errors.Is(err, client.ErrOutcomeUnknown) {
		t.Errorf("with a comment: err = %v, want ErrOutcomeUnknown", err)
	}
	n := 0
	for _, cm := range e.Comments(ref) {
		if cm.Message == comment {
			n++
		}
	}
	if n != 1 || e.Stats().Applied[emulator.EndpointBulkUpdate] != 1 {
		t.Errorf("the comment exists %d times; %d batches applied", n, e.Stats().Applied[emulator.EndpointBulkUpdate])
	}

	e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointBulkUpdate, Count: 1, DropAfterApply: true})
	res, _, err := c.BulkUpdate(ctx, client.BulkUpdateRequest{Items: []client.BulkUpdateItem{item}})
	if err != nil || len(res.Accepted) != 1 {
		t.Errorf("without a comment: %+v, %v; want it retried and accepted", res, err)
	}
	if _, _, err := c.BulkUpdate(ctx, client.BulkUpdateRequest{}); client.ErrorCode(err) != client.CodeBadRequest {
		t.Errorf("an empty batch: %v", err)
	}
}
