package client

import (
	"context"
	"fmt"
	"net/http"
)

// opBulkUpdate names the bulk update in errors and logs.
const opBulkUpdate = "bulk update incidents"

// MaxBulkItems is the most incidents one bulk update carries. The page does
// not state a limit; this project holds to 50 (the emulator refuses more).
const MaxBulkItems = 50

// BulkUpdateItem is one incident of a bulk update and what to change on it
// (the bulk-update page's item). Workspace is the workspace id; a nil field
// is left as it is. User names the new assignee; RemoveAssignee unassigns.
type BulkUpdateItem struct {
	ID                   string                `json:"id"`
	Status               *Status               `json:"status,omitempty"`
	User                 *UserRef              `json:"user,omitempty"`
	Workspace            string                `json:"workspace"`
	RemoveAssignee       bool                  `json:"removeAssignee,omitempty"`
	Comment              *string               `json:"comment,omitempty"`
	Classification       *Classification       `json:"classification,omitempty"`
	ClassificationReason *ClassificationReason `json:"classificationReason,omitempty"`
	IncidentSource       Source                `json:"incidentSource"`
}

// BulkUpdateRequest is the body of POST /incidents/across-workspaces/bulk-update.
type BulkUpdateRequest struct {
	Items []BulkUpdateItem `json:"items"`
}

// BulkForbidden is an incident the API refused after its per-incident
// authorization, with the reason.
type BulkForbidden struct {
	IncidentID  string `json:"incidentId"`
	WorkspaceID string `json:"workspaceId"`
	Reason      string `json:"reason"`
}

// BulkUpdateResult is the answer: the ids accepted, and those refused.
type BulkUpdateResult struct {
	Accepted  []string        `json:"accepted"`
	Forbidden []BulkForbidden `json:"forbidden"`
}

// BulkUpdate changes several incidents across workspaces in one request.
// Every item's workspace must pass the allowlist (checked before sending).
// Like UpdateStatus, a batch that carries a comment posts it, so it follows
// the comment's retry policy (ErrOutcomeUnknown once sent); without one it
// sets states and is retried as an idempotent write. A 2xx whose answer
// cannot be read matches ErrOutcomeUnknown, as every write's does.
func (c *Client) BulkUpdate(ctx context.Context, req BulkUpdateRequest) (*BulkUpdateResult, Meta, error) {
	if n := len(req.Items); n == 0 || n > MaxBulkItems {
		return nil, Meta{}, &APIError{Op: opBulkUpdate, Code: CodeBadRequest, Title: "invalid items",
			Detail: fmt.Sprintf("a bulk update takes 1 to %d incidents, not %d", MaxBulkItems, n), Target: "items"}
	}
	kind := idempotentWrite
	for _, it := range req.Items {
		if err := c.checkWorkspace(opBulkUpdate, it.Workspace); err != nil {
			return nil, Meta{}, err
		}
		if it.Comment != nil {
			kind = unsafeWrite
		}
	}
	u, err := c.buildURL(opBulkUpdate, nil, lit("incidents"), lit("across-workspaces"), lit("bulk-update"))
	if err != nil {
		return nil, Meta{}, err
	}
	res, err := c.do(ctx, call{op: opBulkUpdate, method: http.MethodPost, url: u, body: req, kind: kind})
	if err != nil {
		return nil, Meta{}, err
	}
	env, err := decodeData[BulkUpdateResult](opBulkUpdate, res)
	if err != nil {
		return nil, metaOf(res), err
	}
	return &env.Data, env.Meta, nil
}
