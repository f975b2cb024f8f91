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

// proposal is a proposed gamebook as the prompt shows it.
type proposal struct {
	GamebookID string   `json:"gamebookId"`
	Title      string   `json:"title"`
	Actions    []string `json:"actions"`
}

// respondData is the fenced data of the prompt: the incident, and the
// gamebooks proposed for it.
type respondData struct {
	Incident  any        `json:"incident"`
	Proposals []proposal `json:"proposedGamebooks"`
	Ran       []string   `json:"alreadyRan,omitempty"`
	Notes     []string   `json:"notes,omitempty"`
}

type respondText struct {
	WorkspaceID, Source, IncidentID, URI string
	Data                                 string
}

func respondPrompt(ctx context.Context, d Deps, name string, given map[string]string) (*mcp.GetPromptResult, error) {
	args, err := parseArgs(name, incidentArgs, given)
	if err != nil {
		return nil, err
	}
	ref := refOf(args)
	api, err := d.apiClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("prompt %s: %v", name, err)
	}
	doc, inv, err := resources.ReadInvestigation(ctx, api, ref)
	if err != nil {
		return nil, fmt.Errorf("prompt %s: %s", name, resources.Describe(fmt.Sprintf("reading %s incident %s", ref.Source, ref.IncidentID), err))
	}
	data := respondData{Incident: inv, Proposals: []proposal{}}
	gbs, err := api.IncidentGamebooks(ctx, ref.WorkspaceID, ref.IncidentID)
	if err != nil {
		data.Notes = append(data.Notes, "the proposed gamebooks could not be read ("+resources.ShortError(err)+"): call list_gamebooks")
	}
	for _, gb := range gbs {
		if gb.Source != "" && gb.Source != ref.Source {
			continue
		}
		ps := slices.Clone(gb.Playbooks)
		slices.SortStableFunc(ps, func(a, b client.Playbook) int { return a.Sequence - b.Sequence })
		var actions []string
		for _, p := range ps {
			a := fmt.Sprintf("%s on %s %s (id %s", p.Name, p.EntityType, p.AffectedEntity, p.ID)
			if p.IsRecommended {
				a += ", recommended"
			}
			if p.IsAdminRequired {
				a += ", needs a workspace Owner's approval"
			}
			actions = append(actions, resources.Clean(a+")", 400))
		}
		if strings.EqualFold(gb.Status, "Pending") {
			data.Proposals = append(data.Proposals, proposal{GamebookID: resources.Clean(gb.ID, 100),
				Title: resources.Clean(gb.Title, 120), Actions: actions})
		} else {
			data.Ran = append(data.Ran, resources.Clean(fmt.Sprintf("%s (%s, %s): %s", gb.Title, gb.Status, gb.ModificationDate,
				strings.Join(actions, "; ")), 800))
		}
	}
	fenced, err := untrusted(data)
	if err != nil {
		return nil, err
	}
	body, err := render("respond_to_incident.md", respondText{WorkspaceID: resources.Clean(ref.WorkspaceID, 200),
		Source: string(ref.Source), IncidentID: resources.Clean(ref.IncidentID, 200), URI: doc.URI, Data: fenced})
	if err != nil {
		return nil, err
	}
	embedded, err := resources.Encode(doc)
	if err != nil {
		return nil, err
	}
	return &mcp.GetPromptResult{
		Description: resources.Clean(fmt.Sprintf("%s %s #%d: %s", name, inv.Incident.Source, inv.Incident.Number, inv.Incident.Title), 200),
		Messages: []mcp.PromptMessage{
			mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(body)),
			mcp.NewPromptMessage(mcp.RoleUser, mcp.NewEmbeddedResource(mcp.TextResourceContents{
				URI: doc.URI, MIMEType: "application/json", Text: embedded,
			})),
		},
	}, nil
}
