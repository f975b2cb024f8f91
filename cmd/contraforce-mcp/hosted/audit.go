package hosted

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
)

// Auditor writes one JSON line per write tool call: who (tenant, MCP
// client, session), what (tool, incident, the change and the reason given),
// and how it went (outcome, API request id, duration). It is an mcp-go tool
// handler middleware, so stdio and the hosted server audit alike.
//
// A tool is a write when its ReadOnlyHint annotation is not true. Arguments
// are not copied wholesale: only the fields an auditor needs, and never a
// credential (tool arguments carry none; the record has no field for one).
type Auditor struct {
	mu  sync.Mutex
	w   io.Writer
	log *slog.Logger
	now func() time.Time
}

// NewAuditor writes records to w (a file, or stderr: one line per record,
// written whole, so it interleaves cleanly with log lines).
func NewAuditor(w io.Writer, log *slog.Logger) *Auditor {
	return &Auditor{w: w, log: log, now: time.Now}
}

// OpenAuditLog opens the audit destination: "" or "-" or "stderr" is
// stderr, anything else a file opened for appending (created 0600).
func OpenAuditLog(path string, stderr io.Writer) (io.Writer, func() error, error) {
	switch path {
	case "", "-", "stderr":
		return stderr, func() error { return nil }, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

// AuditRecord is one line of the audit log.
type AuditRecord struct {
	Time      string         `json:"time"`
	Event     string         `json:"event"` // "tool_call"
	Tenant    string         `json:"tenant,omitempty"`
	SessionID string         `json:"sessionId,omitempty"`
	Client    *AuditClient   `json:"client,omitempty"`
	Tool      string         `json:"tool"`
	Incident  *AuditIncident `json:"incident,omitempty"`
	// Incidents are a batch's (bulk_update), each with what came of it.
	Incidents []AuditIncident `json:"incidents,omitempty"`
	Change    *AuditChange    `json:"change,omitempty"`
	DryRun    bool            `json:"dryRun"`
	// Outcome is "ok", "error" (with ErrorCode and Error), "unknown" (the
	// write was sent and no answer came back: it may have been applied) or
	// "input_required" (the human was asked to confirm; nothing changed yet,
	// and the call that carries the answer has its own record).
	Outcome      string  `json:"outcome"`
	ErrorCode    string  `json:"errorCode,omitempty"`
	Error        string  `json:"error,omitempty"`
	APIRequestID string  `json:"apiRequestId,omitempty"`
	APIStatus    int     `json:"apiStatus,omitempty"`
	DurationMS   float64 `json:"durationMs"`

	// OnBehalfOf is the user an OAuth access token named.
	OnBehalfOf *AuditUser `json:"onBehalfOf,omitempty"`
}

// AuditClient is the MCP client that made the call.
type AuditClient struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// AuditIncident identifies the incident a call touched.
type AuditIncident struct {
	WorkspaceID string `json:"workspaceId,omitempty"`
	Source      string `json:"source,omitempty"`
	IncidentID  string `json:"incidentId,omitempty"`
	// Result and Reason are a batch item's: accepted, forbidden (why), unknown.
	Result string `json:"result,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// AuditChange is what the call asked to change. The comment is kept as the
// agent wrote it (an auditor wants to know why an incident was closed; it is
// not a secret), up to maxAuditComment bytes, with its full length and
// SHA-256 so that a truncated comment can still be compared. (The comment
// the API stores carries the agent attribution in front of this text.)
type AuditChange struct {
	Status               string `json:"status,omitempty"`
	Classification       string `json:"classification,omitempty"`
	ClassificationReason string `json:"classificationReason,omitempty"`
	AssigneeUserID       string `json:"assigneeUserId,omitempty"`
	AssigneeEmail        string `json:"assigneeEmail,omitempty"`
	RemoveAssignee       bool   `json:"removeAssignee,omitempty"`
	// GamebookID and Playbooks name a response action (run_gamebook): the
	// proposed gamebook and its actions chosen (comma-separated ids);
	// GamebookRunID the run the API created.
	GamebookID       string `json:"gamebookId,omitempty"`
	Playbooks        string `json:"playbooks,omitempty"`
	GamebookRunID    string `json:"gamebookRunId,omitempty"`
	UpdateTicket     bool   `json:"updateTicket,omitempty"`
	TicketID         string `json:"ticketId,omitempty"`
	Comment          string `json:"comment,omitempty"`
	CommentLength    int    `json:"commentLength,omitempty"`
	CommentSHA256    string `json:"commentSha256,omitempty"`
	CommentTruncated bool   `json:"commentTruncated,omitempty"`
}

// maxAuditComment bounds the comment text kept in a record.
const maxAuditComment = 4096

// Middleware audits every write tool call.
func (a *Auditor) Middleware() server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if !isWrite(ctx, req.Params.Name) {
				return next(ctx, req)
			}
			rec := &recorder{}
			start := a.now()
			res, err := next(withRecorder(ctx, rec), req)
			a.write(a.record(ctx, req, res, err, rec, a.now().Sub(start)))
			return res, err
		}
	}
}

// isWrite reports whether the named tool may change something: its
// ReadOnlyHint is not true (an unknown tool counts as a write).
func isWrite(ctx context.Context, name string) bool {
	srv := server.ServerFromContext(ctx)
	if srv == nil {
		return true
	}
	t := srv.GetTool(name)
	if t == nil {
		return true
	}
	ro := t.Tool.Annotations.ReadOnlyHint
	return ro == nil || !*ro
}

// record builds the audit record of a finished call.
func (a *Auditor) record(ctx context.Context, req mcp.CallToolRequest, res *mcp.CallToolResult, err error, rec *recorder, d time.Duration) AuditRecord {
	r := AuditRecord{
		Time: a.now().UTC().Format(time.RFC3339Nano), Event: "tool_call", Tool: req.Params.Name,
		DurationMS: float64(d.Microseconds()) / 1000,
	}
	if s, e := SessionFrom(ctx); e == nil {
		r.Tenant, r.OnBehalfOf = s.Tenant, auditUser(s.OnBehalfOf)
	}
	r.SessionID, r.Client = callerOf(ctx, req)
	args := req.GetArguments()
	r.Incident, r.Change, r.DryRun = describeArgs(args)
	r.Incidents = batchOf(args, res)
	if id := structuredString(res, "runId"); id != "" && r.Change != nil {
		r.Change.GamebookRunID = clip(id, 200)
	}

	last, wrote := rec.last()
	if wrote {
		r.APIRequestID, r.APIStatus = last.requestID, last.status
	}
	switch {
	case err != nil:
		r.Outcome, r.Error = "error", clip(err.Error(), 500)
	case res == nil:
		r.Outcome = "error"
	case res.ResultType == mcp.ResultTypeInputRequired:
		r.Outcome = "input_required"
	case !res.IsError:
		r.Outcome = "ok"
		if id := structuredRequestID(res); id != "" {
			r.APIRequestID = id
		}
	case wrote && last.noAnswer, strings.Contains(resultText(res), client.ErrOutcomeUnknown.Error()):
		r.Outcome = "unknown"
		r.Error = clip(resultText(res), 500)
	default:
		r.Outcome = "error"
		r.Error = clip(resultText(res), 500)
		if wrote && last.code != "" {
			r.ErrorCode = last.code
		} else {
			r.ErrorCode = knownCode(r.Error)
		}
	}
	return r
}

// callerOf names the MCP session and client of a call: from the session
// (initialize), or from the request's _meta (session-less protocol).
func callerOf(ctx context.Context, req mcp.CallToolRequest) (string, *AuditClient) {
	var id string
	var info mcp.Implementation
	if cs := server.ClientSessionFromContext(ctx); cs != nil {
		id = cs.SessionID()
		if ci, ok := cs.(server.SessionWithClientInfo); ok {
			info = ci.GetClientInfo()
		}
	}
	if info.Name == "" && req.Params.Meta != nil {
		if ci := req.Params.Meta.ClientInfo(); ci != nil {
			info = *ci
		}
	}
	if info.Name == "" && info.Version == "" {
		return id, nil
	}
	return id, &AuditClient{Name: clip(info.Name, 100), Version: clip(info.Version, 50)}
}

// describeArgs picks the incident and the change out of the arguments.
func describeArgs(args map[string]any) (*AuditIncident, *AuditChange, bool) {
	str := func(k string) string { s, _ := args[k].(string); return s }
	var inc *AuditIncident
	if w, s, i := str("workspaceId"), str("source"), str("incidentId"); w+s+i != "" {
		inc = &AuditIncident{WorkspaceID: clip(w, 200), Source: clip(s, 50), IncidentID: clip(i, 200)}
	}
	c := AuditChange{
		Status: clip(str("status"), 50), Classification: clip(str("classification"), 50),
		ClassificationReason: clip(str("classificationReason"), 100),
		AssigneeUserID:       clip(str("userId"), 200), AssigneeEmail: clip(str("email"), 320),
		TicketID: clip(str("ticketId"), 200),
	}
	c.UpdateTicket, _ = args["updateTicket"].(bool)
	c.RemoveAssignee, _ = args["removeAssignee"].(bool)
	c.GamebookID = clip(str("gamebookId"), 200)
	if ids, ok := args["playbookIds"].([]any); ok {
		var parts []string
		for _, id := range ids {
			if s, ok := id.(string); ok {
				parts = append(parts, s)
			}
		}
		c.Playbooks = clip(strings.Join(parts, ","), 2000)
	}
	comment := str("comment")
	if comment == "" {
		comment = str("content")
	}
	if comment != "" {
		sum := sha256.Sum256([]byte(comment))
		c.CommentLength, c.CommentSHA256 = len(comment), hex.EncodeToString(sum[:])
		c.Comment = truncateUTF8(comment, maxAuditComment)
		c.CommentTruncated = len(c.Comment) < len(comment)
	}
	dry, _ := args["dryRun"].(bool)
	if c == (AuditChange{}) {
		return inc, nil, dry
	}
	return inc, &c, dry
}

// structuredRequestID reads requestId from a tool's structured result.
func structuredRequestID(res *mcp.CallToolResult) string { return structuredString(res, "requestId") }

// structuredString reads a string member of a tool's structured result.
func structuredString(res *mcp.CallToolResult, key string) string {
	if res == nil || res.StructuredContent == nil {
		return ""
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return ""
	}
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	s, _ := v[key].(string)
	return s
}

// maxAuditBatch bounds the incidents one record lists.
const maxAuditBatch = 100

// batchOf lists a batch's incidents: from the structured result, which
// says what came of each, else from the arguments ("incidents").
func batchOf(args map[string]any, res *mcp.CallToolResult) []AuditIncident {
	list, ok := args["incidents"].([]any)
	if !ok {
		return nil
	}
	if res != nil && !res.IsError && res.StructuredContent != nil {
		if raw, err := json.Marshal(res.StructuredContent); err == nil {
			var v struct {
				Incidents []AuditIncident `json:"incidents"`
			}
			if json.Unmarshal(raw, &v) == nil && len(v.Incidents) > 0 {
				list = nil
				for _, inc := range v.Incidents {
					list = append(list, map[string]any{"workspaceId": inc.WorkspaceID, "source": inc.Source,
						"incidentId": inc.IncidentID, "result": inc.Result, "reason": inc.Reason})
				}
			}
		}
	}
	var out []AuditIncident
	for _, item := range list[:min(len(list), maxAuditBatch)] {
		m, _ := item.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		out = append(out, AuditIncident{WorkspaceID: clip(str("workspaceId"), 200), Source: clip(str("source"), 50),
			IncidentID: clip(str("incidentId"), 200), Result: clip(str("result"), 20), Reason: clip(str("reason"), 300)})
	}
	return out
}

// resultText joins a result's text contents.
func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if t, ok := mcp.AsTextContent(c); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, " ")
}

// knownCode finds an API error code named in an error text (when the call
// failed before or without an API answer the transport saw, e.g. a client
// without the metrics transport).
func knownCode(text string) string {
	for _, c := range []string{
		client.CodeValidation, client.CodeBadRequest, client.CodeNotFound, client.CodeInsufficientWorkspaceRole,
		client.CodeUnauthorized, client.CodeInsufficientScope, client.CodeForbidden, client.CodeConflict,
		client.CodeRateLimited, client.CodeServiceUnavailable, client.CodeBadGateway, client.CodeGatewayTimeout,
		client.CodeInternal, client.CodeWorkspaceNotAllowed,
	} {
		if strings.Contains(text, c) {
			return c
		}
	}
	return ""
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// write appends one record as a line.
func (a *Auditor) write(r AuditRecord) {
	line, err := json.Marshal(r)
	if err != nil {
		a.log.Error("audit record could not be encoded", "tool", r.Tool, "err", err)
		return
	}
	line = append(line, '\n')
	a.mu.Lock()
	_, err = a.w.Write(line)
	a.mu.Unlock()
	if err != nil {
		a.log.Error("audit record could not be written", "tool", r.Tool, "err", err)
	}
}
