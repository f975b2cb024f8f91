package resources

import (
	"context"
	"fmt"

	"github.com/contraforce/contraforce-mcp/client"
)

// Related links an incident document to the incident's other resources.
type Related struct {
	Comments string `json:"comments"`
	Evidence string `json:"evidence"`
}

// IncidentDocument is the content of the incident resource: the incident
// with its alerts and entities.
type IncidentDocument struct {
	URI      string       `json:"uri"`
	Incident IncidentView `json:"incident"`
	Alerts   []AlertView  `json:"alerts,omitempty"`
	Entities []EntityView `json:"entities,omitempty"`
	Related  Related      `json:"related"`
	Notes    []string     `json:"notes,omitempty"`
}

// CommentsDocument is the content of the comments resource: a page of at
// most 20 comments, oldest first, numbered First to First+len-1 of Total
// (numbered from 1, oldest first), and the URI of the older ones.
type CommentsDocument struct {
	URI      string             `json:"uri"`
	Incident client.IncidentRef `json:"incident"`
	Total    int                `json:"total"`
	First    int                `json:"first,omitempty"`
	Comments []CommentView      `json:"comments"`
	Older    string             `json:"older,omitempty"`
	Notes    []string           `json:"notes,omitempty"`
}

// EvidenceDocument is the content of the evidence resource: the head of
// the evidence table, or none.
type EvidenceDocument struct {
	URI      string             `json:"uri"`
	Incident client.IncidentRef `json:"incident"`
	Evidence *EvidenceView      `json:"evidence"`
	Notes    []string           `json:"notes,omitempty"`
}

// ReadIncident reads an incident with its details (alerts and entities)
// and its state (client.GetIncidentState).
func ReadIncident(ctx context.Context, api *client.Client, ref client.IncidentRef) (*IncidentDocument, error) {
	detail, st, err := api.GetIncidentState(ctx, ref, true)
	if err != nil {
		return nil, err
	}
	return incidentDocument(ref, detail, st), nil
}

// incidentDocument is the incident resource's document of an answer.
func incidentDocument(ref client.IncidentRef, detail *client.IncidentDetail, st client.IncidentState) *IncidentDocument {
	src := detail.Source
	if src == "" {
		src = ref.Source
	}
	// The comments and evidence templates are the incident's with a
	// literal suffix (and an unset {?before}): one expansion serves all three.
	uri := IncidentURI(ref)
	doc := &IncidentDocument{
		URI:      uri,
		Incident: ViewIncident(src, detail.Incident, st),
		Related:  Related{Comments: uri + "/comments", Evidence: uri + "/evidence"},
	}
	if st.RowLookup != nil && (!st.AssigneeKnown || !st.ClassificationKnown) {
		doc.Notes = append(doc.Notes, "the incident's detail does not show its assignee or classification, and its list row "+
			"could not be read ("+ShortError(st.RowLookup)+"): they are unknown")
	}
	if doc.Incident.IncidentID == "" {
		doc.Incident.IncidentID = Clean(ref.IncidentID, maxCell)
	}
	if doc.Incident.WorkspaceID == "" {
		doc.Incident.WorkspaceID = Clean(ref.WorkspaceID, maxCell)
	}
	if det := detail.InvestigationDetails; det != nil {
		doc.Alerts, doc.Notes = ViewAlerts(det.Alerts, doc.Notes)
		doc.Entities, doc.Notes = ViewEntities(det.Entities, doc.Notes)
	}
	return doc
}

// ReadComments reads a page of an incident's comments: the newest before
// comment number before (0: the newest of all).
func ReadComments(ctx context.Context, api *client.Client, ref client.IncidentRef, before int) (*CommentsDocument, error) {
	cs, err := api.ListComments(ctx, ref)
	if err != nil {
		return nil, err
	}
	uri := CommentsURI(ref)
	if before > 0 {
		uri = CommentsPageURI(ref, before)
	}
	doc := &CommentsDocument{URI: uri, Incident: cleanRef(ref)}
	var page CommentPage
	doc.Comments, page = ViewComments(cs, before)
	doc.Total = page.Total
	if len(doc.Comments) > 0 {
		doc.First = page.First
	}
	if page.Older() {
		doc.Older = CommentsPageURI(ref, page.First)
	}
	return doc, nil
}

// ReadEvidence reads an incident's evidence table.
func ReadEvidence(ctx context.Context, api *client.Client, ref client.IncidentRef) (*EvidenceDocument, error) {
	ev, err := api.GetEvidence(ctx, ref)
	if err != nil {
		return nil, err
	}
	doc := &EvidenceDocument{URI: EvidenceURI(ref), Incident: cleanRef(ref)}
	doc.Evidence, doc.Notes = ViewEvidence(ev, nil)
	if doc.Evidence == nil {
		doc.Notes = append(doc.Notes, "the incident has no evidence table")
	}
	return doc, nil
}

// cleanRef returns ref with its text cleaned: the ids came from the caller,
// but they are echoed into a model's context.
func cleanRef(ref client.IncidentRef) client.IncidentRef {
	return client.IncidentRef{WorkspaceID: Clean(ref.WorkspaceID, maxCell), Source: ref.Source,
		IncidentID: Clean(ref.IncidentID, maxCell)}
}

// ShortError words a failure in a few words for a note ("comments could
// not be fetched: NOT_FOUND (HTTP 404, request r-1)").
func ShortError(err error) string {
	if e, ok := client.AsAPIError(err); ok {
		if e.RequestID != "" {
			return fmt.Sprintf("%s (HTTP %d, request %s)", e.Code, e.Status, e.RequestID)
		}
		return fmt.Sprintf("%s (HTTP %d)", e.Code, e.Status)
	}
	return Clean(err.Error(), 300)
}
