package resources

import (
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
)

// An incident document's related URIs are the comments and evidence
// resources' own, for ids that need escaping too.
func TestIncidentDocumentURIs(t *testing.T) {
	for _, ref := range []client.IncidentRef{
		{WorkspaceID: "w", Source: client.SourceSentinel, IncidentID: "abc"},
		{WorkspaceID: "W/1 x", Source: client.SourceCrowdStrike, IncidentID: "inc:4f?#%é/.."},
	} {
		doc := incidentDocument(ref, &client.IncidentDetail{}, client.IncidentState{})
		if doc.URI != IncidentURI(ref) || doc.Related.Comments != CommentsURI(ref) || doc.Related.Evidence != EvidenceURI(ref) {
			t.Errorf("%+v: %s, %+v; want %s, %s, %s", ref, doc.URI, doc.Related, IncidentURI(ref), CommentsURI(ref), EvidenceURI(ref))
		}
	}
}
