package tools

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
)

// ListGamebooksInput names the incident.
type ListGamebooksInput struct {
	IncidentArgs
	History bool `json:"history,omitempty" desc:"Also the workspace's latest runs."`
}

// ListGamebooksOutput lists the incident's proposed and submitted gamebooks.
type ListGamebooksOutput struct {
	Gamebooks []GamebookView `json:"gamebooks"`
	Note      string         `json:"note,omitempty"`
}

// GamebookView is one gamebook: its actions and the entities they act on.
type GamebookView struct {
	GamebookID string         `json:"gamebookId"`
	Title      string         `json:"title"`
	State      string         `json:"state" desc:"proposed, ran or history."`
	Status     string         `json:"status"`
	When       string         `json:"when,omitempty"`
	IncidentID string         `json:"incidentId,omitempty"`
	Playbooks  []PlaybookView `json:"playbooks"`
}

// PlaybookView is one action of a gamebook on one entity.
type PlaybookView struct {
	ID          string `json:"id"`
	Action      string `json:"action"`
	Entity      string `json:"entity"`
	Status      string `json:"status,omitempty"`
	Recommended bool   `json:"recommended,omitempty"`
	Approval    bool   `json:"approval,omitempty" desc:"High-impact: a workspace Owner must approve it."`
}

// Gamebook states.
const (
	stateProposed = "proposed"
	stateRan      = "ran"
	stateHistory  = "history"
)

// historyRows bounds the workspace history listed.
const historyRows = 10

// ListGamebooks is the list_gamebooks tool.
func ListGamebooks(d Deps) Tool {
	return newTool(spec[ListGamebooksInput, ListGamebooksOutput]{
		deps:  d,
		name:  "list_gamebooks",
		title: "List gamebooks",
		description: "Response gamebooks proposed for an incident, each action with the entity it acts on, and " +
			"those already run.",
		scope: client.ScopeGamebooksRead,
		hints: hints{readOnly: true, idempotent: true, openWorld: true},
		handle: func(ctx context.Context, in ListGamebooksInput) (ListGamebooksOutput, error) {
			return listGamebooks(ctx, d, in)
		},
		text: renderGamebooks,
	})
}

func listGamebooks(ctx context.Context, d Deps, in ListGamebooksInput) (ListGamebooksOutput, error) {
	sess, err := d.Session(ctx)
	if err != nil {
		return ListGamebooksOutput{}, err
	}
	ref := in.Ref()
	gbs, err := sess.Client.IncidentGamebooks(ctx, ref.WorkspaceID, ref.IncidentID)
	if err != nil {
		return ListGamebooksOutput{}, fmt.Errorf("incident %s: %w", ref.IncidentID, err)
	}
	out := ListGamebooksOutput{Gamebooks: []GamebookView{}}
	for _, gb := range gbs {
		if gb.Source != "" && gb.Source != ref.Source {
			continue // another source's incident with the same id
		}
		out.Gamebooks = append(out.Gamebooks, viewGamebook(gb, ""))
	}
	if in.History {
		h, err := sess.Client.GamebookHistory(ctx, ref.WorkspaceID, "")
		if err != nil {
			out.Note = fmt.Sprintf("the workspace's history could not be read: %s", resources.ShortError(err))
		} else {
			for _, gb := range h.Gamebooks[:min(historyRows, len(h.Gamebooks))] {
				out.Gamebooks = append(out.Gamebooks, viewGamebook(gb, stateHistory))
			}
		}
	}
	if !runnable(sess) && slices.ContainsFunc(out.Gamebooks, func(g GamebookView) bool { return g.State == stateProposed }) {
		out.Note = strings.TrimSpace(out.Note + " This server does not run gamebooks (response actions are off): the user can run one in the ContraForce portal.")
	}
	return out, nil
}

// runnable reports whether the session may run gamebooks at all.
func runnable(s *Session) bool {
	return s.ResponseActions && !s.ReadOnly && slices.Contains(s.Scopes, client.ScopeGamebooksRun)
}

// proposed reports whether a gamebook of an incident is a proposal (not
// yet run): status Pending and never started.
func proposed(gb client.Gamebook) bool {
	return strings.EqualFold(gb.Status, "Pending") && !slices.ContainsFunc(gb.Playbooks, func(p client.Playbook) bool {
		return p.StartingDate != nil && *p.StartingDate != ""
	})
}

// viewGamebook is the compact view of a gamebook; state "" decides between
// proposed and ran.
func viewGamebook(gb client.Gamebook, state string) GamebookView {
	if state == "" {
		state = stateRan
		if proposed(gb) {
			state = stateProposed
		}
	}
	v := GamebookView{GamebookID: oneLine(gb.ID, 100), Title: oneLine(cmp.Or(gb.Title, gb.DisplayName), 120), State: state,
		Status: oneLine(gb.Status, 40), Playbooks: make([]PlaybookView, 0, len(gb.Playbooks))}
	if state != stateProposed {
		v.When = oneLine(cmp.Or(gb.ModificationDate, gb.CreationDate), 40)
	}
	if state == stateHistory {
		v.IncidentID = oneLine(gb.IncidentID, 200)
	}
	ps := slices.Clone(gb.Playbooks)
	slices.SortStableFunc(ps, func(a, b client.Playbook) int { return a.Sequence - b.Sequence })
	for _, p := range ps {
		pv := PlaybookView{ID: oneLine(p.ID, 100), Action: oneLine(p.Name, 80), Entity: entityLabel(p),
			Recommended: p.IsRecommended && state == stateProposed, Approval: p.IsAdminRequired}
		if state != stateProposed {
			pv.Status = oneLine(p.Status, 40)
		}
		v.Playbooks = append(v.Playbooks, pv)
	}
	return v
}

// entityLabel names the entity an action acts on: "Device CONTOSO-WS-042".
func entityLabel(p client.Playbook) string {
	return oneLine(strings.TrimSpace(p.EntityType+" "+p.AffectedEntity), 200)
}

func renderGamebooks(o ListGamebooksOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d gamebooks", len(o.Gamebooks))
	for _, g := range o.Gamebooks {
		fmt.Fprintf(&b, "\n- [%s %s] %s gamebookId=%s", g.State, g.Status, g.Title, g.GamebookID)
		if g.IncidentID != "" {
			fmt.Fprintf(&b, " incidentId=%s", g.IncidentID)
		}
		if g.When != "" {
			fmt.Fprintf(&b, " at %s", g.When)
		}
		for _, p := range g.Playbooks {
			fmt.Fprintf(&b, "\n  %s on %s (id=%s", p.Action, p.Entity, p.ID)
			if p.Status != "" {
				fmt.Fprintf(&b, ", %s", p.Status)
			}
			if p.Recommended {
				b.WriteString(", recommended")
			}
			switch {
			case p.Approval && g.State == stateProposed:
				b.WriteString(", needs an Owner's approval")
			case p.Approval:
				b.WriteString(", high-impact")
			}
			b.WriteString(")")
		}
	}
	if o.Note != "" {
		b.WriteString("\nnote: " + o.Note)
	}
	return b.String()
}
