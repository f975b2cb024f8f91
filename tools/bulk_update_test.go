package tools_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// openRefs returns n open incidents of a workspace, of the given sources in turn.
func (e *env) openRefs(t *testing.T, ws string, n int, sources ...client.Source) []client.IncidentRef {
	t.Helper()
	bySource := map[client.Source][]client.IncidentRef{}
	for _, ref := range e.emu.Refs() {
		st, _ := e.emu.Incident(ref)
		if ref.WorkspaceID == ws && st.Status != client.StatusClosed && !strings.ContainsAny(ref.IncidentID, "/ %") {
			bySource[ref.Source] = append(bySource[ref.Source], ref)
		}
	}
	var out []client.IncidentRef
	for i := 0; len(out) < n; i++ {
		src := sources[i%len(sources)]
		k := i / len(sources)
		if k >= len(bySource[src]) {
			t.Fatalf("only %d open %s incidents", len(bySource[src]), src)
		}
		out = append(out, bySource[src][k])
	}
	return out
}

func incidentsArg(refs ...client.IncidentRef) []any {
	var out []any
	for _, r := range refs {
		out = append(out, map[string]any{"workspaceId": r.WorkspaceID, "source": string(r.Source), "incidentId": r.IncidentID})
	}
	return out
}

// TestBulkUpdateClosesABatch: a dry run shows each before → after and
// changes nothing; the run closes every incident with the verdict, posts
// the attributed comment on each, and says all were updated.
func TestBulkUpdateClosesABatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, ch := connectWithChanges(t, e.session(demoCred))
	refs := e.openRefs(t, emulator.WorkspaceOwnerID, 4, client.SourceDefenderXDR, client.SourceQRadar)
	args := map[string]any{"incidents": incidentsArg(refs...), "status": "Closed", "classification": "FalsePositive",
		"classificationReason": "InaccurateData", "comment": "Same scanner as INC-1; benign.", "dryRun": true}
	before := map[client.IncidentRef]emulator.IncidentState{}
	for _, r := range refs {
		before[r], _ = e.emu.Incident(r)
	}
	var dry tools.BulkUpdateOutput
	text := c.ok("bulk_update", args, &dry)
	if !dry.DryRun || len(dry.Incidents) != 4 || dry.Accepted != 0 {
		t.Fatalf("dry run %+v", dry)
	}
	for i, row := range dry.Incidents {
		want := "Closed"
		if refs[i].Source == client.SourceDefenderXDR {
			want = "Closed (FalsePositive/InaccurateData)"
		}
		if row.Result != "planned" || !strings.HasPrefix(row.After, want) || !strings.HasPrefix(row.Before, string(before[refs[i]].Status)) {
			t.Errorf("row %+v, want %s → %s", row, before[refs[i]].Status, want)
		}
	}
	wantAll(t, text, "Dry run, nothing changed", "QRadar does not record classification")
	for _, r := range refs {
		if st, _ := e.emu.Incident(r); st.Status != before[r].Status {
			t.Fatal("the dry run changed an incident")
		}
	}

	delete(args, "dryRun")
	var out tools.BulkUpdateOutput
	text = c.ok("bulk_update", args, &out)
	if out.Accepted != 4 || out.Forbidden != 0 || out.RequestID == "" {
		t.Fatalf("output %+v", out)
	}
	wantAll(t, text, "Updated all 4 incidents")
	for i, r := range refs {
		st, _ := e.emu.Incident(r)
		cms := e.emu.Comments(r)
		last := cms[len(cms)-1]
		if st.Status != client.StatusClosed || !last.IsClosingComment || last.Message != out.Comment ||
			!strings.HasPrefix(last.Message, "[AI agent: Claude via contraforce-mcp] Same scanner") {
			t.Errorf("%s: status %s, last comment %+v", r.IncidentID, st.Status, last)
		}
		if (st.Classification != nil) != r.Source.RecordsClassification() {
			t.Errorf("%s: classification %v", r.IncidentID, st.Classification)
		}
		if out.Incidents[i].Result != "accepted" || !strings.HasPrefix(out.Incidents[i].After, "Closed") {
			t.Errorf("row %+v", out.Incidents[i])
		}
	}
	if got := ch.list(); len(got) != 4 {
		t.Errorf("Changed hook saw %d incidents", len(got))
	}
}

// TestBulkUpdateChecksEveryIncidentFirst: one incident that cannot take
// the change refuses the whole batch, naming it and why, before anything
// is sent.
func TestBulkUpdateChecksEveryIncidentFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	ok := e.openRefs(t, emulator.WorkspaceOwnerID, 2, client.SourceQRadar)
	sentinel := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceSentinel))
	closed := e.findRef(func(r client.IncidentRef, st emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceOwnerID && r.Source == client.SourceQRadar && st.Status == client.StatusClosed
	})
	readOnly := e.findRef(open(emulator.WorkspaceReaderID, client.SourceQRadar))
	unknown := ok[0]
	unknown.IncidentID = "999999"
	for _, tc := range []struct {
		name string
		bad  client.IncidentRef
		args map[string]any
		want []string
	}{
		{"Sentinel without a verdict", sentinel, map[string]any{"status": "Closed", "comment": "benign"}, []string{"Sentinel requires classification"}},
		{"already closed", closed, map[string]any{"status": "Closed", "comment": "benign"}, []string{"already Closed"}},
		{"read-only workspace", readOnly, map[string]any{"status": "Active"}, []string{"WorkspaceReader", "read-only"}},
		{"no such incident", unknown, map[string]any{"status": "Active"}, []string{"NOT_FOUND", "list_incidents"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.args["incidents"] = incidentsArg(ok[0], tc.bad, ok[1])
			text := c.fail("bulk_update", tc.args)
			wantAll(t, text, append([]string{"Nothing updated", "1 of 3", tc.bad.IncidentID}, tc.want...)...)
			tc.args["dryRun"] = true
			var dry tools.BulkUpdateOutput
			c.ok("bulk_update", tc.args, &dry)
			if dry.Incidents[1].Result != "refused" || dry.Incidents[0].Result != "planned" {
				t.Errorf("dry run rows %+v", dry.Incidents)
			}
		})
	}
	if n := e.emu.Stats().Requests[emulator.EndpointBulkUpdate]; n != 0 {
		t.Errorf("%d batches reached the API", n)
	}
	wantAll(t, c.fail("bulk_update", map[string]any{"incidents": incidentsArg(ok...), "email": "nobody@nowhere.example"}), "list_users")
	wantAll(t, c.fail("bulk_update", map[string]any{"incidents": incidentsArg(ok...), "status": "Closed"}), "comment")
	wantAll(t, c.fail("bulk_update", map[string]any{"incidents": incidentsArg(ok[0], ok[0]), "status": "Active"}), "repeats")
	wantAll(t, c.fail("bulk_update", map[string]any{"incidents": incidentsArg(ok...), "status": "Active", "classification": "FalsePositive"}), "Closed")
	wantAll(t, c.fail("bulk_update", map[string]any{"incidents": incidentsArg(ok...)}), "give a change")
}

// TestBulkUpdateReportsWhatTheAPIRefused: when the API refuses some
// incidents, the answer names them and their reason, and never says the
// batch was done.
func TestBulkUpdateReportsWhatTheAPIRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	own := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceQRadar))
	readOnly := e.findRef(open(emulator.WorkspaceReaderID, client.SourceQRadar))
	roBefore, _ := e.emu.Incident(readOnly)
	// The roles cannot be read, so the read-only workspace is caught by the API's per-incident authorization.
	e.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointProfile, Status: 500})
	var out tools.BulkUpdateOutput
	text := c.ok("bulk_update", map[string]any{"incidents": incidentsArg(own, readOnly), "status": "Active"}, &out)
	if out.Accepted != 1 || out.Forbidden != 1 || out.Incidents[1].Result != "forbidden" || out.Incidents[1].Reason == "" {
		t.Fatalf("output %+v", out)
	}
	wantAll(t, text, "NOT ALL APPLIED", "1 of 2", "[forbidden]", "read-only")
	if strings.Contains(text, "Updated all") {
		t.Error("a half-applied batch was reported as done")
	}
	if st, _ := e.emu.Incident(own); st.Status != client.StatusActive {
		t.Errorf("the accepted incident is %s", st.Status)
	}
	if st, _ := e.emu.Incident(readOnly); st.Status != roBefore.Status || st.UpdatedAt != roBefore.UpdatedAt {
		t.Error("the forbidden incident changed")
	}
}

// TestBulkUpdateAssigns: an assignee for the batch (warned about where they
// have no role), then unassigning.
func TestBulkUpdateAssigns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	owner := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceSentinel))
	eu := e.findRef(open(emulator.WorkspaceResponderID, client.SourceSentinel))
	var out tools.BulkUpdateOutput
	c.ok("bulk_update", map[string]any{"incidents": incidentsArg(owner, eu), "email": "analyst@contoso.com"}, &out)
	if out.Accepted != 2 || strings.Contains(out.Incidents[0].Reason, "no role") || !strings.Contains(out.Incidents[1].Reason, "no role") {
		t.Errorf("rows %+v: want the Contoso EU one warned", out.Incidents)
	}
	for _, r := range []client.IncidentRef{owner, eu} {
		if st, _ := e.emu.Incident(r); st.Assignee == nil || st.Assignee.ID != emulator.UserAnalystID {
			t.Errorf("%s assignee %+v", r.IncidentID, st.Assignee)
		}
	}
	c.ok("bulk_update", map[string]any{"incidents": incidentsArg(owner, eu), "removeAssignee": true}, &out)
	for _, r := range []client.IncidentRef{owner, eu} {
		if st, _ := e.emu.Incident(r); st.Assignee != nil {
			t.Errorf("%s still assigned", r.IncidentID)
		}
	}
	wantAll(t, out.Incidents[0].After, "unassigned")
}

// TestBulkUpdateOneConfirmation: one question covers the batch, listing
// each incident's change; declined, nothing changes.
func TestBulkUpdateOneConfirmation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	refs := e.openRefs(t, emulator.WorkspaceOwnerID, 3, client.SourceQRadar)
	args := map[string]any{"incidents": incidentsArg(refs...), "status": "Closed", "comment": "duplicates of one alert"}
	deps := tools.Deps{Session: func(context.Context) (*tools.Session, error) { return e.session(demoCred), nil }, ConfirmClose: tools.ConfirmAlways}
	no := &human{action: mcp.ElicitationResponseActionDecline}
	wantAll(t, connectHuman(t, deps, no).fail("bulk_update", args), "Nothing updated", "declined")
	for _, r := range refs {
		if st, _ := e.emu.Incident(r); st.Status == client.StatusClosed {
			t.Fatal("a declined batch closed an incident")
		}
	}
	wantAll(t, connectHuman(t, deps, nil).fail("bulk_update", args), "Nothing updated", "cannot ask")
	yes := &human{action: mcp.ElicitationResponseActionAccept, tick: true}
	var out tools.BulkUpdateOutput
	connectHuman(t, deps, yes).ok("bulk_update", args, &out)
	if yes.asked.Load() != 1 || out.Accepted != 3 {
		t.Fatalf("asked %d times, accepted %d", yes.asked.Load(), out.Accepted)
	}
	q := yes.question()
	wantAll(t, q, "Update 3 incidents?", "→ Closed", "duplicates of one alert")
	for _, r := range refs {
		wantAll(t, q, r.IncidentID)
	}
}
