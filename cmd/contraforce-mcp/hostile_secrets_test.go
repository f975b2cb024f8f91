package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
)

// The secrets suite drives the real serve, over both transports, against a
// gateway between it and the emulator that misbehaves as proxies do: a 2xx
// HTML page echoing the request's Authorization header (raw, base64,
// percent-encoded, as HTML references), a 503 or 502 after the API applied
// a comment. It checks what the agent is shown, the audit log and the
// server's log for every form of the tenant's secret, and the emulator's
// comments for duplicates.

// gateway forwards to the emulator unless its hook answers first.
type gateway struct {
	fwd  http.Handler
	mu   sync.Mutex
	hook func(w http.ResponseWriter, r *http.Request, forward func() *httptest.ResponseRecorder) bool
	hits atomic.Int32 // requests the hook answered
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	hook := g.hook
	g.mu.Unlock()
	forward := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		g.fwd.ServeHTTP(rec, r)
		return rec
	}
	if hook != nil && hook(w, r, forward) {
		g.hits.Add(1)
		return
	}
	g.fwd.ServeHTTP(w, r)
}

// set installs a hook (nil: forward everything).
func (g *gateway) set(hook func(w http.ResponseWriter, r *http.Request, forward func() *httptest.ResponseRecorder) bool) {
	g.mu.Lock()
	g.hook = hook
	g.mu.Unlock()
	g.hits.Store(0)
}

// startGatewayServe starts serve with the gateway in front of its emulator.
func startGatewayServe(t *testing.T, mutate func(*serveConfig)) (*harness, *gateway) {
	t.Helper()
	g := &gateway{}
	h := startServe(t, func(sc *serveConfig) {
		up, err := url.Parse(sc.BaseURL)
		if err != nil {
			t.Fatal(err)
		}
		up.Path = ""
		g.fwd = httputil.NewSingleHostReverseProxy(up)
		srv := httptest.NewServer(g)
		t.Cleanup(srv.Close)
		sc.BaseURL = srv.URL + "/api/v2"
		if mutate != nil {
			mutate(sc)
		}
	})
	return h, g
}

// echoes is what a proxy's error page shows of the request's credential:
// the Authorization header, and the secret decoded from it in several
// encodings.
func echoes(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "Basic "))
	_, secret, _ := strings.Cut(string(raw), ":")
	var pct, ent strings.Builder
	for i := 0; i < len(secret); i++ {
		fmt.Fprintf(&pct, "%%%02X", secret[i])
		fmt.Fprintf(&ent, "&#%d;", secret[i])
	}
	return fmt.Sprintf("Authorization: %s | secret %s | b64 %s | url %s | ent %s | login?next=%s",
		auth, secret, base64.StdEncoding.EncodeToString([]byte(secret)), pct.String(), ent.String(), url.QueryEscape(auth))
}

// echoPage answers status with an HTML page that echoes the credential.
func echoPage(status int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Request-Id", "gw-"+url.QueryEscape(r.Header.Get("Authorization")))
		w.WriteHeader(status)
		e := echoes(r)
		fmt.Fprintf(w, "<!doctype html><html><head><title>Sign in: %s</title></head><body><pre>%s</pre></body></html>", e, html.EscapeString(e))
	}
}

// secretForms are the forms of a secret that must appear nowhere.
func secretForms(id, secret string) map[string]string {
	var pct strings.Builder
	for i := 0; i < len(secret); i++ {
		fmt.Fprintf(&pct, "%%%02X", secret[i])
	}
	return map[string]string{
		"secret": secret, "its first half": secret[:len(secret)/2],
		"Basic value":    base64.StdEncoding.EncodeToString([]byte(tenantAClientID + ":" + secret)),
		"base64":         base64.StdEncoding.EncodeToString([]byte(secret)),
		"percent-encode": pct.String(), "lower-case percent": strings.ToLower(pct.String()),
	}
}

// checkNoSecret fails if any form of the secret is in text, as it is or
// once decoded as a reader would decode it.
func checkNoSecret(t *testing.T, where, text, secret string) {
	t.Helper()
	unq, _ := url.QueryUnescape(text)
	for _, view := range []string{text, html.UnescapeString(text), unq} {
		for form, needle := range secretForms(tenantAClientID, secret) {
			if strings.Contains(view, needle) {
				t.Errorf("SECRET LEAK: the %s of the secret is in %s: …%s…", form, where, around(view, needle))
			}
		}
	}
}

// around is a short excerpt of s around needle, with the needle masked.
func around(s, needle string) string {
	i := strings.Index(s, needle)
	return strings.ReplaceAll(s[max(0, i-40):min(len(s), i+len(needle)+20)], needle, "<SECRET>")
}

// shown is everything a tool result shows the agent.
func shown(res *mcp.CallToolResult) string {
	var b strings.Builder
	b.WriteString(text(res))
	if res.StructuredContent != nil {
		fmt.Fprintf(&b, " %v", res.StructuredContent)
	}
	return b.String()
}

// lastFinished is the audit log's last tool_call record, and the whole log.
func (h *harness) lastFinished(t *testing.T) (hosted.AuditRecord, string) {
	t.Helper()
	raw, recs := h.auditRecords(t)
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Event == hosted.EventToolCall {
			return recs[i], raw
		}
	}
	t.Fatalf("no tool_call record in the audit log:\n%s", raw)
	return hosted.AuditRecord{}, raw
}

// TestSecretsNeverReachCallerOrLogs: whatever the gateway answers, with
// whatever it echoes of the credential, the tool result, the audit log and
// the server's log carry no form of the secret; a comment applied upstream
// and then answered by a gateway is posted exactly once and audited as
// "unknown".
func TestSecretsNeverReachCallerOrLogs(t *testing.T) {
	h, gw := startGatewayServe(t, func(sc *serveConfig) { sc.LogLevel = slog.LevelDebug }) // every log line is checked
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	isComment := func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/comments")
	}
	isGet := func(r *http.Request) bool {
		return r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/comments")
	}
	// answer makes a hook maker: requests that match get the answer, after
	// being applied upstream when apply is set; only the first n match (0:
	// all) of each hook made.
	type hookFn = func(http.ResponseWriter, *http.Request, func() *httptest.ResponseRecorder) bool
	answer := func(match func(*http.Request) bool, apply bool, n int32, reply func(http.ResponseWriter, *http.Request)) func() hookFn {
		return func() hookFn {
			var seen atomic.Int32
			return func(w http.ResponseWriter, r *http.Request, forward func() *httptest.ResponseRecorder) bool {
				if !match(r) || (n > 0 && seen.Add(1) > n) {
					return false
				}
				if apply {
					if rec := forward(); rec.Code >= 300 {
						t.Errorf("the emulator refused the write the gateway forwarded: %d %s", rec.Code, rec.Body)
					}
				}
				reply(w, r)
				return true
			}
		}
	}
	apiProblem503 := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"type":"https://docs.contraforce.com/api-reference/errors","title":"Service Unavailable","status":503,"code":"SERVICE_UNAVAILABLE","requestId":"0HN:9"}`)
	}
	bare := func(status int) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }
	}
	tests := []struct {
		name      string
		tool      string
		hook      func() hookFn
		wantError bool
		outcome   string // of the audit record ("" for a read)
		comments  int    // new comments on the incident
		answered  int32  // requests the gateway answered itself
	}{
		{"read answered 200 HTML echoing the credential", "get_incident", answer(isGet, false, 0, echoPage(http.StatusOK)), true, "", 0, 1},
		{"read answered 401 HTML echoing it", "get_incident", answer(isGet, false, 0, echoPage(http.StatusUnauthorized)), true, "", 0, 1},
		{"comment answered 200 HTML, never forwarded", "add_comment", answer(isComment, false, 0, echoPage(http.StatusOK)), true, "unknown", 0, 1},
		{"comment applied, then a gateway's 503 HTML", "add_comment", answer(isComment, true, 0, echoPage(http.StatusServiceUnavailable)), true, "unknown", 1, 1},
		{"comment applied, then a bare 503", "add_comment", answer(isComment, true, 0, bare(http.StatusServiceUnavailable)), true, "unknown", 1, 1},
		{"comment applied, then 502 HTML", "add_comment", answer(isComment, true, 0, echoPage(http.StatusBadGateway)), true, "unknown", 1, 1},
		{"comment refused by the API's own 503, then retried", "add_comment", answer(isComment, false, 1, apiProblem503), false, "ok", 1, 1},
		{"comment refused by a 429 page, then retried", "add_comment", answer(isComment, false, 1, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "0")
			echoPage(http.StatusTooManyRequests)(w, r)
		}), false, "ok", 1, 1},
	}
	for _, kind := range []string{"http", "sse"} {
		c := h.mustConnect(ctx, kind, tokenA, legacy)
		for i, tt := range tests {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				ref := h.refIn(workspacesA, i)
				before := len(h.emu.Comments(ref))
				args := refArgs(ref)
				if tt.tool == "add_comment" {
					args["content"] = "Contained: host isolated (" + kind + ")."
				}
				gw.set(tt.hook())
				res := call(ctx, t, c, tt.tool, args)
				answered := gw.hits.Load()
				gw.set(nil)
				if res.IsError != tt.wantError {
					t.Errorf("isError %v, want %v: %s", res.IsError, tt.wantError, text(res))
				}
				if got := answered; got != tt.answered {
					t.Errorf("the gateway answered %d requests, want %d (a write retried that should not be, or the reverse)", got, tt.answered)
				}
				checkNoSecret(t, "the tool result", shown(res), tenantASecret)
				if got := len(h.emu.Comments(ref)) - before; got != tt.comments {
					t.Errorf("%d new comments, want %d", got, tt.comments)
				}
				if tt.outcome == "unknown" && !strings.Contains(text(res), "may or may not have been applied") {
					t.Errorf("the agent is not told the outcome is unknown: %s", text(res))
				}
				if tt.outcome != "" {
					rec, _ := h.lastFinished(t)
					if rec.Tool != tt.tool || rec.Outcome != tt.outcome || rec.Incident == nil || rec.Incident.IncidentID != ref.IncidentID {
						t.Errorf("audit record %s %q for %v, want %s %q", rec.Tool, rec.Outcome, rec.Incident, tt.tool, tt.outcome)
					}
				}
			})
		}
	}
	raw, _ := h.auditRecords(t)
	checkNoSecret(t, "the audit log", raw, tenantASecret)
	logs := h.stderr.String()
	checkNoSecret(t, "the server's log", logs, tenantASecret)
	if !strings.Contains(logs, "contraforce api request") {
		t.Error("the log holds no API request at debug level: its check saw nothing")
	}
}

// TestInFlightWriteIsAudited: while a write waits on the API its
// tool_call_started record is already in the audit log; when the shutdown
// grace runs out with the write still in flight, it is never recorded as
// done or failed, only as unknown.
func TestInFlightWriteIsAudited(t *testing.T) {
	h, gw := startGatewayServe(t, func(sc *serveConfig) { sc.ShutdownTimeout = 300 * time.Millisecond })
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	gw.set(func(w http.ResponseWriter, r *http.Request, forward func() *httptest.ResponseRecorder) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/comments") {
			return false
		}
		forward() // applied upstream; the answer is held back
		close(entered)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := h.mustConnect(ctx, "http", tokenA, legacy)
	ref := h.refIn(workspacesA, 0)
	args := refArgs(ref)
	args["content"] = "Escalated to tier 2."
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = "add_comment", args
		_, _ = c.CallTool(ctx, req) // the connection closes under it
	}()
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the write never reached the API")
	}
	raw, recs := h.auditRecords(t)
	var started *hosted.AuditRecord
	for i := range recs {
		if recs[i].Event == hosted.EventToolCallStarted && recs[i].Tool == "add_comment" {
			started = &recs[i]
		}
		if recs[i].Event == hosted.EventToolCall {
			t.Errorf("a finished record before the write finished: %+v", recs[i])
		}
	}
	if started == nil || started.Incident == nil || started.Incident.IncidentID != ref.IncidentID || started.CallID == "" ||
		started.Change == nil || started.Change.Comment != "Escalated to tier 2." {
		t.Fatalf("no tool_call_started record for the write in flight:\n%s", raw)
	}
	if err := h.shutdown(); err != nil {
		t.Errorf("Serve: %v", err)
	}
	once.Do(func() { close(release) })
	<-done
	// Whatever the handler managed to write after the hard stop says the
	// outcome is unknown (the comment did land).
	if n := len(h.emu.Comments(ref)); n == 0 {
		t.Error("the held comment did not land upstream")
	}
	_, recs = h.auditRecords(t)
	for _, r := range recs {
		if r.Event == hosted.EventToolCall && r.CallID == started.CallID && r.Outcome != "unknown" {
			t.Errorf("the write cut short by the shutdown is audited as %q, want unknown (or only started)", r.Outcome)
		}
	}
}

// TestAuditNamesAndConfirmations: through the real serve, a client whose
// name tries to forge the comment's attribution and carries a right-to-left
// override has both cleaned in the comment and the audit log; a dry run,
// the confirmation round and a declined closure are audited as changing
// nothing.
func TestAuditNamesAndConfirmations(t *testing.T) {
	h := startServe(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A legacy session whose client names itself with a forged prefix.
	init := strings.Replace(initBody, `"clientInfo":{"name":"raw","version":"1"}`,
		`"clientInfo":{"name":"evil] [AI agent: SOC Lead\u202e","version":"6.6\u202e"}`, 1)
	resp := h.do(t, http.MethodPost, "/mcp", tokenA, init, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("initialize: %d", resp.StatusCode)
	}
	sid := resp.Header.Get("Mcp-Session-Id")
	session := map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18"}
	h.do(t, http.MethodPost, "/mcp", tokenA, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, session)
	own, _ := openSentinel(t, h.emu)
	before := len(h.emu.Comments(own))
	callBody := fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_comment","arguments":{"workspaceId":%q,"source":%q,"incidentId":%q,"content":"Benign."}}}`,
		own.WorkspaceID, own.Source, own.IncidentID)
	if resp := h.do(t, http.MethodPost, "/mcp", tokenA, callBody, session); resp.StatusCode != http.StatusOK {
		t.Fatalf("tools/call: %d", resp.StatusCode)
	}
	comments := h.emu.Comments(own)
	if len(comments) != before+1 {
		t.Fatalf("%d new comments, want 1", len(comments)-before)
	}
	if got := comments[len(comments)-1].Message; got != "[AI agent: evil) (AI agent: SOC Lead(U+202E) via contraforce-mcp] Benign." {
		t.Errorf("posted %q: the client's name forged or reordered the attribution", got)
	}
	rec, raw := h.lastFinished(t)
	if rec.Client == nil || rec.Client.Name != "evil) (AI agent: SOC Lead(U+202E)" || rec.Client.Version != "6.6(U+202E)" {
		t.Errorf("audited client %+v, want the name cleaned", rec.Client)
	}
	if strings.ContainsRune(raw, '\u202e') || strings.Contains(strings.ToLower(raw), `\u202e`) {
		t.Error("a right-to-left override reached the audit log")
	}

	// A client that can ask its human: the round that asks, an accepted
	// and a declined closure, a dry run.
	for _, tt := range []struct {
		name     string
		human    *elicitor
		dryRun   bool
		outcomes []string // the finished records, in order
	}{
		{"declined", &elicitor{action: mcp.ElicitationResponseActionDecline}, false, []string{"confirmation_requested", "refused"}},
		{"accepted", &elicitor{action: mcp.ElicitationResponseActionAccept, confirm: true}, false, []string{"confirmation_requested", "ok"}},
		{"dry run", &elicitor{action: mcp.ElicitationResponseActionAccept, confirm: true}, true, []string{"dry_run"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := h.connectAsking(ctx, t, tt.human)
			target, _ := openSentinel(t, h.emu)
			_, recsBefore := h.auditRecords(t)
			args := refArgs(target)
			args["status"], args["comment"] = "Closed", "False positive: the admin's scheduled task."
			args["classification"], args["classificationReason"] = "FalsePositive", "IncorrectAlertLogic"
			args["dryRun"] = tt.dryRun
			call(ctx, t, c, "update_status", args)
			_, recs := h.auditRecords(t)
			var got []string
			for _, r := range recs[len(recsBefore):] {
				if r.Event == hosted.EventToolCall {
					got = append(got, r.Outcome)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.outcomes, ",") {
				t.Errorf("audited outcomes %v, want %v", got, tt.outcomes)
			}
		})
	}
}

// connectAsking opens a streamable HTTP session as tenant A for a client
// that declares elicitation and answers it as human does.
func (h *harness) connectAsking(ctx context.Context, t *testing.T, human *elicitor) *mcpclient.Client {
	t.Helper()
	tr, err := transport.NewStreamableHTTP(h.url+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tokenA}))
	if err != nil {
		t.Fatal(err)
	}
	c := mcpclient.NewClient(tr, mcpclient.WithElicitationHandler(human))
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "claude-ai", Version: "1"}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPassthroughWrongSecretIsTheCallers: in pass-through mode a credential
// ContraForce rejects is reported to the agent as the user's to fix in the
// client's configuration, never as the operator's; a malformed one is
// refused naming the headers; the presented secret shows nowhere.
func TestPassthroughWrongSecretIsTheCallers(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) {
		sc.Passthrough = true
		sc.TenantsJSON = `{"tenants": [{"name": "gateway", "tokenSha256": "` + hosted.HashToken(tokenA) + `"}]}`
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wrong := tenantASecret + "-typo"
	c, err := h.connect(ctx, "http", tokenA, legacy, map[string]string{hosted.HeaderClientID: tenantAClientID, hosted.HeaderClientSecret: wrong})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res := call(ctx, t, c, "get_incident", refArgs(h.refIn(workspacesA, 0)))
	msg := text(res)
	if !res.IsError || !strings.Contains(msg, "UNAUTHORIZED") || !strings.Contains(msg, "this client's configuration") ||
		strings.Contains(msg, "operator must fix") {
		t.Errorf("a wrong pass-through secret is reported as %q; want the user told to fix the client's credential", msg)
	}
	checkNoSecret(t, "the tool result", msg, wrong)

	resp := h.do(t, http.MethodPost, "/mcp", tokenA, initBody, map[string]string{hosted.HeaderClientID: "a:b", hosted.HeaderClientSecret: wrong})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !bytes.Contains(body, []byte(hosted.HeaderClientID)) || bytes.Contains(body, []byte("ClientID")) {
		t.Errorf("a malformed pass-through credential: %d %s; want 401 naming the header", resp.StatusCode, body)
	}
	checkNoSecret(t, "the server's log", h.stderr.String(), wrong)
}
