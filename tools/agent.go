package tools

import (
	"context"
	"strings"

	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/schema"
)

// knownClients maps MCP client names (clientInfo.name) to how a SOC team
// knows them.
var knownClients = map[string]string{
	"claude-ai":          "Claude",
	"claude-code":        "Claude Code",
	"visual studio code": "VS Code",
	"cursor-vscode":      "Cursor",
	"windsurf-client":    "Windsurf",
}

// AgentName returns the name that attributes a session's comments: the
// operator's configured name, else one built from the MCP client's name
// ("Claude via contraforce-mcp"), else "AI agent via contraforce-mcp".
// Either is cleaned with CleanName: a client chooses its own name.
func AgentName(ctx context.Context, configured string) string {
	if configured = CleanName(configured, 100); configured != "" {
		return configured
	}
	name := ""
	if s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo); ok {
		name = s.GetClientInfo().Name
	}
	if req := callFrom(ctx); name == "" && req != nil && req.Params.Meta != nil {
		if ci := req.Params.Meta.ClientInfo(); ci != nil { // a session-less request names its client
			name = ci.Name
		}
	}
	name = strings.TrimSpace(name)
	if known, ok := knownClients[strings.ToLower(name)]; ok {
		name = known
	}
	if name = CleanName(name, 60); name == "" {
		name = "AI agent"
	}
	return name + " via contraforce-mcp"
}

// CleanName prepares a name a caller chose (an MCP client's name or
// version, an agent name) for text that others read: the comment's
// attribution, the audit log. It is cleaned as incident text is
// (schema.SafeText: a bidirectional override shows as "(U+202E)", invisible
// characters go), folded onto one line of at most n runes, and square
// brackets and their look-alikes become parentheses, so that a name cannot
// close the "[AI agent: …]" prefix and forge another one.
func CleanName(s string, n int) string {
	return oneLine(strings.Map(unbracket, schema.SafeText(s)), n)
}

// unbracket maps square brackets and look-alikes to parentheses.
func unbracket(r rune) rune {
	switch r {
	case '[', '［', '⟦', '【', '〚', '〖', '⁅', '❲':
		return '('
	case ']', '］', '⟧', '】', '〛', '〗', '⁆', '❳':
		return ')'
	}
	return r
}

// attribute marks text as an AI agent's, visibly, whoever reads it: the API
// flags the comment for the service account, and the text names the agent.
// The text is cleaned as incident text is (schema.SafeText): a model may echo
// a right-to-left override or invisible characters it read, and analysts
// read these comments in the portal.
func attribute(agent, text string) string {
	return "[AI agent: " + agent + "] " + strings.TrimSpace(schema.SafeText(text))
}

// blank reports whether text has nothing visible once cleaned.
func blank(text string) bool {
	return strings.TrimSpace(schema.SafeText(text)) == ""
}
