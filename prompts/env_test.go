package prompts_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/prompts"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/tools"
)

// env is an MCP server with the prompts, the completer and the
// list_incidents tool (sharing one cursor store with shift_handoff, as the
// server does), calling an emulator on loopback with the demo credential,
// and a connected client.
type env struct {
	emu *emulator.Emulator
	api *client.Client
	mcp *mcpclient.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, emulator.Options{})
}

// newEnvWith serves an emulator variant (a smaller API page, say).
func newEnvWith(t *testing.T, opts emulator.Options) *env {
	t.Helper()
	emu := emulator.New(opts)
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	api, err := client.New(client.Config{BaseURL: ts.URL + "/api/v2", ClientID: emulator.DemoClientID,
		ClientSecret: client.Secret(emulator.DemoClientSecret), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	getClient := func(context.Context) (*client.Client, error) { return api, nil }
	srv := server.NewMCPServer("test", "0.0.0",
		append(resources.NewCompleter(resources.Deps{Client: getClient}).ServerOptions(), server.WithToolCapabilities(false))...)
	cursors := tools.NewCursors(tools.CursorOptions{})
	d := prompts.Deps{Client: getClient, ListCursor: cursors.ListCursor}
	for _, p := range []prompts.Prompt{prompts.CloseIncident(d), prompts.TriageIncident(d), prompts.ShiftHandoff(d),
		prompts.RespondToIncident(d)} {
		srv.AddPrompt(p.Def, p.Handler)
	}
	sess := &tools.Session{Client: api, Scopes: []client.Scope{client.ScopeIncidentsRead}}
	list := tools.ListIncidents(tools.Deps{Session: func(context.Context) (*tools.Session, error) { return sess, nil }, Cursors: cursors})
	srv.AddTool(list.Def, list.Handler)
	c, err := mcpclient.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	req := mcp.InitializeRequest{}
	req.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "0"}
	if _, err := c.Initialize(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, api: api, mcp: c}
}

// get calls prompts/get.
func (e *env) get(t *testing.T, name string, args map[string]string) (*mcp.GetPromptResult, error) {
	t.Helper()
	return e.mcp.GetPrompt(t.Context(), mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: name, Arguments: args}})
}

// pick returns an incident the demo credential can read, of the given
// source, with alerts, entities and comments, and its details.
func (e *env) pick(t *testing.T, src client.Source) (client.IncidentRef, *client.IncidentDetail) {
	t.Helper()
	visible := []string{emulator.WorkspaceOwnerID, emulator.WorkspaceResponderID, emulator.WorkspaceReaderID}
	tricky := map[client.IncidentRef]bool{}
	for _, ti := range emulator.TrickyIncidents() {
		tricky[ti.Ref] = true
	}
	for _, ref := range e.emu.Refs() {
		if ref.Source != src || !slices.Contains(visible, ref.WorkspaceID) || tricky[ref] || len(e.emu.Comments(ref)) == 0 {
			continue
		}
		d, err := e.api.GetIncident(t.Context(), ref, true)
		if err != nil {
			t.Fatal(err)
		}
		if d.InvestigationDetails != nil && len(d.InvestigationDetails.Alerts) > 0 && len(d.InvestigationDetails.Entities) > 0 {
			return ref, d
		}
	}
	t.Fatalf("the emulator has no readable %s incident with alerts, entities and comments", src)
	return client.IncidentRef{}, nil
}

func tricky(t *testing.T, name string) client.IncidentRef {
	t.Helper()
	for _, ti := range emulator.TrickyIncidents() {
		if ti.Name == name {
			return ti.Ref
		}
	}
	t.Fatalf("no tricky incident %q", name)
	return client.IncidentRef{}
}

func argsOf(ref client.IncidentRef) map[string]string {
	return map[string]string{"workspaceId": ref.WorkspaceID, "source": string(ref.Source), "incidentId": ref.IncidentID}
}
