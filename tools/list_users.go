package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
)

// ListUsersInput filters the users an incident can be assigned to.
type ListUsersInput struct {
	WorkspaceID string               `json:"workspaceId,omitempty" jsonschema:"maxLength=100" desc:"Only users with a role on this workspace."`
	Query       string               `json:"query,omitempty" jsonschema:"maxLength=200" desc:"Part of a name or email."`
	Role        client.WorkspaceRole `json:"role,omitempty" desc:"Only this role."`
}

// ListUsersOutput lists active users.
type ListUsersOutput struct {
	Users []UserRow `json:"users"`
	Note  string    `json:"note,omitempty"`
}

// UserRow is one user; userId or email is what assign takes.
type UserRow struct {
	UserID  string `json:"userId"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Role    string `json:"role,omitempty" desc:"On workspaceId, else per workspace."`
	Service bool   `json:"service,omitempty" desc:"A service account, not a person."`
}

// maxUserRows bounds one answer.
const maxUserRows = 100

// ListUsers is the list_users tool: who an incident can be assigned to.
func ListUsers(d Deps) Tool {
	return newTool(spec[ListUsersInput, ListUsersOutput]{
		deps:        d,
		name:        "list_users",
		title:       "List users",
		description: "Active users who can be assigned incidents: user id, email and role.",
		scope:       client.ScopeIncidentsRead,
		hints:       hints{readOnly: true, idempotent: true, openWorld: true},
		handle:      func(ctx context.Context, in ListUsersInput) (ListUsersOutput, error) { return listUsers(ctx, d, in) },
		text:        renderUsers,
	})
}

func listUsers(ctx context.Context, d Deps, in ListUsersInput) (ListUsersOutput, error) {
	api, err := d.api(ctx)
	if err != nil {
		return ListUsersOutput{}, err
	}
	out := ListUsersOutput{Users: []UserRow{}}
	query := strings.ToLower(strings.TrimSpace(in.Query))
	if in.WorkspaceID != "" {
		rows, err := api.ListWorkspaceUsers(ctx, client.WorkspaceUsersRequest{AccountID: in.WorkspaceID, Query: strings.TrimSpace(in.Query), Role: in.Role})
		if err != nil {
			return out, fmt.Errorf("workspace %s: %w", in.WorkspaceID, err)
		}
		for _, r := range rows {
			out.Users = append(out.Users, UserRow{UserID: oneLine(r.UserIDOf(), 100), Name: oneLine(r.DisplayName, 100),
				Email: oneLine(r.Email, 320), Role: string(r.Role)})
		}
		return capUsers(out), nil
	}
	users, err := api.ListUsers(ctx)
	if err != nil {
		return out, err
	}
	allowlist := len(api.Config().Workspaces) > 0
	for _, u := range users {
		if !u.Active() || allowlist && len(u.RoleAssignments) == 0 {
			continue // with an allowlist, only users of the allowed workspaces
		}
		if query != "" && !strings.Contains(strings.ToLower(u.DisplayName), query) && !strings.Contains(strings.ToLower(u.Email), query) {
			continue
		}
		if in.Role != "" && !slices.ContainsFunc(u.RoleAssignments, func(ra client.RoleAssignment) bool { return ra.Role == in.Role }) {
			continue
		}
		var roles []string
		for _, ra := range u.RoleAssignments {
			roles = append(roles, oneLine(ra.WorkspaceName, 60)+": "+string(ra.Role))
		}
		out.Users = append(out.Users, UserRow{UserID: oneLine(u.ID, 100), Name: oneLine(u.DisplayName, 100),
			Email: oneLine(u.Email, 320), Role: strings.Join(roles, ", "), Service: u.IsServiceAccount || u.IsAgentUser})
	}
	return capUsers(out), nil
}

// capUsers keeps the first maxUserRows rows and says what was left out.
func capUsers(o ListUsersOutput) ListUsersOutput {
	if n := len(o.Users); n > maxUserRows {
		o.Users = o.Users[:maxUserRows]
		o.Note = fmt.Sprintf("%d more users not shown: narrow with query or role", n-maxUserRows)
	}
	return o
}

func renderUsers(o ListUsersOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d users", len(o.Users))
	for _, u := range o.Users {
		fmt.Fprintf(&b, "\n- %s <%s> userId=%s", u.Name, u.Email, u.UserID)
		if u.Role != "" {
			fmt.Fprintf(&b, " (%s)", u.Role)
		}
		if u.Service {
			b.WriteString(" [service account]")
		}
	}
	if o.Note != "" {
		b.WriteString("\nnote: " + o.Note)
	}
	return b.String()
}
