package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// errorServer answers every request with status, content type, body and a request id header.
func errorServer(status int, ctype, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "hdr-req-1")
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

func TestDecodeErrorBodies(t *testing.T) {
	const problem = `{"type":"https://docs.contraforce.com/errors/validation","title":"One or more validation errors occurred.",
		"status":400,"detail":"Sentinel requires a classification when closing.","instance":"/api/v2/workspaces/w/incidents/Sentinel/1/status",
		"code":"VALIDATION_ERROR","requestId":"body-req-9","timestamp":"2026-04-15T20:01:00Z","target":"classification",
		"errors":{"classification":["The classification field is required."],"classificationReason":["The classificationReason field is required."]}}`
	const legacy = `{"error":{"code":"NOT_FOUND","message":"Incident 'INC-999' not found","target":"incidentId",
		"details":["No incident exists with the given ID in this workspace"]},"meta":{"requestId":"0HN8Q3V0002","timestamp":"2026-04-15T20:01:00.0000000+00:00"}}`
	const html = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{color:red}</style></head>
		<body><h1>Bad Gateway</h1><script>alert(1)</script><p>nginx</p></body></html>`
	tests := []struct {
		name     string
		status   int
		ctype    string
		body     string
		want     APIError
		inError  []string // substrings of Error()
		notInErr []string
	}{
		{
			name: "problem details", status: 400, ctype: "application/problem+json", body: problem,
			want: APIError{Op: "update status", Status: 400, Code: CodeValidation, Title: "One or more validation errors occurred.",
				Detail: "Sentinel requires a classification when closing.", Type: "https://docs.contraforce.com/errors/validation",
				Instance: "/api/v2/workspaces/w/incidents/Sentinel/1/status", Target: "classification",
				Errors:    map[string][]string{"classification": {"The classification field is required."}, "classificationReason": {"The classificationReason field is required."}},
				RequestID: "body-req-9", Timestamp: "2026-04-15T20:01:00Z"},
			inError: []string{"update status", "HTTP 400", "VALIDATION_ERROR", "classificationReason: The classificationReason field is required.", "request id body-req-9", "target classification"},
		},
		{
			name: "older envelope", status: 404, ctype: "application/json", body: legacy,
			want: APIError{Op: "update status", Status: 404, Code: CodeNotFound, Title: "Incident 'INC-999' not found",
				Detail: "No incident exists with the given ID in this workspace", Target: "incidentId",
				RequestID: "0HN8Q3V0002", Timestamp: "2026-04-15T20:01:00.0000000+00:00"},
			inError: []string{"HTTP 404", "NOT_FOUND", "INC-999", "request id 0HN8Q3V0002"},
		},
		{
			name: "older envelope with field details", status: 400, ctype: "application/json",
			body: `{"error":{"code":"VALIDATION_ERROR","message":"Invalid body","details":[{"target":"status","message":"unknown value"},"see docs"]},"meta":{"requestId":"r2"}}`,
			want: APIError{Op: "update status", Status: 400, Code: CodeValidation, Title: "Invalid body", Detail: "see docs",
				Errors: map[string][]string{"status": {"unknown value"}}, RequestID: "r2"},
			inError: []string{"status: unknown value"},
		},
		{
			name: "tolerant problem: string errors and string status", status: 422, ctype: "application/problem+json",
			body: `{"title":"Bad","status":"422","errors":{"":"body is required","x":[{"message":"m"},3]}}`,
			want: APIError{Op: "update status", Status: 422, Code: CodeBadRequest, Title: "Bad",
				Errors: map[string][]string{"": {"body is required"}, "x": {"m", "3"}}, RequestID: "hdr-req-1"},
			inError: []string{"(body): body is required"},
		},
		{
			name: "html from a proxy", status: 502, ctype: "text/html", body: html,
			want: APIError{Op: "update status", Status: 502, Code: CodeBadGateway, Title: "Bad Gateway",
				Detail: `the API answered with a non-JSON body (text/html): "502 Bad Gateway"`, RequestID: "hdr-req-1"},
			inError:  []string{"HTTP 502", "BAD_GATEWAY", "502 Bad Gateway"},
			notInErr: []string{"<", "alert", "nginx"},
		},
		{
			name: "empty 502", status: 502, body: "",
			want: APIError{Op: "update status", Status: 502, Code: CodeBadGateway, Title: "Bad Gateway",
				Detail: "the API answered with an empty body", RequestID: "hdr-req-1"},
			inError: []string{"HTTP 502 Bad Gateway BAD_GATEWAY"},
		},
		{
			name: "garbage", status: 500, ctype: "application/octet-stream", body: "\x00\xff\x1b[31mboom\r\nline2",
			want: APIError{Op: "update status", Status: 500, Code: CodeInternal, Title: "Internal Server Error",
				Detail: `the API answered with a non-JSON body (application/octet-stream): "[31mboom line2"`, RequestID: "hdr-req-1"},
			notInErr: []string{"\x1b", "\r", "\n"},
		},
		{
			name: "truncated JSON", status: 401, ctype: "application/json", body: `{"code":"UNAUTH`,
			want: APIError{Op: "update status", Status: 401, Code: CodeUnauthorized, Title: "Unauthorized",
				Detail: `the API answered with a non-JSON body (application/json): "{\"code\":\"UNAUTH"`, RequestID: "hdr-req-1"},
		},
		{
			name: "gateway message body", status: 403, ctype: "application/json", body: `{"statusCode":403,"message":"Access denied by policy"}`,
			want: APIError{Op: "update status", Status: 403, Code: CodeForbidden, Title: "Forbidden", Detail: "Access denied by policy", RequestID: "hdr-req-1"},
		},
		{
			name: "redirect", status: 302, body: "",
			want: APIError{Op: "update status", Status: 302, Code: CodeBadRequest, Title: "Found",
				Detail: "the API answered with a redirect; check BaseURL (it should end in /api/v2)", RequestID: "hdr-req-1"},
			inError: []string{"HTTP 302", "check BaseURL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := newTestClient(t, errorServer(tt.status, tt.ctype, tt.body), func(c *Config) { c.MaxAttempts = 1 })
			_, err := c.UpdateStatus(context.Background(), testRef, UpdateStatusRequest{Status: StatusClosed})
			got, ok := AsAPIError(err)
			if !ok {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			g := *got
			g.problemStatus, g.apiProblem = 0, false // how the body was judged: TestRetryOnlyWhatWasNotProcessed
			if !reflect.DeepEqual(g, tt.want) {
				t.Errorf("decoded\n %#v\nwant\n %#v", *got, tt.want)
			}
			msg := err.Error()
			for _, s := range tt.inError {
				if !strings.Contains(msg, s) {
					t.Errorf("Error() = %q, want it to contain %q", msg, s)
				}
			}
			for _, s := range tt.notInErr {
				if strings.Contains(msg, s) {
					t.Errorf("Error() = %q, must not contain %q", msg, s)
				}
			}
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("Error() is not one line: %q", msg)
			}
			if ErrorCode(err) != tt.want.Code {
				t.Errorf("ErrorCode = %q, want %q", ErrorCode(err), tt.want.Code)
			}
		})
	}
}

func TestCodeForStatus(t *testing.T) {
	want := map[int]string{
		400: CodeBadRequest, 401: CodeUnauthorized, 403: CodeForbidden, 404: CodeNotFound, 409: CodeConflict,
		429: CodeRateLimited, 502: CodeBadGateway, 503: CodeServiceUnavailable, 504: CodeGatewayTimeout,
		500: CodeInternal, 501: CodeInternal, 418: CodeBadRequest,
	}
	for status, code := range want {
		if got := codeForStatus(status); got != code {
			t.Errorf("codeForStatus(%d) = %q, want %q", status, got, code)
		}
	}
}

// A proxy page echoing the request's headers must not put the credential in an error.
func TestErrorScrubsEchoedCredentials(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("X-Request-Id", r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"title":"bad auth %s","detail":"secret was %s","code":"BAD_REQUEST","errors":{"x":["%s"]}}`,
			r.Header.Get("Authorization"), testSecret, testSecret)
	})
	c, _, _ := newTestClient(t, echo)
	_, err := c.ListComments(context.Background(), testRef)
	if err == nil {
		t.Fatal("want an error")
	}
	assertNoSecret(t, "Error()", err.Error())
	e, _ := AsAPIError(err)
	assertNoSecret(t, "APIError fields", fmt.Sprintf("%+v", *e))
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("Error() = %q, want the echoed secret replaced by [REDACTED]", err.Error())
	}
}

func TestErrorHelpers(t *testing.T) {
	if ErrorCode(errors.New("plain")) != "" || ErrorCode(nil) != "" {
		t.Error("ErrorCode of a non-API error must be empty")
	}
	wrapped := fmt.Errorf("tool: %w", &APIError{Code: CodeNotFound})
	if e, ok := AsAPIError(wrapped); !ok || e.Code != CodeNotFound || ErrorCode(wrapped) != CodeNotFound {
		t.Error("AsAPIError/ErrorCode must see through wrapping")
	}
	local := (&APIError{Op: "get incident", Code: CodeWorkspaceNotAllowed, Title: "workspace not allowed"}).Error()
	if local != "get incident: WORKSPACE_NOT_ALLOWED: workspace not allowed" {
		t.Errorf("local error = %q", local)
	}
	long := (&APIError{Status: 400, Detail: strings.Repeat("x", 5000)}).Error()
	if len(long) > 700 {
		t.Errorf("a huge detail is not shortened: %d bytes", len(long))
	}
}

// Bodies are read only up to a cap: a huge error page still gives a readable
// error, and a success body over 32 MiB is refused rather than buffered.
func TestBodyCaps(t *testing.T) {
	huge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("<html><title>Oops</title>" + strings.Repeat("<p>x</p>", 256<<10) + "</html>"))
	})
	c, _, _ := newTestClient(t, huge)
	_, err := c.ListUsers(context.Background())
	if ErrorCode(err) != CodeInternal || !strings.Contains(err.Error(), "Oops") || len(err.Error()) > 400 {
		t.Errorf("err = %.500v", err)
	}

	var n atomic.Int32
	big := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":[`))
		chunk := []byte(strings.Repeat(" ", 1<<20))
		for range maxSuccessBody>>20 + 1 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`]}`))
	})
	c, _, _ = newTestClient(t, big)
	_, err = c.ListUsers(context.Background())
	if err == nil || !strings.Contains(err.Error(), "larger than 32 MiB") || n.Load() != 1 {
		t.Errorf("err = %v after %d requests; want one refused oversized answer", err, n.Load())
	}
}
