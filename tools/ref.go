package tools

import "github.com/contraforce/contraforce-mcp/client"

// IncidentArgs are the three arguments that identify an incident; every
// per-incident tool embeds them, named as in the API's paths.
type IncidentArgs struct {
	WorkspaceID string        `json:"workspaceId" jsonschema:"required" desc:"Workspace id, from list_incidents."`
	Source      client.Source `json:"source" jsonschema:"required" desc:"Source product."`
	IncidentID  string        `json:"incidentId" jsonschema:"required" desc:"Incident id, from list_incidents."`
}

// Ref returns the API's identification of the incident.
func (a IncidentArgs) Ref() client.IncidentRef {
	return client.IncidentRef{WorkspaceID: a.WorkspaceID, Source: a.Source, IncidentID: a.IncidentID}
}
