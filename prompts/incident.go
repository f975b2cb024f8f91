package prompts

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
)

// CloseIncident is the close_incident prompt: guided closure of one
// incident, from review to the update_status call.
func CloseIncident(d Deps) Prompt {
	const name = "close_incident"
	return Prompt{
		Def: newPrompt(name, "Close an incident",
			"Guided closure: review the incident's live alerts, entities, evidence and comments, choose a "+
				"classification and reason, write a closing comment that cites the evidence, confirm with you, "+
				"then close it with update_status.", incidentArgs),
		Handler: func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return incidentPrompt(ctx, d, name, "close_incident.md", req.Params.Arguments)
		},
		Tools:  []string{"get_incident", "update_status"},
		Writes: true,
	}
}

// TriageIncident is the triage_incident prompt: assessment and next steps,
// without any change.
func TriageIncident(d Deps) Prompt {
	const name = "triage_incident"
	return Prompt{
		Def: newPrompt(name, "Triage an incident",
			"Assess one incident from its live data and the incidents that share its entities, prioritise it "+
				"and recommend next steps. Read-only: nothing is changed.", incidentArgs),
		Handler: func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return incidentPrompt(ctx, d, name, "triage_incident.md", req.Params.Arguments)
		},
		Tools: []string{"get_incident", "find_related_incidents"},
	}
}

// incidentText is what the per-incident texts are rendered from. Only
// argument values and values from the enum types appear outside the fenced
// Data; the incident's own text stays inside it.
type incidentText struct {
	WorkspaceID, Source, IncidentID string
	URI, CommentsURI, EvidenceURI   string
	Sentinel                        bool
	RecordsVerdict                  bool   // the source keeps classification and reason
	NoVerdict                       string // the sources that do not, "A, B and C"
	Closed                          string
	Classifications, Reasons        []string
	Data                            string
}

// incidentPrompt validates the arguments, reads the incident, and renders
// the prompt: the instructions with the investigation's text fenced as
// untrusted.
func incidentPrompt(ctx context.Context, d Deps, name, text string, given map[string]string) (*mcp.GetPromptResult, error) {
	in, err := readIncident(ctx, d, name, given)
	if err != nil {
		return nil, err
	}
	ref, doc, inv := in.ref, in.doc, in.inv
	body, err := render(text, incidentText{
		WorkspaceID: resources.Clean(ref.WorkspaceID, 200), Source: string(ref.Source),
		IncidentID: resources.Clean(ref.IncidentID, 200), URI: doc.URI, CommentsURI: doc.Related.Comments,
		EvidenceURI: doc.Related.Evidence, Sentinel: ref.Source == client.SourceSentinel,
		RecordsVerdict:  ref.Source.RecordsClassification(),
		NoVerdict:       noVerdictSources(ref.Source),
		Closed:          string(client.StatusClosed),
		Classifications: client.EnumStrings[client.Classification](),
		Reasons:         client.EnumStrings[client.ClassificationReason](),
		Data:            untrusted(inv.Text()),
	})
	if err != nil {
		return nil, err
	}
	// The incident is carried once, as text: an embedded copy of its
	// resource would double what the model reads (the text names the URI).
	inc := inv.Incident
	return &mcp.GetPromptResult{
		Description: resources.Clean(fmt.Sprintf("%s %s #%d: %s", name, inc.Source, inc.Number, inc.Title), 200),
		Messages:    []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(body))},
	}, nil
}

// promptIncident is what an incident prompt reads: the incident its
// arguments name, the session's API client, and the investigation.
type promptIncident struct {
	ref client.IncidentRef
	api *client.Client
	doc *resources.IncidentDocument
	inv *resources.Investigation
}

// readIncident validates an incident prompt's arguments and reads the
// investigation; an incident that does not exist is the caller's error
// (invalid params), any other failure the server's.
func readIncident(ctx context.Context, d Deps, name string, given map[string]string) (promptIncident, error) {
	args, err := parseArgs(name, incidentArgs, given)
	if err != nil {
		return promptIncident{}, err
	}
	in := promptIncident{ref: refOf(args)}
	if in.api, err = d.apiClient(ctx); err != nil {
		return promptIncident{}, fmt.Errorf("prompt %s: %v", name, err)
	}
	if in.doc, in.inv, err = resources.ReadInvestigation(ctx, in.api, in.ref); err != nil {
		msg := fmt.Sprintf("prompt %s: %s", name, resources.Describe(fmt.Sprintf("reading %s incident %s", in.ref.Source, in.ref.IncidentID), err))
		if resources.NamesNothing(err) {
			return promptIncident{}, argErrorf("%s", msg)
		}
		return promptIncident{}, errors.New(msg)
	}
	return in, nil
}

// noVerdictSources names the sources other than src that do not record a
// verdict, as "A, B and C" (from client.SourcesWithoutClassification).
func noVerdictSources(src client.Source) string {
	others := slices.DeleteFunc(client.SourcesWithoutClassification(), func(s client.Source) bool { return s == src })
	return resources.JoinAnd(client.Strings(others))
}
