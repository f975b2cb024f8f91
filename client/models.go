package client

import (
	"encoding/json"
	"time"
)

// Wire types of the ContraForce v2 API. Field names and JSON tags follow the
// vendor's API reference at https://docs.contraforce.com/api-reference (the
// endpoint pages, "Data models" at …/models and "Errors" at …/errors).
// Members those pages show are always encoded (null when empty) so that the
// emulator, which answers with these types, serves every documented member;
// members no page shows are omitempty. Decoding is tolerant: a member that
// is absent or null leaves the zero value, and Opt records whether a member
// whose absence matters was sent at all.

// Opt is a member the API may leave out. Set says whether the answer held
// it; a JSON null counts as held (it says "none"), an absent member says
// nothing. Encoding writes Value (null for a nil pointer); with the
// omitzero option an unset Opt is left out.
type Opt[T any] struct {
	Value T
	Set   bool
}

// Some returns an Opt that is set to v.
func Some[T any](v T) Opt[T] { return Opt[T]{Value: v, Set: true} }

// UnmarshalJSON records that the member was sent and decodes it.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	var zero T
	o.Value = zero
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// MarshalJSON encodes Value.
func (o Opt[T]) MarshalJSON() ([]byte, error) { return json.Marshal(o.Value) }

// IsZero reports whether the member was not sent (for omitzero).
func (o Opt[T]) IsZero() bool { return !o.Set }

// Meta is the "meta" object of every envelope.
type Meta struct {
	RequestID string `json:"requestId"`
	Timestamp string `json:"timestamp"`
}

// Pagination is the "Paginated response" envelope object of the data-models
// page (https://docs.contraforce.com/api-reference/models). No endpoint page
// shows it in use; the client accepts it on the list call.
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

// UserRef is the compact user object embedded in incidents ("user" of a list row).
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

// PageToken is the opaque position of a next page, as ListIncidents hands it
// out and takes it back. The public pages do not say where the list answer
// puts its next-page position; the client accepts data.workspacePageTokens
// and the data-models page's pagination.continuationToken, and sends back
// whichever it received. Seen is not sent to the API: it holds digests of
// rows of the page that issued the position, so that the next answer can be
// checked for repeats (see ListIncidents). The zero PageToken means "first page".
type PageToken struct {
	WorkspacePageTokens []WorkspacePageToken `json:"workspacePageTokens,omitempty"`
	ContinuationToken   string               `json:"continuationToken,omitempty"`
	Seen                []string             `json:"seen,omitempty"`
}

// IsZero reports whether t is the first-page position.
func (t PageToken) IsZero() bool {
	return len(t.WorkspacePageTokens) == 0 && t.ContinuationToken == ""
}

// ListIncidentsRequest is the body of POST /incidents/across-workspaces. The
// page names workspacePageTokens; continuationToken is sent back only to a
// server that issued one.
type ListIncidentsRequest struct {
	IncidentFilter
	IsFirstCall         bool                 `json:"isFirstCall"`
	WorkspacePageTokens []WorkspacePageToken `json:"workspacePageTokens,omitempty"`
	ContinuationToken   string               `json:"continuationToken,omitempty"`
}

// Alert is one alert grouped into an incident (investigationDetails.alerts;
// its shape is not documented).
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

// IncidentSummary is one row of the list-across-workspaces answer. Members
// are in the order of the page's response example (newer crawl); that
// example is cut inside entities, so workspaceId, workspaceName and
// extensionId, which it does not show, are read when present. An older
// crawl's row has displayId and lacks source, severity, status,
// classification and classificationReason: ListIncidents then infers Source
// from sourceDisplayName, and Classification stays unset (unknown, not "none").
type IncidentSummary struct {
	ID                    string                     `json:"id"`
	Name                  *string                    `json:"name"`
	DisplayID             string                     `json:"displayId,omitempty"`
	Title                 string                     `json:"title"`
	Description           string                     `json:"description"`
	Number                int                        `json:"number"`
	Type                  *string                    `json:"type"`
	Source                Source                     `json:"source"`
	SourceDisplayName     *string                    `json:"sourceDisplayName"`
	LastModificationTime  string                     `json:"lastModificationTime"`
	CreationTime          string                     `json:"creationTime"`
	LastActivityTime      string                     `json:"lastActivityTime"`
	Severity              Severity                   `json:"severity"`
	Classification        Opt[*Classification]       `json:"classification"`
	Comment               *string                    `json:"comment"`
	ClassificationReason  Opt[*ClassificationReason] `json:"classificationReason"`
	ClassificationComment *string                    `json:"classificationComment"`
	Tactics               []string                   `json:"tactics"`
	RuleIDs               []string                   `json:"ruleIds"`
	AlertProductNames     []string                   `json:"alertProductNames"`
	User                  Opt[*UserRef]              `json:"user"`
	IsAssigned            *bool                      `json:"isAssigned"`
	ProductID             *string                    `json:"productId"`
	Status                Status                     `json:"status"`
	AlertsCount           int                        `json:"alertsCount"`
	Entities              RowEntities                `json:"entities"`
	WorkspaceID           string                     `json:"workspaceId"`
	WorkspaceName         string                     `json:"workspaceName,omitempty"`
	ExtensionID           Opt[*string]               `json:"extensionId,omitzero"`
}

// inferSource fills a missing source from the display name (an older
// crawl's row has only the latter). pageRow.decode calls it on every row it
// decodes.
func (r *IncidentSummary) inferSource() {
	r.Source = inferredSource(r.Source, r.SourceDisplayName)
}

// inferredSource is src or, when it is empty, the source displayName names
// (an older crawl's row has only sourceDisplayName).
func inferredSource(src Source, displayName *string) Source {
	if src == "" && displayName != nil {
		return SourceFromDisplayName(*displayName)
	}
	return src
}

// Assignee returns the row's assignee and whether the row says: "user" or
// "isAssigned" must be present. An assigned row without a user reports a
// UserRef with no id.
func (r *IncidentSummary) Assignee() (*UserRef, bool) {
	return assigneeOf(r.User, r.IsAssigned)
}

// assigneeOf reads an assignee from a "user" member and an "isAssigned" flag.
func assigneeOf(user Opt[*UserRef], isAssigned *bool) (*UserRef, bool) {
	switch {
	case isAssigned != nil && !*isAssigned:
		return nil, true
	case user.Value != nil:
		return user.Value, true
	case isAssigned != nil: // assigned, to someone the answer does not name
		return &UserRef{}, true
	}
	return nil, user.Set
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
	// Incidents are the page's rows, or those of the range asked of
	// ListIncidentRange.
	Incidents []IncidentSummary
	// Rows is how many rows the page holds (after the allowlist).
	Rows    int
	HasMore bool
	// Next is the position of the following page; zero when HasMore is false.
	Next PageToken
	// Halted, when not empty, says why the listing ended before the API said
	// it had: the answer repeated rows of the previous page, or handed back
	// the very position it was asked for (a server that ignores page tokens).
	// Incidents is then empty.
	Halted string
	Meta   Meta
}

// Incident is the "incident" object of GET …/incidents/{source}/{incidentId}.
// The data-models page shows only id, title, severity, status, workspaceId,
// createdAt and updatedAt; the rest is read when present. The state members
// (classification, classificationReason, user/isAssigned or assignee,
// ticketId, extensionId) are Opt: absent means the detail did not say, and
// StateOf then looks for them in the incident's list row. The vendor names
// its times createdAt/updatedAt here and creationTime/lastModificationTime in
// list rows; both are kept as sent.
type Incident struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Severity    Severity `json:"severity"`
	Status      Status   `json:"status"`
	WorkspaceID string   `json:"workspaceId"`
	CreatedAt   string   `json:"createdAt"`
	UpdatedAt   string   `json:"updatedAt"`

	Number                int      `json:"number,omitempty"`
	Description           string   `json:"description,omitempty"`
	WorkspaceName         string   `json:"workspaceName,omitempty"`
	LastActivityTime      string   `json:"lastActivityTime,omitempty"`
	Tactics               []string `json:"tactics,omitempty"`
	AlertsCount           int      `json:"alertsCount,omitempty"`
	ProviderIncidentURL   string   `json:"providerIncidentUrl,omitempty"`
	ClassificationComment *string  `json:"classificationComment,omitempty"`
	ProductID             *string  `json:"productId,omitempty"`

	Classification       Opt[*Classification]       `json:"classification,omitzero"`
	ClassificationReason Opt[*ClassificationReason] `json:"classificationReason,omitzero"`
	User                 Opt[*UserRef]              `json:"user,omitzero"`
	IsAssigned           *bool                      `json:"isAssigned,omitempty"`
	// Assignee is this project's earlier reading of the detail ("assignee");
	// no page shows it, and the emulator sends user/isAssigned instead.
	Assignee    Opt[*UserRef] `json:"assignee,omitzero"`
	TicketID    Opt[*string]  `json:"ticketId,omitzero"`
	ExtensionID Opt[*string]  `json:"extensionId,omitzero"`
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
// with details): the query it came from, its columns and its rows. The
// endpoints page calls it a table; its members are not documented.
type Evidence struct {
	Title   string           `json:"title,omitempty"`
	Query   string           `json:"query,omitempty"`
	Columns []EvidenceColumn `json:"columns,omitempty"`
	Rows    [][]any          `json:"rows,omitempty"`
}

// IncidentDetail is the "data" of GET …/incidents/{source}/{incidentId}, in
// the shape of the data-models page's example. GamebookCatalog is kept raw:
// its shape is not documented.
type IncidentDetail struct {
	Source               Source                `json:"source"`
	Incident             Incident              `json:"incident"`
	InvestigationDetails *InvestigationDetails `json:"investigationDetails"`
	Evidence             *Evidence             `json:"evidence"`
	GamebookCatalog      json.RawMessage       `json:"gamebookCatalog"`
}

// Comment is one incident comment (the 11 members of the create-comment and
// get-comments pages). IsAgentComment and AgentName are set by the API from
// the caller: a comment posted with a service-account credential is an
// agent's.
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

// AddCommentRequest is the body of POST …/comments: {content, extensionId}
// (create-incident-comment page). The page says extensionId routes the
// write back to the originating system; GetIncidentState finds it.
type AddCommentRequest struct {
	Content     string `json:"content"`
	ExtensionID string `json:"extensionId,omitempty"`
}

// UpdateStatusRequest is the body of PUT …/status (update-incident-status page).
type UpdateStatusRequest struct {
	Status               Status                `json:"status"`
	Comment              *string               `json:"comment,omitempty"`
	Classification       *Classification       `json:"classification,omitempty"`
	ClassificationReason *ClassificationReason `json:"classificationReason,omitempty"`
	UpdateTicket         bool                  `json:"updateTicket,omitempty"`
	TicketID             *string               `json:"ticketId,omitempty"`
}

// AssignRequest is the body of PUT …/assignee (assign-incident page): a user
// id, an email, or both.
type AssignRequest struct {
	UserID string `json:"userId,omitempty"`
	Email  string `json:"email,omitempty"`
}

// RoleAssignment is a user's role on one workspace.
type RoleAssignment struct {
	UserID         string        `json:"userId,omitempty"`
	WorkspaceID    string        `json:"workspaceId"`
	WorkspaceName  string        `json:"workspaceName,omitempty"`
	AssignmentType *string       `json:"assignmentType,omitempty"`
	Role           WorkspaceRole `json:"role"`
}

// User is one entry of GET /users, with the members of the get-user page.
// OrganizationalRole and IsActive are the older users example's members;
// the current pages name the first organizationRole and do not show the second.
type User struct {
	ID                 string            `json:"id"`
	DisplayName        string            `json:"displayName"`
	FirstName          *string           `json:"firstName"`
	LastName           *string           `json:"lastName"`
	ProfilePictureURL  *string           `json:"profilePictureUrl"`
	Email              string            `json:"email"`
	Username           *string           `json:"username"`
	AppRole            *string           `json:"appRole"`
	AddedOn            *string           `json:"addedOn"`
	HasLoggedIn        bool              `json:"hasLoggedIn"`
	IsServiceAccount   bool              `json:"isServiceAccount"`
	IsAgentUser        bool              `json:"isAgentUser"`
	OrganizationRole   *string           `json:"organizationRole"`
	WorkspaceRole      *string           `json:"workspaceRole"`
	Groups             []json.RawMessage `json:"groups"`
	RoleAssignments    []RoleAssignment  `json:"roleAssignments"`
	OrganizationalRole string            `json:"organizationalRole,omitempty"`
	IsActive           *bool             `json:"isActive,omitempty"`
}

// Active reports whether the user may be assigned: true unless the API says
// the user is inactive.
func (u User) Active() bool { return u.IsActive == nil || *u.IsActive }
