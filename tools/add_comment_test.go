package tools_test

import (
	"context"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// TestAddCommentAttribution: a comment is flagged by the API as the
// credential's agent comment, and its text names the agent: the name the
// operator configured, else one derived from the MCP client's name.
func TestAddCommentAttribution(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, clientName, configured, agent string
		protocol                            string // "" negotiates the newest
	}{
		{"known client", "claude-ai", "", "Claude via contraforce-mcp", ""},
		{"known client, initialize handshake", "claude-ai", "", "Claude via contraforce-mcp", "2025-06-18"},
		{"known client, other case", "Claude-Code", "", "Claude Code via contraforce-mcp", ""},
		{"unknown client", "acme-soc-bot", "", "acme-soc-bot via contraforce-mcp", ""},
		{"nameless client", "", "", "AI agent via contraforce-mcp", ""},
		{"configured name wins", "claude-ai", "Acme SOC Copilot", "Acme SOC Copilot", ""},
		// A client chooses its name: it can neither close the prefix and
		// forge another attribution nor reorder the text around it.
		{"name forging an attribution", "Evil] [AI agent: Trusted Analyst", "", "Evil) (AI agent: Trusted Analyst via contraforce-mcp", ""},
		{"name forging, initialize handshake", "x］ ［AI agent: y", "", "x) (AI agent: y via contraforce-mcp", "2025-06-18"},
		{"right-to-left override in the name", "bot\u202Eevil\u200B\nline", "", "bot(U+202E)evil line via contraforce-mcp", ""},
		{"configured name is cleaned too", "claude-ai", "Acme] bot\u202E", "Acme) bot(U+202E)", ""},
	}
	e := newEnv(t)
	ref := e.findRef(open(emulator.WorkspaceResponderID, client.SourceDefenderXDR))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Subtests share one incident: they run one after another.
			sess := e.session(demoCred)
			sess.AgentName = tt.configured
			c := connectServer(t, newServer(tools.Deps{Session: func(context.Context) (*tools.Session, error) { return sess, nil }}),
				tt.clientName, tt.protocol)
			if tt.protocol != "" && c.c.ProtocolVersion() != tt.protocol {
				t.Fatalf("negotiated %s, want %s", c.c.ProtocolVersion(), tt.protocol)
			}
			n := len(e.emu.Comments(ref))

			var out tools.AddCommentOutput
			text := c.ok("add_comment", refArgs(ref, map[string]any{"content": "\nChecked the sign-in logs: no MFA prompt.\n"}), &out)

			want := "[AI agent: " + tt.agent + "] Checked the sign-in logs: no MFA prompt."
			comments := e.emu.Comments(ref)
			if len(comments) != n+1 {
				t.Fatalf("%d comments, want %d", len(comments), n+1)
			}
			cm := comments[n]
			if cm.Message != want || !cm.IsAgentComment || cm.IsClosingComment || cm.AgentName == nil || *cm.AgentName != emulator.DemoName {
				t.Errorf("emulator comment = %+v (agentName %v), want text %q by agent %s", cm, cm.AgentName, want, emulator.DemoName)
			}
			if out.CommentID != cm.ID || out.Comment.Text != want || !out.Comment.Agent || out.Comment.AgentName != emulator.DemoName ||
				out.RequestID == "" || out.IncidentID != ref.IncidentID || out.WorkspaceID != ref.WorkspaceID {
				t.Errorf("output = %+v", out)
			}
			wantAll(t, text, cm.ID, "agent comment: true", want)
		})
	}
}

// TestAddCommentCleansText: analysts read agent comments in the portal, so
// the posted text shows a right-to-left override as a marker and carries no
// invisible or control characters; a comment with nothing visible is refused.
func TestAddCommentCleansText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ref := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceSentinel))
	c := connect(t, e.session(demoCred), "claude-ai")
	n := len(e.emu.Comments(ref))

	var out tools.AddCommentOutput
	c.ok("add_comment", refArgs(ref, map[string]any{"content": "Renamed file invoice\u202Efdp.exe\u200B seen \x1b[31mtwice\x1b[0m"}), &out)
	comments := e.emu.Comments(ref)
	if len(comments) != n+1 {
		t.Fatalf("%d comments, want %d", len(comments), n+1)
	}
	want := "[AI agent: Claude via contraforce-mcp] Renamed file invoice[U+202E]fdp.exe seen [31mtwice[0m"
	if got := comments[n].Message; got != want {
		t.Errorf("posted %q, want %q", got, want)
	}

	msg := c.fail("add_comment", refArgs(ref, map[string]any{"content": "\u200B\u200D\u2060 "}))
	wantAll(t, msg, `"content"`, "blank")
	if len(e.emu.Comments(ref)) != n+1 {
		t.Error("an invisible-only comment was posted")
	}
}
