package tools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/schema"
)

// RunGamebookInput names a proposed gamebook of the incident and the actions
// of it to run.
type RunGamebookInput struct {
	IncidentArgs
	GamebookID  string   `json:"gamebookId" jsonschema:"required,maxLength=200" desc:"A proposed gamebook (list_gamebooks)."`
	PlaybookIDs []string `json:"playbookIds,omitempty" jsonschema:"maxItems=50" desc:"Its actions to run (default: the recommended ones)."`
	DryRun      bool     `json:"dryRun,omitempty" desc:"Only show what would run."`
}

// Check refuses a repeated action.
func (in RunGamebookInput) Check() error {
	for i, id := range in.PlaybookIDs {
		if slices.Contains(in.PlaybookIDs[:i], id) {
			return &schema.ArgError{Field: fmt.Sprintf("playbookIds[%d]", i), Kind: schema.KindRule, Problem: "repeats an action"}
		}
	}
	return nil
}

// RunGamebookOutput is the plan and, unless a dry run, the submission.
type RunGamebookOutput struct {
	IncidentID string          `json:"incidentId"`
	Gamebook   string          `json:"gamebook"`
	Plan       []PlannedAction `json:"plan"`
	DryRun     bool            `json:"dryRun,omitempty" desc:"Nothing was run."`
	RunID      string          `json:"runId,omitempty" desc:"The submitted gamebook."`
	Status     string          `json:"status,omitempty"`
	Notes      []string        `json:"notes,omitempty"`
	RequestID  string          `json:"requestId,omitempty"`
}

// PlannedAction is one action, in order, on one entity.
type PlannedAction struct {
	Action   string `json:"action"`
	Entity   string `json:"entity"`
	Approval bool   `json:"approval,omitempty" desc:"Waits for an Owner's approval."`
}

// RunGamebook is the run_gamebook tool: a response action, with the human in the loop.
func RunGamebook(d Deps) Tool {
	if d.Confirmations == nil {
		d.Confirmations = NewConfirmations(ConfirmationOptions{})
	}
	return newTool(spec[RunGamebookInput, RunGamebookOutput]{
		deps:  d,
		name:  "run_gamebook",
		title: "Run gamebook",
		description: "Run a proposed gamebook's actions (isolate a host, disable an account…) on the incident's entities. " +
			"Show the dryRun plan first; it runs only after the user confirms here.",
		scope:          client.ScopeGamebooksRun,
		hints:          hints{destructive: true, openWorld: true},
		responseAction: true,
		handle: func(ctx context.Context, in RunGamebookInput) (RunGamebookOutput, error) {
			return runGamebook(ctx, d, in)
		},
		text: renderRun,
	})
}

func runGamebook(ctx context.Context, d Deps, in RunGamebookInput) (RunGamebookOutput, error) {
	sess, err := d.Session(ctx)
	if err != nil {
		return RunGamebookOutput{}, err
	}
	ref := in.Ref()
	out := RunGamebookOutput{IncidentID: oneLine(ref.IncidentID, 200), DryRun: in.DryRun, Plan: []PlannedAction{}}
	if !runnable(sess) {
		return out, refuse("Not run: response actions are not enabled on this server. The user can run the gamebook in the ContraForce portal.")
	}
	detail, err := sess.Client.GetIncident(ctx, ref, false)
	if err != nil {
		return out, fmt.Errorf("incident %s: %w", ref.IncidentID, err)
	}
	gbs, err := sess.Client.IncidentGamebooks(ctx, ref.WorkspaceID, ref.IncidentID)
	if err != nil {
		return out, fmt.Errorf("gamebooks of incident %s: %w", ref.IncidentID, err)
	}
	i := slices.IndexFunc(gbs, func(g client.Gamebook) bool { return g.ID == in.GamebookID })
	if i < 0 || !proposed(gbs[i]) {
		return out, refuse("Not run: %q is not a proposed gamebook of %s incident %s. Call list_gamebooks for the incident and pass "+
			"the gamebookId of one whose state is proposed.", resources.Clean(in.GamebookID, 200), ref.Source, out.IncidentID)
	}
	gb := gbs[i]
	out.Gamebook = oneLine(cmp.Or(gb.Title, gb.DisplayName), 120)
	chosen, err := choosePlaybooks(gb, in.PlaybookIDs)
	if err != nil {
		return out, err
	}
	req := client.SubmitGamebookRequest{IncidentNumber: detail.Incident.Number, IncidentTitle: detail.Incident.Title,
		TriggerType: client.TriggerManualInvestigateAndRespond}
	for n, p := range chosen {
		req.Playbooks = append(req.Playbooks, client.SubmittedPlaybook{PlaybookID: p.CatalogID(), EntityID: p.EntityID,
			AffectedEntity: p.AffectedEntity, Sequence: n + 1})
		out.Plan = append(out.Plan, PlannedAction{Action: oneLine(p.Name, 80), Entity: entityLabel(p), Approval: p.IsAdminRequired})
	}
	out.Notes = alreadyRan(gbs, chosen)
	if in.DryRun {
		return out, nil
	}
	look := "call list_gamebooks for this incident to see whether it ran"
	ok, err := askHuman(ctx, d, ConfirmAlways, question{text: runQuestion(ref, detail.Incident, out),
		change: fmt.Sprintf("gamebook %s for %s incident %s", oneLine(gb.ID, 100), ref.Source, out.IncidentID), look: look},
		"Not run", "Show the user the plan (dryRun); they can run the gamebook in the ContraForce portal.")
	if err != nil {
		return out, err
	}
	res, meta, err := sess.Client.SubmitGamebook(ctx, ref, req)
	ok.settle(err)
	out.RequestID = meta.RequestID
	switch {
	case errors.Is(err, client.ErrOutcomeUnknown):
		return out, &unknownOutcome{cause: err, look: look}
	case err != nil:
		return out, fmt.Errorf("incident %s: %w", ref.IncidentID, err)
	default:
		out.RunID, out.Status = oneLine(res.GamebookID, 100), oneLine(res.Status, 40)
		if !res.Success {
			out.Notes = append(out.Notes, "ContraForce did not report success: "+oneLine(res.Summary, 300))
		}
	}
	d.changed(ctx, ref)
	// The record on the incident: who ran what, attributed like every comment.
	c, err := addComment(ctx, d, AddCommentInput{IncidentArgs: in.IncidentArgs, Content: runComment(out)})
	if err != nil {
		out.Notes = append(out.Notes, "the gamebook was submitted, but the comment recording it could not be posted: "+
			resources.ShortError(err)+"; post it with add_comment")
	} else if c.Note != "" {
		out.Notes = append(out.Notes, "comment: "+c.Note)
	}
	return out, nil
}

// choosePlaybooks returns the gamebook's actions named by ids, in the
// gamebook's order, else its recommended ones, else all of them.
func choosePlaybooks(gb client.Gamebook, ids []string) ([]client.Playbook, error) {
	ps := slices.Clone(gb.Playbooks)
	slices.SortStableFunc(ps, func(a, b client.Playbook) int { return a.Sequence - b.Sequence })
	if len(ids) > 0 {
		for _, id := range ids {
			if !slices.ContainsFunc(ps, func(p client.Playbook) bool { return p.ID == id }) {
				return nil, refuse("Not run: %q is not an action of gamebook %s; list_gamebooks shows each action's id.",
					resources.Clean(id, 200), resources.Clean(gb.ID, 100))
			}
		}
		return slices.DeleteFunc(ps, func(p client.Playbook) bool { return !slices.Contains(ids, p.ID) }), nil
	}
	if rec := slices.DeleteFunc(slices.Clone(ps), func(p client.Playbook) bool { return !p.IsRecommended }); len(rec) > 0 {
		return rec, nil
	}
	if len(ps) == 0 {
		return nil, refuse("Not run: gamebook %s has no actions.", resources.Clean(gb.ID, 100))
	}
	return ps, nil
}

// alreadyRan notes chosen actions that already ran on the same entity for
// this incident, so that the user sees it before confirming.
func alreadyRan(gbs []client.Gamebook, chosen []client.Playbook) []string {
	var notes []string
	for _, gb := range gbs {
		if proposed(gb) || strings.EqualFold(gb.Status, "Failed") {
			continue
		}
		for _, p := range gb.Playbooks {
			if slices.ContainsFunc(chosen, func(c client.Playbook) bool { return c.CatalogID() == p.CatalogID() && c.EntityID == p.EntityID }) {
				notes = append(notes, fmt.Sprintf("%s on %s already ran for this incident (gamebook %s, %s, %s)",
					oneLine(p.Name, 80), entityLabel(p), oneLine(gb.ID, 100), oneLine(gb.Status, 40), oneLine(gb.ModificationDate, 40)))
			}
		}
	}
	return notes
}

// runQuestion is what the human is asked: which incident, and exactly
// which action runs on which entity.
func runQuestion(ref client.IncidentRef, inc client.Incident, o RunGamebookOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run response actions on %s incident #%d %q (workspace %s)?\nGamebook: %s\n", ref.Source, inc.Number,
		resources.Clean(inc.Title, 200), resources.Clean(ref.WorkspaceID, 100), o.Gamebook)
	writePlan(&b, o.Plan)
	for _, n := range o.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	b.WriteString("These act on production systems at once.")
	return schema.SafeText(b.String())
}

func writePlan(b *strings.Builder, plan []PlannedAction) {
	for i, p := range plan {
		fmt.Fprintf(b, "%d. %s on %s", i+1, p.Action, p.Entity)
		if p.Approval {
			b.WriteString(" (waits for a workspace Owner's approval)")
		}
		b.WriteByte('\n')
	}
}

// runComment records a submission on the incident.
func runComment(o RunGamebookOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Response actions submitted with the user's confirmation: gamebook %q", o.Gamebook)
	if o.RunID != "" {
		fmt.Fprintf(&b, " (run %s, status %s)", o.RunID, o.Status)
	}
	b.WriteString(":\n")
	writePlan(&b, o.Plan)
	return strings.TrimSpace(b.String())
}

func renderRun(o RunGamebookOutput) string {
	var b strings.Builder
	switch {
	case o.DryRun:
		fmt.Fprintf(&b, "Dry run, nothing was run. Gamebook %q would run on incident %s:\n", o.Gamebook, o.IncidentID)
	default:
		fmt.Fprintf(&b, "Gamebook %q submitted for incident %s: run %s, status %s.\n", o.Gamebook, o.IncidentID, o.RunID, o.Status)
	}
	writePlan(&b, o.Plan)
	for _, n := range o.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if o.RequestID != "" {
		fmt.Fprintf(&b, "request id: %s", o.RequestID)
	}
	return strings.TrimSpace(b.String())
}
