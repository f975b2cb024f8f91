package tools_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// emails lists the rows' e-mails.
func emails(rows []tools.UserRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.ToLower(r.Email))
	}
	return out
}

// TestListUsers: who can be assigned, by workspace, query and role; the
// deactivated are never listed, and an allowlist hides the people of other
// workspaces.
func TestListUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")

	var ws tools.ListUsersOutput
	text := c.ok("list_users", map[string]any{"workspaceId": emulator.WorkspaceOwnerID}, &ws)
	// What the emulator holds: the active users with a role on the workspace.
	var want []string
	for _, u := range e.emu.Users() {
		if u.Active() && slices.ContainsFunc(u.RoleAssignments, func(ra client.RoleAssignment) bool { return ra.WorkspaceID == emulator.WorkspaceOwnerID }) {
			want = append(want, strings.ToLower(u.Email))
		}
	}
	got := emails(ws.Users)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("users of the owner workspace = %v, want %v", got, want)
	}
	for _, r := range ws.Users {
		if r.UserID == "" || r.Role == "" || r.Name == "" {
			t.Errorf("row %+v", r)
		}
	}
	wantAll(t, text, "jane.doe@contoso.com", emulator.UserJaneDoeID, "Owner")

	var owners tools.ListUsersOutput
	c.ok("list_users", map[string]any{"workspaceId": emulator.WorkspaceOwnerID, "role": "IncidentResponder", "query": "alex"}, &owners)
	if got := emails(owners.Users); !slices.Equal(got, []string{"analyst@contoso.com"}) {
		t.Errorf("responders named alex = %v", got)
	}

	var all tools.ListUsersOutput
	c.ok("list_users", map[string]any{}, &all)
	got = emails(all.Users)
	if !slices.Contains(got, "aiko.tanaka@northwind.com") || slices.Contains(got, "olivia.brooks@contoso.com") {
		t.Errorf("organisation users = %v: want everyone active, and not the deactivated", got)
	}
	for _, r := range all.Users {
		if r.Email == "soc-copilot@serviceaccounts.contraforce.com" && !r.Service {
			t.Error("a service account is not marked")
		}
	}

	allowed := connect(t, e.session(demoCred, func(cfg *client.Config) { cfg.Workspaces = []string{emulator.WorkspaceOwnerID} }), "claude-ai")
	var some tools.ListUsersOutput
	allowed.ok("list_users", map[string]any{}, &some)
	got = emails(some.Users)
	if slices.Contains(got, "aiko.tanaka@northwind.com") || slices.Contains(got, "tom.becker@fabrikam.com") || !slices.Contains(got, "jane.doe@contoso.com") {
		t.Errorf("with an allowlist: %v; want only people of the allowed workspace", got)
	}
	for _, r := range some.Users {
		if strings.Contains(r.Role, "Contoso EU") {
			t.Errorf("%s shows a role outside the allowlist: %s", r.Email, r.Role)
		}
	}
	wantAll(t, allowed.fail("list_users", map[string]any{"workspaceId": emulator.WorkspaceResponderID}), "WORKSPACE_NOT_ALLOWED")
	wantAll(t, c.fail("list_users", map[string]any{"role": "Admin"}), "role", "Owner")
}
