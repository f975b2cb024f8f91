package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/schema"
)

// AddCommentInput is a comment to post on an incident.
type AddCommentInput struct {
	IncidentArgs
	Content string `json:"content" jsonschema:"required,maxLength=30000" desc:"Comment text (plain text or Markdown)."`
}

// Check refuses a comment with nothing visible in it (the schema already
// refuses "").
func (in AddCommentInput) Check() error {
	if blank(in.Content) {
		return &schema.ArgError{Field: "content", Kind: schema.KindRule, Problem: "is blank; write the comment's text"}
	}
	return nil
}

// AddCommentOutput is the comment as the API stored it.
type AddCommentOutput struct {
	WorkspaceID string                `json:"workspaceId"`
	Source      string                `json:"source"`
	IncidentID  string                `json:"incidentId"`
	CommentID   string                `json:"commentId"`
	Comment     resources.CommentView `json:"comment"`
	ExtensionID string                `json:"extensionId,omitempty" desc:"Routes the comment back to the source product."`
	Note        string                `json:"note,omitempty"`
	RequestID   string                `json:"requestId,omitempty"`
}

// AddComment is the add_comment tool: a comment flagged and attributed as the agent's.
func AddComment(d Deps) Tool {
	return newTool(spec[AddCommentInput, AddCommentOutput]{
		deps:        d,
		name:        "add_comment",
		title:       "Add incident comment",
		description: "Post a comment on an incident, flagged and signed as the AI agent's. Each call posts a new comment.",
		scope:       client.ScopeIncidentsComments,
		hints:       hints{openWorld: true},
		handle:      func(ctx context.Context, in AddCommentInput) (AddCommentOutput, error) { return addComment(ctx, d, in) },
		text: func(o AddCommentOutput) string {
			s := fmt.Sprintf("Comment %s posted on %s incident %s (agent comment: %t, as %s): %s",
				o.CommentID, o.Source, o.IncidentID, o.Comment.Agent, o.Comment.AgentName, oneLine(o.Comment.Text, 300))
			if o.Note != "" {
				s += "\nnote: " + o.Note
			}
			return s
		},
	})
}

// addComment reads the incident first for the extensionId that routes the
// comment back to its source (client.GetIncidentState), then posts it. If
// the incident cannot be read for another reason than its absence, or the
// API refuses the extensionId (a 400 naming it: nothing was stored), the
// comment is posted without one and the result says so: the comment is
// never lost to a routing guess.
func addComment(ctx context.Context, d Deps, in AddCommentInput) (AddCommentOutput, error) {
	sess, err := d.Session(ctx)
	if err != nil {
		return AddCommentOutput{}, err
	}
	ref := in.Ref()
	out := AddCommentOutput{WorkspaceID: ref.WorkspaceID, Source: string(ref.Source), IncidentID: ref.IncidentID}
	req := client.AddCommentRequest{Content: attribute(attribution(ctx, sess), in.Content)}
	_, st, err := sess.Client.GetIncidentState(ctx, ref, false)
	switch {
	case err != nil && client.ErrorCode(err) == client.CodeNotFound, errors.Is(err, context.Canceled):
		return out, fmt.Errorf("incident %s: %w", ref.IncidentID, err)
	case err != nil:
		out.Note = fmt.Sprintf("the incident could not be read (%s), so the comment was posted without an extensionId: "+
			"ContraForce may not copy it to %s.", resources.ShortError(err), ref.Source)
	default:
		req.ExtensionID = st.ExtensionID
	}
	c, meta, err := sess.Client.AddComment(ctx, ref, req)
	if err != nil && req.ExtensionID != "" && refusesExtension(err) {
		out.Note = fmt.Sprintf("ContraForce refused the extensionId %s (from the incident's %s: %s), so the comment was posted "+
			"without one: it may not be copied to %s.", resources.Clean(req.ExtensionID, 200), st.ExtensionFrom,
			resources.ShortError(err), ref.Source)
		req.ExtensionID = ""
		c, meta, err = sess.Client.AddComment(ctx, ref, req)
	}
	if err != nil {
		return AddCommentOutput{}, fmt.Errorf("incident %s: %w", ref.IncidentID, err)
	}
	d.changed(ctx, ref)
	views, _ := resources.ViewComments([]client.Comment{*c}, 0)
	out.CommentID, out.Comment, out.RequestID = c.ID, views[0], meta.RequestID
	out.ExtensionID = resources.Clean(req.ExtensionID, 200)
	return out, nil
}

// refusesExtension reports whether a failed comment was refused for its
// extensionId: a 400 whose target or field errors name it (the API stored
// nothing, so posting again cannot duplicate).
func refusesExtension(err error) bool {
	e, ok := client.AsAPIError(err)
	if !ok || e.Status != http.StatusBadRequest {
		return false
	}
	if strings.EqualFold(e.Target, "extensionId") {
		return true
	}
	for k := range e.Errors {
		if strings.EqualFold(strings.TrimPrefix(k, "$."), "extensionId") {
			return true
		}
	}
	return false
}
