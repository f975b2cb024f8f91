package tools_test

import (
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
