package client

import (
	"context"
	"net/http"
	"strings"
)

// Operation names of the users endpoints.
const (
	opGetProfile         = "get user profile"
	opGetUser            = "get user"
	opListWorkspaceUsers = "list workspace users"
)

// Profile is the caller's own profile (GET /users/profile): for a service
// account, its name, e-mail and organisation. Role is the organisation role.
type Profile struct {
	Name                string `json:"name"`
	Email               string `json:"email"`
	UPN                 string `json:"upn"`
	UserID              string `json:"userId"`
	Role                string `json:"role"`
	Organization        string `json:"organization"`
	OrganizationID      string `json:"organizationId"`
	TenantID            string `json:"tenantId"`
	PreferredTimeZoneID string `json:"preferredTimeZoneId"`
}

// WorkspaceUser is one row of POST /users/workspace/users: a user's role on
// one workspace. The page shows both id and userId; UserIDOf reads the
// user's id from whichever is set (userId first).
type WorkspaceUser struct {
	ID          string        `json:"id"`
	DisplayName string        `json:"displayName"`
	Email       string        `json:"email"`
	WorkspaceID string        `json:"workspaceId"`
	Role        WorkspaceRole `json:"role"`
	UserID      string        `json:"userId"`
}

// UserIDOf returns the row's user id: userId, else id.
func (u WorkspaceUser) UserIDOf() string { return firstNonEmpty(u.UserID, u.ID) }

// WorkspaceUsersRequest is the body of POST /users/workspace/users. The page
// names the workspace "accountId" (a uuid); this project reads it as the
// workspace id, the only uuid the rows echo back. Query matches names and
// e-mails; Role keeps one role.
type WorkspaceUsersRequest struct {
	AccountID string        `json:"accountId"`
	Query     string        `json:"query,omitempty"`
	Role      WorkspaceRole `json:"role,omitempty"`
}

// GetProfile returns the caller's own profile.
func (c *Client) GetProfile(ctx context.Context) (*Profile, error) {
	u, err := c.buildURL(opGetProfile, nil, lit("users"), lit("profile"))
	if err != nil {
		return nil, err
	}
	env, err := getData[Profile](ctx, c, opGetProfile, u)
	if err != nil {
		return nil, err
	}
	return &env.Data, nil
}

// GetUser returns one user with its role assignments. With a workspace
// allowlist, assignments to other workspaces are dropped.
func (c *Client) GetUser(ctx context.Context, id string) (*User, error) {
	u, err := c.buildURL(opGetUser, nil, lit("users"), pathParam{"userId", id})
	if err != nil {
		return nil, err
	}
	env, err := getData[User](ctx, c, opGetUser, u)
	if err != nil {
		return nil, err
	}
	c.keepAllowedRoles(&env.Data)
	return &env.Data, nil
}

// ListWorkspaceUsers returns the users with a role on one workspace
// (POST /users/workspace/users, a read). The workspace must pass the
// allowlist; rows of other workspaces are dropped.
func (c *Client) ListWorkspaceUsers(ctx context.Context, req WorkspaceUsersRequest) ([]WorkspaceUser, error) {
	if err := c.checkWorkspace(opListWorkspaceUsers, req.AccountID); err != nil {
		return nil, err
	}
	u, err := c.buildURL(opListWorkspaceUsers, nil, lit("users"), lit("workspace"), lit("users"))
	if err != nil {
		return nil, err
	}
	res, err := c.do(ctx, call{op: opListWorkspaceUsers, method: http.MethodPost, url: u, body: req, kind: readCall})
	if err != nil {
		return nil, err
	}
	env, err := decodeData[[]WorkspaceUser](opListWorkspaceUsers, res)
	if err != nil {
		return nil, err
	}
	out := make([]WorkspaceUser, 0, len(env.Data))
	for _, w := range env.Data {
		if w.WorkspaceID == "" || strings.EqualFold(w.WorkspaceID, req.AccountID) {
			out = append(out, w)
		}
	}
	return out, nil
}

// keepAllowedRoles drops a user's role assignments outside the allowlist.
func (c *Client) keepAllowedRoles(u *User) {
	if len(c.allow) == 0 {
		return
	}
	kept := u.RoleAssignments[:0:0]
	for _, ra := range u.RoleAssignments {
		if c.workspaceAllowed(ra.WorkspaceID) {
			kept = append(kept, ra)
		}
	}
	u.RoleAssignments = kept
}
