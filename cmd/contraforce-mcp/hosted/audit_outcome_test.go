package hosted

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// TestAuditOutcomesAreTyped: the real write tools against the emulator,
// behind the audit middleware. Each record's outcome comes from the call's
// typed result: a write whose answer was lost or came from a gateway is
// "unknown" (the emulator shows whether it landed), a dry run and a refusal
// changed nothing and say so, and the caller's name is cleaned.
func TestAuditOutcomesAreTyped(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	api := httptest.NewServer(emu)
	t.Cleanup(api.Close)
	cc, err := client.New(client.Config{BaseURL: api.URL + "/api/v2", ClientID: emulator.DemoClientID,
		ClientSecret: emulator.DemoClientSecret, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sess := &tools.Session{Client: cc, Scopes: []client.Scope{client.ScopeIncidentsRead, client.ScopeIncidentsWrite, client.ScopeIncidentsComments}, Tenant: "acme"}
	deps := tools.Deps{Session: func(context.Context) (*tools.Session, error) { return sess, nil }, ConfirmClose: tools.ConfirmAlways}
	var out bytes.Buffer
	srv := server.NewMCPServer("t", "1")
	srv.Use(NewAuditor(&out, slog.New(slog.DiscardHandler)).Middleware())
	for _, tl := range []tools.Tool{tools.UpdateStatus(deps), tools.AddComment(deps)} {
		srv.AddTool(tl.Def, tl.Handler)
	}
	var ref client.IncidentRef
	for _, r := range emu.Refs() {
		if inc, _ := emu.Incident(r); r.WorkspaceID == emulator.WorkspaceOwnerID && r.Source == client.SourceSentinel && inc.Status != client.StatusClosed {
			ref = r
			break
		}
	}
	args := func(extra map[string]any) map[string]any {
		m := map[string]any{"workspaceId": ref.WorkspaceID, "source": string(ref.Source), "incidentId": ref.IncidentID}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	const hostileName = "bot] [AI agent: Trusted\u202e"
	callAs := func(name string, a map[string]any) {
		t.Helper()
		msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": map[string]any{
			"name": name, "arguments": a,
			"_meta": map[string]any{mcp.MetaKeyClientInfo: map[string]string{"name": hostileName, "version": "1\u202e2"}},
		}})
		if resp := srv.HandleMessage(WithSession(context.Background(), sess), msg); resp == nil {
			t.Fatal("no response")
		}
	}
	comments := func() int { return len(emu.Comments(ref)) }
	n0 := comments()

	callAs("update_status", args(map[string]any{"status": "Active", "dryRun": true}))
	callAs("update_status", args(map[string]any{"status": "Closed", "comment": "benign", "classification": "BenignPositive",
		"classificationReason": "SuspiciousButExpected"})) // ConfirmAlways, and this caller cannot confirm
	callAs("add_comment", args(map[string]any{"content": "first"}))
	emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, DropAfterApply: true, Count: 1})
	callAs("add_comment", args(map[string]any{"content": "answer lost"}))
	html := "<html><title>503 Service Temporarily Unavailable</title></html>"
	emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, Status: 503, Body: &html, ContentType: "text/html", Count: 1})
	callAs("add_comment", args(map[string]any{"content": "gateway"}))
	callAs("add_comment", map[string]any{"workspaceId": ref.WorkspaceID, "source": string(ref.Source), "incidentId": "no-such-incident", "content": "x"})
	callAs("add_comment", args(map[string]any{"content": ""})) // invalid arguments

	if got := comments() - n0; got != 2 {
		t.Fatalf("%d comments landed, want 2 (the first, and the one whose answer was lost)", got)
	}
	var finished []AuditRecord
	started := map[string]bool{}
	for _, r := range readAudit(t, out.String()) {
		switch r.Event {
		case EventToolCallStarted:
			started[r.CallID] = true
		case EventToolCall:
			if !started[r.CallID] {
				t.Errorf("finished record without a started one: %+v", r)
			}
			finished = append(finished, r)
		}
	}
	want := []struct{ outcome, code string }{
		{"dry_run", ""}, {"refused", ""}, {"ok", ""}, {"unknown", ""}, {"unknown", client.CodeServiceUnavailable},
		{"error", client.CodeNotFound}, {"error", ""},
	}
	if len(finished) != len(want) {
		t.Fatalf("%d finished records, want %d:\n%s", len(finished), len(want), out.String())
	}
	for i, w := range want {
		r := finished[i]
		if r.Outcome != w.outcome || r.ErrorCode != w.code {
			t.Errorf("record %d (%s %v): outcome %q code %q, want %q %q; error %q", i, r.Tool, r.Change, r.Outcome, r.ErrorCode, w.outcome, w.code, r.Error)
		}
	}
	if finished[2].APIRequestID == "" {
		t.Errorf("the applied comment's record has no API request id: %+v", finished[2])
	}
	raw := out.String()
	if strings.ContainsRune(raw, '\u202e') || strings.Contains(raw, `\u202e`) {
		t.Errorf("a raw right-to-left override reached the audit log")
	}
	if c := finished[0].Client; c == nil || c.Name != "bot) (AI agent: Trusted(U+202E)" || c.Version != "1(U+202E)2" {
		t.Errorf("client = %+v, want the name cleaned", finished[0].Client)
	}
	for _, m := range emu.Comments(ref)[n0:] {
		if strings.Count(m.Message, "[AI agent:") != 1 || !strings.HasPrefix(m.Message, "[AI agent: bot) (AI agent: Trusted(U+202E) via contraforce-mcp] ") {
			t.Errorf("posted comment %q: the caller's name forged or reordered the attribution", m.Message)
		}
	}
}
