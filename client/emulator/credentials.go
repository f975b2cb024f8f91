package emulator

import (
	"maps"
	"slices"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
)

// The demo credential: every scope but org:service-accounts:manage, Owner / IncidentResponder / WorkspaceReader
// on three workspaces and no role on the fourth. It is public (README).
const (
	DemoClientID     = "6f1c2a3b-0d4e-4f5a-9b6c-7d8e9fa0b1c2"
	DemoClientSecret = "cf_sa_demo_0123456789abcdefDEMO"
	// DemoName is the demo service account's name: the agentName of its comments.
	DemoName = "contraforce-mcp-demo"
)

// The "reader" test credential: incidents:read only, the demo credential's roles.
const (
	ReaderClientID     = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	ReaderClientSecret = "cf_sa_reader_0123456789abcdefREAD"
	// ReaderName is the "reader" service account's name.
	ReaderName = "reader"
)

// The "responder-nocomment" test credential: incidents:read and
// incidents:write but not incidents:comments, the demo credential's roles.
const (
	ResponderNoCommentClientID     = "2b3c4d5e-6f70-4b8c-9dae-1f2a3b4c5d6e"
	ResponderNoCommentClientSecret = "cf_sa_responder_0123456789abcdefRESP"
	// ResponderNoCommentName is the "responder-nocomment" service account's name.
	ResponderNoCommentName = "responder-nocomment"
)

// Credential is a service-account credential the emulator accepts.
type Credential struct {
	ClientID, ClientSecret string
	// Name is the service account's name; it becomes a comment's agentName.
	Name string
	// UserID is the service account's own user id (listed by GET /users with
	// isServiceAccount). Empty: derived from ClientID.
	UserID string
	Scopes []client.Scope
	// Roles maps workspace ids to roles; no entry means no role
	// (INSUFFICIENT_WORKSPACE_ROLE).
	Roles map[string]client.WorkspaceRole
}

// demoRoles are the roles of the demo and test credentials.
func demoRoles() map[string]client.WorkspaceRole {
	return map[string]client.WorkspaceRole{
		WorkspaceOwnerID:     client.RoleOwner,
		WorkspaceResponderID: client.RoleIncidentResponder,
		WorkspaceReaderID:    client.RoleWorkspaceReader,
	}
}

// DefaultCredentials returns the demo credential (every incident and
// gamebook scope) and the test
// credentials "reader" and "responder-nocomment", all with the demo roles.
func DefaultCredentials() []Credential {
	return []Credential{
		{ClientID: DemoClientID, ClientSecret: DemoClientSecret, Name: DemoName, UserID: DemoUserID,
			Scopes: []client.Scope{client.ScopeIncidentsRead, client.ScopeIncidentsWrite, client.ScopeIncidentsComments,
				client.ScopeGamebooksRead, client.ScopeGamebooksRun},
			Roles: demoRoles()},
		{ClientID: ReaderClientID, ClientSecret: ReaderClientSecret, Name: ReaderName, UserID: ReaderUserID,
			Scopes: []client.Scope{client.ScopeIncidentsRead}, Roles: demoRoles()},
		{ClientID: ResponderNoCommentClientID, ClientSecret: ResponderNoCommentClientSecret,
			Name: ResponderNoCommentName, UserID: ResponderNoCommentUserID,
			Scopes: []client.Scope{client.ScopeIncidentsRead, client.ScopeIncidentsWrite}, Roles: demoRoles()},
	}
}

// AddCredential registers (or replaces, by ClientID) a credential. Its service
// account's user is added to the organisation's users if it is not there yet.
func (e *Emulator) AddCredential(c Credential) {
	c.Scopes = slices.Clone(c.Scopes)
	c.Roles = maps.Clone(c.Roles)
	if c.UserID == "" {
		c.UserID = "sa-" + c.ClientID
	}
	if c.Name == "" {
		c.Name = "service-account-" + c.ClientID
	}
	e.credMu.Lock()
	e.creds[c.ClientID] = &c
	e.credMu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.userIndex[c.UserID]; ok {
		return
	}
	u := orgUser(c.UserID, c.Name, strings.ToLower(strings.ReplaceAll(c.Name, " ", "-"))+"@"+serviceAccountDomain,
		true, true, nil)
	for _, ws := range e.workspaces {
		if role, ok := c.Roles[ws.ID]; ok {
			u.RoleAssignments = append(u.RoleAssignments,
				client.RoleAssignment{WorkspaceID: ws.ID, Role: role}) // addUserLocked names the user and workspace
		}
	}
	e.addUserLocked(u)
}

func (c *Credential) hasScope(s client.Scope) bool { return slices.Contains(c.Scopes, s) }

// role returns the credential's role on a workspace ("" for none).
func (c *Credential) role(ws string) client.WorkspaceRole { return c.Roles[ws] }
