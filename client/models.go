package client

import (
	"encoding/json"
	"time"
)

// Wire types of the ContraForce v2 API. Field names and JSON tags follow the
// vendor's pages (../shared/contraforce-api); optional and nullable fields are
// pointers or omitempty so that the documented examples round-trip without loss.

// Meta is the "meta" object of every envelope.
type Meta struct {
	RequestID string `json:"requestId"`
	Timestamp string `json:"timestamp"`
}

// Pagination is the data-models page's paginated-envelope object.
type Pagination struct {
	ContinuationToken string `json:"continuationToken,omitempty"`
	HasMore           bool   `json:"hasMore"`
}

// Envelope is the success envelope: {"data": …, "meta": …} plus, on paginated
// answers, "pagination".
type Envelope[T any] struct {
	Data       T           `json:"data"`
	Pagination *Pagination `json:"pagination,omitempty"`
	Meta       Meta        `json:"meta"`
}

// IncidentRef identifies one incident: the API addresses every incident by
// workspace, source and id.
type IncidentRef struct {
	WorkspaceID string `json:"workspaceId"`
	Source      Source `json:"source"`
	IncidentID  string `json:"incidentId"`
}

// UserRef is the compact user object embedded in incidents.
type UserRef struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	Email       string `json:"email,omitempty"`
}

// TimeFilter is the list call's timeFilterSelection.
type TimeFilter struct {
	Type           TimeFilterType `json:"type"`
	CustomStartUTC *time.Time     `json:"customStartUtc,omitempty"`
	CustomEndUTC   *time.Time     `json:"customEndUtc,omitempty"`
}

// IncidentFilter holds every filter of POST /incidents/across-workspaces.
// All fields are optional; an empty filter lists everything the credential sees.
type IncidentFilter struct {
	Severities          []Severity  `json:"severities,omitempty"`
	Statuses            []Status    `json:"statuses,omitempty"`
	Sources             []Source    `json:"sources,omitempty"`
	TimeFilterSelection *TimeFilter `json:"timeFilterSelection,omitempty"`
	Query               string      `json:"query,omitempty"`
	AssigneeIDs         []string    `json:"assigneeIds,omitempty"`
	AssigneeEmails      []string    `json:"assigneeEmails,omitempty"`
	IncludeUnassigned   bool        `json:"includeUnassigned,omitempty"`
}

// WorkspacePageToken is one workspace's next-page state: a token per source.
type WorkspacePageToken struct {
	WorkspaceID  string            `json:"workspaceId"`
	SourceTokens map[Source]string `json:"sourceTokens"`
}

// PageToken is the opaque position of a next page. The public documentation
// shows two placements (data.workspacePageTokens, and the data-models page's
// pagination.continuationToken); the client accepts either and sends back
// whichever it received. The zero PageToken means "first page".
type PageToken struct {
	WorkspacePageTokens []WorkspacePageToken `json:"workspacePageTokens,omitempty"`
	ContinuationToken   string               `json:"continuationToken,omitempty"`
}

// IsZero reports whether t is the first-page position.
func (t PageToken) IsZero() bool {
	return len(t.WorkspacePageTokens) == 0 && t.ContinuationToken == ""
}

// ListIncidentsRequest is the body of POST /incidents/across-workspaces.
type ListIncidentsRequest struct {
	IncidentFilter
	IsFirstCall bool `json:"isFirstCall"`
	PageToken
}

// Entity is an entity involved in an incident (an account, host, IP, file…).
// Properties carry the kind-specific attributes as the source reports them.
type Entity struct {
	ID           string         `json:"id,omitempty"`
	Kind         string         `json:"kind"`
	FriendlyName string         `json:"friendlyName,omitempty"`
	Properties   map[string]any `json:"properties,omitempty"`
}

// Alert is one alert grouped into an incident.
type Alert struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Severity    Severity `json:"severity,omitempty"`
	Status      string   `json:"status,omitempty"`
	ProductName string   `json:"productName,omitempty"`
	CreatedAt   string   `json:"createdAt,omitempty"`
	Tactics     []string `json:"tactics,omitempty"`
	EntityIDs   []string `json:"entityIds,omitempty"`
}

// IncidentSummary is one row of the list-across-workspaces answer.
type IncidentSummary struct {
	ID                   string                `json:"id"`
	Title                string                `json:"title"`
	Description          string                `json:"description,omitempty"`
	Number               int                   `json:"number"`
	Source               Source                `json:"source"`
	Severity             Severity              `json:"severity"`
	Status               Status                `json:"status"`
	Classification       *Classification       `json:"classification,omitempty"`
	ClassificationReason *ClassificationReason `json:"classificationReason,omitempty"`
	CreationTime         string                `json:"creationTime"`
	LastModificationTime string                `json:"lastModificationTime,omitempty"`
	LastActivityTime     string                `json:"lastActivityTime,omitempty"`
	Tactics              []string              `json:"tactics,omitempty"`
	AlertsCount          int                   `json:"alertsCount"`
	IsAssigned           bool                  `json:"isAssigned"`
	User                 *UserRef              `json:"user,omitempty"`
	Entities             []Entity              `json:"entities,omitempty"`
	WorkspaceID          string                `json:"workspaceId"`
	WorkspaceName        string                `json:"workspaceName,omitempty"`
}

// ListIncidentsData is the "data" of the list-across-workspaces answer. The
// next-page tokens may come back here (workspacePageTokens) or in the
// envelope's pagination object; see PageToken.
type ListIncidentsData struct {
	Incidents           []IncidentSummary    `json:"incidents"`
	WorkspacePageTokens []WorkspacePageToken `json:"workspacePageTokens,omitempty"`
	HasMore             *bool                `json:"hasMore,omitempty"`
}

// IncidentPage is one page of incidents as the client returns it.
type IncidentPage struct {
	Incidents []IncidentSummary
	HasMore   bool
	// Next is the position of the following page; zero when HasMore is false.
	Next PageToken
	Meta Meta
}

// Incident is the "incident" object of GET …/incidents/{source}/{incidentId}.
// The vendor names its times createdAt/updatedAt here and
// creationTime/lastModificationTime in list rows; both are kept as sent.
type Incident struct {
	ID                   string                `json:"id"`
	Title                string                `json:"title"`
	Description          string                `json:"description,omitempty"`
	Number               int                   `json:"number,omitempty"`
	Severity             Severity              `json:"severity"`
	Status               Status                `json:"status"`
	Classification       *Classification       `json:"classification,omitempty"`
	ClassificationReason *ClassificationReason `json:"classificationReason,omitempty"`
	WorkspaceID          string                `json:"workspaceId"`
	WorkspaceName        string                `json:"workspaceName,omitempty"`
	CreatedAt            string                `json:"createdAt"`
	UpdatedAt            string                `json:"updatedAt"`
	LastActivityTime     string                `json:"lastActivityTime,omitempty"`
	Tactics              []string              `json:"tactics,omitempty"`
	AlertsCount          int                   `json:"alertsCount,omitempty"`
	Assignee             *UserRef              `json:"assignee,omitempty"`
	ProviderIncidentURL  string                `json:"providerIncidentUrl,omitempty"`
	TicketID             *string               `json:"ticketId,omitempty"`
}

// InvestigationDetails holds an incident's entities and alerts (withDetails=true).
type InvestigationDetails struct {
	Entities []Entity `json:"entities"`
	Alerts   []Alert  `json:"alerts"`
}

// EvidenceColumn names and types one column of an evidence table.
type EvidenceColumn struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

// Evidence is an evidence table (GET …/evidence, and "evidence" of an incident
// with details): the query it came from, its columns and its rows.
type Evidence struct {
	Title   string           `json:"title,omitempty"`
	Query   string           `json:"query,omitempty"`
	Columns []EvidenceColumn `json:"columns,omitempty"`
	Rows    [][]any          `json:"rows,omitempty"`
}

// IncidentDetail is the "data" of GET …/incidents/{source}/{incidentId}.
// GamebookCatalog is kept raw: its shape is not documented.
type IncidentDetail struct {
	Source               Source                `json:"source"`
	Incident             Incident              `json:"incident"`
	InvestigationDetails *InvestigationDetails `json:"investigationDetails,omitempty"`
	Evidence             *Evidence             `json:"evidence,omitempty"`
	GamebookCatalog      json.RawMessage       `json:"gamebookCatalog,omitempty"`
}

// Comment is one incident comment. IsAgentComment and AgentName are set by
// the API from the caller: a comment posted with a service-account credential
// is an agent's.
type Comment struct {
	ID                string  `json:"id"`
	Message           string  `json:"message"`
	CreatedTime       string  `json:"createdTime"`
	AuthorEmail       string  `json:"authorEmail"`
	AuthorName        string  `json:"authorName"`
	IsActivityComment bool    `json:"isActivityComment"`
	IsAgentComment    bool    `json:"isAgentComment"`
	AgentName         *string `json:"agentName"`
	IsClosingComment  bool    `json:"isClosingComment"`
	TicketNoteID      *string `json:"ticketNoteId"`
	TicketID          *string `json:"ticketId"`
}

// AddCommentRequest is the body of POST …/comments. Source is the older
// documentation's body field; the v2 path carries the source, so the client
// leaves it empty.
type AddCommentRequest struct {
	Content     string `json:"content"`
	Source      Source `json:"source,omitempty"`
	ExtensionID string `json:"extensionId,omitempty"`
}

// UpdateStatusRequest is the body of PUT …/status (v2). Source is the older
// body field (see AddCommentRequest).
type UpdateStatusRequest struct {
	Source               Source                `json:"source,omitempty"`
	Status               Status                `json:"status"`
	Comment              *string               `json:"comment,omitempty"`
	Classification       *Classification       `json:"classification,omitempty"`
	ClassificationReason *ClassificationReason `json:"classificationReason,omitempty"`
	UpdateTicket         bool                  `json:"updateTicket,omitempty"`
	TicketID             *string               `json:"ticketId,omitempty"`
}

// AssignRequest is the body of PUT …/assignee: a user id or an email (either).
type AssignRequest struct {
	UserID string `json:"userId,omitempty"`
	Email  string `json:"email,omitempty"`
	Source Source `json:"source,omitempty"`
}

// RoleAssignment is a user's role on one workspace.
type RoleAssignment struct {
	WorkspaceID   string        `json:"workspaceId"`
	WorkspaceName string        `json:"workspaceName,omitempty"`
	Role          WorkspaceRole `json:"role"`
}

// User is one entry of GET /users.
type User struct {
	ID                 string           `json:"id"`
	DisplayName        string           `json:"displayName"`
	Email              string           `json:"email"`
	OrganizationalRole string           `json:"organizationalRole,omitempty"`
	IsActive           bool             `json:"isActive"`
	IsServiceAccount   bool             `json:"isServiceAccount,omitempty"`
	IsAgentUser        bool             `json:"isAgentUser,omitempty"`
	RoleAssignments    []RoleAssignment `json:"roleAssignments,omitempty"`
}
