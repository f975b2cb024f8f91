package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
)

// access is what this server may do on one workspace: the credential's role
// there, the session's scopes, --read-only and the workspace allowlist
// decide it together.
type access struct {
	ID, Name string
	Role     client.WorkspaceRole
	// Write: the server may change the workspace's incidents; Why says why
	// not. Respond: it may run gamebooks there.
	Write, Respond bool
	Why            string
}

// identity is the session's service account and what it may do where.
type identity struct {
	Profile    *client.Profile
	Workspaces []access
	// Note says why the roles could not be read ("" when they were).
	Note string
}

// whoAmI reads the credential's profile (GET /users/profile) and its roles
// (GET /users/{userId}, else its entry in GET /users). The client drops
// workspaces outside the allowlist. A failure to read the profile is an
// error; one to read the roles leaves Workspaces empty and says so in Note.
func whoAmI(ctx context.Context, sess *Session) (*identity, error) {
	p, err := sess.Client.GetProfile(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the service account's profile: %w", err)
	}
	id := &identity{Profile: p, Workspaces: []access{}}
	var roles []client.RoleAssignment
	u, err := sess.Client.GetUser(ctx, p.UserID)
	if err == nil {
		roles = u.RoleAssignments
	} else if users, lerr := sess.Client.ListUsers(ctx); lerr == nil {
		i := slices.IndexFunc(users, func(u client.User) bool { return u.ID == p.UserID })
		if i < 0 {
			id.Note = fmt.Sprintf("the service account's roles could not be read (%s); ContraForce decides on each change", resources.ShortError(err))
			return id, nil
		}
		roles = users[i].RoleAssignments
	} else {
		id.Note = fmt.Sprintf("the service account's roles could not be read (%s); ContraForce decides on each change", resources.ShortError(err))
		return id, nil
	}
	for _, ra := range roles {
		id.Workspaces = append(id.Workspaces, accessOf(sess, ra))
	}
	slices.SortStableFunc(id.Workspaces, func(a, b access) int { return strings.Compare(a.Name, b.Name) })
	return id, nil
}

// accessOf decides what the session may do on the workspace of a role.
func accessOf(sess *Session, ra client.RoleAssignment) access {
	a := access{ID: strings.ToLower(ra.WorkspaceID), Name: oneLine(ra.WorkspaceName, 100), Role: ra.Role}
	switch {
	case !ra.Role.CanWrite():
		a.Why = fmt.Sprintf("the service account's role %s is read-only", ra.Role)
	case sess.ReadOnly:
		a.Why = "this server is read-only (--read-only)"
	case !slices.Contains(sess.Scopes, client.ScopeIncidentsWrite):
		a.Why = "this server's credential lacks the scope " + string(client.ScopeIncidentsWrite)
	default:
		a.Write = true
	}
	a.Respond = runnable(sess) && ra.Role.CanRunGamebooks()
	return a
}

// roleRefusal says why ContraForce would refuse to change an incident of
// the workspace, from the credential's role: "" when it would not, or when
// the roles cannot be read (the API then decides). It is asked before a
// human is asked to confirm a change, so that nobody confirms what cannot
// happen.
func roleRefusal(ctx context.Context, sess *Session, workspaceID string) string {
	if role, ok := readOnlyWorkspaces(ctx, sess)[strings.ToLower(workspaceID)]; ok {
		return fmt.Sprintf("the service account's role on workspace %s is %s, which is read-only", workspaceID, role)
	}
	return ""
}

// readOnlyWorkspaces are the workspaces (lower-cased) where the service
// account's role is read-only; none when the roles cannot be read.
func readOnlyWorkspaces(ctx context.Context, sess *Session) map[string]client.WorkspaceRole {
	out := map[string]client.WorkspaceRole{}
	if id, err := whoAmI(ctx, sess); err == nil {
		for _, a := range id.Workspaces {
			if !a.Role.CanWrite() {
				out[a.ID] = a.Role
			}
		}
	}
	return out
}
