package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
)

// transports are the ways a client reaches the hosted server: SSE, and
// streamable HTTP in both protocol eras (sessions, and session-less).
var transports = []struct{ name, kind, version string }{
	{"sse", "sse", legacy},
	{"sse-2026", "sse", modern},
	{"streamable-http", "http", legacy},
	{"streamable-http-2026", "http", modern},
}

// TestServeTenantsOverTransports drives the full serve handler with real
// mcp-go clients of two tenants: the same tools as stdio, and each tenant
// sees and changes only its own incidents.
func TestServeTenantsOverTransports(t *testing.T) {
	h := startServe(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	refA, refB := h.refIn(workspacesA, 0), h.refIn(workspacesB, 0)

	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			a := h.mustConnect(ctx, tr.kind, tokenA, tr.version)
			t.Logf("protocol %s", a.ProtocolVersion())
			if tr.version == legacy && a.ProtocolVersion() != legacy {
				t.Fatalf("negotiated %q, want the legacy %q", a.ProtocolVersion(), legacy)
			}
			list, err := a.ListTools(ctx, mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range list.Tools {
				names = append(names, tool.Name)
			}
			for _, want := range []string{"list_incidents", "get_incident", "update_status", "add_comment", "assign"} {
				if !slices.Contains(names, want) {
					t.Errorf("tools/list lacks %s: %v", want, names)
				}
			}

			// A lists only its workspaces.
			res := call(ctx, t, a, "list_incidents", map[string]any{"limit": 50})
			if res.IsError {
				t.Fatalf("list_incidents: %s", text(res))
			}
			var page struct {
				Incidents []struct {
					WorkspaceID string `json:"workspaceId"`
				} `json:"incidents"`
			}
			raw, _ := json.Marshal(res.StructuredContent)
			if err := json.Unmarshal(raw, &page); err != nil || len(page.Incidents) == 0 {
				t.Fatalf("list_incidents gave no incidents: %v %s", err, raw)
			}
			for _, inc := range page.Incidents {
				if !slices.Contains(workspacesA, inc.WorkspaceID) {
					t.Errorf("tenant A listed an incident of workspace %s", inc.WorkspaceID)
				}
			}

			// A reads its own incident, not B's.
			if res := call(ctx, t, a, "get_incident", refArgs(refA)); res.IsError {
				t.Errorf("get_incident of A's own incident: %s", text(res))
			}
			if res := call(ctx, t, a, "get_incident", refArgs(refB)); !res.IsError {
				t.Errorf("tenant A read tenant B's incident: %s", text(res))
			}

			// A cannot write B's incident; the emulator's state is unchanged.
			before, _ := h.emu.Incident(refB)
			args := refArgs(refB)
			args["status"], args["comment"] = "Active", "taking this one"
			if res := call(ctx, t, a, "update_status", args); !res.IsError {
				t.Errorf("tenant A changed tenant B's incident: %s", text(res))
			}
			if res := call(ctx, t, a, "add_comment", map[string]any{"workspaceId": refB.WorkspaceID, "source": string(refB.Source),
				"incidentId": refB.IncidentID, "content": "hello from A"}); !res.IsError {
				t.Errorf("tenant A commented on tenant B's incident: %s", text(res))
			}
			if after, _ := h.emu.Incident(refB); after.Status != before.Status {
				t.Errorf("B's incident status changed from %s to %s", before.Status, after.Status)
			}

			// B writes its own incident.
			b := h.mustConnect(ctx, tr.kind, tokenB, tr.version)
			if res := call(ctx, t, b, "add_comment", map[string]any{"workspaceId": refB.WorkspaceID, "source": string(refB.Source),
				"incidentId": refB.IncidentID, "content": "checked by B over " + tr.name}); res.IsError {
				t.Errorf("tenant B add_comment on its incident: %s", text(res))
			}
			checkResourcesAndPrompts(ctx, t, a, refA, refB)
		})
	}
}

// checkResourcesAndPrompts reads a resource and gets a prompt when the
// server offers them (newMCPServer registers them from the one list).
func checkResourcesAndPrompts(ctx context.Context, t *testing.T, c *mcpclient.Client, own, other client.IncidentRef) {
	t.Helper()
	caps := c.GetServerCapabilities()
	if caps.Resources != nil {
		res, err := c.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: resources.IncidentURI(own)}})
		if err != nil || len(res.Contents) == 0 {
			t.Errorf("resources/read of the tenant's incident: %v", err)
		} else if tc, ok := res.Contents[0].(mcp.TextResourceContents); !ok || !strings.Contains(tc.Text, own.IncidentID) {
			t.Errorf("resources/read gave %+v, want the incident %s", res.Contents[0], own.IncidentID)
		}
		if res, err := c.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: resources.IncidentURI(other)}}); err == nil {
			for _, rc := range res.Contents {
				if tc, ok := rc.(mcp.TextResourceContents); ok && strings.Contains(tc.Text, `"title"`) {
					t.Errorf("resources/read of another tenant's incident returned it: %.200s", tc.Text)
				}
			}
		}
	} else {
		t.Log("the server offers no resources yet: resources/read not exercised")
	}
	if caps.Prompts != nil {
		list, err := c.ListPrompts(ctx, mcp.ListPromptsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list.Prompts {
			if p.Name != "triage_incident" {
				continue
			}
			req := mcp.GetPromptRequest{}
			req.Params.Name = p.Name
			req.Params.Arguments = map[string]string{"workspaceId": own.WorkspaceID, "source": string(own.Source), "incidentId": own.IncidentID}
			res, err := c.GetPrompt(ctx, req)
			if err != nil || len(res.Messages) == 0 {
				t.Errorf("prompts/get %s: %v", p.Name, err)
			}
			return
		}
		t.Errorf("prompts/list lacks triage_incident")
	} else {
		t.Log("the server offers no prompts yet: prompts/get not exercised")
	}
}
