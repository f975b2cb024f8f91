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
func AgentName(ctx context.Context, configured string) string {
	if configured != "" {
		return configured
	}
	name := ""
	if s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo); ok {
		name = strings.TrimSpace(s.GetClientInfo().Name)
	}
	if known, ok := knownClients[strings.ToLower(name)]; ok {
		name = known
	}
	if name == "" {
		name = "AI agent"
	}
	return oneLine(name, 60) + " via contraforce-mcp"
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
