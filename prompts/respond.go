package prompts

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
)

// RespondToIncident is the respond_to_incident prompt: choosing a proposed
// gamebook, showing its dry run and asking the human before it runs. It
// leads to run_gamebook, so it is offered only where response actions are.
func RespondToIncident(d Deps) Prompt {
	const name = "respond_to_incident"
	return Prompt{
		Def: newPrompt(name, "Respond to an incident",
			"Choose the response actions ContraForce proposes for an incident (isolate a host, disable an account…), "+
				"show exactly what would run on which entity, and run them only once you confirm.", incidentArgs),
		Handler: func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return respondPrompt(ctx, d, name, req.Params.Arguments)
		},
		Tools:  []string{"get_incident", "list_gamebooks", "run_gamebook"},
		Writes: true,
	}
}

type respondText struct {
	WorkspaceID, Source, IncidentID, URI string
	Data                                 string
}

// respondPrompt renders the prompt: the instructions, with the
// investigation's text and the gamebooks proposed for the incident fenced
// as untrusted, as incidentPrompt does.
func respondPrompt(ctx context.Context, d Deps, name string, given map[string]string) (*mcp.GetPromptResult, error) {
	in, err := readIncident(ctx, d, name, given)
	if err != nil {
		return nil, err
	}
	ref, doc, inv := in.ref, in.doc, in.inv
	gbs, gbErr := in.api.IncidentGamebooks(ctx, ref.WorkspaceID, ref.IncidentID)
	body, err := render("respond_to_incident.md", respondText{WorkspaceID: resources.Clean(ref.WorkspaceID, 200),
		Source: string(ref.Source), IncidentID: resources.Clean(ref.IncidentID, 200), URI: doc.URI,
		Data: untrusted(inv.Text() + "\n\n" + gamebookLines(ref.Source, gbs, gbErr))})
	if err != nil {
		return nil, err
	}
	// One message: the incident as text, no embedded copy of its resource.
	return &mcp.GetPromptResult{
		Description: resources.Clean(fmt.Sprintf("%s %s #%d: %s", name, inv.Incident.Source, inv.Incident.Number, inv.Incident.Title), 200),
		Messages:    []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(body))},
	}, nil
}

// gamebookLines renders the incident's gamebooks as the fenced data's
// second part: the proposed ones, each action on a numbered line under its
// gamebook, then the ones that already ran. As in Investigation.Text, only
// labels written here start a line, and every value is folded onto one line.
func gamebookLines(src client.Source, gbs []client.Gamebook, err error) string {
	var proposed, ran strings.Builder
	var nProposed, nRan int
	for _, gb := range gbs {
		if gb.Source != "" && gb.Source != src {
			continue
		}
		ps := slices.Clone(gb.Playbooks)
		slices.SortStableFunc(ps, func(a, b client.Playbook) int { return a.Sequence - b.Sequence })
		if strings.EqualFold(gb.Status, "Pending") {
			nProposed++
			fmt.Fprintf(&proposed, "- gamebookId %s: %s\n", fold(gb.ID, 100), fold(gb.Title, 120))
			for i, p := range ps {
				fmt.Fprintf(&proposed, "  %d. %s\n", i+1, action(p))
			}
			continue
		}
		nRan++
		fmt.Fprintf(&ran, "- %s (%s, %s):\n", fold(gb.Title, 120), fold(gb.Status, 40), fold(gb.ModificationDate, 40))
		for i, p := range ps {
			fmt.Fprintf(&ran, "  %d. %s\n", i+1, action(p))
		}
	}
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "Proposed gamebooks: could not be read (%s); call list_gamebooks.\n", fold(resources.ShortError(err), 300))
	} else {
		fmt.Fprintf(&b, "Proposed gamebooks (%d):\n%s", nProposed, proposed.String())
	}
	if nRan > 0 {
		fmt.Fprintf(&b, "\nAlready ran for this incident (%d):\n%s", nRan, ran.String())
	}
	return strings.TrimRight(b.String(), "\n")
}

// action words one playbook of a gamebook: what it does, on which entity,
// its playbookId, and whether it is recommended or waits for an Owner.
func action(p client.Playbook) string {
	a := fmt.Sprintf("%s on %s %s (playbookId %s", fold(p.Name, 120), fold(p.EntityType, 40), fold(p.AffectedEntity, 200), fold(p.ID, 100))
	if p.IsRecommended {
		a += ", recommended"
	}
	if p.IsAdminRequired {
		a += ", needs a workspace Owner's approval"
	}
	return a + ")"
}

// fold cleans a value and folds it onto one line.
func fold(s string, n int) string { return resources.OneLine(resources.Clean(s, n)) }
