package client

import (
	"context"
	"net/http"
	"net/url"
)

// Operation names of the gamebook endpoints.
const (
	opIncidentGamebooks = "list incident gamebooks"
	opGamebookHistory   = "list gamebook history"
	opSubmitGamebook    = "submit gamebook"
)

// Gamebook is a response plan for an incident (the list-incident-gamebooks
// page's object): its playbooks, each bound to the entity it acts on, and
// its status ("Pending" for one proposed and not yet run). The statuses are
// not listed on any page, so Status is an open string.
type Gamebook struct {
	ID                    string     `json:"id"`
	TracingID             string     `json:"tracingId"`
	IncidentID            string     `json:"incidentId"`
	Source                Source     `json:"source"`
	IncidentTitle         string     `json:"incidentTitle"`
	IncidentNumber        int        `json:"incidentNumber"`
	IsOcr                 bool       `json:"isOcr"`
	IsRecover             bool       `json:"isRecover"`
	TriggeredByUserID     string     `json:"triggedByUserId"` // sic: the API's spelling
	DisplayName           string     `json:"displayName"`
	ModificationDate      string     `json:"modificationDate"`
	CreationDate          string     `json:"creationDate"`
	Status                string     `json:"status"`
	Title                 string     `json:"title"`
	IsAdminRequired       bool       `json:"isAdminRequired"`
	WorkspaceID           string     `json:"workspaceId"`
	WorkspaceName         string     `json:"workspaceName"`
	TenantID              string     `json:"tenantId"`
	IsAutoRun             bool       `json:"isAutoRun"`
	OriginalGamebookID    *string    `json:"originalGamebookId"`
	OriginalGamebookTitle *string    `json:"originalGamebookTitle"`
	IsRetryGamebook       bool       `json:"isRetryGamebook"`
	IsQueued              bool       `json:"isQueued"`
	Playbooks             []Playbook `json:"playbooks"`
	Summary               string     `json:"summary"`
}

// Playbook is one action of a gamebook on one entity. ReferenceID names the
// playbook in the workspace's catalog (what a submission's playbook_id
// binds); ID is this instance.
type Playbook struct {
	ID               string         `json:"id"`
	ReferenceID      string         `json:"referenceId"`
	EntityID         string         `json:"entityId"`
	Name             string         `json:"name"`
	Description      string         `json:"description"`
	EntityType       string         `json:"entityType"`
	AffectedEntity   string         `json:"affectedEntity"`
	IsRecommended    bool           `json:"isRecommended"`
	Status           string         `json:"status"`
	ErrorMessage     *string        `json:"errorMessage"`
	Sequence         int            `json:"sequence"`
	ModificationDate *string        `json:"modificationDate"`
	StartingDate     *string        `json:"startingDate"`
	FinishingDate    *string        `json:"finishingDate"`
	ExecutionTime    *string        `json:"executionTime"`
	TracingID        *string        `json:"tracingId"`
	Parameters       map[string]any `json:"parameters"`
	IsAdminRequired  bool           `json:"isAdminRequired"`
}

// CatalogID is the id a submission names the playbook by: its referenceId,
// else its id.
func (p Playbook) CatalogID() string { return firstNonEmpty(p.ReferenceID, p.ID) }

// GamebookHistory is one page of a workspace's gamebook history.
type GamebookHistory struct {
	Gamebooks  []Gamebook `json:"gamebooks"`
	PageToken  string     `json:"pageToken"`
	TotalCount int        `json:"totalCount"`
}

// SubmitGamebookRequest is the snake_case body of the agent tool
// "submit gamebook". Playbooks must not be empty.
type SubmitGamebookRequest struct {
	IncidentNumber int                 `json:"incident_number"`
	IncidentTitle  string              `json:"incident_title,omitempty"`
	TriggerType    TriggerType         `json:"trigger_type"`
	Playbooks      []SubmittedPlaybook `json:"playbooks"`
}

// SubmittedPlaybook binds a catalog playbook to the entity it acts on.
type SubmittedPlaybook struct {
	PlaybookID     string `json:"playbook_id"`
	EntityID       string `json:"entity_id"`
	AffectedEntity string `json:"affected_entity"`
	Sequence       int    `json:"sequence"`
}

// SubmitGamebookResult is the answer to a submission.
type SubmitGamebookResult struct {
	Success    bool   `json:"success"`
	Summary    string `json:"summary"`
	GamebookID string `json:"gamebook_id"`
	Status     string `json:"status"`
}

// IncidentGamebooks returns the gamebooks of one incident: those proposed
// for it and those that ran (GET /workspaces/{ws}/gamebooks/by-incident/{incidentId};
// the path has no source).
func (c *Client) IncidentGamebooks(ctx context.Context, workspaceID, incidentID string) ([]Gamebook, error) {
	if err := c.checkWorkspace(opIncidentGamebooks, workspaceID); err != nil {
		return nil, err
	}
	u, err := c.buildURL(opIncidentGamebooks, nil, lit("workspaces"), pathParam{"workspaceId", workspaceID},
		lit("gamebooks"), lit("by-incident"), pathParam{"incidentId", incidentID})
	if err != nil {
		return nil, err
	}
	env, err := getData[[]Gamebook](ctx, c, opIncidentGamebooks, u)
	if err != nil {
		return nil, err
	}
	if env.Data == nil {
		env.Data = []Gamebook{}
	}
	return env.Data, nil
}

// GamebookHistory returns one page of a workspace's gamebook history, newest
// first (GET /workspaces/{ws}/gamebooks/history). Pass "" for the first page
// and the previous page's PageToken for the next (sent as ?pageToken=, this
// project's reading: the page shows the token in the answer only).
func (c *Client) GamebookHistory(ctx context.Context, workspaceID, pageToken string) (*GamebookHistory, error) {
	if err := c.checkWorkspace(opGamebookHistory, workspaceID); err != nil {
		return nil, err
	}
	var q url.Values
	if pageToken != "" {
		q = url.Values{"pageToken": {pageToken}}
	}
	u, err := c.buildURL(opGamebookHistory, q, lit("workspaces"), pathParam{"workspaceId", workspaceID},
		lit("gamebooks"), lit("history"))
	if err != nil {
		return nil, err
	}
	env, err := getData[GamebookHistory](ctx, c, opGamebookHistory, u)
	if err != nil {
		return nil, err
	}
	if env.Data.Gamebooks == nil {
		env.Data.Gamebooks = []Gamebook{}
	}
	return &env.Data, nil
}

// SubmitGamebook submits a gamebook for an incident (POST
// …/workspaces/{ws}/agent/tools/incidents/{source}/{incidentId}/gamebooks).
// A gamebook acts on the world (it may isolate a host or disable an
// account), so it is never sent twice: like a comment, it is repeated only
// when the API certainly did not process it, and a failure after it was
// sent, or a 2xx whose answer cannot be read, matches ErrOutcomeUnknown.
func (c *Client) SubmitGamebook(ctx context.Context, ref IncidentRef, req SubmitGamebookRequest) (*SubmitGamebookResult, Meta, error) {
	u, err := c.agentIncidentURL(opSubmitGamebook, ref, nil, "gamebooks")
	if err != nil {
		return nil, Meta{}, err
	}
	res, err := c.do(ctx, call{op: opSubmitGamebook, method: http.MethodPost, url: u, body: req, kind: unsafeWrite})
	if err != nil {
		return nil, Meta{}, err
	}
	env, err := decodeData[SubmitGamebookResult](opSubmitGamebook, res)
	if err != nil {
		// A 2xx that is not the API's answer: decodeData says outcome unknown.
		return nil, metaOf(res), err
	}
	return &env.Data, env.Meta, nil
}
