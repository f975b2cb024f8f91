package tools_test

import (
	"context"
	"maps"
	"reflect"
	"sync"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// changes records the incidents the Changed hook was told about.
type changes struct {
	mu   sync.Mutex
	refs []client.IncidentRef
}

func (c *changes) record(_ context.Context, ref client.IncidentRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refs = append(c.refs, ref)
}

func (c *changes) list() []client.IncidentRef {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]client.IncidentRef(nil), c.refs...)
}

// connectWithChanges connects a client under sess and records writes.
func connectWithChanges(t *testing.T, sess *tools.Session) (*conn, *changes) {
	t.Helper()
	ch := &changes{}
	deps := tools.Deps{Session: func(context.Context) (*tools.Session, error) { return sess, nil }, Changed: ch.record}
	return connectDeps(t, deps, "claude-ai"), ch
}

// TestUpdateStatusClosesSentinelIncident closes a Sentinel incident with a
// verdict and a comment, and checks the emulator's state and comments.
func TestUpdateStatusClosesSentinelIncident(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, ch := connectWithChanges(t, e.session(demoCred))
	ref := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceSentinel))
	before, _ := e.emu.Incident(ref)
	nComments := len(e.emu.Comments(ref))

	var out tools.UpdateStatusOutput
	text := c.ok("update_status", refArgs(ref, map[string]any{
		"status": "Closed", "classification": "TruePositive", "classificationReason": "SuspiciousActivity",
		"comment": "  Confirmed credential theft: evidence rows 1-3 show the token replay.  ",
	}), &out)

	const attributed = "[AI agent: Claude via contraforce-mcp] Confirmed credential theft: evidence rows 1-3 show the token replay."
	if out.Before.Status != string(before.Status) || out.Before.Classification != "" {
		t.Errorf("before = %+v, want the emulator's %s without a verdict", out.Before, before.Status)
	}
	wantAfter := tools.StatusState{Status: "Closed", Classification: "TruePositive", ClassificationReason: "SuspiciousActivity"}
	if !reflect.DeepEqual(out.After, wantAfter) || out.DryRun || out.RequestID == "" || out.Comment != attributed {
		t.Errorf("output = %+v, want after %+v, a request id and the attributed comment", out, wantAfter)
	}
	wantAll(t, text, string(before.Status)+" → Closed (TruePositive/SuspiciousActivity)", "request id: "+out.RequestID)

	inc, _ := e.emu.Incident(ref)
	if inc.Status != client.StatusClosed || inc.Classification == nil || *inc.Classification != client.ClassificationTruePositive ||
		inc.ClassificationReason == nil || *inc.ClassificationReason != client.ReasonSuspiciousActivity {
		t.Errorf("emulator incident = status %s, classification %v, reason %v", inc.Status, inc.Classification, inc.ClassificationReason)
	}
	comments := e.emu.Comments(ref)
	if len(comments) != nComments+1 {
		t.Fatalf("%d comments, want %d", len(comments), nComments+1)
	}
	cm := comments[len(comments)-1]
	if !cm.IsClosingComment || !cm.IsAgentComment || cm.Message != attributed || cm.AgentName == nil || *cm.AgentName != emulator.DemoName {
		t.Errorf("closing comment = %+v", cm)
	}
	if got := ch.list(); len(got) != 1 || got[0] != ref {
		t.Errorf("Changed hook saw %v, want [%v]", got, ref)
	}
}

// TestUpdateStatusDryRun shows the change and makes none.
func TestUpdateStatusDryRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, ch := connectWithChanges(t, e.session(demoCred))
	ref := e.findRef(open(emulator.WorkspaceResponderID, client.SourceSentinel))
	before, _ := e.emu.Incident(ref)
	comments := e.emu.Comments(ref)
	applied := e.emu.Stats().Applied

	var out tools.UpdateStatusOutput
	text := c.ok("update_status", refArgs(ref, map[string]any{
		"status": "Closed", "classification": "FalsePositive", "classificationReason": "IncorrectAlertLogic",
		"comment": "Benign scanner.", "dryRun": true,
	}), &out)
	want := tools.StatusState{Status: "Closed", Classification: "FalsePositive", ClassificationReason: "IncorrectAlertLogic"}
	if !out.DryRun || !reflect.DeepEqual(out.After, want) || out.Before.Status != string(before.Status) || out.RequestID != "" {
		t.Errorf("dry run output = %+v", out)
	}
	wantAll(t, text, "dry run, nothing changed", "→ Closed (FalsePositive/IncorrectAlertLogic)")

	after, _ := e.emu.Incident(ref)
	if !reflect.DeepEqual(after, before) || !reflect.DeepEqual(e.emu.Comments(ref), comments) {
		t.Error("the dry run changed the emulator's incident or comments")
	}
	if got := e.emu.Stats().Applied; !reflect.DeepEqual(got, applied) {
		t.Errorf("writes applied: %v, before %v", got, applied)
	}
	if len(ch.list()) != 0 {
		t.Errorf("Changed hook called on a dry run: %v", ch.list())
	}
}

// TestUpdateStatusTransitions covers the other changes an agent makes.
func TestUpdateStatusTransitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	newDefender := e.findRef(func(r client.IncidentRef, i emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceOwnerID && r.Source == client.SourceDefenderXDR && i.Status == client.StatusNew
	})
	closedSentinel := e.findRef(func(r client.IncidentRef, i emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceOwnerID && r.Source == client.SourceSentinel && i.Status == client.StatusClosed &&
			i.Classification != nil
	})
	qradar := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceQRadar))
	ticketed := e.findRef(func(r client.IncidentRef, i emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceResponderID && r.Source == client.SourceDefenderXDR && i.Status != client.StatusClosed &&
			r != newDefender
	})

	tests := []struct {
		name  string
		ref   client.IncidentRef
		args  map[string]any
		after tools.StatusState
		check func(t *testing.T, inc emulator.IncidentState, comments []client.Comment)
	}{
		{"activate without a comment", newDefender, map[string]any{"status": "Active"}, tools.StatusState{Status: "Active"},
			func(t *testing.T, inc emulator.IncidentState, _ []client.Comment) {
				if inc.Status != client.StatusActive {
					t.Errorf("status %s", inc.Status)
				}
			}},
		{"reopen clears the verdict", closedSentinel, map[string]any{"status": "Active", "comment": "New evidence."},
			tools.StatusState{Status: "Active"},
			func(t *testing.T, inc emulator.IncidentState, cs []client.Comment) {
				if inc.Status != client.StatusActive || inc.Classification != nil {
					t.Errorf("status %s classification %v", inc.Status, inc.Classification)
				}
				if last := cs[len(cs)-1]; last.IsClosingComment || !last.IsAgentComment {
					t.Errorf("reopening comment %+v", last)
				}
			}},
		{"close a non-Sentinel incident with a comment only", qradar, map[string]any{"status": "Closed", "comment": "Duplicate of offense 3101."},
			tools.StatusState{Status: "Closed"},
			func(t *testing.T, inc emulator.IncidentState, cs []client.Comment) {
				if inc.Status != client.StatusClosed || !cs[len(cs)-1].IsClosingComment {
					t.Errorf("status %s, last comment %+v", inc.Status, cs[len(cs)-1])
				}
			}},
		{"close with the linked ticket", ticketed, map[string]any{"status": "Closed", "comment": "Contained.",
			"classification": "TruePositive", "classificationReason": "Malware", "updateTicket": true, "ticketId": "INC0012345"},
			tools.StatusState{Status: "Closed", Classification: "TruePositive", ClassificationReason: "Malware", TicketID: "INC0012345"},
			func(t *testing.T, inc emulator.IncidentState, _ []client.Comment) {
				if inc.TicketID == nil || *inc.TicketID != "INC0012345" {
					t.Errorf("ticket %v", inc.TicketID)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &conn{t: t, c: c.c, srv: c.srv}
			var out tools.UpdateStatusOutput
			c.ok("update_status", refArgs(tt.ref, tt.args), &out)
			if !reflect.DeepEqual(out.After, tt.after) {
				t.Errorf("after = %+v, want %+v", out.After, tt.after)
			}
			inc, _ := e.emu.Incident(tt.ref)
			tt.check(t, inc, e.emu.Comments(tt.ref))
		})
	}
}

// TestUpdateStatusRefusesClosingAClosedIncident: closing a Closed incident
// (dry run or not) changes nothing and posts no second closing comment; the
// error names the reopen-then-close an agent can make on purpose, which
// then works.
func TestUpdateStatusRefusesClosingAClosedIncident(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, ch := connectWithChanges(t, e.session(demoCred))
	ref := e.findRef(func(r client.IncidentRef, i emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceOwnerID && r.Source == client.SourceSentinel && i.Status == client.StatusClosed
	})
	before, _ := e.emu.Incident(ref)
	comments := e.emu.Comments(ref)
	applied := e.emu.Stats().Applied
	closeArgs := map[string]any{"status": "Closed", "classification": "FalsePositive", "classificationReason": "InaccurateData",
		"comment": "Closing again."}
	for _, dry := range []bool{false, true} {
		args := maps.Clone(closeArgs)
		args["dryRun"] = dry
		text := c.fail("update_status", refArgs(ref, args))
		wantAll(t, text, "Not changed", "already Closed", "second closing comment", "reopen it (update_status with status Active)",
			"use add_comment")
	}
	after, _ := e.emu.Incident(ref)
	if !reflect.DeepEqual(after, before) || !reflect.DeepEqual(e.emu.Comments(ref), comments) ||
		!reflect.DeepEqual(e.emu.Stats().Applied, applied) || len(ch.list()) != 0 {
		t.Fatal("refusing to close a Closed incident changed it")
	}

	c.ok("update_status", refArgs(ref, map[string]any{"status": "Active", "comment": "Reopened to correct the verdict."}), nil)
	var out tools.UpdateStatusOutput
	c.ok("update_status", refArgs(ref, closeArgs), &out)
	if out.After.Classification != "FalsePositive" {
		t.Fatalf("after reopen and close: %+v", out.After)
	}
	closing := 0
	for _, cm := range e.emu.Comments(ref)[len(comments):] {
		if cm.IsClosingComment {
			closing++
		}
	}
	if closing != 1 {
		t.Fatalf("%d new closing comments after reopen and close, want 1", closing)
	}
}
