package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// elicitor answers elicitation requests as a human would, and records them.
type elicitor struct {
	action  mcp.ElicitationResponseAction
	confirm bool
	asked   atomic.Int32
	message atomic.Value
}

func (e *elicitor) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	e.asked.Add(1)
	e.message.Store(req.Params.Message)
	res := &mcp.ElicitationResult{}
	res.Action = e.action
	if e.action == mcp.ElicitationResponseActionAccept {
		res.Content = map[string]any{"confirm": e.confirm}
	}
	return res, nil
}

// openSentinel returns an open Sentinel incident in the workspace the demo
// credential owns.
func openSentinel(t *testing.T, emu *emulator.Emulator) (client.IncidentRef, emulator.IncidentState) {
	t.Helper()
	for _, ref := range emu.Refs() {
		inc, _ := emu.Incident(ref)
		if ref.WorkspaceID == emulator.WorkspaceOwnerID && ref.Source == client.SourceSentinel && inc.Status != client.StatusClosed {
			return ref, inc
		}
	}
	t.Fatal("no open Sentinel incident in the owner workspace")
	return client.IncidentRef{}, emulator.IncidentState{}
}

// TestConfirmBeforeClosing covers the confirmation policy: the human is
// asked when the client can ask; a decline or cancel leaves the incident
// untouched and says so; "always" refuses when the client cannot ask.
func TestConfirmBeforeClosing(t *testing.T) {
	tests := []struct {
		name      string
		policy    tools.ConfirmPolicy
		human     *elicitor // nil: the client does not support elicitation
		legacy    bool      // speak a protocol version before multi round-trip requests
		dryRun    bool
		wantAsked bool
		wantClose bool
		wantText  string
	}{
		{name: "accepted", policy: tools.ConfirmAuto, human: &elicitor{action: mcp.ElicitationResponseActionAccept, confirm: true},
			wantAsked: true, wantClose: true, wantText: "Closed"},
		{name: "accepted, legacy elicitation/create", policy: tools.ConfirmAuto, legacy: true,
			human: &elicitor{action: mcp.ElicitationResponseActionAccept, confirm: true}, wantAsked: true, wantClose: true, wantText: "Closed"},
		{name: "accepted without ticking", policy: tools.ConfirmAuto, human: &elicitor{action: mcp.ElicitationResponseActionAccept},
			wantAsked: true, wantText: "declined"},
		{name: "declined", policy: tools.ConfirmAuto, human: &elicitor{action: mcp.ElicitationResponseActionDecline},
			wantAsked: true, wantText: "declined"},
		{name: "declined, legacy", policy: tools.ConfirmAuto, legacy: true, human: &elicitor{action: mcp.ElicitationResponseActionDecline},
			wantAsked: true, wantText: "declined"},
		{name: "cancelled", policy: tools.ConfirmAlways, human: &elicitor{action: mcp.ElicitationResponseActionCancel},
			wantAsked: true, wantText: "declined"},
		{name: "auto, client cannot ask", policy: tools.ConfirmAuto, wantClose: true, wantText: "Closed"},
		{name: "always, client cannot ask", policy: tools.ConfirmAlways, wantText: "cannot ask"},
		{name: "never", policy: tools.ConfirmNever, human: &elicitor{action: mcp.ElicitationResponseActionDecline},
			wantClose: true, wantText: "Closed"},
		{name: "dry run asks nothing", policy: tools.ConfirmAlways, dryRun: true, human: &elicitor{action: mcp.ElicitationResponseActionDecline},
			wantText: "dry run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := emulator.New(emulator.Options{})
			api := httptest.NewServer(emu)
			defer api.Close()
			cc, err := client.New(client.Config{BaseURL: api.URL + "/api/v2", ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret})
			if err != nil {
				t.Fatal(err)
			}
			sess := &tools.Session{Client: cc, Scopes: defaultScopes}
			srv, _ := newMCPServer(serverDeps{
				Session:      func(context.Context) (*tools.Session, error) { return sess, nil },
				Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
				ConfirmClose: tt.policy,
			})
			var opts []mcpclient.ClientOption
			if tt.human != nil {
				opts = append(opts, mcpclient.WithElicitationHandler(tt.human))
			}
			if tt.legacy {
				opts = append(opts, mcpclient.WithLegacyProtocolOnly())
			}
			c, err := mcpclient.NewInProcessClientWithOptions(srv, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			if err := c.Start(ctx); err != nil {
				t.Fatal(err)
			}
			init := mcp.InitializeRequest{}
			init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
			if tt.legacy {
				init.Params.ProtocolVersion = "2025-06-18"
			}
			init.Params.ClientInfo = mcp.Implementation{Name: "claude-ai", Version: "1"}
			if tt.human != nil {
				init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
			}
			if _, err := c.Initialize(ctx, init); err != nil {
				t.Fatal(err)
			}

			ref, before := openSentinel(t, emu)
			commentsBefore := len(emu.Comments(ref))
			req := mcp.CallToolRequest{}
			req.Params.Name = "update_status"
			req.Params.Arguments = map[string]any{
				"workspaceId": ref.WorkspaceID, "source": string(ref.Source), "incidentId": ref.IncidentID,
				"status": "Closed", "classification": "BenignPositive", "classificationReason": "SuspiciousButExpected",
				"comment": "Admin maintenance window, confirmed with the change ticket.", "dryRun": tt.dryRun,
			}
			res, err := c.CallTool(ctx, req)
			if err != nil {
				t.Fatalf("protocol error: %v", err)
			}
			text := res.Content[0].(mcp.TextContent).Text
			if !strings.Contains(text, tt.wantText) {
				t.Errorf("result %q lacks %q", text, tt.wantText)
			}
			asked := tt.human != nil && tt.human.asked.Load() > 0
			if asked != tt.wantAsked {
				t.Errorf("human asked: %v, want %v", asked, tt.wantAsked)
			}
			if asked {
				msg, _ := tt.human.message.Load().(string)
				if !strings.Contains(msg, before.Title) || !strings.Contains(msg, "→ Closed") || !strings.Contains(msg, "Admin maintenance") {
					t.Errorf("the question does not show what will change: %q", msg)
				}
			}
			after, _ := emu.Incident(ref)
			closed := after.Status == client.StatusClosed
			if closed != tt.wantClose {
				t.Errorf("incident closed: %v, want %v (status %s)", closed, tt.wantClose, after.Status)
			}
			if !tt.wantClose {
				if res.IsError == tt.dryRun { // a refusal is an error; a dry run is not
					t.Errorf("isError %v for %q", res.IsError, text)
				}
				if after.Status != before.Status || len(emu.Comments(ref)) != commentsBefore {
					t.Errorf("the incident changed although it was not closed")
				}
			}
		})
	}
}
