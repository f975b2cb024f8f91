package tools

import (
	"context"
	"fmt"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/schema"
)

// AssignInput names the incident and its new assignee, by user id or email.
type AssignInput struct {
	IncidentArgs
	UserID string `json:"userId,omitempty" jsonschema:"maxLength=200" desc:"Assignee's user id (or give email)."`
	Email  string `json:"email,omitempty" jsonschema:"maxLength=320" desc:"Assignee's email (or give userId)."`
}

// Check requires exactly one way of naming the assignee (JSON Schema's
// oneOf is not in the subset package schema emits).
func (in AssignInput) Check() error {
	if (in.UserID == "") == (in.Email == "") {
		return &schema.ArgError{Kind: schema.KindRule, Problem: "give exactly one of userId or email to name the assignee"}
	}
	return nil
}

// AssignOutput shows the assignee before and after.
type AssignOutput struct {
	WorkspaceID string `json:"workspaceId"`
	Source      string `json:"source"`
	IncidentID  string `json:"incidentId"`
	Before      string `json:"before,omitempty"`
	After       string `json:"after"`
	RequestID   string `json:"requestId,omitempty"`
}

// Assign is the assign tool: by user id or by email.
func Assign(d Deps) Tool {
	return newTool(spec[AssignInput, AssignOutput]{
		deps:        d,
		name:        "assign",
		title:       "Assign incident",
		description: "Assign an incident to a user, by userId or by email (exactly one). Replaces the current assignee.",
		scope:       client.ScopeIncidentsWrite,
		hints:       hints{destructive: true, idempotent: true, openWorld: true},
		handle:      func(ctx context.Context, in AssignInput) (AssignOutput, error) { return assign(ctx, d, in) },
		text: func(o AssignOutput) string {
			before := o.Before
			if before == "" {
				before = "unassigned"
			}
			return fmt.Sprintf("%s incident %s assigned: %s → %s", o.Source, o.IncidentID, before, o.After)
		},
	})
}

func assign(ctx context.Context, d Deps, in AssignInput) (AssignOutput, error) {
	api, err := d.api(ctx)
	if err != nil {
		return AssignOutput{}, err
	}
	ref := in.Ref()
	out := AssignOutput{WorkspaceID: ref.WorkspaceID, Source: string(ref.Source), IncidentID: ref.IncidentID}
	before, err := api.GetIncident(ctx, ref, false)
	if err != nil {
		return out, fmt.Errorf("read incident %s before assigning: %w", ref.IncidentID, err)
	}
	out.Before = resources.UserName(before.Incident.Assignee)
	meta, err := api.Assign(ctx, ref, client.AssignRequest{UserID: in.UserID, Email: in.Email})
	if err != nil {
		return out, fmt.Errorf("incident %s: %w", ref.IncidentID, err)
	}
	out.RequestID = meta.RequestID
	d.changed(ctx, ref)
	if after, err := api.GetIncident(ctx, ref, false); err == nil && after.Incident.Assignee != nil {
		out.After = resources.UserName(after.Incident.Assignee)
	} else {
		out.After = in.Email + in.UserID // the change landed; the confirming read did not
	}
	return out, nil
}
