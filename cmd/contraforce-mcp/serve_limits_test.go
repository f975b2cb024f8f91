package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// TestServeBodyLimit: a body over --max-body is refused with 413 on both
// message routes; one under it passes.
func TestServeBodyLimit(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) { sc.MaxBody = 2048 })
	big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add_comment","arguments":{"content":"` + strings.Repeat("x", 4096) + `"}}}`
	id := h.openStreamable(t, tokenA)
	if resp := h.do(t, http.MethodPost, "/mcp", tokenA, big, map[string]string{"Mcp-Session-Id": id}); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /mcp with 4 KiB: %d, want 413", resp.StatusCode)
	}
	s := h.openSSE(t, tokenA)
	if resp := h.do(t, http.MethodPost, s.endpoint, tokenA, big, nil); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /message with 4 KiB: %d, want 413", resp.StatusCode)
	}
	if resp := h.do(t, http.MethodPost, s.endpoint, tokenA, initBody, nil); resp.StatusCode != http.StatusAccepted {
		t.Errorf("POST /message under the limit: %d, want 202", resp.StatusCode)
	}
}

// TestServeSessionLimits: a tenant at its limit ends its oldest idle
// session to make room; with every session in use it gets 429, and a new
// session beyond the server's limit 503, each with a JSON error and
// Retry-After; an ended session frees its slot.
func TestServeSessionLimits(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) { sc.MaxSessions, sc.MaxSessionsPerTenant = 3, 2 })
	idle := h.openStreamable(t, tokenA)
	sseA := h.openSSE(t, tokenA)

	check := func(resp *http.Response, status int, reason string) {
		t.Helper()
		var body struct{ Error, Message string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != status || body.Error != reason || body.Message == "" || resp.Header.Get("Retry-After") == "" {
			t.Errorf("got %d %+v (Retry-After %q), want %d %s", resp.StatusCode, body, resp.Header.Get("Retry-After"), status, reason)
		}
	}
	// A's third session takes the idle streamable session's place.
	_ = h.openSSE(t, tokenA)
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	if resp := h.do(t, http.MethodPost, "/mcp", tokenA, list, map[string]string{"Mcp-Session-Id": idle}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the evicted session: %d, want 404", resp.StatusCode)
	}
	// Both of A's sessions are open SSE streams: in use.
	check(h.do(t, http.MethodGet, "/sse", tokenA, "", nil), http.StatusTooManyRequests, "tenant_session_limit")
	resp := h.do(t, http.MethodPost, "/mcp", tokenA, initBody, nil)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("third session of tenant A over streamable HTTP: %d, want 429", resp.StatusCode)
	}

	busyB := h.openStreamable(t, tokenB) // the server's third, in use
	h.holdStream(t, tokenB, busyB)
	check(h.do(t, http.MethodGet, "/sse", tokenB, "", nil), http.StatusServiceUnavailable, "session_limit")

	// A closes a stream: B may open another session.
	sseA.resp.Body.Close()
	eventually(t, 10*time.Second, "the closed stream's slot", func() bool {
		return h.metric(t, `contraforce_mcp_active_sessions{transport="sse"}`) == 1
	})
	_ = h.openSSE(t, tokenB)
	// DELETE ends B's streamable session and frees its slot.
	if resp := h.do(t, http.MethodDelete, "/mcp", tokenB, "", map[string]string{"Mcp-Session-Id": busyB}); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	if v := h.metric(t, `contraforce_mcp_active_sessions{transport="streamable_http"}`); v != 0 {
		t.Errorf("active streamable sessions = %v, want 0", v)
	}
	_ = h.openStreamable(t, tokenB)
}

// TestServeToolCallRateLimit: beyond the tenant's bucket a tools/call gets
// HTTP 429 with Retry-After and a JSON-RPC error carrying its id; other
// tenants and other methods are not affected.
func TestServeToolCallRateLimit(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) { sc.ToolCallsPerSecond, sc.ToolCallBurst = 0.01, 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id := h.openStreamable(t, tokenA)
	hdr := map[string]string{"Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18"}
	callBody := func(n int) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_incidents","arguments":{"limit":1}}}`, n)
	}
	for n := 1; n <= 2; n++ {
		if resp := h.do(t, http.MethodPost, "/mcp", tokenA, callBody(n), hdr); resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d within the burst: %d", n, resp.StatusCode)
		}
	}
	resp := h.do(t, http.MethodPost, "/mcp", tokenA, callBody(3), hdr)
	var body struct {
		ID    int `json:"id"`
		Error struct {
			Message string `json:"message"`
			Data    struct {
				Reason     string `json:"reason"`
				RetryAfter int    `json:"retryAfterSeconds"`
			} `json:"data"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || retry < 1 || body.ID != 3 || body.Error.Data.Reason != "rate_limited" || body.Error.Data.RetryAfter != retry {
		t.Errorf("third call: %d Retry-After %q body %+v", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// tools/list is not a tool call.
	if resp := h.do(t, http.MethodPost, "/mcp", tokenA, `{"jsonrpc":"2.0","id":4,"method":"tools/list"}`, hdr); resp.StatusCode != http.StatusOK {
		t.Errorf("tools/list while limited: %d", resp.StatusCode)
	}
	// Tenant B has its own bucket; over SSE the POST carrying the call is refused.
	b := h.mustConnect(ctx, "sse", tokenB, legacy)
	for n := 0; n < 2; n++ {
		call(ctx, t, b, "list_incidents", map[string]any{"limit": 1})
	}
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "list_incidents", map[string]any{"limit": 1}
	if _, err := b.CallTool(ctx, req); err == nil || !strings.Contains(err.Error(), "429") {
		t.Errorf("tenant B's third call over SSE: %v, want a 429", err)
	}
}

// TestServeIdleSessionsExpire: a session whose client is silent for the
// idle TTL ends on both transports, and its slot is freed.
func TestServeIdleSessionsExpire(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) { sc.SessionIdleTTL = 400 * time.Millisecond })
	id := h.openStreamable(t, tokenA)
	s := h.openSSE(t, tokenA)
	select {
	case <-s.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the idle SSE stream was not closed")
	}
	// Watch the gauge: a request would count as activity.
	eventually(t, 10*time.Second, "the idle streamable session to expire", func() bool {
		return h.metric(t, `contraforce_mcp_active_sessions{transport="streamable_http"}`) == 0
	})
	if v := h.metric(t, `contraforce_mcp_active_sessions{transport="sse"}`); v != 0 {
		t.Errorf("SSE sessions after expiry = %v", v)
	}
	resp := h.do(t, http.MethodPost, "/mcp", tokenA, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		map[string]string{"Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18"})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a request on the expired session: %d, want 404", resp.StatusCode)
	}
}

// TestServeStreamsOutliveReadTimeout: ReadTimeout bounds reading a request,
// not the life of an SSE stream or the time a tool call may take.
func TestServeStreamsOutliveReadTimeout(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) { sc.ReadTimeout = 200 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sse := h.mustConnect(ctx, "sse", tokenA, legacy)
	streamable := h.mustConnect(ctx, "http", tokenA, legacy)
	time.Sleep(500 * time.Millisecond)
	h.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointListIncidents, Latency: 500 * time.Millisecond, Count: 2})
	for name, c := range map[string]interface {
		CallTool(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error)
	}{"sse": sse, "streamable": streamable} {
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = "list_incidents", map[string]any{"limit": 1}
		res, err := c.CallTool(ctx, req)
		if err != nil || res.IsError {
			t.Errorf("%s: a slow call after ReadTimeout: %v %v", name, err, res)
		}
	}
}

// TestServeStatelessStreamable: with --stateless, streamable HTTP needs no
// session (any replica can answer) and offers no server-to-client stream.
func TestServeStatelessStreamable(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) { sc.Stateless = true })
	resp := h.do(t, http.MethodPost, "/mcp", tokenA, initBody, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Mcp-Session-Id") != "" {
		t.Fatalf("stateless initialize: %d, session %q", resp.StatusCode, resp.Header.Get("Mcp-Session-Id"))
	}
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_incidents","arguments":{"limit":1}}}`
	resp = h.do(t, http.MethodPost, "/mcp", tokenB, call, map[string]string{"Mcp-Protocol-Version": "2025-06-18"})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), emulator.WorkspaceNoRoleID) {
		t.Errorf("stateless call of tenant B: %d %.300s", resp.StatusCode, body)
	}
	if resp := h.do(t, http.MethodGet, "/mcp", tokenA, "", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /mcp in stateless mode: %d, want 405", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := h.mustConnect(ctx, "http", tokenA, legacy)
	if res, err := c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil || len(res.Tools) == 0 {
		t.Errorf("tools/list over stateless HTTP: %v", err)
	}
}

// TestServeStreamsEndWithTheirSession: DELETE of a streamable session ends
// its open GET stream; --keepalive pings open streams.
func TestServeStreamsEndWithTheirSession(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) { sc.KeepAlive = 100 * time.Millisecond })
	id := h.openStreamable(t, tokenA)
	hdr := map[string]string{"Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18"}
	req, _ := http.NewRequest(http.MethodGet, h.url+"/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	stream, err := http.DefaultClient.Do(req)
	if err != nil || stream.StatusCode != http.StatusOK {
		t.Fatalf("GET /mcp: %v %v", err, stream)
	}
	defer stream.Body.Close()
	buf := make([]byte, 4096)
	n, _ := stream.Body.Read(buf) // the first keepalive ping
	if !strings.Contains(string(buf[:n]), `"ping"`) {
		t.Errorf("no keepalive ping on the stream: %q", buf[:n])
	}
	if resp := h.do(t, http.MethodDelete, "/mcp", tokenA, "", hdr); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stream.Body)
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the session's stream outlived its DELETE")
	}

	sse := h.openSSE(t, tokenA)
	select {
	case ev := <-sse.events:
		if !strings.Contains(ev, `"ping"`) {
			t.Errorf("first SSE event %q, want a keepalive ping", ev)
		}
	case <-time.After(10 * time.Second):
		t.Error("no keepalive ping on the SSE stream")
	}
}
