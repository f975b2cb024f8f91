package client

import (
	"errors"
	"time"
)

// Stable error codes. The first group is the API's own (problem details
// "code", or the older envelope's "error.code"); the emulator uses exactly
// these. Codes the public documentation does not name (UNAUTHORIZED,
// INSUFFICIENT_SCOPE, RATE_LIMITED, …) are this project's decision of what
// the vendor most plausibly sends; the client never depends on them being
// present and derives a code from the HTTP status when the body has none.
const (
	CodeValidation                = "VALIDATION_ERROR"
	CodeBadRequest                = "BAD_REQUEST"
	CodeNotFound                  = "NOT_FOUND"
	CodeInsufficientWorkspaceRole = "INSUFFICIENT_WORKSPACE_ROLE"
	CodeUnauthorized              = "UNAUTHORIZED"
	CodeInsufficientScope         = "INSUFFICIENT_SCOPE"
	CodeForbidden                 = "FORBIDDEN"
	CodeConflict                  = "CONFLICT"
	CodeRateLimited               = "RATE_LIMITED"
	CodeServiceUnavailable        = "SERVICE_UNAVAILABLE"
	CodeBadGateway                = "BAD_GATEWAY"
	CodeGatewayTimeout            = "GATEWAY_TIMEOUT"
	CodeInternal                  = "INTERNAL_ERROR"

	// CodeWorkspaceNotAllowed is raised by the client itself, without a
	// request, when a call names a workspace outside Config.Workspaces.
	CodeWorkspaceNotAllowed = "WORKSPACE_NOT_ALLOWED"
)

// APIError is the one typed error of every failed API call, decoded from RFC
// 7807 problem details, from the older {"error": …} envelope, or (for a
// non-JSON body such as a proxy's HTML page or an empty 502) from the status
// alone. Switch on Code.
type APIError struct {
	// Op names the operation that failed, e.g. "update status".
	Op string
	// Status is the HTTP status code (0 for a client-side refusal).
	Status int
	// Code is the stable code: the body's, or one derived from Status.
	Code string
	// Title is the problem's title, or the older envelope's message.
	Title string
	// Detail is the problem's detail, or the older envelope's details joined.
	Detail string
	// Type and Instance are the problem-details members of the same names.
	Type     string
	Instance string
	// Target names the field or parameter at fault, when the API says.
	Target string
	// Errors maps a JSON path ("" for the whole object) to messages.
	Errors map[string][]string
	// RequestID is the API's request id (body, else the X-Request-Id header).
	RequestID string
	// Timestamp is the API's timestamp of the answer, as sent.
	Timestamp string
	// RetryAfter is the parsed Retry-After of a 429 or 503, zero otherwise.
	RetryAfter time.Duration

	// problemStatus is the body's "status" member; apiProblem: the body is
	// the API's own problem document (application/problem+json, a "status"
	// that mirrors the status line, and a "code"), not a gateway's page.
	problemStatus int
	apiProblem    bool
}

// ErrOutcomeUnknown is matched (errors.Is) by the error of a write whose
// request may or may not have been applied: the connection broke after the
// request was sent, a gateway answered 502, 504 or a 503 that is not the
// API's own, or the 2xx answer could not be read. Such a write is never
// retried automatically (an idempotent one is, but ends with this error if
// every attempt failed after one that may have landed); the caller must
// look before trying again. Classify by errors.Is, never by the text.
var ErrOutcomeUnknown = errors.New("outcome unknown: the request was sent but no usable answer came back; it may or may not have been applied")
