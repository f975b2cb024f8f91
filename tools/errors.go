package tools

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/schema"
)

// errorResult turns a failure into a tool result with isError set and one
// or two sentences the agent can act on: what failed, the API's code and
// request id, and what to do next. Secrets never reach it: the client's
// errors do not carry them.
func errorResult(tool string, err error) *mcp.CallToolResult {
	return errorResultFor(tool, err, false)
}

// errorResultFor is errorResult for a session whose credential the caller
// presented (callerCredential) or the operator configured.
func errorResultFor(tool string, err error, callerCredential bool) *mcp.CallToolResult {
	return mcp.NewToolResultError(schema.SafeText(describe(tool, err, callerCredential)))
}

// describe is errorResult's sentence.
func describe(tool string, err error, callerCredential bool) string {
	var argErr *schema.ArgError
	var apiErr *client.APIError
	var refusal *refusalError
	switch {
	case errors.As(err, &argErr):
		return fmt.Sprintf("Invalid arguments for %s: %v", tool, err)
	case errors.As(err, &refusal):
		return refusal.msg
	case errors.Is(err, client.ErrOutcomeUnknown) && errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%s timed out waiting for the ContraForce API after the request was sent, so it may or may not have been applied (%v). "+
			"Before you try again, %s.", tool, err, lookFirst(err))
	case errors.Is(err, client.ErrOutcomeUnknown):
		return fmt.Sprintf("%s: the request was sent to ContraForce but no usable answer came back, so it may or may not have been applied (%v). "+
			"Do not repeat it blindly: %s first.", tool, err, lookFirst(err))
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%s timed out waiting for the ContraForce API. The API may be slow or unreachable; try again shortly.", tool)
	case errors.Is(err, context.Canceled):
		return fmt.Sprintf("%s was cancelled before it finished.", tool)
	case errors.As(err, &apiErr):
		return describeAPIError(tool, apiErr, callerCredential)
	case isNetworkError(err):
		return fmt.Sprintf("%s failed: %v. ContraForce could not be reached; the operator should check the server's base URL "+
			"and network. Try again later.", tool, err)
	}
	return fmt.Sprintf("%s failed: %v", tool, err)
}

// describeAPIError words an API failure with its code, request id and a next step.
func describeAPIError(tool string, e *client.APIError, callerCredential bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed: %v.", tool, e)
	if next := nextStep(e, callerCredential); next != "" {
		b.WriteString(" ")
		b.WriteString(next)
	}
	return b.String()
}

// nextStep says what an agent should do about an API error, and whose the
// fix is: a rejected credential is the operator's, or, when the caller
// presented it (pass-through), the caller's.
func nextStep(e *client.APIError, callerCredential bool) string {
	switch e.Code {
	case client.CodeValidation, client.CodeBadRequest:
		return "Fix the arguments named above and call again."
	case client.CodeNotFound:
		return "Check workspaceId, source and incidentId (list_incidents shows them); the source must be the incident's own."
	case client.CodeInsufficientScope:
		return "The service-account credential lacks the scope named above; an administrator must grant it. Do not retry."
	case client.CodeInsufficientWorkspaceRole:
		return "The service account has no role (or only a read-only role) on this workspace; an administrator must grant one. Do not retry."
	case client.CodeWorkspaceNotAllowed:
		return "This server is configured to work only in certain workspaces; use an incident from one of them."
	case client.CodeUnauthorized:
		if callerCredential {
			return "ContraForce rejected the service-account credential this MCP client presented (its client id and secret, sent with each request): " +
				"the user must fix them in this client's configuration; the server's operator cannot. Do not retry with the same credential."
		}
		return "The server's ContraForce credential was rejected; the operator must fix the client id and secret. Do not retry."
	case client.CodeRateLimited, client.CodeServiceUnavailable:
		if e.RetryAfter > 0 {
			return fmt.Sprintf("ContraForce is busy; wait %s and try again.", e.RetryAfter.Round(1e9))
		}
		return "ContraForce is busy; wait a little and try again."
	case client.CodeBadGateway, client.CodeGatewayTimeout, client.CodeInternal:
		return "ContraForce had a temporary failure; try again shortly."
	}
	return ""
}

// isNetworkError reports whether err is a failure to reach the API at all.
func isNetworkError(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &opErr) || errors.As(err, &netErr)
}

// unknownOutcome is a write that may or may not have been applied
// (client.ErrOutcomeUnknown, which it wraps), with what to look at before
// trying again when get_incident is not the place (a gamebook, a batch).
type unknownOutcome struct {
	cause error
	look  string
}

func (e *unknownOutcome) Error() string { return e.cause.Error() }
func (e *unknownOutcome) Unwrap() error { return e.cause }

// lookFirst says what to call before repeating a write whose outcome is unknown.
func lookFirst(err error) string {
	var u *unknownOutcome
	if errors.As(err, &u) {
		return u.look
	}
	return "call get_incident to see the incident's current state"
}

// refusalError is a refusal by this server's own policy (a closure without
// a comment, a declined confirmation): its message is complete as it is.
type refusalError struct{ msg string }

func (e *refusalError) Error() string { return e.msg }

// refuse returns a policy refusal with a formatted message.
func refuse(format string, args ...any) error {
	return &refusalError{msg: fmt.Sprintf(format, args...)}
}
