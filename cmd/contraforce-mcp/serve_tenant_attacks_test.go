package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// The hostile-tenant suite: tenant A holds a valid token of its own and
// attacks tenant B's sessions and the server's limits through the real
// serve handler, on both transports. Each attack must be refused or
// harmless, and the emulator must show no write B did not make.

// modernMetaJSON is a _meta naming the session-less protocol 2026-07-28.
const modernMetaJSON = `{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"a","version":"1"}}`

// heldHuman answers elicitations only when released: the human is still
// reading the question while the attacks run.
type heldHuman struct {
	asked  chan struct{}
	answer chan *mcp.ElicitationResult
}

func newHeldHuman() *heldHuman {
	return &heldHuman{asked: make(chan struct{}, 8), answer: make(chan *mcp.ElicitationResult, 1)}
}

func (h *heldHuman) Elicit(ctx context.Context, _ mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	h.asked <- struct{}{}
	select {
	case a := <-h.answer:
		return a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// connectAsker opens an initialized session whose client declares
// elicitation and answers it with handler.
func (h *harness) connectAsker(ctx context.Context, t *testing.T, kind, token, version string, handler mcpclient.ElicitationHandler) *mcpclient.Client {
	t.Helper()
	hdr := map[string]string{"Authorization": "Bearer " + token}
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
	opts := []mcpclient.ClientOption{mcpclient.WithElicitationHandler(handler)}
	if version != "" {
		opts = append(opts, mcpclient.WithProtocolVersion(version))
	}
	c := mcpclient.NewClient(tr, opts...)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = version
	req.Params.ClientInfo = mcp.Implementation{Name: "attack-test", Version: "1"}
	req.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatal(err)
	}
	return c
}

// openIncident returns an incident of the workspaces that is not closed.
func (h *harness) openIncident(t *testing.T, workspaces []string) client.IncidentRef {
	t.Helper()
	for i := 0; ; i++ {
		ref := h.refIn(workspaces, i)
		if inc, _ := h.emu.Incident(ref); inc.Status != client.StatusClosed {
			return ref
		}
	}
}

// closeArgs closes ref with everything every source needs.
func closeArgs(ref client.IncidentRef) map[string]any {
	args := refArgs(ref)
	args["status"], args["classification"], args["classificationReason"] = "Closed", "BenignPositive", "SuspiciousButExpected"
	args["comment"] = "Closing after review of the evidence."
	return args
}

// incidentState is what a write could change.
type incidentState struct {
	status   client.Status
	comments int
}

func (h *harness) state(ref client.IncidentRef) incidentState {
	inc, _ := h.emu.Incident(ref)
	return incidentState{inc.Status, len(h.emu.Comments(ref))}
}

// noMarker fails if any incident carries a comment with the marker.
func (h *harness) noMarker(t *testing.T, marker string) {
	t.Helper()
	for _, ref := range h.emu.Refs() {
		for _, c := range h.emu.Comments(ref) {
			if strings.Contains(c.Message, marker) {
				t.Errorf("ATTACK WROTE: a comment %q reached incident %v", c.Message, ref)
			}
		}
	}
}

// refusedMessage checks a 400 with a JSON-RPC error body.
func refusedMessage(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	var m struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &m) != nil || m.JSONRPC != "2.0" || m.ID == nil || m.Error == nil || m.Error.Code >= -32000 {
		t.Errorf("%s: %d %.300s, want 400 with a JSON-RPC error", what, resp.StatusCode, body)
	}
}

// TestAttackForeignSessionByTwoReadings: A holds B's session id and sends
// messages that the gate and mcp-go used to read differently (a repeated
// or case-varied _meta or params: "modern, session-less" to one, "legacy,
// in B's session" to the other): tool calls, a resource subscription, and
// results answering the closure B's human is being asked to confirm. Every
// one is refused before mcp-go sees it; B's human decides, and B's
// incident is untouched by A.
func TestAttackForeignSessionByTwoReadings(t *testing.T) {
	h := startServe(t, nil) // --confirm-close auto
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	human := newHeldHuman()
	b := h.connectAsker(ctx, t, "http", tokenB, legacy, human)
	bSession := b.GetTransport().(*transport.StreamableHTTP).GetSessionId()
	bSSE := h.openSSE(t, tokenB)
	refA, refB := h.openIncident(t, workspacesA), h.openIncident(t, workspacesB)
	beforeA, beforeB := h.state(refA), h.state(refB)
	applied := h.emu.Stats().Applied

	// B asks to close its incident; its human is asked and holds.
	closed := make(chan *mcp.CallToolResult, 1)
	go func() {
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = "update_status", closeArgs(refB)
		res, err := b.CallTool(ctx, req)
		if err != nil {
			t.Errorf("B's closure: protocol error %v", err)
		}
		closed <- res
	}()
	select {
	case <-human.asked:
	case <-ctx.Done():
		t.Fatal("B's human was never asked")
	}

	const marker = "tenant-A-was-here"
	comment := func(ref client.IncidentRef) string {
		args, _ := json.Marshal(map[string]any{"workspaceId": ref.WorkspaceID, "source": ref.Source, "incidentId": ref.IncidentID, "content": marker})
		return string(args)
	}
	twoMetas := []struct{ name, params string }{
		{"repeated _meta", `"_meta":` + modernMetaJSON + `,"_meta":{}`},
		{"_META then _meta", `"_META":` + modernMetaJSON + `,"_meta":{}`},
	}
	var attacks []struct{ name, body string }
	for _, m := range twoMetas {
		attacks = append(attacks,
			struct{ name, body string }{m.name + ": tools/call in B's session",
				`{"jsonrpc":"2.0","id":91,"method":"tools/call","params":{"name":"add_comment","arguments":` + comment(refA) + `,` + m.params + `}}`},
			struct{ name, body string }{m.name + ": tools/call on B's incident",
				`{"jsonrpc":"2.0","id":92,"method":"tools/call","params":{"name":"add_comment","arguments":` + comment(refB) + `,` + m.params + `}}`},
			struct{ name, body string }{m.name + ": resources/subscribe in B's session",
				`{"jsonrpc":"2.0","id":93,"method":"resources/subscribe","params":{"uri":"contraforce://workspaces/x/incidents/Sentinel/1",` + m.params + `}}`})
		// mcp-go numbers server requests from one counter: A tries them all.
		for id := 0; id <= 40; id++ {
			attacks = append(attacks, struct{ name, body string }{fmt.Sprintf("%s: result %d for B's elicitation", m.name, id),
				fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":{"action":"accept","content":{"confirm":true}},"params":{%s}}`, id, m.params)})
		}
	}
	attacks = append(attacks,
		struct{ name, body string }{"repeated params", `{"jsonrpc":"2.0","id":94,"method":"tools/list","params":{"_meta":` + modernMetaJSON + `},"params":{}}`},
		struct{ name, body string }{"Params then params", `{"jsonrpc":"2.0","id":95,"method":"tools/list","Params":{"_meta":` + modernMetaJSON + `},"params":{"_meta":{}}}`})
	for _, a := range attacks {
		refusedMessage(t, "streamable: "+a.name, h.do(t, http.MethodPost, "/mcp", tokenA, a.body, map[string]string{"Mcp-Session-Id": bSession}))
		refusedMessage(t, "SSE: "+a.name, h.do(t, http.MethodPost, bSSE.endpoint, tokenA, a.body, nil))
	}

	// Well-formed messages naming B's session, in either era: 404, like
	// an unknown session.
	modernHdr := map[string]string{"Mcp-Session-Id": bSession, "Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}
	for _, c := range []struct {
		name string
		body string
		hdr  map[string]string
	}{
		{"legacy tools/list", `{"jsonrpc":"2.0","id":96,"method":"tools/list"}`, map[string]string{"Mcp-Session-Id": bSession}},
		{"modern tools/list", `{"jsonrpc":"2.0","id":97,"method":"tools/list","params":{"_meta":` + modernMetaJSON + `}}`, modernHdr},
		{"modern initialize", `{"jsonrpc":"2.0","id":98,"method":"initialize","params":{"_meta":` + modernMetaJSON + `}}`, modernHdr},
		{"result for B's elicitation", `{"jsonrpc":"2.0","id":1,"result":{"action":"accept","content":{"confirm":true}}}`, map[string]string{"Mcp-Session-Id": bSession}},
	} {
		if resp := h.do(t, http.MethodPost, "/mcp", tokenA, c.body, c.hdr); resp.StatusCode != http.StatusNotFound {
			t.Errorf("streamable %s naming B's session: %d, want 404", c.name, resp.StatusCode)
		}
		if resp := h.do(t, http.MethodPost, bSSE.endpoint, tokenA, c.body, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("SSE %s in B's session: %d, want 404", c.name, resp.StatusCode)
		}
	}
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		hdr := map[string]string{"Mcp-Session-Id": bSession, "Mcp-Protocol-Version": "2026-07-28"}
		if resp := h.do(t, method, "/mcp", tokenA, "", hdr); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s of B's session with a 2026-07-28 header: %d, want 404", method, resp.StatusCode)
		}
	}

	// B's human declines: the incident stays as it was.
	human.answer <- &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}
	select {
	case res := <-closed:
		if res == nil || !strings.Contains(text(res), "declined") {
			t.Errorf("B's closure after its human declined: %v", res)
		}
	case <-ctx.Done():
		t.Fatal("B's closure never answered")
	}
	if got := h.state(refB); got != beforeB {
		t.Errorf("B's incident changed: %+v, was %+v", got, beforeB)
	}
	if got := h.state(refA); got != beforeA {
		t.Errorf("A's incident changed through B's session: %+v, was %+v", got, beforeA)
	}
	h.noMarker(t, marker)
	if now := h.emu.Stats().Applied; now[emulator.EndpointUpdateStatus] != applied[emulator.EndpointUpdateStatus] || now[emulator.EndpointAddComment] != applied[emulator.EndpointAddComment] {
		t.Errorf("writes applied: %v, before the attacks %v", now, applied)
	}
	// B's session still works for B.
	if res := call(ctx, t, b, "get_incident", refArgs(refB)); res.IsError {
		t.Errorf("B's session after the attacks: %s", text(res))
	}
}

// TestAttackMessagesReadTwoWays: messages that are not plainly one JSON-RPC
// object are refused on both transports with 400 and a JSON-RPC error,
// before any tool runs or any session is created.
func TestAttackMessagesReadTwoWays(t *testing.T) {
	h := startServe(t, nil)
	own := h.openStreamable(t, tokenA)
	sse := h.openSSE(t, tokenA)
	ref := h.openIncident(t, workspacesA)
	before := h.state(ref)
	requests := h.emu.Stats().Requests
	call := func(extra string) string {
		return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add_comment","arguments":{"workspaceId":"` + ref.WorkspaceID +
			`","source":"` + string(ref.Source) + `","incidentId":"` + ref.IncidentID + `","content":"two-readings"}` + extra + `}}`
	}
	bodies := []struct{ name, body string }{
		{"a batch", `[` + call("") + `]`},
		{"two messages", call("") + call("")},
		{"a string", `"tools/call"`},
		{"invalid UTF-8", strings.Replace(call(""), "two-readings", "two-\xff-readings", 1)},
		{"an unpaired surrogate", strings.Replace(call(""), "two-readings", `two-\udead-readings`, 1)},
		{"a repeated argument", strings.Replace(call(""), `"content":"two-readings"`, `"content":"x","content":"two-readings"`, 1)},
		{"a repeated name", `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_incident","name":"add_comment","arguments":{}}}`},
		{"a case-folded duplicate", strings.Replace(call(""), `"content":"two-readings"`, `"content":"x","Content":"two-readings"`, 1)},
		{"Method", strings.Replace(call(""), `"method"`, `"Method"`, 1)},
		{"_meta a string", call(`,"_meta":"2026-07-28"`)},
		{"_meta an array", call(`,"_meta":[]`)},
		{"params an array", `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":[]}`},
		{"id null", strings.Replace(call(""), `"id":7`, `"id":null`, 1)},
		{"no jsonrpc", strings.Replace(call(""), `"jsonrpc":"2.0",`, ``, 1)},
	}
	for _, b := range bodies {
		refusedMessage(t, "streamable "+b.name, h.do(t, http.MethodPost, "/mcp", tokenA, b.body, map[string]string{"Mcp-Session-Id": own}))
		refusedMessage(t, "SSE "+b.name, h.do(t, http.MethodPost, sse.endpoint, tokenA, b.body, nil))
	}
	// A header that names the session twice is refused too.
	req, _ := http.NewRequest(http.MethodPost, h.url+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Authorization", "Bearer "+tokenA)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("Mcp-Session-Id", own)
	req.Header.Add("Mcp-Session-Id", "cfs-other")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("two Mcp-Session-Id headers: %d, want 400", resp.StatusCode)
	}
	if got := h.state(ref); got != before {
		t.Errorf("a refused message changed the incident: %+v, was %+v", got, before)
	}
	if now := h.emu.Stats().Requests; now[emulator.EndpointAddComment] != requests[emulator.EndpointAddComment] {
		t.Errorf("a refused message reached the API: %v", now)
	}
	// The session is unharmed.
	if resp := h.do(t, http.MethodPost, "/mcp", tokenA, `{"jsonrpc":"2.0","id":8,"method":"tools/list"}`, map[string]string{"Mcp-Session-Id": own}); resp.StatusCode != http.StatusOK {
		t.Errorf("the session after the refusals: %d", resp.StatusCode)
	}
}

// malformedInitializes are initialize requests mcp-go cannot parse, or
// that the gate and mcp-go could read differently.
var malformedInitializes = []string{
	`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":5,"version":"1"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":5,"capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":[],"clientInfo":{"name":"x","version":"1"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"name":5,"name":"x"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"_meta":5}}`,
	`{"jsonrpc":"2.0","id":1,"method":"initialize","params":"x"}`,
	`{"jsonrpc":"2.0","method":"initialize","params":{}}`,
	`{"jsonrpc":"1.0","id":1,"method":"initialize","params":{}}`,
	`{"jsonrpc":"2.0","id":1,"method":"initialize","method":"ping"}`,
	`{"jsonrpc":"2.0","id":1,"METHOD":"initialize"}`,
	`[{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}]`,
}

// TestAttackMalformedInitialize: a malformed initialize is a 400 and
// creates no session, counted or not: a burst of them leaves the tenant's
// whole allowance, and no session id is handed out.
func TestAttackMalformedInitialize(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) { sc.MaxSessionsPerTenant = 2 })
	for round := 0; round < 20; round++ {
		for _, body := range malformedInitializes {
			resp := h.do(t, http.MethodPost, "/mcp", tokenA, body, nil)
			refusedMessage(t, body, resp)
			if id := resp.Header.Get("Mcp-Session-Id"); id != "" {
				t.Fatalf("a malformed initialize got session %s: %s", id, body)
			}
		}
	}
	if n := h.sessions(t); n != 0 {
		t.Errorf("%v sessions after malformed initializes, want 0", n)
	}
	// The tenant's allowance is whole: two sessions, both in use (their
	// GET streams open), then the third is refused.
	for range 2 {
		h.holdStream(t, tokenA, h.openStreamable(t, tokenA))
	}
	if resp := h.do(t, http.MethodPost, "/mcp", tokenA, initBody, nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a third session while both are in use: %d, want 429", resp.StatusCode)
	}
}

// holdStream opens the session's GET stream and keeps it open until the
// test ends; it returns a channel closed when the server ends the stream.
func (h *harness) holdStream(t *testing.T, token, id string) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.url+"/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		resp.Body.Close()
		t.Fatalf("GET stream of %s: %d", id, resp.StatusCode)
	}
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		close(ended)
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-ended
	})
	return ended
}

// TestAttackManyStreamsOneSession: 60 concurrent GET streams on one session
// leave one open; the others are ended by the server.
func TestAttackManyStreamsOneSession(t *testing.T) {
	h := startServe(t, nil)
	id := h.openStreamable(t, tokenA)
	const n = 60
	ends := make([]<-chan struct{}, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ends[i] = h.holdStream(t, tokenA, id) })
	}
	wg.Wait()
	open := func() int {
		k := 0
		for _, e := range ends {
			select {
			case <-e:
			default:
				k++
			}
		}
		return k
	}
	eventually(t, 10*time.Second, "all streams but one to end", func() bool { return open() == 1 })
	time.Sleep(100 * time.Millisecond)
	if k := open(); k != 1 {
		t.Errorf("%d streams open on one session, want 1", k)
	}
	// A new stream replaces the survivor.
	last := h.holdStream(t, tokenA, id)
	eventually(t, 10*time.Second, "the older stream to end", func() bool { return open() == 0 })
	select {
	case <-last:
		t.Error("the newest stream was ended")
	default:
	}
}

// TestAttackLingeringSessions: mcp-go's streamable client ends its session
// with a DELETE that lacks the bearer token, so the session lingers; a
// tenant that keeps connecting is not locked out (its oldest idle session
// gives way), while a session in use is never the one evicted, and
// another tenant's sessions are untouched.
func TestAttackLingeringSessions(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) { sc.MaxSessionsPerTenant = 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	busy := h.openStreamable(t, tokenA)
	h.holdStream(t, tokenA, busy)
	bSess := h.openStreamable(t, tokenB)
	for i := range 10 {
		c, err := h.connect(ctx, "http", tokenA, legacy, nil)
		if err != nil {
			t.Fatalf("connection %d of a tenant whose clients never end their sessions: %v", i, err)
		}
		call(ctx, t, c, "list_incidents", map[string]any{"limit": 1})
		_ = c.Close() // its DELETE is refused: 401
	}
	if v := h.metric(t, `contraforce_mcp_active_sessions{transport="streamable_http"}`); v != 4 {
		t.Errorf("%v streamable sessions, want A's 3 and B's 1", v)
	}
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	if resp := h.do(t, http.MethodPost, "/mcp", tokenA, list, map[string]string{"Mcp-Session-Id": busy}); resp.StatusCode != http.StatusOK {
		t.Errorf("A's session with an open stream was evicted: %d", resp.StatusCode)
	}
	if resp := h.do(t, http.MethodPost, "/mcp", tokenB, list, map[string]string{"Mcp-Session-Id": bSess}); resp.StatusCode != http.StatusOK {
		t.Errorf("B's session was evicted by A's connections: %d", resp.StatusCode)
	}
}

// TestCloseOverSSEAnswersWithAToolResult: over SSE mcp-go cannot send
// elicitation/create, whatever the client declares: closing follows the
// --confirm-close fallback and answers with a tool result; where the
// session can ask (streamable HTTP, or SSE at protocol 2026-07-28) the
// human is asked; a question the client fails to answer is a tool error.
func TestCloseOverSSEAnswersWithAToolResult(t *testing.T) {
	tests := []struct {
		name, kind, version string
		policy              string
		human               func(*testing.T) mcpclient.ElicitationHandler
		wantAsked           bool
		wantClosed          bool
		wantText            string
	}{
		{name: "SSE, auto", kind: "sse", version: legacy, policy: "auto", wantClosed: true, wantText: "Closed"},
		{name: "SSE, always", kind: "sse", version: legacy, policy: "always", wantText: "cannot ask"},
		{name: "SSE 2026-07-28, always", kind: "sse", version: modern, policy: "always", wantAsked: true, wantClosed: true, wantText: "Closed"},
		{name: "streamable, always", kind: "http", version: legacy, policy: "always", wantAsked: true, wantClosed: true, wantText: "Closed"},
		{name: "streamable, the client fails the question", kind: "http", version: legacy, policy: "auto",
			human: func(*testing.T) mcpclient.ElicitationHandler { return failingHuman{} }, wantText: "could not be asked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startServe(t, func(sc *serveConfig) { sc.ConfirmClose = tools.ConfirmPolicy(tt.policy) })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var human mcpclient.ElicitationHandler = &elicitor{action: mcp.ElicitationResponseActionAccept, confirm: true}
			if tt.human != nil {
				human = tt.human(t)
			}
			c := h.connectAsker(ctx, t, tt.kind, tokenB, tt.version, human)
			ref := h.openIncident(t, workspacesB)
			before := h.state(ref)
			req := mcp.CallToolRequest{}
			req.Params.Name, req.Params.Arguments = "update_status", closeArgs(ref)
			res, err := c.CallTool(ctx, req)
			if err != nil {
				t.Fatalf("protocol error instead of a tool result: %v", err)
			}
			if !strings.Contains(text(res), tt.wantText) {
				t.Errorf("result %q lacks %q", text(res), tt.wantText)
			}
			if e, ok := human.(*elicitor); ok && (e.asked.Load() > 0) != tt.wantAsked {
				t.Errorf("asked %d times, want asked %v", e.asked.Load(), tt.wantAsked)
			}
			after := h.state(ref)
			if closed := after.status == client.StatusClosed; closed != tt.wantClosed {
				t.Errorf("closed %v, want %v", closed, tt.wantClosed)
			}
			if !tt.wantClosed && (after != before || !res.IsError) {
				t.Errorf("not closed, yet the incident changed (%+v, was %+v) or the result is not an error", after, before)
			}
		})
	}
}

// failingHuman is a client whose elicitation fails.
type failingHuman struct{}

func (failingHuman) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return nil, fmt.Errorf("the user interface crashed")
}

// TestServeBurstReturnsToBaseline: a burst of malformed initializes,
// sessions that are never ended (evicted at the tenant's limit) and
// replaced streams leaves nothing behind once its sessions are ended:
// goroutines and the heap come back to their baseline, within a bounded
// wait. A session the registry forgot but mcp-go kept (15 KiB or so
// each) would show in the heap.
func TestServeBurstReturnsToBaseline(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) { sc.MaxSessionsPerTenant = 5 })
	settle := func() (int, uint64) {
		h.apiHTTP.CloseIdleConnections()
		http.DefaultClient.CloseIdleConnections()
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return runtime.NumGoroutine(), m.HeapAlloc
	}
	var mu sync.Mutex
	var ids []string
	burst := func(sessions, malformed int) {
		var wg sync.WaitGroup
		for w := range 4 {
			token := tokenA
			if w%2 == 1 {
				token = tokenB
			}
			wg.Go(func() {
				for i := range malformed {
					h.send(t, http.MethodPost, token, malformedInitializes[i%len(malformedInitializes)], "")
				}
				for range sessions {
					if id := h.send(t, http.MethodPost, token, initBody, ""); id != "" {
						mu.Lock()
						ids = append(ids, id)
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		// Streams replaced on one session, then the session's end.
		id := h.openStreamable(t, tokenA)
		for range 5 {
			h.holdStream(t, tokenA, id)
		}
		mu.Lock()
		ids = append(ids, id)
		mu.Unlock()
	}
	endAll := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			for _, token := range []string{tokenA, tokenB} {
				h.send(t, http.MethodDelete, token, "", id)
			}
		}
		ids = nil
	}
	// Warm up: lazily started goroutines and pools count in the baseline.
	burst(10, 10)
	endAll()
	eventually(t, 10*time.Second, "warm-up sessions to end", func() bool { return h.sessions(t) == 0 })
	baseG, baseHeap := settle()

	burst(200, 200) // 800 sessions, 800 malformed initializes
	if n := h.sessions(t); n > 10+1 {
		t.Errorf("%v sessions open after the burst, want at most the two tenants' limits (10) and one more", n)
	}
	endAll()
	eventually(t, 10*time.Second, "every session to end", func() bool { return h.sessions(t) == 0 })
	const heapSlack = 4 << 20
	var g int
	var heap uint64
	deadline := time.Now().Add(15 * time.Second)
	for g, heap = settle(); (g > baseG+3 || heap > baseHeap+heapSlack) && time.Now().Before(deadline); g, heap = settle() {
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("goroutines %d → %d; heap %.1f → %.1f MiB", baseG, g, float64(baseHeap)/(1<<20), float64(heap)/(1<<20))
	if g > baseG+3 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: baseline %d, now %d:\n%s", baseG, g, buf[:runtime.Stack(buf, true)])
	}
	if heap > baseHeap+heapSlack {
		t.Errorf("heap: baseline %.1f MiB, now %.1f MiB", float64(baseHeap)/(1<<20), float64(heap)/(1<<20))
	}
}

// send makes one request to /mcp and returns the session id it was given;
// unlike do it keeps nothing until the test's end.
func (h *harness) send(t *testing.T, method, token, body, session string) string {
	req, err := http.NewRequest(method, h.url+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s /mcp: %v", method, err)
		return ""
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("Mcp-Session-Id")
}
