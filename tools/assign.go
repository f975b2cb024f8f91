package tools

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/schema"
)

// AssignInput names the incident and its new assignee, by user id, email or both.
type AssignInput struct {
	IncidentArgs
	UserID string `json:"userId,omitempty" jsonschema:"maxLength=200" desc:"Assignee's user id."`
	Email  string `json:"email,omitempty" jsonschema:"maxLength=320" desc:"Assignee's email."`
}

// Check requires a way of naming the assignee (JSON Schema's anyOf is not
// in the subset package schema emits). Both may be given: the API's own
// example sends both.
func (in AssignInput) Check() error {
	if in.UserID == "" && in.Email == "" {
		return &schema.ArgError{Kind: schema.KindRule, Problem: "give userId or email (or both) to name the assignee"}
	}
	return nil
}

// Values of AssignOutput.Before and After besides a user's name.
const (
	assigneeNone    = "unassigned"
	assigneeUnknown = "unknown"
)

// AssignOutput shows the assignee before and after: a user, "unassigned",
// or "unknown" when the API did not show it.
type AssignOutput struct {
	WorkspaceID string `json:"workspaceId"`
	Source      string `json:"source"`
	IncidentID  string `json:"incidentId"`
	Before      string `json:"before" desc:"A user, unassigned, or unknown (not shown by the API)."`
	After       string `json:"after" desc:"Likewise, read after the change."`
	Note        string `json:"note,omitempty"`
	RequestID   string `json:"requestId,omitempty"`
}

// Assign is the assign tool: by user id, by email, or both.
func Assign(d Deps) Tool {
	return newTool(spec[AssignInput, AssignOutput]{
		deps:  d,
		name:  "assign",
		title: "Assign incident",
		description: "Assign an incident to a user by userId or email (or both, naming the same user). " +
			"Replaces the current assignee.",
		scope:  client.ScopeIncidentsWrite,
		hints:  hints{destructive: true, idempotent: true, openWorld: true},
		handle: func(ctx context.Context, in AssignInput) (AssignOutput, error) { return assign(ctx, d, in) },
		text: func(o AssignOutput) string {
			s := fmt.Sprintf("%s incident %s assigned: %s → %s", o.Source, o.IncidentID, o.Before, o.After)
			if o.Note != "" {
				s += "\nnote: " + o.Note
			}
			return s
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
	note, err := checkAssignee(ctx, api, in, ref.WorkspaceID)
	if err != nil {
		return out, err
	}
	_, before, err := api.GetIncidentState(ctx, ref, false)
	if err != nil {
		return out, fmt.Errorf("read incident %s before assigning: %w", ref.IncidentID, err)
	}
	out.Before = assigneeOf(before)
	meta, err := api.Assign(ctx, ref, client.AssignRequest{UserID: in.UserID, Email: in.Email})
	if err != nil {
		if e, ok := client.AsAPIError(err); ok && e.Code == client.CodeValidation && namesAssignee(e) {
			return out, refuse("assign failed: %v. Call list_users to find who can be assigned (their userId or email).", e)
		}
		return out, fmt.Errorf("incident %s: %w", ref.IncidentID, err)
	}
	out.RequestID = meta.RequestID
	d.changed(ctx, ref)
	_, after, err := api.GetIncidentState(ctx, ref, false)
	switch {
	case err != nil:
		out.After = assigneeUnknown
		out.Note = fmt.Sprintf("ContraForce accepted the assignment to %s, but reading the incident afterwards failed (%s); "+
			"call get_incident to confirm.", requested(in), resources.ShortError(err))
	case !after.AssigneeKnown:
		out.After = assigneeUnknown
		out.Note = fmt.Sprintf("ContraForce accepted the assignment to %s; it does not show this incident's assignee, "+
			"so the change is not confirmed.", requested(in))
	default:
		out.After = assigneeOf(after)
		if u := after.Assignee; u == nil || !matches(u, in) {
			out.Note = fmt.Sprintf("ContraForce accepted the assignment to %s, but the incident now shows %s as its assignee.",
				requested(in), out.After)
		}
	}
	if note != "" {
		out.Note = strings.TrimSpace(out.Note + " " + note)
	}
	return out, nil
}

// assigneeOf names the assignee of a state: a user, unassigned, or unknown.
func assigneeOf(st client.IncidentState) string {
	switch {
	case !st.AssigneeKnown:
		return assigneeUnknown
	case st.Assignee == nil:
		return assigneeNone
	}
	return resources.UserName(st.Assignee)
}

// requested names the assignee the call asked for.
func requested(in AssignInput) string {
	if in.Email != "" {
		return resources.Clean(in.Email, 320)
	}
	return resources.Clean(in.UserID, 200)
}

// matches reports whether u is the user the call named (by id or email).
func matches(u *client.UserRef, in AssignInput) bool {
	return (in.UserID != "" && u.ID == in.UserID) || (in.Email != "" && strings.EqualFold(u.Email, in.Email))
}

// checkAssignee finds the user the call names in GET /users before
// anything is changed: one that does not exist or is deactivated is
// refused with the way to find the right one (list_users), and a userId
// and email naming different users are refused (the API's rule for that
// case is not documented, so the tool does not let it pick one). It returns
// a note when the user has no role on the incident's workspace: the API
// assigns them, but they may not see the incident. If the list cannot be
// read, the API decides.
func checkAssignee(ctx context.Context, api *client.Client, in AssignInput, workspaceID string) (string, error) {
	users, err := api.ListUsers(ctx)
	if err != nil {
		return "", nil
	}
	i := slices.IndexFunc(users, func(u client.User) bool {
		return in.UserID != "" && u.ID == in.UserID || in.UserID == "" && strings.EqualFold(u.Email, in.Email)
	})
	switch {
	case i < 0:
		return "", refuse("Not assigned: no user is %s. Call list_users (query: part of their name or email) to find who can be assigned.",
			requested(in))
	case in.UserID != "" && in.Email != "" && !strings.EqualFold(users[i].Email, in.Email):
		u := users[i]
		return "", refuse("Not assigned: userId %s is %s <%s>, but email is %s. Give only the one that names the intended user.",
			resources.Clean(in.UserID, 200), resources.Clean(u.DisplayName, 200), resources.Clean(u.Email, 320), resources.Clean(in.Email, 320))
	case !users[i].Active():
		return "", refuse("Not assigned: %s is deactivated and cannot be assigned. Call list_users to find who can.", requested(in))
	}
	if !slices.ContainsFunc(users[i].RoleAssignments, func(ra client.RoleAssignment) bool { return strings.EqualFold(ra.WorkspaceID, workspaceID) }) {
		u := users[i]
		return fmt.Sprintf("%s <%s> has no role on this incident's workspace, so they may not be able to see or work it; "+
			"list_users with workspaceId shows who has one.", resources.Clean(u.DisplayName, 100), resources.Clean(u.Email, 320)), nil
	}
	return "", nil
}

// namesAssignee reports whether a validation error is about the assignee.
func namesAssignee(e *client.APIError) bool {
	for _, k := range append([]string{e.Target}, slices.Collect(maps.Keys(e.Errors))...) {
		if k = strings.ToLower(strings.TrimPrefix(k, "$.")); k == "userid" || k == "email" {
			return true
		}
	}
	return false
}
