package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/santhosh-tekuri/jsonschema/v6"

	mcpclient "github.com/mark3labs/mcp-go/client"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// fixedNow is the clock of every test emulator: datasets and time windows
// are then the same on every run.
var fixedNow = time.Date(2026, 4, 15, 20, 0, 0, 0, time.UTC)

// toolNames lists the tools of this package in registration order.
var toolNames = []string{"list_incidents", "get_incident", "update_status", "add_comment", "assign",
	"whoami", "list_users", "find_related_incidents", "bulk_update", "list_gamebooks", "run_gamebook"}

// env is one emulator behind a loopback HTTP server.
type env struct {
	t   *testing.T
	emu *emulator.Emulator
	url string // the API root, …/api/v2
}

// newEnv starts an emulator with a fixed clock on 127.0.0.1.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, emulator.Options{})
}

// newEnvWith starts an emulator variant (detail shape, paging) with a fixed clock.
func newEnvWith(t *testing.T, opts emulator.Options) *env {
	t.Helper()
	opts.Now = func() time.Time { return fixedNow }
	emu := emulator.New(opts)
	srv := httptest.NewServer(emu) // httptest listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return &env{t: t, emu: emu, url: srv.URL + "/api/v2"}
}

// cred is one of the emulator's service-account credentials.
type cred struct{ id, secret string }

var (
	demoCred      = cred{emulator.DemoClientID, emulator.DemoClientSecret}
	readerCred    = cred{emulator.ReaderClientID, emulator.ReaderClientSecret}
	noCommentCred = cred{emulator.ResponderNoCommentClientID, emulator.ResponderNoCommentClientSecret}
)

// session builds a tools.Session whose client calls the emulator with c;
// adjust may change the client's configuration (allowlist, retries) first.
func (e *env) session(c cred, adjust ...func(*client.Config)) *tools.Session {
	e.t.Helper()
	cfg := client.Config{
		BaseURL: e.url, ClientID: c.id, ClientSecret: client.Secret(c.secret),
		Timeout: 10 * time.Second, MaxRetryTime: 10 * time.Second,
		// No keep-alive: a connection the emulator drops then never looks
		// like a stale pooled one that the transport would silently replay.
		HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
	for _, a := range adjust {
		a(&cfg)
	}
	api, err := client.New(cfg)
	if err != nil {
		e.t.Fatalf("client.New: %v", err)
	}
	return &tools.Session{Client: api,
		Scopes: []client.Scope{client.ScopeIncidentsRead, client.ScopeIncidentsWrite, client.ScopeIncidentsComments}}
}

// conn is an MCP client connected in process to a server offering every
// tool of this package under one session.
type conn struct {
	t   *testing.T
	c   *mcpclient.Client
	srv *server.MCPServer
}

// newServer builds the MCP server of the tools with deps. mcp-go's own
// output validation is on as well: a result that breaks its outputSchema
// then fails twice over, in mcp-go's validator and in conn.ok's.
func newServer(deps tools.Deps) *server.MCPServer {
	srv := server.NewMCPServer("contraforce-mcp-test", "0.0.0", server.WithToolCapabilities(false),
		server.WithOutputSchemaValidation())
	for _, mk := range []func(tools.Deps) tools.Tool{
		tools.ListIncidents, tools.GetIncident, tools.UpdateStatus, tools.AddComment, tools.Assign,
		tools.Whoami, tools.ListUsers, tools.FindRelatedIncidents, tools.BulkUpdate, tools.ListGamebooks, tools.RunGamebook,
	} {
		tool := mk(deps)
		srv.AddTool(tool.Def, tool.Handler)
	}
	return srv
}

// noDeps are dependencies for tests that never call a tool.
func noDeps() tools.Deps {
	return tools.Deps{Session: func(context.Context) (*tools.Session, error) {
		return nil, errors.New("no session in this test")
	}}
}

// connect serves the tools with sess and connects a client that introduces
// itself as clientName.
func connect(t *testing.T, sess *tools.Session, clientName string) *conn {
	t.Helper()
	return connectDeps(t, tools.Deps{Session: func(context.Context) (*tools.Session, error) { return sess, nil }}, clientName)
}

// connectDeps serves the tools with deps and connects a client.
func connectDeps(t *testing.T, deps tools.Deps, clientName string) *conn {
	t.Helper()
	return connectServer(t, newServer(deps), clientName, "")
}

// connectServer connects an in-process client to srv; protocol pins the
// protocol version ("" lets the client negotiate the newest).
func connectServer(t *testing.T, srv *server.MCPServer, clientName, protocol string) *conn {
	t.Helper()
	c, err := mcpclient.NewInProcessClient(srv)
	if err != nil {
		t.Fatalf("NewInProcessClient: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	var init mcp.InitializeRequest
	init.Params.ClientInfo = mcp.Implementation{Name: clientName, Version: "1.0.0"}
	init.Params.ProtocolVersion = protocol
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	return &conn{t: t, c: c, srv: srv}
}

// call calls a tool and fails the test on a protocol error: every failure
// of a tool must come back as a result.
func (c *conn) call(name string, args any) *mcp.CallToolResult {
	c.t.Helper()
	res, err := c.tryCall(name, args)
	if err != nil {
		c.t.Fatalf("%s: protocol error %v; want a tool result", name, err)
	}
	return res
}

// tryCall calls a tool; it is safe for concurrent use (no t.Fatal).
func (c *conn) tryCall(name string, args any) (*mcp.CallToolResult, error) {
	var req mcp.CallToolRequest
	req.Params.Name = name
	req.Params.Arguments = args
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.c.CallTool(ctx, req)
}

// ok calls a tool that must succeed. It checks what every successful result
// must carry: a text content and a structuredContent that validates against
// the tool's outputSchema (arguments, in turn, against its inputSchema); it
// decodes the structured content into out (a pointer) and returns the text.
func (c *conn) ok(name string, args any, out any) string {
	c.t.Helper()
	schemas := toolSchemas(c.t)[name]
	if err := schemas.in.Validate(roundTrip(c.t, args)); err != nil {
		c.t.Fatalf("%s: the test's arguments do not validate against the inputSchema: %v", name, err)
	}
	res := c.call(name, args)
	text := textOf(c.t, res)
	if res.IsError {
		c.t.Fatalf("%s(%v): isError, want success: %s", name, args, text)
	}
	if len(res.RawStructuredContent) == 0 {
		c.t.Fatalf("%s: no structuredContent; text: %s", name, text)
	}
	if err := schemas.out.Validate(roundTrip(c.t, res.RawStructuredContent)); err != nil {
		c.t.Fatalf("%s: structuredContent does not validate against the outputSchema: %v\n%s", name, err, res.RawStructuredContent)
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(res.RawStructuredContent))
		dec.DisallowUnknownFields()
		if err := dec.Decode(out); err != nil {
			c.t.Fatalf("%s: decode structuredContent: %v", name, err)
		}
	}
	return text
}

// fail calls a tool that must fail with a tool error, and returns its text.
func (c *conn) fail(name string, args any) string {
	c.t.Helper()
	res := c.call(name, args)
	text := textOf(c.t, res)
	if !res.IsError {
		c.t.Fatalf("%s(%v): succeeded, want isError; text: %s", name, args, text)
	}
	if text == "" {
		c.t.Fatalf("%s: tool error without a sentence", name)
	}
	return text
}

// textOf returns the single text content of a result.
func textOf(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("result has %d contents, want exactly one text content", len(res.Content))
	}
	tc, ok := mcp.AsTextContent(res.Content[0])
	if !ok {
		t.Fatalf("content is %T, want text", res.Content[0])
	}
	return tc.Text
}

// wantAll fails unless s contains every one of parts.
func wantAll(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("missing %q in:\n%s", p, s)
		}
	}
}

// roundTrip turns v into the generic JSON value the schema validator takes.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("unmarshal %s: %v", raw, err)
	}
	return doc
}

// listToolsRaw returns tools/list's result exactly as the server sends it:
// the client's typed ListTools drops schema keywords it does not model.
func (c *conn) listToolsRaw() []json.RawMessage {
	c.t.Helper()
	resp, err := c.c.GetTransport().SendRequest(context.Background(), transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(int64(9001)), Method: string(mcp.MethodToolsList)})
	if err != nil {
		c.t.Fatalf("tools/list: %v", err)
	}
	if resp.Error != nil {
		c.t.Fatalf("tools/list: %v", resp.Error.Message)
	}
	var res struct {
		Tools []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		c.t.Fatalf("decode tools/list: %v", err)
	}
	return res.Tools
}

// toolSchema is a tool's compiled input and output schemas.
type toolSchema struct{ in, out *jsonschema.Schema }

var (
	schemasOnce sync.Once
	schemas     map[string]toolSchema
	schemasErr  error
)

// toolSchemas compiles every tool's schemas, as tools/list publishes them,
// with a JSON Schema 2020-12 validator independent of package schema.
func toolSchemas(t *testing.T) map[string]toolSchema {
	t.Helper()
	schemasOnce.Do(func() {
		schemas, schemasErr = compileSchemas()
	})
	if schemasErr != nil {
		t.Fatalf("compile tool schemas: %v", schemasErr)
	}
	return schemas
}

func compileSchemas() (map[string]toolSchema, error) {
	out := map[string]toolSchema{}
	srv := newServer(noDeps())
	for _, st := range srv.ListTools() {
		def := st.Tool
		in, err := compileSchema(def.Name+".input", def.RawInputSchema)
		if err != nil {
			return nil, err
		}
		o, err := compileSchema(def.Name+".output", def.RawOutputSchema)
		if err != nil {
			return nil, err
		}
		out[def.Name] = toolSchema{in, o}
	}
	return out, nil
}

func compileSchema(name string, raw json.RawMessage) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "mem:///" + name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// findRef returns the first incident, in the emulator's stable order, that
// satisfies pred.
func (e *env) findRef(pred func(client.IncidentRef, emulator.IncidentState) bool) client.IncidentRef {
	e.t.Helper()
	for _, ref := range e.emu.Refs() {
		inc, _ := e.emu.Incident(ref)
		if pred(ref, inc) {
			return ref
		}
	}
	e.t.Fatal("no incident in the emulator matches")
	return client.IncidentRef{}
}

// open selects an incident of workspace ws and source src that is not closed.
func open(ws string, src client.Source) func(client.IncidentRef, emulator.IncidentState) bool {
	return func(ref client.IncidentRef, inc emulator.IncidentState) bool {
		return ref.WorkspaceID == ws && ref.Source == src && inc.Status != client.StatusClosed
	}
}

// refArgs are the three identifying arguments of ref, plus extra.
func refArgs(ref client.IncidentRef, extra map[string]any) map[string]any {
	args := map[string]any{"workspaceId": ref.WorkspaceID, "source": string(ref.Source), "incidentId": ref.IncidentID}
	for k, v := range extra {
		args[k] = v
	}
	return args
}
