package tools_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// The tools against what the vendor documents and no more: a detail that
// shows only its seven documented members, next-page positions in every
// plausible place, a server that ignores page tokens.

// documentedDetail is an emulator whose detail shows only the documented
// members: the tools then read the state from the incident's list row.
func documentedDetail(t *testing.T) *env {
	return newEnvWith(t, emulator.Options{Detail: emulator.DetailDocumented})
}

// TestAssignBeforeAndAfterFromTheRow assigns with a detail that does not
// show the assignee: before and after come from the list row.
func TestAssignBeforeAndAfterFromTheRow(t *testing.T) {
	t.Parallel()
	e := documentedDetail(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	ref := e.findRef(func(r client.IncidentRef, i emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceOwnerID && i.Assignee != nil && i.Assignee.ID != emulator.UserJaneDoeID
	})
	before, _ := e.emu.Incident(ref)
	var out tools.AssignOutput
	c.ok("assign", refArgs(ref, map[string]any{"userId": emulator.UserJaneDoeID, "email": "JANE.DOE@contoso.com"}), &out)
	if out.Before != before.Assignee.Email || out.After != "jane.doe@contoso.com" || out.Note != "" {
		t.Errorf("output %+v, want %s → jane.doe@contoso.com read from the row", out, before.Assignee.Email)
	}
}

// TestAssignUnknownWhenNothingShowsIt: with neither the detail nor a row
// showing the assignee, assign says "unknown", never "unassigned".
func TestAssignUnknownWhenNothingShowsIt(t *testing.T) {
	t.Parallel()
	e := documentedDetail(t)
	ref := e.findRef(func(r client.IncidentRef, i emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceOwnerID && i.Assignee == nil
	})
	// The list fails for good: the row cannot be read.
	e.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointListIncidents, Status: 400})
	c := connect(t, e.session(demoCred), "claude-ai")
	var out tools.AssignOutput
	text := c.ok("assign", refArgs(ref, map[string]any{"email": "analyst@contoso.com"}), &out)
	if out.Before != "unknown" || out.After != "unknown" || !strings.Contains(out.Note, "not confirmed") {
		t.Errorf("output %+v, want unknown → unknown with a note", out)
	}
	wantAll(t, text, "unknown → unknown")
	if strings.Contains(text, "unassigned") {
		t.Errorf("claims a state it could not read: %s", text)
	}
	if inc, _ := e.emu.Incident(ref); inc.Assignee == nil || inc.Assignee.ID != emulator.UserAnalystID {
		t.Errorf("emulator assignee %+v", inc.Assignee)
	}
}

// TestAssignBothWays: userId and email together are accepted when they name
// the same user, and refused (nothing sent) when they do not.
func TestAssignBothWays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	ref := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceDefenderXDR))
	var out tools.AssignOutput
	c.ok("assign", refArgs(ref, map[string]any{"userId": emulator.UserAnalystID, "email": "analyst@contoso.com"}), &out)
	if out.After != "analyst@contoso.com" {
		t.Errorf("both, agreeing: %+v", out)
	}
	assigns := e.emu.Stats().Requests[emulator.EndpointAssign]
	text := c.fail("assign", refArgs(ref, map[string]any{"userId": emulator.UserAnalystID, "email": "jane.doe@contoso.com"}))
	wantAll(t, text, "Not assigned", "Alex Morgan", "jane.doe@contoso.com", "Give only the one")
	if got := e.emu.Stats().Requests[emulator.EndpointAssign]; got != assigns {
		t.Errorf("a disagreeing assignment reached the API (%d requests)", got-assigns)
	}
	if inc, _ := e.emu.Incident(ref); inc.Assignee == nil || inc.Assignee.ID != emulator.UserAnalystID {
		t.Errorf("assignee changed to %+v", inc.Assignee)
	}
}

// TestUpdateStatusStateFromTheRow closes a Defender XDR incident with a
// documented-only detail: the verdict comes from the row; the ticket, shown
// by nothing, is unknown.
func TestUpdateStatusStateFromTheRow(t *testing.T) {
	t.Parallel()
	e := documentedDetail(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	ref := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceDefenderXDR))
	var out tools.UpdateStatusOutput
	c.ok("update_status", refArgs(ref, map[string]any{"status": "Closed", "comment": "Benign: approved admin task.",
		"classification": "InformationalExpectedActivity", "classificationReason": "SecurityTesting"}), &out)
	want := tools.StatusState{Status: "Closed", Classification: "InformationalExpectedActivity",
		ClassificationReason: "SecurityTesting", Unknown: []string{"ticketId"}}
	if out.Before.Classification != "" || !slices.Equal(out.Before.Unknown, []string{"ticketId"}) ||
		out.After.Status != want.Status || out.After.Classification != want.Classification || !slices.Equal(out.After.Unknown, want.Unknown) {
		t.Errorf("before %+v after %+v, want after %+v", out.Before, out.After, want)
	}
}

// TestUpdateStatusSaysAVerdictIsNotKept: a verdict sent for a source that
// records none is flagged in the result, and not predicted by a dry run.
func TestUpdateStatusSaysAVerdictIsNotKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	for _, src := range client.SourcesWithoutClassification() {
		ref := e.findRef(open(emulator.WorkspaceOwnerID, src))
		var out tools.UpdateStatusOutput
		text := c.ok("update_status", refArgs(ref, map[string]any{"status": "Closed", "comment": "False alarm.",
			"classification": "FalsePositive", "classificationReason": "InaccurateData", "dryRun": true}), &out)
		if out.After.Classification != "" || len(out.Notes) != 1 || !strings.Contains(out.Notes[0], "not kept") {
			t.Errorf("%s: after %+v, notes %q", src, out.After, out.Notes)
		}
		wantAll(t, text, string(src)+" does not record classification")
	}
	var def tools.Tool = tools.UpdateStatus(tools.Deps{})
	wantAll(t, def.Def.Description, "QRadar, Splunk, CrowdStrike and SentinelOne do not record classification")
}

// TestAddCommentCarriesTheExtension: the incident's extensionId is sent
// with the comment; a source without one sends none.
func TestAddCommentCarriesTheExtension(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	for _, src := range []client.Source{client.SourceSentinel, client.SourceDefenderXDR, client.SourceCrowdStrike} {
		ref := e.findRef(open(emulator.WorkspaceOwnerID, src))
		inc, _ := e.emu.Incident(ref)
		var out tools.AddCommentOutput
		c.ok("add_comment", refArgs(ref, map[string]any{"content": "Triage started."}), &out)
		sent, ok := e.emu.CommentExtensionID(ref, out.CommentID)
		if !ok || sent != inc.ExtensionID || out.ExtensionID != inc.ExtensionID || out.Note != "" {
			t.Errorf("%s: sent extension %q (%v), output %q, note %q; want the incident's %q",
				src, sent, ok, out.ExtensionID, out.Note, inc.ExtensionID)
		}
		if (inc.ExtensionID != "") != src.RecordsClassification() {
			t.Errorf("%s: the emulator's extension is %q", src, inc.ExtensionID)
		}
	}
}

// TestAddCommentFallsBackWithoutTheExtension: with a documented-only
// detail the extension comes from the row's productId; where the API
// refuses it (QRadar has no extension), the comment is posted without one,
// once, and the result says so.
func TestAddCommentFallsBackWithoutTheExtension(t *testing.T) {
	t.Parallel()
	e := documentedDetail(t)
	c := connect(t, e.session(demoCred), "claude-ai")

	sentinel := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceSentinel))
	inc, _ := e.emu.Incident(sentinel)
	var out tools.AddCommentOutput
	c.ok("add_comment", refArgs(sentinel, map[string]any{"content": "Triage started."}), &out)
	if sent, _ := e.emu.CommentExtensionID(sentinel, out.CommentID); sent != inc.ExtensionID || out.Note != "" {
		t.Errorf("Sentinel: sent %q, note %q; want the row's productId %q", sent, out.Note, inc.ExtensionID)
	}

	qradar := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceQRadar))
	n := len(e.emu.Comments(qradar))
	posts := e.emu.Stats().Requests[emulator.EndpointAddComment]
	out = tools.AddCommentOutput{}
	text := c.ok("add_comment", refArgs(qradar, map[string]any{"content": "Triage started."}), &out)
	sent, ok := e.emu.CommentExtensionID(qradar, out.CommentID)
	if !ok || sent != "" || out.ExtensionID != "" || !strings.Contains(out.Note, "refused the extensionId") {
		t.Errorf("QRadar: sent %q (%v), output %+v", sent, ok, out)
	}
	wantAll(t, text, "note: ContraForce refused the extensionId")
	if got := len(e.emu.Comments(qradar)); got != n+1 {
		t.Errorf("%d comments added, want exactly 1", got-n)
	}
	if got := e.emu.Stats().Requests[emulator.EndpointAddComment] - posts; got != 2 {
		t.Errorf("%d comment requests, want 2 (refused, then without the extension)", got)
	}
}

// TestListIncidentsEveryPlacement walks list_incidents to the end against
// each placement of the next-page position, and stops with a note against
// a server that ignores page tokens.
func TestListIncidentsEveryPlacement(t *testing.T) {
	t.Parallel()
	for _, paging := range []emulator.Paging{emulator.PagingWorkspaceTokens, emulator.PagingContinuation,
		emulator.PagingContinuationArray, emulator.PagingIgnoresTokens} {
		e := newEnvWith(t, emulator.Options{Paging: paging, PageSize: 4})
		c := connect(t, e.session(demoCred), "claude-ai")
		want := e.expect(demoVisible, func(client.IncidentRef, emulator.IncidentState) bool { return true })
		seen := map[key]bool{}
		args := map[string]any{"limit": 100}
		var last tools.ListIncidentsOutput
		for calls := 0; ; calls++ {
			if calls > 50 {
				t.Fatalf("paging %v: list_incidents did not end", paging)
			}
			last = tools.ListIncidentsOutput{}
			c.ok("list_incidents", args, &last)
			for _, r := range last.Incidents {
				k := key{r.WorkspaceID, r.Source, r.IncidentID}
				if seen[k] {
					t.Fatalf("paging %v: %v listed twice", paging, k)
				}
				seen[k] = true
			}
			if !last.HasMore {
				break
			}
			args = map[string]any{"cursor": last.NextCursor}
		}
		if paging == emulator.PagingIgnoresTokens {
			if last.Note == "" || !strings.Contains(last.Note, "ignore page tokens") || len(seen) == 0 || len(seen) >= len(want) {
				t.Errorf("ignoring tokens: %d of %d listed, note %q; want a stop that says why", len(seen), len(want), last.Note)
			}
			continue
		}
		if len(seen) != len(want) || last.Note != "" {
			t.Errorf("paging %v: %d listed, want %d; note %q", paging, len(seen), len(want), last.Note)
		}
	}
}
