package tools_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// TestAssign assigns an unassigned incident by email, then reassigns it by
// user id, and checks before/after against the emulator.
func TestAssign(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, ch := connectWithChanges(t, e.session(demoCred))
	ref := e.findRef(func(r client.IncidentRef, i emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceOwnerID && i.Assignee == nil
	})
	var people []client.User
	for _, u := range e.emu.Users() {
		if u.Active() && !u.IsServiceAccount && u.Email != "" {
			people = append(people, u)
		}
	}
	if len(people) < 2 {
		t.Fatalf("the emulator has %d active people; the test needs 2", len(people))
	}
	first, second := people[0], people[1]

	var out tools.AssignOutput
	text := c.ok("assign", refArgs(ref, map[string]any{"email": strings.ToUpper(first.Email)}), &out)
	if out.Before != "unassigned" || !strings.EqualFold(out.After, first.Email) || out.RequestID == "" || out.Note != "" {
		t.Errorf("by email: output %+v, want unassigned → %s", out, first.Email)
	}
	wantAll(t, text, "unassigned → ")
	if inc, _ := e.emu.Incident(ref); inc.Assignee == nil || inc.Assignee.ID != first.ID {
		t.Fatalf("emulator assignee %+v, want %s", inc.Assignee, first.ID)
	}

	out = tools.AssignOutput{}
	text = c.ok("assign", refArgs(ref, map[string]any{"userId": second.ID}), &out)
	if !strings.EqualFold(out.Before, first.Email) || out.After != second.Email {
		t.Errorf("by user id: output %+v, want %s → %s", out, first.Email, second.Email)
	}
	wantAll(t, text, first.Email+" → "+second.Email)
	if inc, _ := e.emu.Incident(ref); inc.Assignee == nil || inc.Assignee.ID != second.ID {
		t.Fatalf("emulator assignee %+v, want %s", inc.Assignee, second.ID)
	}
	if got := ch.list(); len(got) != 2 || slices.ContainsFunc(got, func(r client.IncidentRef) bool { return r != ref }) {
		t.Errorf("Changed hook saw %v", got)
	}
}

// TestAssignChecksTheAssignee: a name no user has, or a deactivated user,
// is refused before anything is sent, pointing to list_users; a user
// without a role on the incident's workspace is assigned, with a warning.
func TestAssignChecksTheAssignee(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	ref := e.findRef(open(emulator.WorkspaceResponderID, client.SourceSentinel))
	before, _ := e.emu.Incident(ref)
	for _, by := range []map[string]any{
		{"email": "nobody@nowhere.example"},
		{"userId": "00000000-0000-4000-8000-000000000000"},
		{"email": "olivia.brooks@contoso.com"}, // deactivated
	} {
		wantAll(t, c.fail("assign", refArgs(ref, by)), "Not assigned", "list_users")
	}
	if n := e.emu.Stats().Requests[emulator.EndpointAssign]; n != 0 {
		t.Errorf("%d assign requests reached the API", n)
	}
	if after, _ := e.emu.Incident(ref); !reflect.DeepEqual(after.Assignee, before.Assignee) {
		t.Error("the assignee changed")
	}

	// Alex Morgan has roles on Contoso Production and Fabrikam, not on Contoso EU.
	var out tools.AssignOutput
	c.ok("assign", refArgs(ref, map[string]any{"userId": emulator.UserAnalystID}), &out)
	wantAll(t, out.Note, "analyst", "no role on this incident's workspace", "list_users")
	if after, _ := e.emu.Incident(ref); after.Assignee == nil || after.Assignee.ID != emulator.UserAnalystID {
		t.Errorf("assignee %+v, want the analyst", after.Assignee)
	}
}
