package resources

import (
	"context"
	"errors"
	"fmt"

	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/schema"
)

// readError turns a failed read into the error mcp-go sends back as the
// JSON-RPC error of resources/read: one actionable sentence naming the API
// code and request id. A NOT_FOUND wraps server.ErrResourceNotFound so that
// hooks (and logs) classify it as mcp-go's own resource-not-found; mcp-go
// still answers a handler's error with code -32603, which a handler cannot
// change.
func readError(what string, err error) error {
	msg := schema.SafeText(Describe(what, err))
	if client.ErrorCode(err) == client.CodeNotFound {
		return fmt.Errorf("%w: %s", server.ErrResourceNotFound, msg)
	}
	return errors.New(msg)
}

// Describe words a failed API call for an agent or an operator: what
// failed, the API's code and request id, and what to do next. Prompts use
// it too.
func Describe(what string, err error) string {
	var apiErr *client.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%s timed out waiting for the ContraForce API; try again shortly.", what)
	case errors.Is(err, context.Canceled):
		return fmt.Sprintf("%s was cancelled.", what)
	case errors.As(err, &apiErr):
		msg := fmt.Sprintf("%s failed: %v.", what, apiErr)
		if next := nextStep(apiErr); next != "" {
			msg += " " + next
		}
		return msg
	}
	return fmt.Sprintf("%s failed: %v", what, err)
}

// nextStep says what to do about an API error.
func nextStep(e *client.APIError) string {
	switch e.Code {
	case client.CodeNotFound:
		return "Check workspaceId, source and incidentId (list_incidents shows them); the source must be the incident's own."
	case client.CodeValidation, client.CodeBadRequest:
		return "Check workspaceId (a GUID), source and incidentId."
	case client.CodeInsufficientScope:
		return "The service-account credential lacks the scope named above; an administrator must grant it."
	case client.CodeInsufficientWorkspaceRole:
		return "The service account has no role on this workspace; an administrator must grant one."
	case client.CodeWorkspaceNotAllowed:
		return "This server is configured to work only in certain workspaces; use an incident from one of them."
	case client.CodeUnauthorized:
		return "The ContraForce credential was rejected: the operator must fix the server's client id and secret, or, " +
			"when this MCP client presents its own credential (pass-through), the user must fix it in the client's configuration."
	case client.CodeRateLimited, client.CodeServiceUnavailable, client.CodeBadGateway,
		client.CodeGatewayTimeout, client.CodeInternal:
		return "ContraForce is busy or had a temporary failure; try again shortly."
	}
	return ""
}
