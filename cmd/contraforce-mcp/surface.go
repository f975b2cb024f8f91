package main

import (
	"github.com/contraforce/contraforce-mcp/tools"
)

// surface is everything this server offers an agent. It is the one list:
// registration, the scope and read-only filtering, the server's
// instructions and the README's generated reference all read it.
type surface struct {
	Tools []tools.Tool
}

// newSurface lists every tool, resource and prompt.
func newSurface(d tools.Deps) surface {
	return surface{
		Tools: []tools.Tool{
			tools.ListIncidents(d),
			tools.GetIncident(d),
			tools.UpdateStatus(d),
			tools.AddComment(d),
			tools.Assign(d),
		},
	}
}
