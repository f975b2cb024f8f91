package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
	"github.com/contraforce/contraforce-mcp/tools"
)

// gamebookScopes are every scope, the gamebook ones included.
var gamebookScopes = append(slices.Clone(defaultScopes), client.ScopeGamebooksRead, client.ScopeGamebooksRun)

// responseTenants are tenants A and B of the harness, A with the gamebook
// scopes and response actions on.
func responseTenants(sc *serveConfig) {
	sc.TenantsJSON = fmt.Sprintf(`{"tenants": [
		{"name": "tenant-a", "tokenSha256": %q, "clientId": %q, "clientSecretEnv": "SECRET_A",
		 "scopes": ["incidents:read", "incidents:write", "incidents:comments", "gamebooks:read", "gamebooks:run"], "responseActions": true},
		{"name": "tenant-b", "tokenSha256": [%q], "clientId": %q, "clientSecretEnv": "SECRET_B"}]}`,
		hosted.HashToken(tokenA), tenantAClientID, hosted.HashToken(tokenB), tenantBClientID)
}

// grantGamebooks gives tenant A's credential the gamebook scopes.
func (h *harness) grantGamebooks() {
	h.emu.AddCredential(emulator.Credential{ClientID: tenantAClientID, ClientSecret: tenantASecret, Name: "tenant-a-bot", Scopes: gamebookScopes,
		Roles: map[string]client.WorkspaceRole{emulator.WorkspaceOwnerID: client.RoleOwner, emulator.WorkspaceResponderID: client.RoleIncidentResponder}})
}

// yes accepts every confirmation, and counts them.
type yes struct{ asked int }

func (y *yes) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	y.asked++
	res := &mcp.ElicitationResult{}
	res.Action, res.Content = mcp.ElicitationResponseActionAccept, map[string]any{"confirm": true}
	return res, nil
}

// connectHuman is harness.connect for a client that answers confirmations.
// With human nil, the client declares no elicitation.
func (h *harness) connectHuman(ctx context.Context, t *testing.T, kind, token, version string, human mcpclient.ElicitationHandler) *mcpclient.Client {
	t.Helper()
	hdr := map[string]string{"Authorization": "Bearer " + token}
	var opts []mcpclient.ClientOption
	if human != nil {
		opts = append(opts, mcpclient.WithElicitationHandler(human))
	}
	if version != "" {
		opts = append(opts, mcpclient.WithProtocolVersion(version))
	}
	var tr transport.Interface
	var err error
	if kind == "sse" {
		tr, err = transport.NewSSE(h.url+"/sse", transport.WithHeaders(hdr))
	} else {
		tr, err = transport.NewStreamableHTTP(h.url+"/mcp", transport.WithHTTPHeaders(hdr))
	}
	if err != nil {
		t.Fatal(err)
	}
	c := mcpclient.NewClient(tr, opts...)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = version
	req.Params.ClientInfo = mcp.Implementation{Name: "e2e-responder", Version: "1"}
	if human != nil {
		req.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	}
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatal(err)
	}
	return c
}

// structured decodes a result's structured content.
func structured[T any](t *testing.T, res *mcp.CallToolResult) T {
	t.Helper()
	var v T
	raw, _ := json.Marshal(res.StructuredContent)
	if res.IsError || json.Unmarshal(raw, &v) != nil {
		t.Fatalf("result isError=%v: %s", res.IsError, text(res))
	}
	return v
}

// openIn returns the n-th open incident of a workspace and source.
func (h *harness) openIn(ws string, src client.Source, n int) client.IncidentRef {
	h.t.Helper()
	r, ok := h.openNth(ws, src, n)
	if !ok {
		h.t.Fatalf("no open %s incident %d in %s", src, n, ws)
	}
	return r
}

func (h *harness) openNth(ws string, src client.Source, n int) (client.IncidentRef, bool) {
	for _, r := range h.emu.Refs() {
		st, _ := h.emu.Incident(r)
		if r.WorkspaceID == ws && r.Source == src && st.Status != client.StatusClosed && !strings.ContainsAny(r.IncidentID, "/ %") {
			if n == 0 {
				return r, true
			}
			n--
		}
	}
	return client.IncidentRef{}, false
}

// TestAgentToolsOverTransports drives every new tool over SSE and
// streamable HTTP, in both protocol eras, as tenant A, and checks the
// emulator's state after every write.
func TestAgentToolsOverTransports(t *testing.T) {
	h := startServe(t, responseTenants)
	h.grantGamebooks()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var pool []client.IncidentRef // open incidents for the batches
	for _, src := range []client.Source{client.SourceQRadar, client.SourceSplunk, client.SourceCrowdStrike, client.SourceSentinelOne} {
		for n := 0; ; n++ {
			r, ok := h.openNth(emulator.WorkspaceOwnerID, src, n)
			if !ok {
				break
			}
			pool = append(pool, r)
		}
	}
	for i, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			human := &yes{}
			var c *mcpclient.Client
			if tr.kind == "sse" && tr.version == legacy {
				// mcp-go's SSE session cannot send a request to the client:
				// such a client cannot answer a confirmation over it.
				c = h.connectHuman(ctx, t, tr.kind, tokenA, tr.version, nil)
			} else {
				c = h.connectHuman(ctx, t, tr.kind, tokenA, tr.version, human)
			}
			list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range list.Tools {
				names = append(names, tool.Name)
			}
			for _, want := range []string{"whoami", "list_users", "find_related_incidents", "bulk_update", "list_gamebooks", "run_gamebook"} {
				if !slices.Contains(names, want) {
					t.Errorf("tools/list lacks %s: %v", want, names)
				}
			}

			who := structured[tools.WhoamiOutput](t, call(ctx, t, c, "whoami", map[string]any{}))
			if who.Name != "tenant-a-bot" || len(who.Workspaces) != 2 {
				t.Errorf("whoami %+v", who)
			}
			users := structured[tools.ListUsersOutput](t, call(ctx, t, c, "list_users", map[string]any{"workspaceId": emulator.WorkspaceOwnerID}))
			if len(users.Users) == 0 {
				t.Error("list_users listed nobody")
			}
			ref := h.openIn(emulator.WorkspaceOwnerID, client.SourceDefenderXDR, i)
			rel := structured[tools.FindRelatedOutput](t, call(ctx, t, c, "find_related_incidents", refArgs(ref)))
			if len(rel.Entities) == 0 {
				t.Errorf("find_related_incidents looked for nothing: %+v", rel)
			}

			// bulk_update: two incidents reopened with a comment.
			batch := pool[2*i : 2*i+2]
			note := "bulk over " + tr.name
			res := structured[tools.BulkUpdateOutput](t, call(ctx, t, c, "bulk_update", map[string]any{
				"incidents": []any{refArgs(batch[0]), refArgs(batch[1])}, "status": "Active", "comment": note}))
			if res.Accepted != 2 {
				t.Errorf("bulk_update %+v", res)
			}
			for _, r := range batch {
				st, _ := h.emu.Incident(r)
				cms := h.emu.Comments(r)
				if st.Status != client.StatusActive || !strings.HasSuffix(cms[len(cms)-1].Message, note) {
					t.Errorf("%s after bulk_update: %s, last comment %q", r.IncidentID, st.Status, cms[len(cms)-1].Message)
				}
			}

			// run_gamebook: the proposal, its dry run, then the run, confirmed by the user.
			ref, args, _ := gamebookCall(ctx, t, h, c, i) // the same open incident as above
			args["dryRun"] = true
			dry := structured[tools.RunGamebookOutput](t, call(ctx, t, c, "run_gamebook", args))
			if len(dry.Plan) == 0 || len(h.emu.GamebookRuns(ref)) != 0 {
				t.Fatalf("dry run %+v", dry)
			}
			args["dryRun"] = false
			asked := human.asked
			run := call(ctx, t, c, "run_gamebook", args)
			runs := h.emu.GamebookRuns(ref)
			t.Logf("run over %s: isError=%v asked=%d runs=%d: %.200s", tr.name, run.IsError, human.asked, len(runs), text(run))
			switch {
			case !run.IsError:
				out := structured[tools.RunGamebookOutput](t, run)
				if human.asked != asked+1 || len(runs) != 1 || runs[0].ID != out.RunID || len(runs[0].Playbooks) != len(dry.Plan) {
					t.Errorf("a run without exactly one confirmation and one submission: asked %d, runs %d", human.asked-asked, len(runs))
				}
			case len(runs) != 0:
				t.Errorf("the run failed but was submitted: %s", text(run))
			default:
				// Where the transport cannot carry the question, nothing runs and the agent is told.
				if !strings.Contains(text(run), "Not run") {
					t.Errorf("run_gamebook failed without saying nothing ran: %s", text(run))
				}
			}
		})
	}

	// The audit log holds every write: each batch with what came of each
	// incident, each gamebook run with the proposal, its actions and the
	// run; a dry run and the question to the user as what they were.
	_, recs := h.auditRecords(t)
	var batches, runs, dryRuns int
	for _, r := range recs {
		switch {
		case r.Event == hosted.EventToolCallStarted:
			if r.Outcome != "" {
				t.Errorf("a started record with an outcome: %+v", r)
			}
		case r.Tool == "whoami" || r.Tool == "list_users" || r.Tool == "find_related_incidents" || r.Tool == "list_gamebooks":
			t.Errorf("a read was audited: %+v", r)
		case r.Outcome == string(tools.OutcomeConfirmationRequested):
			if r.Tool != "bulk_update" && r.Tool != "run_gamebook" {
				t.Errorf("%s asked the user", r.Tool)
			}
		case r.Tool == "bulk_update":
			batches++
			if r.Tenant != "tenant-a" || r.Outcome != "ok" || len(r.Incidents) != 2 || r.Incidents[0].Result != "accepted" ||
				r.Change == nil || r.Change.Status != "Active" || r.Change.Comment == "" {
				t.Errorf("bulk_update audit record %+v", r)
			}
		case r.Tool == "run_gamebook" && r.DryRun:
			dryRuns++
			if r.Outcome != string(tools.OutcomeDryRun) {
				t.Errorf("a dry run audited as %q", r.Outcome)
			}
		case r.Tool == "run_gamebook" && r.Outcome == "ok":
			runs++
			if r.Change == nil || r.Change.GamebookID == "" || r.Change.GamebookRunID == "" || r.Incident == nil || r.APIRequestID == "" {
				t.Errorf("run_gamebook audit record %+v", r)
			}
		}
	}
	if batches != len(transports) || runs != len(transports)-1 || dryRuns != len(transports) {
		t.Errorf("audited %d batches, %d runs, %d dry runs", batches, runs, dryRuns)
	}
}

// TestAgentToolsOverStdio drives the new tools through the real binary over
// stdio (response actions on), against an emulator whose state the test
// checks after every write, and reads the audit log the binary wrote.
func TestAgentToolsOverStdio(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	emu := emulator.New(emulator.Options{})
	api := httptest.NewServer(emu)
	t.Cleanup(api.Close)
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr := transport.NewStdioWithOptions(bin,
		[]string{"CONTRAFORCE_CLIENT_ID=" + emulator.DemoClientID, "CONTRAFORCE_CLIENT_SECRET=" + emulator.DemoClientSecret},
		[]string{"stdio", "--base-url", api.URL + "/api/v2", "--scopes", joinScopes(gamebookScopes), "--response-actions",
			"--audit-log", audit, "--log-level", "warn"})
	human := &yes{}
	c := mcpclient.NewClient(tr, mcpclient.WithElicitationHandler(human))
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "claude-code", Version: "1"}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}

	who := structured[tools.WhoamiOutput](t, call(ctx, t, c, "whoami", map[string]any{}))
	if who.Name != emulator.DemoName || len(who.Workspaces) != 3 {
		t.Errorf("whoami %+v", who)
	}
	if users := structured[tools.ListUsersOutput](t, call(ctx, t, c, "list_users", map[string]any{"query": "jane"})); len(users.Users) != 1 {
		t.Errorf("list_users jane: %+v", users)
	}
	var open []client.IncidentRef
	for _, r := range emu.Refs() {
		st, _ := emu.Incident(r)
		if r.WorkspaceID == emulator.WorkspaceOwnerID && r.Source == client.SourceDefenderXDR && st.Status != client.StatusClosed {
			open = append(open, r)
		}
	}
	ref := open[0]
	if rel := structured[tools.FindRelatedOutput](t, call(ctx, t, c, "find_related_incidents", refArgs(ref))); len(rel.Entities) == 0 {
		t.Errorf("find_related_incidents %+v", rel)
	}

	res := structured[tools.BulkUpdateOutput](t, call(ctx, t, c, "bulk_update", map[string]any{
		"incidents": []any{refArgs(open[1]), refArgs(open[2])}, "status": "Closed", "classification": "BenignPositive",
		"classificationReason": "SuspiciousButExpected", "comment": "Expected admin activity, confirmed with the change ticket."}))
	if res.Accepted != 2 || human.asked != 1 {
		t.Errorf("bulk_update %+v, asked %d", res, human.asked)
	}
	for _, r := range open[1:3] {
		if st, _ := emu.Incident(r); st.Status != client.StatusClosed || st.Classification == nil || *st.Classification != client.ClassificationBenignPositive {
			t.Errorf("%s after bulk_update: %s %v", r.IncidentID, st.Status, st.Classification)
		}
	}

	gbs := structured[tools.ListGamebooksOutput](t, call(ctx, t, c, "list_gamebooks", refArgs(ref)))
	args := refArgs(ref)
	args["gamebookId"] = gbs.Gamebooks[0].GamebookID
	out := structured[tools.RunGamebookOutput](t, call(ctx, t, c, "run_gamebook", args))
	runs := emu.GamebookRuns(ref)
	if human.asked != 2 || len(runs) != 1 || runs[0].ID != out.RunID {
		t.Errorf("run_gamebook %+v: asked %d, runs %d", out, human.asked, len(runs))
	}
	cms := emu.Comments(ref)
	if last := cms[len(cms)-1].Message; !strings.HasPrefix(last, "[AI agent: Claude Code via contraforce-mcp]") || !strings.Contains(last, out.RunID) {
		t.Errorf("the run's comment: %q", last)
	}
	_ = c.Close()

	raw, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	var written []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var r hosted.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if r.Outcome == "ok" {
			written = append(written, r.Tool)
		}
	}
	if !slices.Equal(written, []string{"bulk_update", "run_gamebook"}) {
		t.Errorf("audited writes %v, want bulk_update and run_gamebook", written)
	}
}
