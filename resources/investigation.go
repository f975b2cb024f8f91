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

// ReadInvestigation reads the incident (with details), its comments and its
// evidence with concurrent API calls, so its wall time is that of the
// slowest call, not their sum. Only the incident is required: what else
// failed is named in the notes. It also returns the incident's document.
func ReadInvestigation(ctx context.Context, api *client.Client, ref client.IncidentRef) (*IncidentDocument, *Investigation, error) {
	var (
		wg                    sync.WaitGroup
		doc                   *IncidentDocument
		comments              *CommentsDocument
		evidence              *EvidenceDocument
		docErr, comErr, evErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Add(3)
	go func() {
		defer wg.Done()
		if doc, docErr = ReadIncident(ctx, api, ref); docErr != nil {
			cancel() // without the incident the others are useless
		}
	}()
	go func() { defer wg.Done(); comments, comErr = ReadComments(ctx, api, ref) }()
	go func() { defer wg.Done(); evidence, evErr = ReadEvidence(ctx, api, ref) }()
	wg.Wait()
	if docErr != nil {
		return nil, nil, docErr
	}
	inv := &Investigation{Incident: doc.Incident, Alerts: doc.Alerts, Entities: doc.Entities, Notes: doc.Notes}
	if evErr != nil {
		inv.Notes = append(inv.Notes, "evidence could not be fetched: "+ShortError(evErr))
	} else {
		inv.Evidence = evidence.Evidence
		inv.Notes = append(inv.Notes, evidence.Notes...)
	}
	if comErr != nil {
		inv.Notes = append(inv.Notes, "comments could not be fetched: "+ShortError(comErr))
	} else {
		inv.Comments = comments.Comments
		inv.Notes = append(inv.Notes, comments.Notes...)
	}
	return doc, inv, nil
}
