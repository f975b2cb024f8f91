package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// newTestSession returns a session on a fresh emulator.
func newTestSession(t *testing.T, scopes []client.Scope, readOnly bool) *tools.Session {
	t.Helper()
	api := httptest.NewServer(emulator.New(emulator.Options{}))
	t.Cleanup(api.Close)
	c, err := client.New(client.Config{BaseURL: api.URL + "/api/v2", ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	return &tools.Session{Client: c, Scopes: scopes, ReadOnly: readOnly}
}

type (
	toolsSession = tools.Session
	refT         = client.IncidentRef
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func filterOwnerOpen() client.IncidentFilter {
	return client.IncidentFilter{Statuses: []client.Status{client.StatusNew, client.StatusActive}}
}

func emptyPage() client.PageToken { return client.PageToken{} }

// connect returns an initialized in-process MCP client of a new server.
func connect(t *testing.T, sess *tools.Session) *mcpclient.Client {
	t.Helper()
	srv, _ := newMCPServer(serverDeps{
		Session: func(context.Context) (*tools.Session, error) { return sess, nil },
		Logger:  discardLogger(),
	})
	return connectTo(t, srv)
}

// connectTo returns an initialized in-process MCP client of srv.
func connectTo(t *testing.T, srv *server.MCPServer) *mcpclient.Client {
	t.Helper()
	return connectAs(t, srv, "test")
}

// connectAs returns an initialized in-process MCP client of srv whose
// clientInfo name is name.
func connectAs(t *testing.T, srv *server.MCPServer, name string) *mcpclient.Client {
	t.Helper()
	c, err := mcpclient.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: name, Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestScopesAndReadOnlyDecideTheTools: a tool whose scope the operator did
// not declare, or a write tool under --read-only, is neither listed nor
// callable.
func TestScopesAndReadOnlyDecideTheTools(t *testing.T) {
	reads := []string{"list_incidents", "get_incident", "whoami", "list_users", "find_related_incidents"}
	writes := []string{"update_status", "assign", "bulk_update"}
	all := append(slices.Concat(reads, writes), "add_comment", "list_gamebooks", "run_gamebook")
	tests := []struct {
		name      string
		scopes    []client.Scope
		readOnly  bool
		responses bool // --response-actions
		want      []string
	}{
		{"default scopes", defaultScopes, false, false, slices.Concat(reads, writes, []string{"add_comment"})},
		{"read scope only", []client.Scope{client.ScopeIncidentsRead}, false, false, reads},
		{"no comment scope", []client.Scope{client.ScopeIncidentsRead, client.ScopeIncidentsWrite}, false, false,
			slices.Concat(reads, writes)},
		{"read-only switch", defaultScopes, true, false, reads},
		// Response actions need their scope and the operator's switch, and
		// are writes.
		{"gamebook scopes without the switch", gamebookScopes, false, false,
			slices.Concat(reads, writes, []string{"add_comment", "list_gamebooks"})},
		{"gamebook scopes and the switch", gamebookScopes, false, true, all},
		{"the switch without the scope", defaultScopes, false, true, slices.Concat(reads, writes, []string{"add_comment"})},
		{"the switch on a read-only server", gamebookScopes, true, true, append(slices.Clone(reads), "list_gamebooks")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess := newTestSession(t, tt.scopes, tt.readOnly)
			sess.ResponseActions = tt.responses
			c := connect(t, sess)
			ctx := context.Background()
			res, err := c.ListTools(ctx, mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tool := range res.Tools {
				got = append(got, tool.Name)
			}
			slices.Sort(got) // mcp-go lists tools by name
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("offered %v, want %v", got, tt.want)
			}
			for _, name := range all {
				if slices.Contains(tt.want, name) {
					continue
				}
				req := mcp.CallToolRequest{}
				req.Params.Name = name
				req.Params.Arguments = map[string]any{}
				if _, err := c.CallTool(ctx, req); err == nil {
					t.Errorf("%s is not offered but could be called", name)
				}
			}
		})
	}
}
