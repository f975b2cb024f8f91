package emulator

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// Media types of the answers.
const (
	contentTypeJSON    = "application/json; charset=utf-8"
	contentTypeProblem = "application/problem+json; charset=utf-8"
)

// LegacyErrorsHeader, set to "1" on a request, makes the emulator answer errors
// in the older {"error": {…}, "meta": {…}} envelope instead of problem details.
const LegacyErrorsHeader = "X-Emulator-Legacy-Errors"

// errorType is the problem "type" of the API's own errors: the errors page
// says it points at that page, and that code is the discriminator.
const errorType = "https://docs.contraforce.com/api-reference/errors"

// dotnetTimestamp is the vendor's meta.timestamp layout (.NET "o" format).
const dotnetTimestamp = "2006-01-02T15:04:05.0000000+00:00"

// wireTime formats dataset and write times as the incident objects carry them.
func wireTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// call is what the emulator knows about the request being served.
type call struct {
	requestID string
	endpoint  Endpoint
	legacy    bool
	instance  string // the request path, as sent (escaped)
	cred      *Credential
}

func (e *Emulator) meta(c *call) client.Meta {
	return client.Meta{RequestID: c.requestID, Timestamp: e.now().UTC().Format(dotnetTimestamp)}
}

// writeData answers a success envelope {"data": data, "meta": …}.
func (e *Emulator) writeData(w http.ResponseWriter, c *call, status int, data any) {
	body, err := json.Marshal(client.Envelope[any]{Data: data, Meta: e.meta(c)})
	if err != nil {
		e.writeProblem(w, c, problem{status: http.StatusInternalServerError, code: client.CodeInternal,
			detail: "the emulator could not encode its answer"})
		return
	}
	writeBody(w, status, contentTypeJSON, body)
}

// writeRawData answers a success envelope whose data (and pagination object,
// when not nil) are already encoded.
func (e *Emulator) writeRawData(w http.ResponseWriter, c *call, status int, data, pagination []byte) {
	m, _ := json.Marshal(e.meta(c)) // a struct of two strings cannot fail
	body := make([]byte, 0, len(data)+len(pagination)+len(m)+40)
	body = append(body, `{"data":`...)
	body = append(body, data...)
	if pagination != nil {
		body = append(body, `,"pagination":`...)
		body = append(body, pagination...)
	}
	body = append(body, `,"meta":`...)
	body = append(body, m...)
	body = append(body, '}')
	writeBody(w, status, contentTypeJSON, body)
}

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing to do about it
}

// problem is an error answer before encoding.
type problem struct {
	status int
	code   string
	detail string
	target string
	errors map[string][]string
	// blank makes the type "about:blank": errors of the HTTP framework
	// (unknown route, wrong method) rather than of the API.
	blank bool
}

// problemDetails is the RFC 7807 body.
type problemDetails struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance"`
	Code      string              `json:"code"`
	RequestID string              `json:"requestId"`
	Timestamp string              `json:"timestamp"`
	Target    string              `json:"target,omitempty"`
	Errors    map[string][]string `json:"errors,omitempty"`
}

// legacyError is the older documentation's error envelope.
type legacyError struct {
	Error struct {
		Code    string   `json:"code"`
		Message string   `json:"message"`
		Target  string   `json:"target,omitempty"`
		Details []string `json:"details"`
	} `json:"error"`
	Meta client.Meta `json:"meta"`
}

var problemTitles = map[string]string{
	client.CodeValidation:                "Validation failed",
	client.CodeBadRequest:                "Bad Request",
	client.CodeNotFound:                  "Resource not found",
	client.CodeInsufficientWorkspaceRole: "Insufficient workspace role",
	client.CodeUnauthorized:              "Unauthorized",
	client.CodeInsufficientScope:         "Insufficient scope",
	client.CodeForbidden:                 "Forbidden",
	client.CodeConflict:                  "Conflict",
	client.CodeRateLimited:               "Too Many Requests",
	client.CodeServiceUnavailable:        "Service Unavailable",
	client.CodeBadGateway:                "Bad Gateway",
	client.CodeGatewayTimeout:            "Gateway Timeout",
	client.CodeInternal:                  "Internal Server Error",
}

// writeProblem answers an error, as problem details or (on request) in the
// legacy envelope.
func (e *Emulator) writeProblem(w http.ResponseWriter, c *call, p problem) {
	title := problemTitles[p.code]
	if title == "" {
		title = http.StatusText(p.status)
	}
	m := e.meta(c)
	if c.legacy {
		var le legacyError
		le.Error.Code, le.Error.Message, le.Error.Target = p.code, p.detail, p.target
		if le.Error.Message == "" {
			le.Error.Message = title
		}
		le.Error.Details = flattenErrors(p.errors)
		le.Meta = m
		body, _ := json.Marshal(le) // strings and slices only
		writeBody(w, p.status, contentTypeJSON, body)
		return
	}
	typ := "about:blank"
	if !p.blank {
		typ = errorType
	}
	body, _ := json.Marshal(problemDetails{
		Type: typ, Title: title, Status: p.status, Detail: p.detail, Instance: c.instance,
		Code: p.code, RequestID: m.RequestID, Timestamp: m.Timestamp, Target: p.target, Errors: p.errors,
	})
	writeBody(w, p.status, contentTypeProblem, body)
}

// flattenErrors renders field errors as "field: message" lines, sorted by field.
func flattenErrors(errs map[string][]string) []string {
	out := []string{}
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		for _, msg := range errs[k] {
			if k == "" {
				out = append(out, msg)
			} else {
				out = append(out, fmt.Sprintf("%s: %s", k, msg))
			}
		}
	}
	return out
}

// validationProblem is a 400 VALIDATION_ERROR listing field errors; its target
// is the first field in sorted order.
func validationProblem(errs fieldErrors) problem {
	keys := errs.keys()
	detail := "The request is invalid: " + strings.Join(flattenErrors(errs), "; ")
	return problem{status: http.StatusBadRequest, code: client.CodeValidation, detail: detail,
		target: keys[0], errors: errs}
}

// fieldErrors maps a JSON path to messages.
type fieldErrors map[string][]string

func (f fieldErrors) add(key, format string, args ...any) {
	f[key] = append(f[key], fmt.Sprintf(format, args...))
}

func (f fieldErrors) keys() []string { return slices.Sorted(maps.Keys(f)) }
