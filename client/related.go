package client

import (
	"context"
	"net/url"
	"time"
)

// opRelatedIncidents names the related-incidents call in errors and logs.
const opRelatedIncidents = "find related incidents"

// RelatedQuery is the query of the agent tool "related incidents": the
// entity to look for and the time window. EntityKind is the entity's kind
// as it appears on the incident (Account, Host, Ip, File…); EntityFilter its
// main identifier (UPN, host name, address, file hash). Start and End bound
// a Custom window.
type RelatedQuery struct {
	EntityKind   string
	EntityFilter string
	Window       TimeFilterType
	Start, End   *time.Time
}

// RelatedIncident is one row of the related-incidents answer, with the
// members the page shows.
type RelatedIncident struct {
	CreationTime          string          `json:"creationTime"`
	Number                int             `json:"number"`
	Title                 string          `json:"title"`
	Description           string          `json:"description"`
	Severity              Severity        `json:"severity"`
	Status                Status          `json:"status"`
	ID                    string          `json:"id"`
	Source                Source          `json:"source"`
	WorkspaceID           string          `json:"workspaceId"`
	ClassificationComment *string         `json:"classificationComment"`
	Classification        *Classification `json:"classification"`
}

// relatedData is the "data" of the related-incidents answer.
type relatedData struct {
	Incidents []RelatedIncident `json:"incidents"`
}

// RelatedIncidents returns the other incidents in which an entity of ref
// appears (GET /workspaces/{ws}/agent/tools/incidents/{source}/{incidentId}/related-by-entity).
// The window defaults to TwentyFourHours, as the page says; a Custom window
// sends StartDate and EndDate (RFC 3339 UTC). A row without a workspace id
// is the path's workspace's; with a workspace allowlist, rows of other
// workspaces are dropped.
func (c *Client) RelatedIncidents(ctx context.Context, ref IncidentRef, q RelatedQuery) ([]RelatedIncident, error) {
	v := url.Values{}
	if q.EntityKind != "" {
		v.Set("EntityKind", q.EntityKind)
	}
	if q.EntityFilter != "" {
		v.Set("EntityFilter", q.EntityFilter)
	}
	w := q.Window
	if w == "" {
		w = TimeTwentyFourHours
	}
	v.Set("TimeFilteringType", string(w))
	if q.Start != nil {
		v.Set("StartDate", q.Start.UTC().Format(time.RFC3339))
	}
	if q.End != nil {
		v.Set("EndDate", q.End.UTC().Format(time.RFC3339))
	}
	u, err := c.agentIncidentURL(opRelatedIncidents, ref, v, "related-by-entity")
	if err != nil {
		return nil, err
	}
	env, err := getData[relatedData](ctx, c, opRelatedIncidents, u)
	if err != nil {
		return nil, err
	}
	out := make([]RelatedIncident, 0, len(env.Data.Incidents))
	for _, r := range env.Data.Incidents {
		if r.WorkspaceID == "" {
			r.WorkspaceID = ref.WorkspaceID // the search is the path's workspace's
		}
		if c.workspaceAllowed(r.WorkspaceID) {
			out = append(out, r)
		}
	}
	return out, nil
}
