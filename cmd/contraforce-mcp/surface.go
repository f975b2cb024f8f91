package main

import (
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/prompts"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/tools"
)

// surface is everything this server offers an agent. It is the one list:
// registration, the scope and read-only filtering, the server's
// instructions and the README's generated reference all read it.
type surface struct {
	Tools     []tools.Tool
	Templates []server.ServerResourceTemplate
	Resources []server.ServerResource
	Prompts   []prompts.Prompt
}

// surfaceDeps are the dependencies of the three kinds.
type surfaceDeps struct {
	Tools     tools.Deps
	Resources resources.Deps
	Prompts   prompts.Deps
}

// newSurface lists every tool, resource and prompt.
func newSurface(d surfaceDeps) surface {
	return surface{
		Tools: []tools.Tool{
			tools.ListIncidents(d.Tools),
			tools.GetIncident(d.Tools),
			tools.UpdateStatus(d.Tools),
			tools.AddComment(d.Tools),
			tools.Assign(d.Tools),
			tools.Whoami(d.Tools),
			tools.ListUsers(d.Tools),
			tools.FindRelatedIncidents(d.Tools),
			tools.BulkUpdate(d.Tools),
			tools.ListGamebooks(d.Tools),
			tools.RunGamebook(d.Tools),
		},
		// An incident, its comments and its evidence, by (workspaceId, source, incidentId).
		Templates: resources.Templates(d.Resources),
		// The allowed values and closure rules.
		Resources: resources.Static(),
		Prompts: []prompts.Prompt{
			prompts.CloseIncident(d.Prompts),
			prompts.TriageIncident(d.Prompts),
			prompts.ShiftHandoff(d.Prompts),
			prompts.RespondToIncident(d.Prompts),
		},
	}
}
