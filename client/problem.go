package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strings"
	"time"
)

// problemDetails is the RFC 7807 error body of the current API
// (application/problem+json).
type problemDetails struct {
	Type      string      `json:"type,omitempty"`
	Title     string      `json:"title,omitempty"`
	Status    int         `json:"status,omitempty"`
	Detail    string      `json:"detail,omitempty"`
	Instance  string      `json:"instance,omitempty"`
	Code      string      `json:"code,omitempty"`
	RequestID string      `json:"requestId,omitempty"`
	Timestamp string      `json:"timestamp,omitempty"`
	Target    string      `json:"target,omitempty"`
	Errors    fieldErrors `json:"errors"`
}

// legacyError is the "error" member of the older error envelope
// {"error": {…}, "meta": {…}} (the data-models page).
type legacyError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Target  string            `json:"target,omitempty"`
	Details []json.RawMessage `json:"details,omitempty"`
}

// legacyEnvelope is the older error envelope.
type legacyEnvelope struct {
	Error legacyError `json:"error"`
	Meta  Meta        `json:"meta"`
}

// errorBody reads either shape in one pass. Error stays raw because some
// gateways send "error" as a plain string; Message covers the
// {"message": …} bodies of API gateways.
type errorBody struct {
	problemDetails
	Error   json.RawMessage `json:"error"`
	Meta    *Meta           `json:"meta"`
	Message string          `json:"message"`
}

// fieldErrors maps a JSON path ("" for the whole object) to messages. It
// accepts a single string or a list of any values per path, since servers
// differ, and never fails the decoding of the rest of the error.
type fieldErrors map[string][]string

// UnmarshalJSON implements json.Unmarshaler tolerantly.
func (fe *fieldErrors) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil // not an object: ignore rather than lose the rest of the error
	}
	out := make(fieldErrors, len(raw))
	for k, v := range raw {
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			list = []json.RawMessage{v}
		}
		for _, item := range list {
			if m := messageOf(item); m != "" {
				out[k] = append(out[k], m)
			}
		}
	}
	*fe = out
	return nil
}

// messageOf renders one error item: a string as is, an object by its
// "message" member, anything else as compact JSON.
func messageOf(item json.RawMessage) string {
	var s string
	if json.Unmarshal(item, &s) == nil {
		return s
	}
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(item, &obj) == nil && obj.Message != "" {
		return obj.Message
	}
	var buf bytes.Buffer
	if json.Compact(&buf, item) == nil && buf.String() != "null" {
		return buf.String()
	}
	return ""
}

// decodeAPIError builds the APIError of a non-2xx answer from its status,
// headers and (capped, scrubbed) body, whatever the body's shape. Its text
// fields are scrubbed once more after decoding: JSON escapes and HTML
// character references can spell the secret without its bytes appearing.
func decodeAPIError(op string, status int, header http.Header, body []byte, now time.Time, scrub scrubber) *APIError {
	e := &APIError{Op: op, Status: status}
	defer e.scrub(scrub)
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if decodeJSONError(e, body) {
		e.apiProblem = mt == "application/problem+json" && e.problemStatus == status && e.Code != ""
	} else {
		e.Detail = nonJSONDetail(header.Get("Content-Type"), body, scrub)
	}
	if e.Code == "" {
		e.Code = codeForStatus(status)
	}
	if e.Title == "" {
		e.Title = http.StatusText(status)
	}
	if e.RequestID == "" {
		e.RequestID = header.Get(requestIDHeader)
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if d, ok := parseRetryAfter(header.Get("Retry-After"), now); ok {
			e.RetryAfter = d
		}
	}
	if status >= 300 && status < 400 {
		// Redirects are not followed (see the package doc): say where to look.
		e.Detail = "the API answered with a redirect"
		if loc := header.Get("Location"); loc != "" {
			e.Detail += " to " + loc
		}
		e.Detail += "; check BaseURL (it should end in /api/v2)"
	}
	return e
}

// decodeJSONError fills e from a problem-details or older-envelope body and
// reports whether the body was a JSON object at all.
func decodeJSONError(e *APIError, body []byte) bool {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return false
	}
	var b errorBody
	if err := json.Unmarshal(trimmed, &b); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return false // not JSON after all
		}
		// A member of an unexpected type was skipped; the rest is usable.
	}
	p := b.problemDetails
	e.problemStatus = p.Status
	e.Type, e.Title, e.Detail, e.Instance = p.Type, p.Title, p.Detail, p.Instance
	e.Code, e.Target, e.RequestID, e.Timestamp = p.Code, p.Target, p.RequestID, p.Timestamp
	if len(p.Errors) > 0 {
		e.Errors = p.Errors
	}
	if b.Meta != nil {
		e.RequestID = firstNonEmpty(e.RequestID, b.Meta.RequestID)
		e.Timestamp = firstNonEmpty(e.Timestamp, b.Meta.Timestamp)
	}
	if len(b.Error) > 0 {
		applyLegacy(e, b.Error)
	}
	if e.Title == "" && e.Detail == "" {
		e.Detail = b.Message
	}
	return true
}

// applyLegacy merges the older envelope's "error" member into e.
func applyLegacy(e *APIError, raw json.RawMessage) {
	var s string
	if json.Unmarshal(raw, &s) == nil { // {"error": "invalid_client"}
		e.Code = firstNonEmpty(e.Code, s)
		return
	}
	var le legacyError
	if json.Unmarshal(raw, &le) != nil {
		return
	}
	e.Code = firstNonEmpty(e.Code, le.Code)
	e.Title = firstNonEmpty(e.Title, le.Message)
	e.Target = firstNonEmpty(e.Target, le.Target)
	var details []string
	for _, d := range le.Details {
		// A detail object with a target is a field error; others are text.
		var fe struct {
			Target  string `json:"target"`
			Message string `json:"message"`
		}
		if json.Unmarshal(d, &fe) == nil && fe.Target != "" && fe.Message != "" {
			if e.Errors == nil {
				e.Errors = map[string][]string{}
			}
			e.Errors[fe.Target] = append(e.Errors[fe.Target], fe.Message)
			continue
		}
		if m := messageOf(d); m != "" {
			details = append(details, m)
		}
	}
	if len(details) > 0 && e.Detail == "" {
		e.Detail = strings.Join(details, "; ")
	}
}

// nonJSONDetail describes a body that is not JSON (a proxy's HTML page, an
// empty 502, garbage) with its content type and a short sanitized snippet,
// never the raw body.
func nonJSONDetail(contentType string, body []byte, scrub scrubber) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if len(bytes.TrimSpace(body)) == 0 {
		return "the API answered with an empty body"
	}
	kind := mt
	if kind == "" {
		kind = "no content type"
	}
	snip := snippet(body, mt, scrub)
	if snip == "" {
		return fmt.Sprintf("the API answered with a non-JSON body (%s)", kind)
	}
	return fmt.Sprintf("the API answered with a non-JSON body (%s): %q", kind, snip)
}

// codeForStatus is the code of an error whose body names none. These
// mappings are this project's decision (see the package doc).
func codeForStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return CodeUnauthorized
	case status == http.StatusForbidden:
		return CodeForbidden
	case status == http.StatusNotFound, status == http.StatusGone:
		return CodeNotFound
	case status == http.StatusConflict, status == http.StatusPreconditionFailed:
		return CodeConflict
	case status == http.StatusTooManyRequests:
		return CodeRateLimited
	case status == http.StatusBadGateway:
		return CodeBadGateway
	case status == http.StatusServiceUnavailable:
		return CodeServiceUnavailable
	case status == http.StatusGatewayTimeout:
		return CodeGatewayTimeout
	case status >= 500:
		return CodeInternal
	default: // other 4xx, and an unexpected 1xx/3xx: the request was wrong for this server
		return CodeBadRequest
	}
}

// maxFieldErrors bounds the field errors Error names, so that a hostile or
// broken server cannot make an error message unbounded.
const maxFieldErrors = 10

// Error returns one readable sentence: the operation, the HTTP status, the
// code, the title and detail, the target, the field errors, how long to
// wait (429/503) and the request id to quote to support. Server-supplied
// text is flattened to one line and shortened.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.Status)
		if t := http.StatusText(e.Status); t != "" {
			b.WriteString(" " + t)
		}
		b.WriteString(" ")
	}
	b.WriteString(clean(firstNonEmpty(e.Code, codeForStatus(e.Status)), 64))
	title := clean(e.Title, 200)
	if title != "" && title != http.StatusText(e.Status) {
		b.WriteString(": " + title)
	}
	if d := clean(e.Detail, 500); d != "" && d != title {
		b.WriteString(": " + d)
	}
	if e.Target != "" {
		fmt.Fprintf(&b, " (target %s)", clean(e.Target, 100))
	}
	if len(e.Errors) > 0 {
		keys := make([]string, 0, len(e.Errors))
		for k := range e.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		more := 0
		if len(keys) > maxFieldErrors {
			keys, more = keys[:maxFieldErrors], len(keys)-maxFieldErrors
		}
		parts := make([]string, 0, len(keys)+1)
		for _, k := range keys {
			name := k
			if name == "" {
				name = "(body)"
			}
			parts = append(parts, clean(name, 100)+": "+clean(strings.Join(e.Errors[k], "; "), 300))
		}
		if more > 0 {
			parts = append(parts, fmt.Sprintf("and %d more", more))
		}
		b.WriteString("; field errors: " + strings.Join(parts, "; "))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", clean(e.RequestID, 100))
	}
	return b.String()
}

// AsAPIError returns the *APIError in err's chain, if any.
func AsAPIError(err error) (*APIError, bool) {
	var e *APIError
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// ErrorCode returns the Code of the *APIError in err's chain, or "" if there
// is none (a connection failure, a cancelled context…).
func ErrorCode(err error) string {
	if e, ok := AsAPIError(err); ok {
		return e.Code
	}
	return ""
}

// outcomeUnknownError is the error of a write that may or may not have been
// applied. It matches ErrOutcomeUnknown and its cause (an *APIError for a
// gateway's answer, a connection error, or the context's error).
type outcomeUnknownError struct {
	op    string
	why   string // what happened, e.g. "the request was sent but no answer came back"
	cause error
}

func (e *outcomeUnknownError) Error() string {
	return fmt.Sprintf("%s: outcome unknown: %s; it may or may not have been applied, so check before trying again: %v", e.op, e.why, e.cause)
}

func (e *outcomeUnknownError) Unwrap() []error { return []error{ErrOutcomeUnknown, e.cause} }

// notProcessed reports whether an error answer proves that the request was
// not processed, so that even a write that adds something may be sent
// again: a refusal (1xx/3xx/4xx: rate limited, invalid, unauthorised, not
// found, a redirect), or a 503 that is the API's own problem document (a
// service that says it is unavailable did not run the request). A gateway's
// bare or HTML 5xx proves nothing: the API behind it may have applied the
// request before the gateway gave up on its answer.
func notProcessed(status int, e *APIError) bool {
	switch {
	case status < 500:
		return true
	case status == http.StatusServiceUnavailable:
		return e.apiProblem
	}
	return false
}

// unprovenWhy words the unknown outcome of a write answered with status.
func unprovenWhy(status int) string {
	switch status {
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return fmt.Sprintf("a gateway answered HTTP %d: the API may have applied the request before the gateway gave up", status)
	case http.StatusServiceUnavailable:
		return "HTTP 503 came without the API's own error document, so a gateway sent it and the API may have applied the request"
	}
	return fmt.Sprintf("the answer HTTP %d does not say whether the request was applied", status)
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
