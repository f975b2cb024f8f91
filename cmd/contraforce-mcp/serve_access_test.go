package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
)

// TestServeNeedsBearerToken: every MCP route refuses a request without a
// token, or with a wrong one, with 401 and the Bearer challenge; real
// clients cannot connect either.
func TestServeNeedsBearerToken(t *testing.T) {
	h := startServe(t, nil)
	routes := []struct{ method, path, body string }{
		{http.MethodPost, "/mcp", initBody},
		{http.MethodGet, "/mcp", ""},
		{http.MethodDelete, "/mcp", ""},
		{http.MethodGet, "/sse", ""},
		{http.MethodPost, "/message?sessionId=x", initBody},
	}
	for _, r := range routes {
		for _, token := range []string{"", "cfmcp_wrong", tokenA + "x"} {
			resp := h.do(t, r.method, r.path, token, r.body, nil)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: %d, want 401", r.method, r.path, token, resp.StatusCode)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer realm="contraforce-mcp"`) {
				t.Errorf("%s %s: WWW-Authenticate %q", r.method, r.path, got)
			}
		}
	}
	// A non-Bearer scheme carrying a valid token is still refused.
	if resp := h.do(t, http.MethodPost, "/mcp", "", initBody, map[string]string{"Authorization": "Basic " + tokenA}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("Basic scheme: %d, want 401", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, kind := range []string{"sse", "http"} {
		if c, err := h.connect(ctx, kind, "cfmcp_wrong", legacy, nil); err == nil {
			_ = c.Close()
			t.Errorf("%s client connected with a wrong token", kind)
		}
	}
	if v := h.metric(t, `contraforce_mcp_rejected_requests_total{reason="unauthorized"}`); v < float64(len(routes)*3) {
		t.Errorf("rejected unauthorized metric = %v", v)
	}
}

// TestServeSessionBoundToTenant: a session opened with tenant A's token
// cannot be used with tenant B's, on either transport; A keeps it.
func TestServeSessionBoundToTenant(t *testing.T) {
	h := startServe(t, nil)
	listTools := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`

	id := h.openStreamable(t, tokenA)
	hdr := map[string]string{"Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18"}
	for _, c := range []struct{ method, body string }{{http.MethodPost, listTools}, {http.MethodGet, ""}, {http.MethodDelete, ""}} {
		if resp := h.do(t, c.method, "/mcp", tokenB, c.body, hdr); resp.StatusCode != http.StatusNotFound {
			t.Errorf("streamable %s of A's session with B's token: %d, want 404", c.method, resp.StatusCode)
		}
	}
	if resp := h.do(t, http.MethodPost, "/mcp", tokenA, listTools, hdr); resp.StatusCode != http.StatusOK {
		t.Errorf("A's own session after B's attempts: %d", resp.StatusCode)
	}
	// An invented session id is refused like a foreign one.
	if resp := h.do(t, http.MethodPost, "/mcp", tokenA, listTools, map[string]string{"Mcp-Session-Id": "cfs-INVENTED"}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("invented session id: %d, want 404", resp.StatusCode)
	}

	s := h.openSSE(t, tokenA)
	if resp := h.do(t, http.MethodPost, s.endpoint, tokenB, initBody, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("SSE message of A's session with B's token: %d, want 404", resp.StatusCode)
	}
	if resp := h.do(t, http.MethodPost, s.endpoint, tokenA, initBody, nil); resp.StatusCode != http.StatusAccepted {
		t.Errorf("SSE message with A's own token: %d, want 202", resp.StatusCode)
	}
	select {
	case ev := <-s.events:
		if !strings.Contains(ev, `"serverInfo"`) {
			t.Errorf("SSE answer to initialize: %s", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer on A's SSE stream")
	}
}

// TestServeHostAndOrigin: a foreign Host or Origin is refused on every
// route; no CORS headers unless configured, not even mcp-go's "*" on /sse.
func TestServeHostAndOrigin(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) {
		sc.AllowedHosts = []string{"mcp.example.com"}
		sc.CORSOrigins = []string{"https://app.example.com"}
	})
	for _, path := range []string{"/mcp", "/sse", "/healthz", "/metrics"} {
		if resp := h.do(t, http.MethodGet, path, tokenA, "", map[string]string{"Host": "evil.example"}); resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("GET %s with a foreign Host: %d, want 421", path, resp.StatusCode)
		}
		if resp := h.do(t, http.MethodGet, path, tokenA, "", map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s with a foreign Origin: %d, want 403", path, resp.StatusCode)
		}
	}
	ok := []map[string]string{
		{"Host": "mcp.example.com"},
		{"Host": "localhost:8080", "Origin": "http://localhost:6274"}, // a local inspector
		{"Host": "10.1.2.3:8080"},                                     // a probe by pod IP
	}
	for _, hdr := range ok {
		if resp := h.do(t, http.MethodPost, "/mcp", tokenA, initBody, hdr); resp.StatusCode != http.StatusOK {
			t.Errorf("initialize with %v: %d, want 200", hdr, resp.StatusCode)
		}
	}

	// /sse without CORS configured for the origin: no Allow-Origin at all.
	req, _ := http.NewRequest(http.MethodGet, h.url+"/sse", nil)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	req.Header.Set("Origin", "http://localhost:6274")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("/sse sent Access-Control-Allow-Origin %q without CORS configured", got)
	}

	// The configured CORS origin: preflight, then the real request.
	pre := h.do(t, http.MethodOptions, "/mcp", "", "", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"})
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
	got := h.do(t, http.MethodPost, "/mcp", tokenA, initBody, map[string]string{"Origin": "https://app.example.com"})
	if got.StatusCode != http.StatusOK || got.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(got.Header.Get("Access-Control-Expose-Headers"), "Mcp-Session-Id") {
		t.Errorf("CORS request: %d %v", got.StatusCode, got.Header)
	}
	s := h.openSSE(t, tokenA)
	msg := h.do(t, http.MethodPost, s.endpoint, tokenA, initBody, map[string]string{"Origin": "https://app.example.com"})
	if msg.StatusCode != http.StatusAccepted || msg.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("CORS message of an SSE session: %d %v", msg.StatusCode, msg.Header)
	}
}

// TestServeBaseURLIsServerConfiguration: no header, query or argument can
// point the server at another API host.
func TestServeBaseURLIsServerConfiguration(t *testing.T) {
	var decoyHits atomic.Int64
	decoy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		decoyHits.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	defer decoy.Close()
	h := startServe(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := h.connect(ctx, "http", tokenA, legacy, map[string]string{
		"X-ContraForce-Base-Url": decoy.URL + "/api/v2", "X-Forwarded-Host": strings.TrimPrefix(decoy.URL, "http://"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	args := map[string]any{"limit": 1, "baseUrl": decoy.URL}
	if res := call(ctx, t, c, "list_incidents", args); !res.IsError {
		t.Errorf("list_incidents accepted an unknown baseUrl argument: %s", text(res))
	}
	if res := call(ctx, t, c, "list_incidents", map[string]any{"limit": 1}); res.IsError {
		t.Errorf("list_incidents: %s", text(res))
	}
	resp := h.do(t, http.MethodPost, "/mcp?baseUrl="+decoy.URL+"&base_url="+decoy.URL, tokenA,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_incidents","arguments":{"limit":1},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"}}}}`,
		map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "list_incidents"})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"incidents"`) {
		t.Errorf("session-less call with baseUrl in the query: %d %s", resp.StatusCode, body)
	}
	if n := decoyHits.Load(); n != 0 {
		t.Errorf("the decoy API got %d requests", n)
	}
}

// TestServeCredentialPassthrough: without stored credentials, each caller
// presents its own; a session cannot change credential; nothing leaks.
func TestServeCredentialPassthrough(t *testing.T) {
	h := startServe(t, func(sc *serveConfig) {
		sc.Passthrough = true
		sc.TenantsJSON = `{"tenants": [{"name": "gateway", "tokenSha256": "` + hosted.HashToken(tokenA) + `"}]}`
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	credA := map[string]string{hosted.HeaderClientID: tenantAClientID, hosted.HeaderClientSecret: tenantASecret}
	credB := map[string]string{hosted.HeaderClientID: tenantBClientID, hosted.HeaderClientSecret: tenantBSecret}

	if resp := h.do(t, http.MethodPost, "/mcp", tokenA, initBody, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("pass-through without a credential: %d, want 401", resp.StatusCode)
	}
	if resp := h.do(t, http.MethodPost, "/mcp", "", initBody, credA); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("pass-through credential without the bearer token: %d, want 401", resp.StatusCode)
	}
	for _, kind := range []string{"sse", "http"} {
		c, err := h.connect(ctx, kind, tokenA, legacy, credB)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		res := call(ctx, t, c, "get_incident", refArgs(h.refIn(workspacesB, 0)))
		if res.IsError {
			t.Errorf("%s: B's credential reading B's incident: %s", kind, text(res))
		}
		if res := call(ctx, t, c, "get_incident", refArgs(h.refIn(workspacesA, 0))); !res.IsError {
			t.Errorf("%s: B's credential read A's incident", kind)
		}
		_ = c.Close()
	}
	id := h.openStreamableWith(t, tokenA, credA)
	hdr := map[string]string{"Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18"}
	for k, v := range credB {
		hdr[k] = v
	}
	if resp := h.do(t, http.MethodPost, "/mcp", tokenA, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, hdr); resp.StatusCode != http.StatusNotFound {
		t.Errorf("A's pass-through session used with B's credential: %d, want 404", resp.StatusCode)
	}
	if strings.Contains(h.stderr.String(), tenantASecret) || strings.Contains(h.stderr.String(), tenantBSecret) {
		t.Error("a pass-through secret reached the logs")
	}
}

// openStreamableWith is openStreamable with extra headers.
func (h *harness) openStreamableWith(t *testing.T, token string, header map[string]string) string {
	t.Helper()
	resp := h.do(t, http.MethodPost, "/mcp", token, initBody, header)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("initialize: %d %s", resp.StatusCode, b)
	}
	return resp.Header.Get("Mcp-Session-Id")
}
