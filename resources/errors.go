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
// code and request id. When the URI names no incident the API knows (not
// found, or ids the API refuses), the error wraps server.ErrResourceNotFound,
// mcp-go's own resource-not-found, which the server answers with -32002
// (resource not found) rather than -32603; see NamesNothing.
func readError(what string, err error) error {
	msg := schema.SafeText(Describe(what, err))
	if NamesNothing(err) {
		return fmt.Errorf("%w: %s", server.ErrResourceNotFound, msg)
	}
	return errors.New(msg)
}

// NamesNothing reports whether a failed API call failed because the
// incident it named does not exist (NOT_FOUND) or its ids are not ones the
// API accepts (VALIDATION, BAD_REQUEST): the caller's mistake, not the
// server's. Prompts use it too.
func NamesNothing(err error) bool {
	switch client.ErrorCode(err) {
	case client.CodeNotFound, client.CodeValidation, client.CodeBadRequest:
		return true
	}
	return false
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
