package tools_test

import (
	"context"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// TestWhoami: the service account and, per workspace, its role and whether
// this server may change incidents there, as the role, the scopes,
// --read-only and the allowlist decide together.
func TestWhoami(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gamebooks := func(s *tools.Session) {
		s.Scopes = append(s.Scopes, client.ScopeGamebooksRead, client.ScopeGamebooksRun)
		s.ResponseActions = true
	}
	tests := []struct {
		name   string
		sess   *tools.Session
		adjust func(*tools.Session)
		// want maps workspace → (write, respond, why substring)
		want map[string]struct {
			write, respond bool
			why            string
		}
	}{
		{"demo credential", e.session(demoCred), nil, map[string]struct {
			write, respond bool
			why            string
		}{
			emulator.WorkspaceOwnerID:     {true, false, ""},
			emulator.WorkspaceResponderID: {true, false, ""},
			emulator.WorkspaceReaderID:    {false, false, "WorkspaceReader is read-only"},
		}},
		{"response actions on", e.session(demoCred), gamebooks, map[string]struct {
			write, respond bool
			why            string
		}{
			emulator.WorkspaceOwnerID:     {true, true, ""},
			emulator.WorkspaceResponderID: {true, true, ""},
			emulator.WorkspaceReaderID:    {false, false, "read-only"},
		}},
		{"read-only server", e.session(demoCred), func(s *tools.Session) { s.ReadOnly = true }, map[string]struct {
			write, respond bool
			why            string
		}{
			emulator.WorkspaceOwnerID:     {false, false, "this server is read-only"},
			emulator.WorkspaceResponderID: {false, false, "this server is read-only"},
			emulator.WorkspaceReaderID:    {false, false, "WorkspaceReader"},
		}},
		{"no write scope", e.session(readerCred), func(s *tools.Session) { s.Scopes = []client.Scope{client.ScopeIncidentsRead} },
			map[string]struct {
				write, respond bool
				why            string
			}{
				emulator.WorkspaceOwnerID:     {false, false, "lacks the scope incidents:write"},
				emulator.WorkspaceResponderID: {false, false, "lacks the scope incidents:write"},
				emulator.WorkspaceReaderID:    {false, false, "WorkspaceReader"},
			}},
		{"allowlist", e.session(demoCred, func(c *client.Config) { c.Workspaces = []string{emulator.WorkspaceResponderID} }), nil,
			map[string]struct {
				write, respond bool
				why            string
			}{emulator.WorkspaceResponderID: {true, false, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.adjust != nil {
				tt.adjust(tt.sess)
			}
			c := connect(t, tt.sess, "claude-ai")
			var out tools.WhoamiOutput
			text := c.ok("whoami", map[string]any{}, &out)
			name := emulator.DemoName
			if tt.name == "no write scope" {
				name = emulator.ReaderName
			}
			if out.Name != name || out.Organization == "" || out.ReadOnly != tt.sess.ReadOnly {
				t.Errorf("identity %+v, want %s", out, name)
			}
			if len(out.Workspaces) != len(tt.want) {
				t.Fatalf("workspaces %+v, want %d", out.Workspaces, len(tt.want))
			}
			for _, w := range out.Workspaces {
				want, ok := tt.want[w.WorkspaceID]
				if !ok {
					t.Errorf("unexpected workspace %s", w.WorkspaceID)
					continue
				}
				if w.Write != want.write || w.Respond != want.respond || w.Name == "" || w.Role == "" {
					t.Errorf("%s: %+v, want write %v respond %v", w.Name, w, want.write, want.respond)
				}
				if want.why != "" {
					wantAll(t, w.Why, want.why)
				} else if w.Why != "" {
					t.Errorf("%s: why %q on a writable workspace", w.Name, w.Why)
				}
				wantAll(t, text, w.Name, w.WorkspaceID)
			}
		})
	}
}

// TestCloseStopsBeforeAskingWhenTheRoleIsReadOnly: update_status does not
// ask the human to confirm a closure the service account's role would make
// ContraForce refuse; it says so and names whoami.
func TestCloseStopsBeforeAskingWhenTheRoleIsReadOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	asker := &human{action: mcp.ElicitationResponseActionAccept, tick: true}
	c := connectHuman(t, tools.Deps{Session: func(context.Context) (*tools.Session, error) { return e.session(demoCred), nil },
		ConfirmClose: tools.ConfirmAlways}, asker)
	ref := e.findRef(open(emulator.WorkspaceReaderID, client.SourceSentinel))
	before, _ := e.emu.Incident(ref)
	text := c.fail("update_status", refArgs(ref, map[string]any{"status": "Closed", "comment": "benign",
		"classification": "FalsePositive", "classificationReason": "InaccurateData"}))
	wantAll(t, text, "Not closed", "WorkspaceReader", "read-only", "whoami")
	if after, _ := e.emu.Incident(ref); after.Status != before.Status {
		t.Error("the incident changed")
	}
	if n := e.emu.Stats().Requests[emulator.EndpointUpdateStatus]; n != 0 || asker.asked.Load() != 0 {
		t.Errorf("%d status requests reached the API; the user was asked %d times", n, asker.asked.Load())
	}
	// Where the role allows it, the same closure is asked and made.
	ok := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceSentinel))
	c.ok("update_status", refArgs(ok, map[string]any{"status": "Closed", "comment": "benign",
		"classification": "FalsePositive", "classificationReason": "InaccurateData"}), nil)
	if asker.asked.Load() != 1 {
		t.Errorf("the user was asked %d times for an allowed closure", asker.asked.Load())
	}
}
