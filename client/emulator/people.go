package emulator

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
)

// The organisation's workspaces and people are fixed (they do not depend on the
// seed) so that tests, examples and documentation can name them.

// Workspace ids of the dataset. The names say which role the demo credential
// holds on each.
const (
	// WorkspaceOwnerID is "Contoso Production": the demo credential is Owner.
	WorkspaceOwnerID = "3f2b8c1e-7a4d-4e6b-9c2f-1a0b3c4d5e6f"
	// WorkspaceResponderID is "Contoso EU": the demo credential is IncidentResponder.
	WorkspaceResponderID = "8d7e6f5a-4b3c-4d2e-8f1a-0b9c8d7e6f5a"
	// WorkspaceReaderID is "Fabrikam SOC": the demo credential is WorkspaceReader (read-only).
	WorkspaceReaderID = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
	// WorkspaceNoRoleID is "Northwind Traders": the demo credential has no role on it.
	WorkspaceNoRoleID = "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170"
)

// Workspace is one workspace of the emulated organisation.
type Workspace struct {
	ID   string
	Name string
}

// workspaceSpec adds what the dataset generator needs to a Workspace.
type workspaceSpec struct {
	Workspace
	domain    string          // e-mail and UPN domain of its victims
	hostStem  string          // prefix of its machine names
	sources   []client.Source // products connected to it
	incidents int             // how many incidents it gets (plus the tricky ones)
}

var workspaceSpecs = []workspaceSpec{
	{Workspace{WorkspaceOwnerID, "Contoso Production"}, "contoso.com", "CONTOSO",
		client.Source("").Values(), 112},
	{Workspace{WorkspaceResponderID, "Contoso EU"}, "contoso.eu", "CTSEU",
		[]client.Source{client.SourceSentinel, client.SourceDefenderXDR, client.SourceCrowdStrike, client.SourceSentinelOne}, 84},
	{Workspace{WorkspaceReaderID, "Fabrikam SOC"}, "fabrikam.com", "FAB",
		[]client.Source{client.SourceSentinel, client.SourceDefenderXDR, client.SourceQRadar, client.SourceSplunk}, 78},
	{Workspace{WorkspaceNoRoleID, "Northwind Traders"}, "northwind.com", "NWT",
		[]client.Source{client.SourceSentinel, client.SourceDefenderXDR, client.SourceSplunk, client.SourceCrowdStrike}, 60},
}

// User ids of the organisation's people and service accounts.
const (
	// UserJaneDoeID is Jane Doe (jane.doe@contoso.com), an Owner of both Contoso workspaces.
	UserJaneDoeID = "61eec97d-57b2-5b00-686e-8544a1b2c3d4"
	// UserAnalystID is Alex Morgan (analyst@contoso.com), a responder on Contoso Production and Fabrikam.
	UserAnalystID = "0b6f2a9e-3c1d-4e8f-a2b7-5c9d0e1f2a3b"
	// UserInactiveID is Olivia Brooks, a deactivated user: assigning to her is refused.
	UserInactiveID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	// DemoUserID is the demo service account's own user.
	DemoUserID = "d3e0a7c1-5b2f-4c8e-9a6d-0f1e2d3c4b5a"
	// ReaderUserID is the "reader" test service account's user.
	ReaderUserID = "e4f1b8d2-6c3a-4d9f-8b7e-1a2b3c4d5e6f"
	// ResponderNoCommentUserID is the "responder-nocomment" test service account's user.
	ResponderNoCommentUserID = "f5a2c9e3-7d4b-4e0a-9c8f-2b3c4d5e6f70"
	// CopilotUserID is the SOC copilot agent that wrote the dataset's agent comments.
	CopilotUserID = "a7b3d0f4-8e5c-4f1b-ad9a-3c4d5e6f7081"
)

// person is a human analyst; roles map workspace ids to roles.
type person struct {
	id, name, email string
	active          bool
	roles           []client.RoleAssignment
}

func ra(ws string, role client.WorkspaceRole) client.RoleAssignment {
	return client.RoleAssignment{WorkspaceID: ws, Role: role}
}

var people = []person{
	{UserJaneDoeID, "Jane Doe", "jane.doe@contoso.com", true,
		[]client.RoleAssignment{ra(WorkspaceOwnerID, client.RoleOwner), ra(WorkspaceResponderID, client.RoleOwner)}},
	{UserAnalystID, "Alex Morgan", "analyst@contoso.com", true,
		[]client.RoleAssignment{ra(WorkspaceOwnerID, client.RoleIncidentResponder), ra(WorkspaceReaderID, client.RoleIncidentResponder)}},
	{"2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f70", "Priya Raman", "priya.raman@contoso.com", true,
		[]client.RoleAssignment{ra(WorkspaceOwnerID, client.RoleIncidentAnalyst), ra(WorkspaceResponderID, client.RoleIncidentResponder)}},
	{"3d5f7b9c-1e2a-4b4d-8f6c-8e0a2c4e6a81", "Marcus Chen", "marcus.chen@contoso.com", true,
		[]client.RoleAssignment{ra(WorkspaceOwnerID, client.RoleIncidentResponder), ra(WorkspaceResponderID, client.RoleIncidentAnalyst)}},
	{"4e6a8c0d-2f3b-4c5e-9a7d-9f1b3d5f7b92", "Sofia Alvarez", "sofia.alvarez@contoso.com", true,
		[]client.RoleAssignment{ra(WorkspaceResponderID, client.RoleIncidentResponder), ra(WorkspaceOwnerID, client.RoleContentAdmin)}},
	{"5f7b9d1e-3a4c-4d6f-8b8e-0a2c4e6a8ca3", "Tom Becker", "tom.becker@fabrikam.com", true,
		[]client.RoleAssignment{ra(WorkspaceReaderID, client.RoleOwner)}},
	{"6a8c0e2f-4b5d-4e7a-9c9f-1b3d5f7b9db4", "Lena Fischer", "lena.fischer@fabrikam.com", true,
		[]client.RoleAssignment{ra(WorkspaceReaderID, client.RoleIncidentAnalyst)}},
	{"7b9d1f3a-5c6e-4f8b-8dae-2c4e6a8c0ec5", "Aiko Tanaka", "aiko.tanaka@northwind.com", true,
		[]client.RoleAssignment{ra(WorkspaceNoRoleID, client.RoleOwner)}},
	{"8c0e2a4b-6d7f-4a9c-9ebf-3d5f7b9d1fd6", "Diego Ramos", "diego.ramos@northwind.com", true,
		[]client.RoleAssignment{ra(WorkspaceNoRoleID, client.RoleIncidentResponder)}},
	{UserInactiveID, "Olivia Brooks", "olivia.brooks@contoso.com", false,
		[]client.RoleAssignment{ra(WorkspaceOwnerID, client.RoleIncidentResponder)}},
}

// serviceAccountDomain is the e-mail domain of service-account users.
const serviceAccountDomain = "serviceaccounts.contraforce.com"

// seededServiceUsers are service accounts that exist in the organisation
// without a credential in the emulator: the copilot agent of the seeded agent
// comments and a ticket-sync integration.
var seededServiceUsers = []client.User{
	orgUser(CopilotUserID, "soc-copilot", "soc-copilot@"+serviceAccountDomain, true, true,
		[]client.RoleAssignment{ra(WorkspaceOwnerID, client.RoleIncidentResponder),
			ra(WorkspaceResponderID, client.RoleIncidentResponder), ra(WorkspaceReaderID, client.RoleIncidentAnalyst),
			ra(WorkspaceNoRoleID, client.RoleIncidentResponder)}),
	orgUser("b8c4e1a5-9f6d-4a2c-be0b-4d5e6f708192", "Jira-incident-sync-prod",
		"jira-incident-sync-prod@"+serviceAccountDomain, true, false,
		[]client.RoleAssignment{ra(WorkspaceOwnerID, client.RoleIncidentAnalyst)}),
}

// usersAddedOn is when every user of the organisation was added.
const usersAddedOn = "2025-09-01T09:00:00Z"

// personUser is the GET /users entry of a person.
func personUser(p person) client.User {
	u := orgUser(p.id, p.name, p.email, false, false, slices.Clone(p.roles))
	first, last, _ := strings.Cut(p.name, " ")
	u.FirstName, u.LastName = &first, &last
	u.HasLoggedIn, u.IsActive = p.active, new(p.active)
	if p.id == UserJaneDoeID {
		admin := "Admin"
		u.OrganizationRole = &admin
	}
	return u
}

// orgUser is a GET /users entry with the get-user page's members (null or
// empty where the emulator has nothing: profilePictureUrl, workspaceRole,
// groups) and the older example's isActive.
func orgUser(id, name, email string, service, agent bool, roles []client.RoleAssignment) client.User {
	appRole, member := "DefaultAccess", "Member"
	added, username := usersAddedOn, email
	return client.User{
		ID: id, DisplayName: name, Email: email, Username: &username, AppRole: &appRole, AddedOn: &added,
		HasLoggedIn: service, IsServiceAccount: service, IsAgentUser: agent, OrganizationRole: &member,
		Groups: []json.RawMessage{}, RoleAssignments: roles, IsActive: new(true),
	}
}
