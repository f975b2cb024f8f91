package main

import (
	"context"
	"slices"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
)

// TestRespondPromptOnlyWhereResponseActionsAre: respond_to_incident leads
// to run_gamebook, so it is offered only to a session that may run one;
// triage_incident, which now uses find_related_incidents, is offered to
// every session that reads incidents.
func TestRespondPromptOnlyWhereResponseActionsAre(t *testing.T) {
	for _, tc := range []struct {
		name      string
		scopes    []client.Scope
		readOnly  bool
		responses bool
		want      bool
	}{
		{"default scopes", defaultScopes, false, false, false},
		{"gamebook scopes, switch off", gamebookScopes, false, false, false},
		{"switch on, no gamebook scope", defaultScopes, false, true, false},
		{"gamebook scopes and switch", gamebookScopes, false, true, true},
		{"read-only server", gamebookScopes, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sess := newTestSession(t, tc.scopes, tc.readOnly)
			sess.ResponseActions = tc.responses
			c := connect(t, sess)
			res, err := c.ListPrompts(context.Background(), mcp.ListPromptsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range res.Prompts {
				names = append(names, p.Name)
			}
			if got := slices.Contains(names, "respond_to_incident"); got != tc.want {
				t.Errorf("respond_to_incident offered: %v, want %v (%v)", got, tc.want, names)
			}
			if !slices.Contains(names, "triage_incident") {
				t.Errorf("triage_incident not offered: %v", names)
			}
		})
	}
}
