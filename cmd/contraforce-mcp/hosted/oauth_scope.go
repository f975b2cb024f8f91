package hosted

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
)

// ToolAccess is what a tool asks of a session: the credential scope its API
// calls need, and whether it writes.
type ToolAccess struct {
	Scope client.Scope
	Write bool
	// ResponseAction: offered only where the tenant enabled response actions.
	ResponseAction bool
}

// SetToolAccess tells the gate what each tool needs, so that a call the
// OAuth token's scopes do not cover is answered 403 insufficient_scope (a
// client can then ask the user for the scope) rather than "no such tool".
// Call it before Mount.
func (s *Server) SetToolAccess(m map[string]ToolAccess) { s.tools = m }

// readMethods read incidents through resources, prompts or completions:
// they need what the read tools need.
var readMethods = []mcp.MCPMethod{
	mcp.MethodResourcesRead, mcp.MethodPromptsGet, mcp.MethodCompletionComplete, mcp.MethodResourcesSubscribe,
}

// scopeAllowed refuses, with 403 insufficient_scope and the scope to ask
// for, a request an OAuth token's scopes do not cover but the tenant's
// credential does: that is what the MCP authorization specification's
// step-up flow answers. A tool the tenant itself may not use (its
// credential lacks the scope, or it is read-only) is left to the MCP
// server, which offers no such tool to the session and answers a call to
// it as unknown: no token could change that.
//
// The same narrowed scopes hide, from tools/list, the tools the token does
// not cover, so a session is offered exactly what it may call.
func (s *Server) scopeAllowed(w http.ResponseWriter, p *principal, env envelope) bool {
	if p.user == nil {
		return true
	}
	need, write, off, what := client.Scope(""), false, false, ""
	switch {
	case env.Method == string(mcp.MethodToolsCall):
		a, ok := s.tools[env.Tool]
		if !ok {
			return true
		}
		need, write, off, what = a.Scope, a.Write, a.ResponseAction && !p.tenant.responseActions, "the tool "+strconv.Quote(env.Tool)
	case slices.Contains(readMethods, mcp.MCPMethod(env.Method)):
		need, what = client.ScopeIncidentsRead, env.Method
	default:
		return true
	}
	if slices.Contains(p.session.Scopes, need) || !slices.Contains(p.tenant.scopes, need) || (write && p.tenant.readOnly) || off {
		return true
	}
	v := s.auth.oauth
	name := v.o.ScopeNames[need]
	s.auth.refuse(w, env, &authError{
		status: http.StatusForbidden, reason: reasonInsufficientScope, code: "insufficient_scope", scope: v.stepUpScope(p.session.Scopes, need),
		desc: what + " needs the scope " + name,
		msg:  what + " needs the OAuth scope " + strconv.Quote(name) + ", which the access token does not grant; authorize again with that scope",
	})
	s.metrics.rejected.add(1, reasonInsufficientScope)
	return false
}

// stepUpScope is the scope a 403 asks for: the session's scopes and the one
// needed. RFC 6750 asks for the scope the request needs; the MCP
// specification (since SEP-2350) has clients add it to what they hold, but
// clients that replace their scope with the challenge's (the TypeScript
// SDK 1.x) would lose the scopes they had and step up in a loop. Naming both
// serves either kind.
func (v *oauthVerifier) stepUpScope(held []client.Scope, need client.Scope) string {
	var names []string
	for _, s := range knownScopes {
		if s == need || slices.Contains(held, s) {
			names = append(names, v.o.ScopeNames[s])
		}
	}
	return strings.Join(names, " ")
}
