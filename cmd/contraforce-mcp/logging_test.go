package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/tools"
)

// incident returns an incident of the demo data, through the tools.
func (p *stdioProc) incident(skip int) client.IncidentRef {
	p.t.Helper()
	res := p.call("tools/call", map[string]any{"name": "list_incidents", "arguments": map[string]any{"limit": skip + 1}})
	rows := res["result"].(map[string]any)["structuredContent"].(map[string]any)["incidents"].([]any)
	row := rows[skip].(map[string]any)
	return client.IncidentRef{WorkspaceID: row["workspaceId"].(string), Source: client.Source(row["source"].(string)),
		IncidentID: row["incidentId"].(string)}
}

// TestClientLoggingOverStdio: through the real binary, the server declares
// the logging capability, honours logging/setLevel, and sends the client
// the API requests made for its calls as notifications/message at debug,
// only at or above the level the client set, and never the credential.
func TestClientLoggingOverStdio(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	p := startStdio(t, "stdio", "--demo")
	if caps := p.init["result"].(map[string]any)["capabilities"].(map[string]any); caps["logging"] == nil {
		t.Fatalf("the logging capability is not declared: %v", caps)
	}
	x, y := p.incident(0), p.incident(1)

	// Before any setLevel, and at warning, the API requests are not sent.
	p.call("tools/call", map[string]any{"name": "get_incident", "arguments": refArgs(x)})
	if res := p.call("logging/setLevel", map[string]any{"level": "warning"}); res["result"] == nil {
		t.Fatalf("setLevel warning: %v", res)
	}
	p.call("tools/call", map[string]any{"name": "get_incident", "arguments": refArgs(x)})
	if code, msg := errorOf(t, p.call("logging/setLevel", map[string]any{"level": "loud"})); code != -32602 || !strings.Contains(msg, "loud") {
		t.Errorf("setLevel loud: %d %s", code, msg)
	}

	// At debug they are. Notifications are written in order, so once y's
	// arrive, any sent for x would have arrived before.
	if res := p.call("logging/setLevel", map[string]any{"level": "debug"}); res["result"] == nil {
		t.Fatalf("setLevel debug: %v", res)
	}
	p.call("tools/call", map[string]any{"name": "get_incident", "arguments": refArgs(y)})
	var got []map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for !slices.ContainsFunc(got, mentions(y.IncidentID)) && time.Now().Before(deadline) {
		p.call("ping", map[string]any{})
		got = append(got, p.logMessages()...)
	}
	if !slices.ContainsFunc(got, mentions(y.IncidentID)) {
		t.Fatalf("no log message about the API request for %s at debug: %v", y.IncidentID, got)
	}
	for _, m := range got {
		raw, _ := json.Marshal(m)
		s := string(raw)
		if strings.Contains(s, x.IncidentID) {
			t.Errorf("a request made before the client asked for debug was sent: %s", s)
		}
		if strings.Contains(s, emulator.DemoClientSecret) || strings.Contains(s, "Basic ") {
			t.Errorf("a log message carries the credential: %s", s)
		}
		data, _ := m["data"].(map[string]any)
		if m["level"] != "debug" || m["logger"] != serverName || data["message"] != "contraforce api request" ||
			data["op"] == nil || data["status"] != float64(200) || data["request_id"] == nil {
			t.Errorf("unexpected log message: %s", s)
		}
	}
}

// mentions matches a log message whose data names s.
func mentions(s string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		raw, _ := json.Marshal(m["data"])
		return strings.Contains(string(raw), strings.ReplaceAll(s, "@", "%40")) || strings.Contains(string(raw), s)
	}
}

// notes collects an MCP client's log notifications.
type notes struct {
	mu  sync.Mutex
	got []mcp.JSONRPCNotification
}

func (n *notes) add(msg mcp.JSONRPCNotification) {
	if msg.Method == string(mcp.MethodNotificationMessage) {
		n.mu.Lock()
		n.got = append(n.got, msg)
		n.mu.Unlock()
	}
}

// messages returns the params of the log notifications received so far.
func (n *notes) messages() []map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []map[string]any
	for _, m := range n.got {
		raw, _ := json.Marshal(m.Params)
		var p map[string]any
		_ = json.Unmarshal(raw, &p)
		out = append(out, p)
	}
	return out
}

// TestRetriesReachTheAgentAsNotices: an API retry (here after a 429) is
// sent to a client at level notice, without the debug detail of every
// request, so an agent learns why an answer is slow.
func TestRetriesReachTheAgentAsNotices(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	var throttled atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if throttled.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"type":"about:blank","title":"Too Many Requests","status":429,"code":"RATE_LIMITED","detail":"slow down"}`)
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	log := newLogger(io.Discard, slog.LevelError)
	c, err := client.New(client.Config{BaseURL: api.URL + "/api/v2", ClientID: emulator.DemoClientID,
		ClientSecret: emulator.DemoClientSecret, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sess := &tools.Session{Client: c, Scopes: defaultScopes}
	srv, _ := newMCPServer(serverDeps{Session: func(context.Context) (*tools.Session, error) { return sess, nil }, Logger: log})
	mc := connectTo(t, srv)
	var n notes
	mc.OnNotification(n.add)
	ctx := context.Background()
	if err := mc.SetLevel(ctx, mcp.SetLevelRequest{Params: mcp.SetLevelParams{Level: mcp.LoggingLevelNotice}}); err != nil {
		t.Fatal(err)
	}
	call(ctx, t, mc, "list_incidents", map[string]any{"limit": 1})
	eventually(t, 5*time.Second, "a notice of the retry", func() bool { return len(n.messages()) > 0 })
	for _, m := range n.messages() {
		data, _ := m["data"].(map[string]any)
		if m["level"] != "notice" || data["message"] != "contraforce api retry" || data["op"] == nil || data["attempt"] != float64(1) ||
			!strings.Contains(fmt.Sprint(data["reason"]), "RATE_LIMITED") {
			t.Errorf("want only the retry, at notice: %v", m)
		}
	}
}

// TestServeLogsAndInstructionsPerSession: through the real binary serving
// two tenants over streamable HTTP, each session is told only of its own
// requests, at the level it set (another session of the same tenant that
// set none is told nothing), and its instructions name only what its
// tenant is offered: none of the write tools or the closing prompt for a
// read-only tenant.
func TestServeLogsAndInstructionsPerSession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tokenRO, tokenRW := "cfmcp_test-token-read-only-0123456789abcdefghijkl", "cfmcp_test-token-read-write-0123456789abcdefghijk"
	tenants := filepath.Join(t.TempDir(), "tenants.json")
	if err := os.WriteFile(tenants, fmt.Appendf(nil, `{"tenants": [
		{"name": "ro", "tokenSha256": %q, "clientId": %q, "clientSecretEnv": "DEMO_SECRET", "readOnly": true},
		{"name": "rw", "tokenSha256": %q, "clientId": %q, "clientSecretEnv": "DEMO_SECRET"}]}`,
		hosted.HashToken(tokenRO), emulator.DemoClientID, hosted.HashToken(tokenRW), emulator.DemoClientID), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startServeBinary(t, []string{"DEMO_SECRET=" + emulator.DemoClientSecret},
		"serve", "--demo", "--tenants-file", tenants, "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	ro, roInit, roNotes := connectHTTP(ctx, t, base, tokenRO)
	ro2, _, ro2Notes := connectHTTP(ctx, t, base, tokenRO)
	rw, rwInit, rwNotes := connectHTTP(ctx, t, base, tokenRW)

	writes := []string{"update_status", "add_comment", "assign", "close_incident"}
	for _, w := range writes {
		if strings.Contains(roInit.Instructions, w) {
			t.Errorf("the read-only tenant's instructions name %s:\n%s", w, roInit.Instructions)
		}
		if !strings.Contains(rwInit.Instructions, w) {
			t.Errorf("the read-write tenant's instructions lack %s:\n%s", w, rwInit.Instructions)
		}
	}
	if !strings.Contains(roInit.Instructions, "can read incidents but not change them") || strings.Contains(roInit.Instructions, "you post") {
		t.Errorf("the read-only instructions promise writing:\n%s", roInit.Instructions)
	}

	for _, c := range []*mcpclient.Client{ro, rw} {
		if err := c.SetLevel(ctx, mcp.SetLevelRequest{Params: mcp.SetLevelParams{Level: mcp.LoggingLevelDebug}}); err != nil {
			t.Fatal(err)
		}
	}
	page := call(ctx, t, ro, "list_incidents", map[string]any{"limit": 2}).StructuredContent
	raw, _ := json.Marshal(page)
	var listed struct{ Incidents []client.IncidentRef }
	if err := json.Unmarshal(raw, &listed); err != nil || len(listed.Incidents) < 2 {
		t.Fatalf("list_incidents: %s", raw)
	}
	a, b := listed.Incidents[0], listed.Incidents[1]
	call(ctx, t, ro, "get_incident", refArgs(a))
	eventually(t, 10*time.Second, "the read-only session's own log messages", func() bool {
		return slices.ContainsFunc(roNotes.messages(), mentions(a.IncidentID))
	})
	call(ctx, t, rw, "get_incident", refArgs(b))
	eventually(t, 10*time.Second, "the read-write session's own log messages", func() bool {
		return slices.ContainsFunc(rwNotes.messages(), mentions(b.IncidentID))
	})
	call(ctx, t, ro2, "get_incident", refArgs(b))
	time.Sleep(200 * time.Millisecond) // what was sent in error would have arrived by now

	for _, m := range rwNotes.messages() {
		if !mentions(b.IncidentID)(m) {
			t.Errorf("the read-write tenant was told of a request it did not make: %v", m)
		}
	}
	if slices.ContainsFunc(roNotes.messages(), mentions(b.IncidentID)) {
		t.Errorf("a session was told of another tenant's or session's requests: %v", roNotes.messages())
	}
	if got := ro2Notes.messages(); len(got) > 0 {
		t.Errorf("a session that set no level was sent %d log messages: %v", len(got), got)
	}
	for _, m := range append(roNotes.messages(), rwNotes.messages()...) {
		s := fmt.Sprint(m)
		if m["level"] != "debug" || strings.Contains(s, emulator.DemoClientSecret) || strings.Contains(s, tokenRO) || strings.Contains(s, tokenRW) {
			t.Errorf("unexpected log message: %v", m)
		}
	}
}

// startServeBinary starts the real binary's serve command on loopback and
// returns its base URL, read from its start-up log line.
func startServeBinary(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, buildBinary(t), args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	started := regexp.MustCompile(`streamable=(http://127\.0\.0\.1:[0-9]+)/mcp`)
	var base string
	eventually(t, 20*time.Second, "serve's start-up log line", func() bool {
		if m := started.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		}
		return base != ""
	})
	return base
}

// connectHTTP opens a streamable HTTP session (protocol 2025-11-25, with
// the server-to-client stream open) and collects its log notifications.
func connectHTTP(ctx context.Context, t *testing.T, base, token string) (*mcpclient.Client, *mcp.InitializeResult, *notes) {
	t.Helper()
	hc := &http.Client{Transport: bearerTransport{token: token, next: http.DefaultTransport}}
	tr, err := transport.NewStreamableHTTP(base+"/mcp", transport.WithHTTPBasicClient(hc), transport.WithContinuousListening())
	if err != nil {
		t.Fatal(err)
	}
	c := mcpclient.NewClient(tr, mcpclient.WithProtocolVersion(mcp.ProtocolVersion20251125))
	n := &notes{}
	c.OnNotification(n.add)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	req.Params.ClientInfo = mcp.Implementation{Name: "logging-test", Version: "1"}
	init, err := c.Initialize(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return c, init, n
}

// TestInstructionsNameOnlyWhatIsOffered: for every combination of scopes
// and read-only switch, the instructions an MCP client receives name
// exactly the tools and prompts it is offered.
func TestInstructionsNameOnlyWhatIsOffered(t *testing.T) {
	tests := []struct {
		name     string
		scopes   []client.Scope
		readOnly bool
	}{
		{"default scopes", defaultScopes, false},
		{"read-only switch", defaultScopes, true},
		{"read scope only", []client.Scope{client.ScopeIncidentsRead}, false},
		{"no comment scope", []client.Scope{client.ScopeIncidentsRead, client.ScopeIncidentsWrite}, false},
		{"no scope", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess := newTestSession(t, tt.scopes, tt.readOnly)
			srv, surf := newMCPServer(serverDeps{Session: func(context.Context) (*tools.Session, error) { return sess, nil }, Logger: discardLogger()})
			c, err := mcpclient.NewInProcessClient(srv)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			ctx := context.Background()
			if err := c.Start(ctx); err != nil {
				t.Fatal(err)
			}
			req := mcp.InitializeRequest{}
			req.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
			req.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
			init, err := c.Initialize(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			text := init.Instructions
			listedTools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			listedPrompts, err := c.ListPrompts(ctx, mcp.ListPromptsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			for _, tool := range surf.Tools {
				offered := slices.ContainsFunc(listedTools.Tools, func(x mcp.Tool) bool { return x.Name == tool.Def.Name })
				if strings.Contains(text, tool.Def.Name) != offered {
					t.Errorf("tool %s offered=%v but named=%v in:\n%s", tool.Def.Name, offered, !offered, text)
				}
			}
			for _, p := range surf.Prompts {
				offered := slices.ContainsFunc(listedPrompts.Prompts, func(x mcp.Prompt) bool { return x.Name == p.Def.Name })
				if strings.Contains(text, p.Def.Name) != offered {
					t.Errorf("prompt %s offered=%v but named=%v in:\n%s", p.Def.Name, offered, !offered, text)
				}
			}
			canWrite := slices.ContainsFunc(listedTools.Tools, func(x mcp.Tool) bool { return x.Name == "update_status" })
			if strings.Contains(text, "every comment you post") != canWrite {
				t.Errorf("writes offered=%v, but the instructions say otherwise:\n%s", canWrite, text)
			}
			if !strings.Contains(text, resources.ClosurePolicyURI) {
				t.Errorf("the instructions lack the policy resource:\n%s", text)
			}
		})
	}
}
