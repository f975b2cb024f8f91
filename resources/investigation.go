package resources

import (
	"context"
	"sync"

	"github.com/contraforce/contraforce-mcp/client"
)

// Investigation is an incident with everything an analyst reviews before
// deciding on it: what get_incident returns and the incident prompts embed.
type Investigation struct {
	Incident IncidentView  `json:"incident"`
	Alerts   []AlertView   `json:"alerts,omitempty"`
	Entities []EntityView  `json:"entities,omitempty"`
	Evidence *EvidenceView `json:"evidence,omitempty"`
	Comments []CommentView `json:"comments,omitempty"`
	Notes    []string      `json:"notes,omitempty" desc:"What was cut or could not be fetched."`
}

// ReadInvestigation reads the incident with its details and state
// (client.GetIncidentState: the detail, then the list row only when the
// detail leaves the assignee or verdict unknown) and its comments with
// concurrent API calls, so its wall time is that of the slower call, not
// their sum. The details carry the evidence table ("evidence" of the
// incident object in https://docs.contraforce.com/api-reference/models), so
// the evidence endpoint is asked only when they do not. Only the incident is required: what else failed
// is named in the notes. It also returns the incident's document.
func ReadInvestigation(ctx context.Context, api *client.Client, ref client.IncidentRef) (*IncidentDocument, *Investigation, error) {
	var (
		wg       sync.WaitGroup
		detail   *client.IncidentDetail
		state    client.IncidentState
		comments []client.Comment
		detErr   error
		comErr   error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The comments in a goroutine of their own, the incident in this one
	// (whose stack has already grown: a new goroutine's would grow again).
	wg.Add(1)
	go func() { defer wg.Done(); comments, comErr = api.ListComments(ctx, ref) }()
	if detail, state, detErr = api.GetIncidentState(ctx, ref, true); detErr != nil {
		cancel() // without the incident the comments are useless
	}
	wg.Wait()
	if detErr != nil {
		return nil, nil, detErr
	}
	doc := incidentDocument(ref, detail, state)
	inv := &Investigation{Incident: doc.Incident, Alerts: doc.Alerts, Entities: doc.Entities, Notes: doc.Notes}
	evidence := detail.Evidence
	if evidence == nil {
		var err error
		if evidence, err = api.GetEvidence(ctx, ref); err != nil {
			inv.Notes = append(inv.Notes, "evidence could not be fetched: "+ShortError(err))
		}
	}
	inv.Evidence, inv.Notes = ViewEvidence(evidence, inv.Notes)
	if comErr != nil {
		inv.Notes = append(inv.Notes, "comments could not be fetched: "+ShortError(comErr))
	} else {
		var page CommentPage
		inv.Comments, page = ViewComments(comments, 0)
		if note := commentsNote(ref, page); note != "" {
			inv.Notes = append(inv.Notes, note)
		}
	}
	return doc, inv, nil
}
