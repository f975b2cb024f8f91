package tools

import (
	"context"
	"fmt"

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
	RequestID   string                `json:"requestId,omitempty"`
}

// AddComment is the add_comment tool: a comment flagged and attributed as the agent's.
func AddComment(d Deps) Tool {
	return newTool(spec[AddCommentInput, AddCommentOutput]{
		deps:  d,
		name:  "add_comment",
		title: "Add incident comment",
		description: "Post a comment on an incident. It is flagged as an AI agent's comment and its text names the agent. " +
			"Not idempotent: each call posts a new comment.",
		scope:  client.ScopeIncidentsComments,
		hints:  hints{openWorld: true},
		handle: func(ctx context.Context, in AddCommentInput) (AddCommentOutput, error) { return addComment(ctx, d, in) },
		text: func(o AddCommentOutput) string {
			return fmt.Sprintf("Comment %s posted on %s incident %s (agent comment: %t, as %s): %s",
				o.CommentID, o.Source, o.IncidentID, o.Comment.Agent, o.Comment.AgentName, oneLine(o.Comment.Text, 300))
		},
	})
}

func addComment(ctx context.Context, d Deps, in AddCommentInput) (AddCommentOutput, error) {
	sess, err := d.Session(ctx)
	if err != nil {
		return AddCommentOutput{}, err
	}
	ref := in.Ref()
	c, meta, err := sess.Client.AddComment(ctx, ref, client.AddCommentRequest{
		Content: attribute(AgentName(ctx, sess.AgentName), in.Content),
	})
	if err != nil {
		return AddCommentOutput{}, fmt.Errorf("incident %s: %w", ref.IncidentID, err)
	}
	d.changed(ctx, ref)
	views, _ := resources.ViewComments([]client.Comment{*c}, nil)
	return AddCommentOutput{WorkspaceID: ref.WorkspaceID, Source: string(ref.Source), IncidentID: ref.IncidentID,
		CommentID: c.ID, Comment: views[0], RequestID: meta.RequestID}, nil
}
