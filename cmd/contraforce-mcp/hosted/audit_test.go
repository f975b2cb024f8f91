package hosted

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/tools"
)

// auditServer is an MCP server with one read tool and write tools whose
// results the test chooses, behind the audit middleware.
func auditServer(t *testing.T, out *bytes.Buffer) *server.MCPServer {
	t.Helper()
	srv := server.NewMCPServer("t", "1")
	srv.Use(NewAuditor(out, slog.New(slog.DiscardHandler)).Middleware())
	ok := func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.NewTextContent("done")},
			StructuredContent: map[string]any{"requestId": "api-req-1"}}, nil
	}
	fail := func(msg string) server.ToolHandlerFunc {
		return func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultError(msg), nil
		}
	}
	ro := mcp.WithReadOnlyHintAnnotation(true)
	srv.AddTool(mcp.NewTool("read", ro), ok)
	srv.AddTool(mcp.NewTool("write", mcp.WithReadOnlyHintAnnotation(false), mcp.WithDestructiveHintAnnotation(true)), ok)
	srv.AddTool(mcp.NewTool("unannotated"), ok)
	srv.AddTool(mcp.NewTool("refused", mcp.WithReadOnlyHintAnnotation(false)),
		fail("update_status failed: update status: HTTP 403 INSUFFICIENT_SCOPE: needs incidents:write (request id r-2)."))
	srv.AddTool(mcp.NewTool("lost", mcp.WithReadOnlyHintAnnotation(false)),
		fail("add_comment: the request reached ContraForce but no answer came back ("+client.ErrOutcomeUnknown.Error()+")"))
	return srv
}

// callTool sends a tools/call through HandleMessage as tenant "acme".
func callTool(t *testing.T, srv *server.MCPServer, name string, args map[string]any) {
	t.Helper()
	msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": map[string]any{
		"name": name, "arguments": args,
		"_meta": map[string]any{mcp.MetaKeyClientInfo: map[string]string{"name": "agent-x", "version": "9"}},
	}})
	ctx := WithSession(context.Background(), &tools.Session{Tenant: "acme"})
	if resp := srv.HandleMessage(ctx, msg); resp == nil {
		t.Fatal("no response")
	}
}

func TestAuditRecords(t *testing.T) {
	var out bytes.Buffer
	srv := auditServer(t, &out)
	long := strings.Repeat("é", maxAuditComment) // 2 bytes a rune: cut on a rune boundary
	incident := map[string]any{"workspaceId": "ws-1", "source": "Sentinel", "incidentId": "inc-1"}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range incident {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	callTool(t, srv, "read", incident)
	callTool(t, srv, "write", with(map[string]any{"status": "Closed", "comment": "False alarm: CHG-7", "classification": "FalsePositive",
		"classificationReason": "IncorrectAlertLogic", "dryRun": true, "clientSecret": "cf_sa_must_not_appear"}))
	callTool(t, srv, "unannotated", with(map[string]any{"content": long, "userId": "u-1"}))
	callTool(t, srv, "refused", with(nil))
	callTool(t, srv, "lost", with(map[string]any{"content": "hi"}))

	recs := readAudit(t, out.String())
	if len(recs) != 8 {
		t.Fatalf("%d records, want 8 (a started and a finished record per write, none for the read):\n%s", len(recs), out.String())
	}
	if strings.Contains(out.String(), "cf_sa_must_not_appear") {
		t.Error("an argument outside the audited fields reached the log")
	}
	for i := 0; i < len(recs); i += 2 {
		s, f := recs[i], recs[i+1]
		if s.Event != EventToolCallStarted || f.Event != EventToolCall || s.CallID == "" || s.CallID != f.CallID || s.Outcome != "" ||
			s.Tool != f.Tool || s.Tenant != f.Tenant || s.Incident == nil || *s.Incident != *f.Incident {
			t.Errorf("records %d and %d are not a call's started and finished pair:\n%+v\n%+v", i, i+1, s, f)
		}
	}
	if recs[0].CallID == recs[2].CallID {
		t.Error("two calls share a callId")
	}
	w, un, refused, lost := recs[1], recs[3], recs[5], recs[7]
	if w.Tool != "write" || w.Tenant != "acme" || w.Client == nil || w.Client.Name != "agent-x" || w.Outcome != "ok" ||
		w.APIRequestID != "api-req-1" || !w.DryRun || w.Incident.IncidentID != "inc-1" ||
		w.Change.Status != "Closed" || w.Change.Comment != "False alarm: CHG-7" || w.Change.ClassificationReason != "IncorrectAlertLogic" {
		t.Errorf("write record: %+v %+v", w, w.Change)
	}
	sum := sha256.Sum256([]byte(long))
	if un.Change.CommentLength != len(long) || un.Change.CommentSHA256 != hex.EncodeToString(sum[:]) || !un.Change.CommentTruncated ||
		len(un.Change.Comment) > maxAuditComment || !strings.HasPrefix(long, un.Change.Comment) || un.Change.AssigneeUserID != "u-1" {
		t.Errorf("unannotated (a write) record: length %d, truncated %v, kept %d bytes", un.Change.CommentLength, un.Change.CommentTruncated, len(un.Change.Comment))
	}
	if refused.Outcome != "error" || !strings.Contains(refused.Error, "needs incidents:write") {
		t.Errorf("refused record: %+v", refused)
	}
	// A handler that reports no typed outcome is judged by isError alone:
	// the words "outcome unknown" in its text do not make it unknown.
	if lost.Outcome != "error" {
		t.Errorf("lost record (untyped): %+v", lost)
	}
}

// readAudit parses audit lines.
func readAudit(t *testing.T, out string) []AuditRecord {
	t.Helper()
	var recs []AuditRecord
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var r AuditRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		recs = append(recs, r)
	}
	return recs
}
