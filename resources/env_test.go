package resources_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/resources"
)

// env is an MCP server with this package's resources, completion and
// notifier, calling an emulator on loopback with the demo credential.
type env struct {
	emu      *emulator.Emulator
	api      *client.Client
	srv      *server.MCPServer
	notifier *resources.Notifier
}

type tenantKey struct{}

// withTenant marks a request's context with a tenant, as a hosted
// server's HTTP context function would.
func withTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

func tenantOf(ctx context.Context) string {
	s, _ := ctx.Value(tenantKey{}).(string)
	return s
}

func newEnv(t *testing.T) *env {
	t.Helper()
	emu := emulator.New(emulator.Options{})
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	api, err := client.New(client.Config{BaseURL: ts.URL + "/api/v2", ClientID: emulator.DemoClientID,
		ClientSecret: client.Secret(emulator.DemoClientSecret), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	deps := resources.Deps{Client: func(context.Context) (*client.Client, error) { return api, nil }}
	notifier := resources.NewNotifier(resources.NotifierOptions{Tenant: tenantOf})
	hooks := &server.Hooks{}
	notifier.AddHooks(hooks)
	opts := append([]server.ServerOption{server.WithResourceCapabilities(true, false), server.WithHooks(hooks)},
		resources.NewCompleter(deps).ServerOptions()...)
	srv := server.NewMCPServer("test", "0.0.0", opts...)
	srv.AddResourceTemplates(resources.Templates(deps)...)
	srv.AddResources(resources.Static()...)
	return &env{emu: emu, api: api, srv: srv, notifier: notifier}
}

// connect starts an in-process MCP client; legacy pins the protocol to the
// last version with resources/subscribe, else the client negotiates the
// newest (subscriptions/listen).
func (e *env) connect(t *testing.T, legacy bool) *session {
	t.Helper()
	c, err := mcpclient.NewInProcessClient(e.srv)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{Client: c, got: make(chan mcp.JSONRPCNotification, 64)}
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		select {
		case s.got <- n:
		default: // a test expecting it fails on its bounded wait
		}
	})
	ctx := t.Context()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	req := mcp.InitializeRequest{}
	req.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "0"}
	if legacy {
		req.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	}
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatal(err)
	}
	return s
}

// session is one connected MCP client and the notifications it received.
type session struct {
	*mcpclient.Client
	got chan mcp.JSONRPCNotification
}

// next returns the next notification of the given method, skipping others;
// it fails the test after a bounded wait.
func (s *session) next(t *testing.T, method string) mcp.JSONRPCNotification {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case n := <-s.got:
			if n.Method == method {
				return n
			}
		case <-timeout:
			t.Fatalf("no %s notification within 10s", method)
			return mcp.JSONRPCNotification{}
		}
	}
}

// nextUpdated returns the uri of the next notifications/resources/updated.
func (s *session) nextUpdated(t *testing.T) string {
	t.Helper()
	n := s.next(t, mcp.MethodNotificationResourceUpdated)
	uri, _ := n.Params.AdditionalFields["uri"].(string)
	return uri
}

// pick returns an incident of the emulator that the demo credential can
// read, of the given source, with alerts, entities and comments.
func (e *env) pick(t *testing.T, src client.Source) client.IncidentRef {
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
			return ref
		}
	}
	t.Fatalf("the emulator has no readable %s incident with alerts, entities and comments", src)
	return client.IncidentRef{}
}

// tricky returns the emulator's tricky incident of that name.
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

// parallel runs fn for each item concurrently and waits (used to make
// several MCP calls at once in the race tests).
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); fn(i) }()
	}
	wg.Wait()
}
