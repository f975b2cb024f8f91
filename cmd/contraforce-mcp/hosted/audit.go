package hosted

import (
	"context"
	"crypto/rand"
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
	"github.com/contraforce/contraforce-mcp/schema"
	"github.com/contraforce/contraforce-mcp/tools"
)

// Auditor writes two JSON lines per write tool call: a "tool_call_started"
// record before the handler runs (so that a call cut short, by a crash or a
// shutdown whose grace ran out, still leaves its trace), and a "tool_call"
// record when it ends, with the same callId. Each says who (tenant, MCP
// client, session), what (tool, incident, the change and the reason given);
// the second says how it went (the typed outcome, API request id,
// duration). It is an mcp-go tool handler middleware, so stdio and the
// hosted server audit alike.
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

// Audit record events.
const (
	EventToolCallStarted = "tool_call_started"
	EventToolCall        = "tool_call"
)

// AuditRecord is one line of the audit log.
type AuditRecord struct {
	Time  string `json:"time"`
	Event string `json:"event"` // EventToolCallStarted or EventToolCall
	// CallID pairs a call's two records. A started record without its
	// tool_call record is a call whose outcome is unknown (the process
	// ended first): check the incident.
	CallID    string         `json:"callId"`
	Tenant    string         `json:"tenant,omitempty"`
	SessionID string         `json:"sessionId,omitempty"`
	Client    *AuditClient   `json:"client,omitempty"`
	Tool      string         `json:"tool"`
	Incident  *AuditIncident `json:"incident,omitempty"`
	// Incidents are a batch's (bulk_update); in the tool_call record each
	// says what came of it (accepted, forbidden with the reason, unknown).
	Incidents []AuditIncident `json:"incidents,omitempty"`
	Change    *AuditChange    `json:"change,omitempty"`
	DryRun    bool            `json:"dryRun"`
	// Outcome (tool_call records only) is what the call did upstream, from
	// its typed result, never from an error's text: "ok" (done), "error"
	// (failed, nothing changed; with ErrorCode and Error), "unknown" (sent,
	// may or may not have been applied), "dry_run", "confirmation_requested"
	// (the human was asked; nothing changed yet) or "refused" (declined by
	// the human or refused by policy; nothing changed).
	Outcome      string  `json:"outcome,omitempty"`
	ErrorCode    string  `json:"errorCode,omitempty"`
	Error        string  `json:"error,omitempty"`
	APIRequestID string  `json:"apiRequestId,omitempty"`
	APIStatus    int     `json:"apiStatus,omitempty"`
	DurationMS   float64 `json:"durationMs,omitempty"`

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

// AuditChange is what the call asked to change. The comment is kept (an
// auditor wants to know why an incident was closed; it is not a secret) as
// it was posted: cleaned as the server cleans it before sending (bidi
// controls shown as markers, invisible characters removed), up to
// maxAuditComment bytes, with the cleaned text's full length and SHA-256 so
// that a truncated comment can still be compared with the stored one (which
// carries the agent attribution in front of this text). Every other string
// the caller chose is cleaned alike.
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
			start := a.now()
			base := a.base(ctx, req, start)
			started := base
			started.Event = EventToolCallStarted
			a.write(started) // written before the call can reach the API
			rec := &recorder{}
			ctx, report := tools.WithCallReport(withRecorder(ctx, rec))
			res, err := next(ctx, req)
			a.write(a.finish(base, res, err, report, rec, a.now().Sub(start)))
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

// base is what both of a call's records say: when, who and what.
func (a *Auditor) base(ctx context.Context, req mcp.CallToolRequest, t time.Time) AuditRecord {
	r := AuditRecord{Time: t.UTC().Format(time.RFC3339Nano), Tool: auditText(req.Params.Name, 100), CallID: newCallID()}
	if s, e := SessionFrom(ctx); e == nil {
		r.Tenant, r.OnBehalfOf = s.Tenant, auditUser(s.OnBehalfOf)
	}
	r.SessionID, r.Client = callerOf(ctx, req)
	args := req.GetArguments()
	r.Incident, r.Change, r.DryRun = describeArgs(args)
	r.Incidents = batchOf(args)
	return r
}

// finish builds the tool_call record of a finished call. The outcome is the
// one the tool's adapter reported from the handler's typed result; a
// handler that reports none (not one of this server's tools) is "error"
// when it failed and "ok" otherwise.
func (a *Auditor) finish(r AuditRecord, res *mcp.CallToolResult, err error, report *tools.CallReport, rec *recorder, d time.Duration) AuditRecord {
	r.Time, r.Event = a.now().UTC().Format(time.RFC3339Nano), EventToolCall
	r.DurationMS = float64(d.Microseconds()) / 1000
	if last, wrote := rec.last(); wrote {
		r.APIStatus = last.status
	}
	outcome, cause, reported := report.Outcome()
	switch {
	case err != nil:
		outcome, cause = tools.OutcomeError, err
	case res == nil:
		outcome = tools.OutcomeError
	case !reported && res.IsError:
		outcome = tools.OutcomeError
	case !reported:
		outcome = tools.OutcomeOK
	}
	r.Outcome = string(outcome)
	batch := r.Incidents != nil && (outcome == tools.OutcomeOK || outcome == tools.OutcomeDryRun)
	var sc []byte // the structured result as JSON, marshaled once
	if outcome == tools.OutcomeOK || batch {
		sc = structuredJSON(res)
	}
	if outcome == tools.OutcomeOK {
		var v map[string]any
		_ = json.Unmarshal(sc, &v)
		id, _ := v["requestId"].(string)
		r.APIRequestID = auditText(id, 100)
		if id, _ := v["runId"].(string); id != "" && r.Change != nil {
			change := *r.Change // base's copy is shared with the started record
			change.GamebookRunID = auditText(id, 200)
			r.Change = &change
		}
	}
	// A batch's rows as the tool settled them (or planned them, dry run).
	if batch && res != nil && !res.IsError {
		if rows := resultBatch(sc); rows != nil {
			r.Incidents = rows
		}
	}
	if res != nil && res.IsError || err != nil {
		// The text the caller was shown (already scrubbed and cleaned).
		text := ""
		if err != nil {
			text = err.Error()
		} else {
			text = resultText(res)
		}
		r.Error = auditText(text, 500)
	}
	// The API's words come from the client's typed error, which it has
	// scrubbed of the credential, never from the raw answer.
	if apiErr, ok := client.AsAPIError(cause); ok && (outcome == tools.OutcomeError || outcome == tools.OutcomeUnknown) {
		r.ErrorCode, r.APIRequestID = auditText(apiErr.Code, 64), auditText(apiErr.RequestID, 100)
	}
	return r
}

// newCallID returns a random id that pairs a call's records.
func newCallID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// auditText cleans caller- or server-chosen text for the audit log as
// incident text is cleaned (tools.CleanName keeps names to one line; this
// keeps line breaks out too) and cuts it to n runes.
func auditText(s string, n int) string {
	return tools.CleanName(s, n)
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
	return id, &AuditClient{Name: tools.CleanName(info.Name, 100), Version: tools.CleanName(info.Version, 50)}
}

// describeArgs picks the incident and the change out of the arguments.
func describeArgs(args map[string]any) (*AuditIncident, *AuditChange, bool) {
	str := func(k string, n int) string { s, _ := args[k].(string); return auditText(s, n) }
	var inc *AuditIncident
	if w, s, i := str("workspaceId", 200), str("source", 50), str("incidentId", 200); w+s+i != "" {
		inc = &AuditIncident{WorkspaceID: w, Source: s, IncidentID: i}
	}
	c := AuditChange{
		Status: str("status", 50), Classification: str("classification", 50),
		ClassificationReason: str("classificationReason", 100),
		AssigneeUserID:       str("userId", 200), AssigneeEmail: str("email", 320),
		TicketID: str("ticketId", 200),
	}
	c.UpdateTicket, _ = args["updateTicket"].(bool)
	c.RemoveAssignee, _ = args["removeAssignee"].(bool)
	c.GamebookID = str("gamebookId", 200)
	if ids, ok := args["playbookIds"].([]any); ok {
		var parts []string
		for _, id := range ids {
			if s, ok := id.(string); ok {
				parts = append(parts, s)
			}
		}
		c.Playbooks = auditText(strings.Join(parts, ","), 2000)
	}
	comment, _ := args["comment"].(string)
	if comment == "" {
		comment, _ = args["content"].(string)
	}
	// As posted: the tools clean a comment so before attributing it.
	if comment = strings.TrimSpace(schema.SafeText(comment)); comment != "" {
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

// structuredJSON is a tool's structured result as JSON, or nil when it has
// none (or it does not marshal).
func structuredJSON(res *mcp.CallToolResult) []byte {
	if res == nil || res.StructuredContent == nil {
		return nil
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return nil
	}
	return raw
}

// maxAuditBatch bounds the incidents one record lists.
const maxAuditBatch = 100

// batchOf lists a batch's incidents from the arguments ("incidents").
func batchOf(args map[string]any) []AuditIncident {
	list, _ := args["incidents"].([]any)
	if len(list) == 0 {
		return nil
	}
	rows := make([]AuditIncident, 0, min(len(list), maxAuditBatch))
	for _, item := range list[:min(len(list), maxAuditBatch)] {
		m, _ := item.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		rows = append(rows, AuditIncident{WorkspaceID: str("workspaceId"), Source: str("source"),
			IncidentID: str("incidentId"), Result: str("result"), Reason: str("reason")})
	}
	return cleanBatch(rows)
}

// resultBatch lists a batch's incidents from the structured result (sc, as
// JSON), which says what came of each; nil when it lists none.
func resultBatch(sc []byte) []AuditIncident {
	var v struct {
		Incidents []AuditIncident `json:"incidents"`
	}
	if sc == nil || json.Unmarshal(sc, &v) != nil || len(v.Incidents) == 0 {
		return nil
	}
	return cleanBatch(v.Incidents[:min(len(v.Incidents), maxAuditBatch)])
}

// cleanBatch cleans a batch's rows for the record, in place.
func cleanBatch(rows []AuditIncident) []AuditIncident {
	for i, inc := range rows {
		rows[i] = AuditIncident{WorkspaceID: auditText(inc.WorkspaceID, 200), Source: auditText(inc.Source, 50),
			IncidentID: auditText(inc.IncidentID, 200), Result: auditText(inc.Result, 20), Reason: auditText(inc.Reason, 300)}
	}
	return rows
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
