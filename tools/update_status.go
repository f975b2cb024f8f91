package tools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/schema"
)

// UpdateStatusInput is every field of the v2 status body, plus dryRun.
type UpdateStatusInput struct {
	IncidentArgs
	Status               client.Status               `json:"status" jsonschema:"required" desc:"New status."`
	Comment              string                      `json:"comment,omitempty" jsonschema:"maxLength=30000" desc:"Why, citing the evidence."`
	Classification       client.Classification       `json:"classification,omitempty" desc:"Verdict."`
	ClassificationReason client.ClassificationReason `json:"classificationReason,omitempty" desc:"Reason for the verdict."`
	UpdateTicket         bool                        `json:"updateTicket,omitempty" desc:"Also close the linked ticket."`
	TicketID             string                      `json:"ticketId,omitempty" jsonschema:"maxLength=200" desc:"Linked ticket id."`
	DryRun               bool                        `json:"dryRun,omitempty" desc:"Only show the change; make none."`
}

// Rules states what a flat schema cannot: they reach both the input schema
// (as if/then) and the validation.
func (UpdateStatusInput) Rules() []schema.Rule {
	closed := string(client.StatusClosed)
	return []schema.Rule{
		schema.RequiredWhen{When: map[string]any{"status": closed}, Require: []string{"comment"},
			Why: "every closure must say why (this server's policy)"},
		schema.RequiredWhen{When: map[string]any{"status": closed, "source": string(client.SourceSentinel)},
			Require: []string{"classification", "classificationReason"},
			Why:     "Sentinel requires a classification and a reason to close an incident"},
		schema.RequiredWhen{When: map[string]any{"updateTicket": true}, Require: []string{"ticketId"},
			Why: "updateTicket needs the ticket's id"},
	}
}

// Check refuses a comment with nothing visible in it: a closure must say why.
func (in UpdateStatusInput) Check() error {
	if in.Comment != "" && blank(in.Comment) {
		return &schema.ArgError{Field: "comment", Kind: schema.KindRule, Problem: "is blank; say why"}
	}
	return nil
}

// StatusState is the part of an incident a status change touches. A field
// the API did not show is named in Unknown (its emptiness then means "not
// known", not "none"); status itself is "unknown" only when the incident
// could not be read after the change.
type StatusState struct {
	Status               string   `json:"status"`
	Classification       string   `json:"classification,omitempty"`
	ClassificationReason string   `json:"classificationReason,omitempty"`
	TicketID             string   `json:"ticketId,omitempty"`
	Unknown              []string `json:"unknown,omitempty" desc:"Fields the API did not show: not known, not empty."`
}

// UpdateStatusOutput shows the incident's state before and after.
type UpdateStatusOutput struct {
	WorkspaceID string      `json:"workspaceId"`
	Source      string      `json:"source"`
	IncidentID  string      `json:"incidentId"`
	Before      StatusState `json:"before"`
	After       StatusState `json:"after"`
	DryRun      bool        `json:"dryRun,omitempty" desc:"Nothing was changed."`
	Comment     string      `json:"comment,omitempty"`
	Notes       []string    `json:"notes,omitempty"`
	RequestID   string      `json:"requestId,omitempty"`
}

// UpdateStatus is the update_status tool: every field of the v2 status change.
func UpdateStatus(d Deps) Tool {
	if d.Confirmations == nil {
		d.Confirmations = NewConfirmations(ConfirmationOptions{})
	}
	return newTool(spec[UpdateStatusInput, UpdateStatusOutput]{
		deps:  d,
		name:  "update_status",
		title: "Update incident status",
		description: "Change an incident's status. Closing needs a comment saying why, posted as the AI agent's; " +
			"Sentinel also needs classification and classificationReason. " + noVerdictSentence(),
		scope: client.ScopeIncidentsWrite,
		hints: hints{destructive: true, openWorld: true},
		handle: func(ctx context.Context, in UpdateStatusInput) (UpdateStatusOutput, error) {
			return updateStatus(ctx, d, in)
		},
		text: renderStatusChange,
	})
}

func updateStatus(ctx context.Context, d Deps, in UpdateStatusInput) (UpdateStatusOutput, error) {
	sess, err := d.Session(ctx)
	if err != nil {
		return UpdateStatusOutput{}, err
	}
	ref := in.Ref()
	out := UpdateStatusOutput{WorkspaceID: ref.WorkspaceID, Source: string(ref.Source), IncidentID: ref.IncidentID, DryRun: in.DryRun}
	before, beforeState, err := sess.Client.GetIncidentState(ctx, ref, false)
	if err != nil {
		return out, fmt.Errorf("read incident %s before the change: %w", ref.IncidentID, err)
	}
	out.Before = stateOf(beforeState)
	if err := alreadyClosed(sess, in, out); err != nil {
		return out, err
	}

	req := client.UpdateStatusRequest{Status: in.Status, UpdateTicket: in.UpdateTicket}
	if in.Comment != "" {
		out.Comment = attribute(attribution(ctx, sess), in.Comment)
		req.Comment = &out.Comment
	}
	if in.Classification != "" {
		req.Classification = &in.Classification
	}
	if in.ClassificationReason != "" {
		req.ClassificationReason = &in.ClassificationReason
	}
	if in.TicketID != "" {
		req.TicketID = &in.TicketID
	}
	if (req.Classification != nil || req.ClassificationReason != nil) && !ref.Source.RecordsClassification() {
		out.Notes = append(out.Notes, fmt.Sprintf("%s does not record classification or classificationReason: they are sent "+
			"but not kept, so the comment should state the verdict.", ref.Source))
	}
	predicted := predictState(ref.Source, out.Before, req)
	if in.DryRun {
		out.After = predicted
		return out, nil
	}
	var ok consent // the user's confirmation, used once
	if in.Status == client.StatusClosed {
		policy := d.ConfirmClose
		// whoami's check (issue 12): nobody is asked to confirm a closure
		// that the service account's role would make ContraForce refuse.
		if policy != ConfirmNever {
			if why := roleRefusal(ctx, sess, ref.WorkspaceID); why != "" {
				return out, refuse("Not closed: %s, so ContraForce would refuse the closure; incident %s is unchanged. "+
					"Call whoami to see where this server may change incidents.", why, ref.IncidentID)
			}
		}
		var err error
		ok, err = confirm(ctx, d, policy, question{text: closeQuestion(before.Incident, out, predicted),
			change: fmt.Sprintf("the closure of %s incident %s", ref.Source, ref.IncidentID),
			look:   "call get_incident to see the incident's state"})
		if errors.Is(err, errDeclined) {
			return out, refuse("Not closed: the user declined to confirm, so incident %s is unchanged (status %s). Ask the user how to proceed.",
				ref.IncidentID, out.Before.Status)
		}
		if err != nil {
			return out, err
		}
	}

	meta, err := sess.Client.UpdateStatus(ctx, ref, req)
	ok.settle(err)
	if err != nil {
		return out, fmt.Errorf("incident %s: %w", ref.IncidentID, err)
	}
	out.RequestID = meta.RequestID
	d.changed(ctx, ref)
	_, afterState, err := sess.Client.GetIncidentState(ctx, ref, false)
	if err != nil {
		// The change landed; only the confirmation read failed: claim nothing.
		out.After = StatusState{Status: stateUnknown, Unknown: []string{"status", "classification", "classificationReason", "ticketId"}}
		out.Notes = append(out.Notes, fmt.Sprintf("ContraForce accepted the change to %s, but reading the incident afterwards "+
			"failed (%s); call get_incident to confirm.", req.Status, resources.ShortError(err)))
		return out, nil
	}
	out.After = stateOf(afterState)
	return out, nil
}

// alreadyClosed refuses to close a Closed incident: the API would accept
// it and post a second closing comment. Changing a verdict is a reopen
// (status Active) then a close, two calls the agent makes on purpose.
func alreadyClosed(sess *Session, in UpdateStatusInput, out UpdateStatusOutput) error {
	if in.Status != client.StatusClosed || out.Before.Status != string(client.StatusClosed) {
		return nil
	}
	note := ""
	if !sess.ReadOnly && slices.Contains(sess.Scopes, client.ScopeIncidentsComments) {
		note = " To add a note without changing it, use add_comment."
	}
	return refuse("Not changed: %s incident %s is already %s, and closing it again would post a second closing comment. "+
		"To change its verdict or closing comment, reopen it (update_status with status Active), then close it again.%s",
		out.Source, resources.Clean(out.IncidentID, 200), describeState(out.Before), note)
}

// stateUnknown is StatusState.Status when the incident could not be read.
const stateUnknown = "unknown"

// noVerdictSentence says which sources do not keep a verdict (generated
// from client.Source.RecordsClassification).
func noVerdictSentence() string {
	srcs := client.SourcesWithoutClassification()
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = string(s)
	}
	return resources.JoinAnd(names) + " do not record classification or classificationReason: state the verdict in the comment."
}

// closeQuestion is what the human is asked before a closure: which
// incident, what changes, and the comment that will say why.
func closeQuestion(inc client.Incident, out UpdateStatusOutput, after StatusState) string {
	return schema.SafeText(fmt.Sprintf("Close %s incident #%d %q (workspace %s)?\nStatus: %s → %s\nComment: %s",
		out.Source, inc.Number, resources.Clean(inc.Title, 200), out.WorkspaceID, describeState(out.Before), describeState(after), resources.Clean(out.Comment, 1000)))
}

func stateOf(st client.IncidentState) StatusState {
	s := StatusState{Status: string(st.Status)}
	if st.ClassificationKnown {
		if st.Classification != nil {
			s.Classification = string(*st.Classification)
		}
		if st.ClassificationReason != nil {
			s.ClassificationReason = string(*st.ClassificationReason)
		}
	} else {
		s.Unknown = append(s.Unknown, "classification", "classificationReason")
	}
	if st.TicketKnown {
		if st.TicketID != nil {
			s.TicketID = *st.TicketID
		}
	} else {
		s.Unknown = append(s.Unknown, "ticketId")
	}
	return s
}

// predictState is what a status change would make of the state: a
// classification applies when closing an incident of a source that records
// one, any other status clears it; what was unknown stays unknown unless
// the change sets it.
func predictState(src client.Source, before StatusState, req client.UpdateStatusRequest) StatusState {
	after := before
	after.Status = string(req.Status)
	after.Unknown = slices.Clone(before.Unknown)
	known := func(field string) {
		after.Unknown = slices.DeleteFunc(after.Unknown, func(f string) bool { return f == field })
	}
	switch {
	case req.Status == client.StatusClosed && src.RecordsClassification():
		after.Classification, after.ClassificationReason = "", ""
		if req.Classification != nil {
			after.Classification = string(*req.Classification)
		}
		if req.ClassificationReason != nil {
			after.ClassificationReason = string(*req.ClassificationReason)
		}
		known("classification")
		known("classificationReason")
	case req.Status != client.StatusClosed:
		after.Classification, after.ClassificationReason = "", ""
		known("classification")
		known("classificationReason")
	}
	if req.TicketID != nil && req.UpdateTicket {
		after.TicketID = *req.TicketID
		known("ticketId")
	}
	if len(after.Unknown) == 0 {
		after.Unknown = nil
	}
	return after
}

func renderStatusChange(o UpdateStatusOutput) string {
	var b strings.Builder
	verb := "changed"
	if o.DryRun {
		verb = "would change (dry run, nothing changed)"
	}
	fmt.Fprintf(&b, "%s incident %s in workspace %s %s: %s → %s", o.Source, o.IncidentID, o.WorkspaceID, verb,
		describeState(o.Before), describeState(o.After))
	writeTail(&b, o.Comment, o.Notes, o.RequestID)
	return b.String()
}

func describeState(s StatusState) string {
	out := s.Status
	if slices.Contains(s.Unknown, "classification") && s.Status != stateUnknown {
		return out + " (classification unknown)"
	}
	if s.Classification != "" {
		out += " (" + s.Classification
		if s.ClassificationReason != "" {
			out += "/" + s.ClassificationReason
		}
		out += ")"
	}
	return out
}
