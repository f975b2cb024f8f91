package main

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// snapshot is what a tenant's writes could change on an incident.
type snapshot struct {
	state    emulator.IncidentState
	comments int
	runs     int
}

func (h *harness) snapshot(ref client.IncidentRef) snapshot {
	st, _ := h.emu.Incident(ref)
	return snapshot{state: st, comments: len(h.emu.Comments(ref)), runs: len(h.emu.GamebookRuns(ref))}
}

// TestTenantCannotWriteAcrossItsBounds: tenant A, with response actions
// on, cannot change tenant B's incidents with bulk_update or run
// gamebooks on them, alone or mixed into a batch of its own; with an
// allowlist, not even in a workspace its credential has a role on. No such
// request reaches the API, and the incidents are unchanged.
func TestTenantCannotWriteAcrossItsBounds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		allowlist bool
	}{{"roles", false}, {"allowlist", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := startServe(t, func(sc *serveConfig) {
				responseTenants(sc)
				if tc.allowlist {
					sc.TenantsJSON = strings.Replace(sc.TenantsJSON, `"responseActions": true`,
						`"responseActions": true, "workspaces": [`+fmt.Sprintf("%q", emulator.WorkspaceOwnerID)+`]`, 1)
				}
			})
			h.grantGamebooks()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			a := h.connectHuman(ctx, t, "http", tokenA, legacy, &yes{})
			own := h.openIn(emulator.WorkspaceOwnerID, client.SourceQRadar, 0)
			// Beyond A's bounds: B's workspace, and with the allowlist the
			// workspace A's credential has a role on but the tenant may not touch.
			targets := []client.IncidentRef{h.openIn(emulator.WorkspaceNoRoleID, client.SourceSentinel, 0)}
			if tc.allowlist {
				targets = append(targets, h.openIn(emulator.WorkspaceResponderID, client.SourceDefenderXDR, 0))
			}
			before := map[client.IncidentRef]snapshot{own: h.snapshot(own)}
			for _, r := range targets {
				before[r] = h.snapshot(r)
			}
			for _, target := range targets {
				for name, args := range map[string]map[string]any{
					"bulk_update alone": {"incidents": []any{refArgs(target)}, "status": "Closed", "comment": "closing B's"},
					"bulk_update mixed": {"incidents": []any{refArgs(own), refArgs(target)}, "status": "Active", "comment": "mixed"},
					"bulk_update dry":   {"incidents": []any{refArgs(target)}, "status": "Active", "dryRun": true},
				} {
					res := call(ctx, t, a, "bulk_update", args)
					dry := args["dryRun"] == true
					if !dry && !res.IsError {
						t.Errorf("%s on %s succeeded: %s", name, target.WorkspaceID, text(res))
					}
					if dry && (res.IsError || !strings.Contains(text(res), "[refused]")) {
						t.Errorf("%s on %s: %s", name, target.WorkspaceID, text(res))
					}
				}
				gbArgs := refArgs(target)
				gbArgs["gamebookId"] = "any"
				if res := call(ctx, t, a, "run_gamebook", gbArgs); !res.IsError {
					t.Errorf("run_gamebook on %s succeeded: %s", target.WorkspaceID, text(res))
				}
				for _, tool := range []string{"list_gamebooks", "find_related_incidents"} {
					if res := call(ctx, t, a, tool, refArgs(target)); !res.IsError {
						t.Errorf("%s read %s: %s", tool, target.WorkspaceID, text(res))
					}
				}
			}
			for ref, b := range before {
				if after := h.snapshot(ref); !reflect.DeepEqual(after, b) {
					t.Errorf("%s changed: %+v → %+v", ref.IncidentID, b, after)
				}
			}
			stats := h.emu.Stats().Requests
			if stats[emulator.EndpointBulkUpdate] != 0 || stats[emulator.EndpointSubmitGamebook] != 0 {
				t.Errorf("requests reached the API: %d batches, %d submissions", stats[emulator.EndpointBulkUpdate], stats[emulator.EndpointSubmitGamebook])
			}
			who := structured[tools.WhoamiOutput](t, call(ctx, t, a, "whoami", map[string]any{}))
			var ws []string
			for _, w := range who.Workspaces {
				ws = append(ws, w.WorkspaceID)
			}
			want := []string{emulator.WorkspaceOwnerID, emulator.WorkspaceResponderID}
			if tc.allowlist {
				want = want[:1]
			}
			slices.Sort(ws)
			slices.Sort(want)
			if !slices.Equal(ws, want) {
				t.Errorf("whoami shows %v, want %v", ws, want)
			}
			if tc.allowlist {
				users := structured[tools.ListUsersOutput](t, call(ctx, t, a, "list_users", map[string]any{}))
				for _, u := range users.Users {
					if strings.HasSuffix(u.Email, "@northwind.com") || strings.HasSuffix(u.Email, "@fabrikam.com") {
						t.Errorf("list_users shows %s, of a workspace outside the allowlist", u.Email)
					}
				}
			}

			// Tenant B has neither the gamebook scopes nor response actions:
			// run_gamebook is not offered, and a call to it is refused.
			b := h.mustConnect(ctx, "http", tokenB, legacy)
			list, err := b.ListTools(ctx, mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			for _, tool := range list.Tools {
				if tool.Name == "run_gamebook" || tool.Name == "list_gamebooks" {
					t.Errorf("tenant B is offered %s", tool.Name)
				}
			}
			bRef := targets[0]
			gbArgs := refArgs(bRef)
			gbArgs["gamebookId"] = "any"
			req := mcp.CallToolRequest{}
			req.Params.Name, req.Params.Arguments = "run_gamebook", gbArgs
			if res, err := b.CallTool(ctx, req); err == nil && !res.IsError {
				t.Errorf("tenant B ran a gamebook: %s", text(res))
			}
			if n := h.emu.Stats().Requests[emulator.EndpointSubmitGamebook]; n != 0 {
				t.Errorf("%d submissions reached the API", n)
			}
		})
	}
}

// TestOAuthStepUpForResponseActions: an OAuth token without gamebooks:run
// calling run_gamebook on a tenant that enabled response actions is asked
// to step up for that scope; on a tenant that did not, no scope would help,
// so none is asked for.
func TestOAuthStepUpForResponseActions(t *testing.T) {
	good, other := newTestIssuer(t, false), newTestIssuer(t, false)
	h := startServe(t, func(sc *serveConfig) {
		sc.TenantsJSON = fmt.Sprintf(`{"tenants": [
			{"name": "tenant-a", "clientId": %q, "clientSecretEnv": "SECRET_A", "responseActions": true,
			 "scopes": ["incidents:read", "incidents:write", "incidents:comments", "gamebooks:read", "gamebooks:run"],
			 "oauth": {"issuer": %q, "claim": "tid", "values": ["contoso"]}},
			{"name": "tenant-n", "clientId": %q, "clientSecretEnv": "SECRET_A",
			 "scopes": ["incidents:read", "incidents:write", "incidents:comments", "gamebooks:read", "gamebooks:run"],
			 "oauth": {"issuer": %q, "claim": "tid", "values": ["noresponse"]}},
			{"name": "tenant-b", "clientId": %q, "clientSecretEnv": "SECRET_B", "oauth": {"issuer": %q}}]}`,
			tenantAClientID, good.url, tenantAClientID, good.url, tenantBClientID, other.url)
		sc.OAuth = oauthConfig{Resource: oauthResource, FetchTimeout: 3 * time.Second, KeyRefresh: time.Hour}
	})
	h.grantGamebooks()
	ref := h.openIn(emulator.WorkspaceOwnerID, client.SourceDefenderXDR, 0)
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"run_gamebook","arguments":{"workspaceId":%q,"source":%q,"incidentId":%q,"gamebookId":"x","dryRun":true}}}`,
		ref.WorkspaceID, ref.Source, ref.IncidentID)
	for _, tc := range []struct {
		tid     string
		stepUp  bool
		wantScp string
	}{
		{"contoso", true, `scope="incidents:read gamebooks:run", error="insufficient_scope"`},
		{"noresponse", false, ""},
	} {
		token := good.token(func(c map[string]any) { c["scope"], c["tid"] = "incidents:read", tc.tid })
		sid := h.openStreamable(t, token)
		resp := h.do(t, http.MethodPost, "/mcp", token, body, map[string]string{server.HeaderKeySessionID: sid})
		got := resp.Header.Get("WWW-Authenticate")
		if tc.stepUp && (resp.StatusCode != http.StatusForbidden || !strings.Contains(got, tc.wantScp)) {
			t.Errorf("%s: %d %q, want 403 asking for gamebooks:run", tc.tid, resp.StatusCode, got)
		}
		if !tc.stepUp && resp.StatusCode == http.StatusForbidden {
			t.Errorf("%s: asked to step up (%q) for a tool the tenant does not offer", tc.tid, got)
		}
	}
	if n := h.emu.Stats().Requests[emulator.EndpointSubmitGamebook]; n != 0 {
		t.Errorf("%d submissions", n)
	}
}
