package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
)

// The organisation every user and service account belongs to.
const (
	organizationName = "Contoso Group"
	organizationID   = "0c0a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b"
	entraTenantID    = "72f988bf-86f1-41af-91ab-2d7cd011db47"
)

// handleProfile serves GET /users/profile: the calling service account.
func (e *Emulator) handleProfile(w http.ResponseWriter, r *http.Request, c *call) {
	e.mu.RLock()
	u, _ := e.userByID(c.cred.UserID) // AddCredential created it
	e.mu.RUnlock()
	role := "Member"
	if u.OrganizationRole != nil {
		role = *u.OrganizationRole
	}
	e.writeData(w, c, http.StatusOK, client.Profile{
		Name: c.cred.Name, Email: u.Email, UPN: u.Email, UserID: u.ID, Role: role,
		Organization: organizationName, OrganizationID: organizationID, TenantID: entraTenantID,
		PreferredTimeZoneID: "UTC",
	})
}

// handleUser serves GET /users/{userId}: one user of the organisation, its
// role assignments limited to the workspaces the caller has a role on.
func (e *Emulator) handleUser(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("userId")
	e.mu.RLock()
	u, ok := e.userByID(id)
	e.mu.RUnlock()
	if !ok {
		e.writeProblem(w, c, problem{status: http.StatusNotFound, code: client.CodeNotFound, target: "userId",
			detail: fmt.Sprintf("No user with id %q in the organisation.", id)})
		return
	}
	e.writeData(w, c, http.StatusOK, e.visibleRoles(c, u))
}

// visibleRoles limits a user's role assignments to the caller's workspaces.
func (e *Emulator) visibleRoles(c *call, u client.User) client.User {
	u.RoleAssignments = nonNil(slices.DeleteFunc(slices.Clone(u.RoleAssignments), func(ra client.RoleAssignment) bool {
		return c.cred.role(ra.WorkspaceID) == ""
	}))
	return u
}

// workspaceUsersRequest is the body of POST /users/workspace/users.
type workspaceUsersRequest struct {
	AccountID string               `json:"accountId"`
	Query     string               `json:"query"`
	Role      client.WorkspaceRole `json:"role"`
}

// handleWorkspaceUsers serves POST /users/workspace/users: the active users
// with a role on the workspace accountId, filtered by query (a
// case-insensitive substring of the name or e-mail) and role.
func (e *Emulator) handleWorkspaceUsers(w http.ResponseWriter, r *http.Request, c *call) {
	var req workspaceUsersRequest
	if !e.decodeBody(w, r, c, &req) {
		return
	}
	errs := fieldErrors{}
	ws := strings.ToLower(strings.TrimSpace(req.AccountID))
	if !isGUID(ws) {
		errs.add("accountId", "The workspace id (accountId) is required and must be a GUID.")
	}
	if req.Role != "" {
		checkEnum(errs, "role", "workspace role", req.Role)
	}
	if len(errs) > 0 {
		e.writeProblem(w, c, validationProblem(errs))
		return
	}
	if c.cred.role(ws) == "" {
		e.writeProblem(w, c, problem{status: http.StatusForbidden, code: client.CodeInsufficientWorkspaceRole, target: "accountId",
			detail: fmt.Sprintf("Service account %q has no role on workspace %s.", c.cred.Name, ws)})
		return
	}
	q := strings.ToLower(strings.TrimSpace(req.Query))
	e.mu.RLock()
	out := []client.WorkspaceUser{}
	for _, u := range e.users {
		if !u.Active() || q != "" && !strings.Contains(strings.ToLower(u.DisplayName), q) && !strings.Contains(strings.ToLower(u.Email), q) {
			continue
		}
		for _, ra := range u.RoleAssignments {
			if ra.WorkspaceID == ws && (req.Role == "" || ra.Role == req.Role) {
				out = append(out, client.WorkspaceUser{ID: hashGUID("role assignment", u.ID, ws), DisplayName: u.DisplayName,
					Email: u.Email, WorkspaceID: ws, Role: ra.Role, UserID: u.ID})
			}
		}
	}
	e.mu.RUnlock()
	e.writeData(w, c, http.StatusOK, out)
}
