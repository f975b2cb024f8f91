package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
)

// Two tenants on one emulator: A has roles on two workspaces, B on another.
const (
	tenantAClientID = "aaaaaaaa-0000-4000-8000-00000000000a"
	tenantASecret   = "cf_sa_tenantA_secret_0123456789abcdef"
	tenantBClientID = "bbbbbbbb-0000-4000-8000-00000000000b"
	tenantBSecret   = "cf_sa_tenantB_secret_0123456789abcdef"
	tokenA          = "cfmcp_test-token-tenant-A-0123456789abcdefghijkl"
	tokenB          = "cfmcp_test-token-tenant-B-0123456789abcdefghijkl"
)

var (
	workspacesA = []string{emulator.WorkspaceOwnerID, emulator.WorkspaceResponderID}
	workspacesB = []string{emulator.WorkspaceNoRoleID}
)

// harness is a running `serve` on loopback with tenants A and B.
type harness struct {
	t       *testing.T
	emu     *emulator.Emulator
	api     *httptest.Server
	url     string
	srv     *hosted.Server
	apiHTTP *http.Client // the server's pool of API connections
	// clientTransport, when set, carries the test clients' requests, with
	// the bearer token on every one: mcp-go's streamable client sends its
	// closing DELETE without the configured headers.
	clientTransport http.RoundTripper
	auditLog        string
	stderr          *syncBuffer
	stop            context.CancelFunc
	done            chan error
}

// startServe starts the serve command's server; mutate adjusts the
// configuration first.
func startServe(t *testing.T, mutate func(*serveConfig)) *harness {
	t.Helper()
	emu := emulator.New(emulator.Options{})
	all := []client.Scope{client.ScopeIncidentsRead, client.ScopeIncidentsWrite, client.ScopeIncidentsComments}
	emu.AddCredential(emulator.Credential{ClientID: tenantAClientID, ClientSecret: tenantASecret, Name: "tenant-a-bot", Scopes: all,
		Roles: map[string]client.WorkspaceRole{emulator.WorkspaceOwnerID: client.RoleOwner, emulator.WorkspaceResponderID: client.RoleIncidentResponder}})
	emu.AddCredential(emulator.Credential{ClientID: tenantBClientID, ClientSecret: tenantBSecret, Name: "tenant-b-bot", Scopes: all,
		Roles: map[string]client.WorkspaceRole{emulator.WorkspaceNoRoleID: client.RoleIncidentResponder}})
	api := httptest.NewServer(emu)
	t.Cleanup(api.Close)

	h := &harness{t: t, emu: emu, api: api, auditLog: filepath.Join(t.TempDir(), "audit.jsonl"), stderr: &syncBuffer{}}
	sc := serveConfig{
		config: config{BaseURL: api.URL + "/api/v2", Timeout: 10 * time.Second, Scopes: defaultScopes, LogLevel: slog.LevelWarn},
		Addr:   "127.0.0.1:0",
		TenantsJSON: fmt.Sprintf(`{"tenants": [
			{"name": "tenant-a", "tokenSha256": %q, "clientId": %q, "clientSecretEnv": "SECRET_A"},
			{"name": "tenant-b", "tokenSha256": [%q], "clientId": %q, "clientSecretEnv": "SECRET_B"}]}`,
			hosted.HashToken(tokenA), tenantAClientID, hosted.HashToken(tokenB), tenantBClientID),
		MaxSessions: 1000, MaxSessionsPerTenant: 100, ToolCallsPerSecond: 0, ToolCallBurst: 20,
		SessionIdleTTL: time.Hour, ShutdownTimeout: 10 * time.Second, AuditLog: h.auditLog,
		MetricsAddr: "127.0.0.1:0",
	}
	if mutate != nil {
		mutate(&sc)
	}
	getenv := func(k string) string {
		return map[string]string{"SECRET_A": tenantASecret, "SECRET_B": tenantBSecret}[k]
	}
	log := slog.New(slog.NewTextHandler(h.stderr, &slog.HandlerOptions{Level: sc.LogLevel}))
	inst, err := newServe(sc, log, h.stderr, getenv)
	if err != nil {
		t.Fatalf("newServe: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http://"
	if sc.TLSCert != "" {
		scheme = "https://"
	}
	h.url, h.srv, h.apiHTTP = scheme+ln.Addr().String(), inst.srv, inst.apiHTTP
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.done = cancel, make(chan error, 1)
	go func() { h.done <- inst.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		h.shutdown()
		inst.cleanup()
	})
	return h
}

// shutdown stops the server (as SIGTERM does) and returns Serve's result.
func (h *harness) shutdown() error {
	h.stop()
	select {
	case err := <-h.done:
		h.done <- err // later calls see it too
		return err
	case <-time.After(30 * time.Second):
		h.t.Fatal("Serve did not return within 30s of shutdown")
		return nil
	}
}

// Protocol eras the streamable transport serves.
const (
	legacy = mcp.ProtocolVersion20251125 // initialize handshake, Mcp-Session-Id
	modern = ""                          // the client's default: session-less 2026-07-28
)

// connect opens an initialized MCP client session: transport "sse" or
// "http"; version pins the protocol (legacy) or leaves the default.
func (h *harness) connect(ctx context.Context, kind, token, version string, headers map[string]string) (*mcpclient.Client, error) {
	hdr := map[string]string{}
	if token != "" {
		hdr["Authorization"] = "Bearer " + token
	}
	for k, v := range headers {
		hdr[k] = v
	}
	var opts []mcpclient.ClientOption
	if version != "" {
		opts = append(opts, mcpclient.WithProtocolVersion(version))
	}
	var c *mcpclient.Client
	switch kind {
	case "sse":
		topts := []transport.ClientOption{transport.WithHeaders(hdr)}
		if hc := h.clientHTTP(token); hc != nil {
			topts = append(topts, transport.WithHTTPClient(hc))
		}
		tr, err := transport.NewSSE(h.url+"/sse", topts...)
		if err != nil {
			return nil, err
		}
		c = mcpclient.NewClient(tr, opts...)
	default:
		topts := []transport.StreamableHTTPCOption{transport.WithHTTPHeaders(hdr)}
		if hc := h.clientHTTP(token); hc != nil {
			topts = append(topts, transport.WithHTTPBasicClient(hc))
		}
		tr, err := transport.NewStreamableHTTP(h.url+"/mcp", topts...)
		if err != nil {
			return nil, err
		}
		c = mcpclient.NewClient(tr, opts...)
	}
	if err := c.Start(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = version
	req.Params.ClientInfo = mcp.Implementation{Name: "e2e-test", Version: "1.2.3"}
	if _, err := c.Initialize(ctx, req); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// clientHTTP returns the clients' HTTP client for a token, or nil.
func (h *harness) clientHTTP(token string) *http.Client {
	if h.clientTransport == nil {
		return nil
	}
	return &http.Client{Transport: bearerTransport{token: token, next: h.clientTransport}}
}

// bearerTransport adds the bearer token to every request that lacks one.
type bearerTransport struct {
	token string
	next  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" && b.token != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.next.RoundTrip(r)
}

// mustConnect is connect that fails the test, and closes the client at the end.
func (h *harness) mustConnect(ctx context.Context, kind, token, version string) *mcpclient.Client {
	h.t.Helper()
	c, err := h.connect(ctx, kind, token, version, nil)
	if err != nil {
		h.t.Fatalf("connect %s: %v", kind, err)
	}
	h.t.Cleanup(func() { _ = c.Close() })
	return c
}

// call calls a tool and returns its result (a protocol error fails the test).
func call(ctx context.Context, t *testing.T, c *mcpclient.Client, tool string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = tool, args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return res
}

// text joins a result's text contents.
func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := mcp.AsTextContent(c); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// refIn returns an incident of the emulator in one of the workspaces.
func (h *harness) refIn(workspaces []string, skip int) client.IncidentRef {
	h.t.Helper()
	for _, r := range h.emu.Refs() {
		for _, w := range workspaces {
			if r.WorkspaceID == w {
				if skip == 0 {
					return r
				}
				skip--
			}
		}
	}
	h.t.Fatalf("no incident in %v", workspaces)
	return client.IncidentRef{}
}

func refArgs(r client.IncidentRef) map[string]any {
	return map[string]any{"workspaceId": r.WorkspaceID, "source": string(r.Source), "incidentId": r.IncidentID}
}

// do sends a raw HTTP request to the server.
func (h *harness) do(t *testing.T, method, path, token string, body string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// initBody is a legacy initialize request.
const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// openStreamable initializes a legacy streamable session with raw HTTP and
// returns its id.
func (h *harness) openStreamable(t *testing.T, token string) string {
	t.Helper()
	resp := h.do(t, http.MethodPost, "/mcp", token, initBody, nil)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("initialize: %d %s", resp.StatusCode, b)
	}
	id := resp.Header.Get("Mcp-Session-Id")
	if id == "" {
		t.Fatal("initialize gave no Mcp-Session-Id")
	}
	return id
}

// sseStream is a raw SSE stream: its message endpoint and its events.
type sseStream struct {
	endpoint string
	events   chan string
	closed   chan struct{}
	resp     *http.Response
}

// openSSE opens an SSE stream with raw HTTP and waits for its endpoint.
func (h *harness) openSSE(t *testing.T, token string) *sseStream {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.url+"/sse", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET /sse: %d %s", resp.StatusCode, b)
	}
	s := &sseStream{events: make(chan string, 64), closed: make(chan struct{}), resp: resp}
	t.Cleanup(func() { resp.Body.Close() })
	endpoint := make(chan string, 1)
	go func() {
		defer close(s.closed)
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			switch {
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				data := strings.TrimSpace(strings.TrimPrefix(line, "data:"))
				if event == "endpoint" {
					endpoint <- data
				} else {
					select {
					case s.events <- data:
					default:
					}
				}
			}
		}
	}()
	select {
	case s.endpoint = <-endpoint:
	case <-time.After(10 * time.Second):
		t.Fatal("no endpoint event on the SSE stream")
	}
	return s
}

// metric returns the value of one exposition line's series, or -1.
func (h *harness) metric(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + h.srv.MetricsAddr().String() + "/metrics") // the separate metrics listener
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && name == series {
			var v float64
			_, _ = fmt.Sscan(value, &v)
			return v
		}
	}
	return -1
}

// eventually polls cond every 20ms for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// auditRecords reads the audit log.
func (h *harness) auditRecords(t *testing.T) (string, []hosted.AuditRecord) {
	t.Helper()
	raw, err := os.ReadFile(h.auditLog)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var recs []hosted.AuditRecord
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line == "" {
			continue
		}
		var r hosted.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return string(raw), recs
}

// syncBuffer is a goroutine-safe buffer for logs.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
