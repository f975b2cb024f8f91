package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// The fuzz credential: finding it, or the Basic value it is sent in, in an
// error or a log line is a leak.
const (
	fuzzClientID = "0f0f0f0f-1e1e-4d2d-8c3c-4b4b4b4b4b4b"
	fuzzSecret   = "cf_sa_fuzz_9Hq2Lm7Xw4Rt"
)

// fuzzMaxError bounds an error sentence: an agent must be able to read it
// whatever the server sent (the body itself is capped at 64 KiB).
const fuzzMaxError = 8 << 10

// fuzzTransport answers every request with one canned response, so that a
// fuzzed error answer goes through the client's real request path
// (attempt, scrubbing, decoding) without a network.
type fuzzTransport struct {
	status            int
	contentType, wait string
	body              []byte
}

func (f fuzzTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := http.Header{}
	if f.contentType != "" {
		h.Set("Content-Type", f.contentType)
	}
	if f.wait != "" {
		h.Set("Retry-After", f.wait)
	}
	h.Set("X-Request-Id", "fuzz-1")
	return &http.Response{StatusCode: f.status, Header: h, Body: io.NopCloser(bytes.NewReader(f.body)),
		ContentLength: int64(len(f.body)), Request: req}, nil
}

// FuzzProblemDecoding: whatever status, content type, Retry-After and body
// an API answers with, decoding the error never panics, and its sentence is
// non-empty, of bounded length, valid UTF-8 on one line, and never carries
// the credential; nor does the debug log of the request.
func FuzzProblemDecoding(f *testing.F) {
	basic := base64.StdEncoding.EncodeToString([]byte(fuzzClientID + ":" + fuzzSecret))
	echo := "Authorization: Basic " + basic + " secret=" + fuzzSecret
	for _, s := range []struct {
		status            int
		contentType, wait string
		body              string
	}{
		{400, "application/problem+json", "", `{"type":"about:blank","title":"Validation failed","status":400,"code":"VALIDATION_ERROR",` +
			`"detail":"One or more fields are invalid.","errors":{"status":["Allowed: New, Active, Closed."],"":"whole body"},"requestId":"r-1"}`},
		{404, "application/json", "", `{"error":{"code":"NOT_FOUND","message":"Incident not found","target":"incidentId",` +
			`"details":[{"target":"incidentId","message":"no such id"},"plain",{"x":1}]},"meta":{"requestId":"r-2","timestamp":"2025-01-01T00:00:00Z"}}`},
		{401, "application/json", "", `{"error":"invalid_client"}`},
		{429, "application/problem+json", "120", `{"title":"Too many requests","status":429}`},
		{503, "", "Wed, 21 Oct 2015 07:28:00 GMT", ``},
		{503, "", "99999999999999999999999", `{}`},
		{502, "text/html", "", `<html><head><title>502 Bad Gateway</title><script>x()</script></head><body><h1>nginx</h1></body></html>`},
		{500, "text/plain", "", "\xff\xfe garbage \x00\x1b[2J"},
		{504, "application/json", "", `{"message":"Endpoint request timed out"}`},
		{422, "application/problem+json", "", `{"errors":[1,2,3],"title":{"a":1},"status":"x"}`},
		{400, "application/problem+json", "", `{"title":"` + strings.Repeat("é", 400) + `"}`},
		{302, "", "", ``},
		{0, "", "", `{`},
		{599, "application/json", "", strings.Repeat("[", 5000)},
		// Server text with controls: the sentence must stay on one line.
		{500, "application/problem+json", "", `{"code":"E\n\u001b[2J\u202e","title":"T\r\nX","requestId":"r\u0007"}`},
		// Unbounded parts: a long code, many field errors.
		{400, "application/problem+json", "", `{"code":"` + strings.Repeat("C", 20000) + `"}`},
		{400, "application/problem+json", "", `{"errors":{` + fieldErrorsSeed(300) + `}}`},
		// The credential echoed back by a proxy: raw, JSON-escaped and as HTML entities.
		{400, "application/problem+json", "", `{"title":"Bad request","detail":"` + echo + `","code":"` + fuzzSecret + `"}`},
		{400, "text/html", "", `<html><title>` + echo + `</title></html>`},
		{400, "application/problem+json", "", `{"detail":"` + jsonEscapeAll(fuzzSecret) + `"}`},
		{400, "text/html", "", `<html><title>` + htmlEscapeAll(fuzzSecret) + `</title></html>`},
		// Found by fuzzing: an invalid UTF-8 byte inside the echoed value hides
		// it from the scrubber, and the snippet then drops the byte.
		{400, "", "0", basic[:28] + "\xed" + basic[28:]},
		{400, "text/plain", "", fuzzSecret[:9] + "\xff" + fuzzSecret[9:]},
		// Base64 of the secret alone, and URL-encoded forms.
		{400, "text/html", "", "<title>" + base64.StdEncoding.EncodeToString([]byte("k="+fuzzSecret)) + "</title>"},
		{503, "text/plain", "", "next=%2F" + strings.ReplaceAll(fuzzSecret, "_", "%5F") + "&auth=Basic%20" + strings.ReplaceAll(basic, "=", "%3D")},
	} {
		f.Add(s.status, s.contentType, s.wait, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, contentType, wait string, body []byte) {
		// The decoder alone, with any status.
		h := http.Header{}
		h.Set("Content-Type", contentType)
		h.Set("Retry-After", wait)
		e := decodeAPIError("get incident", status, h, body, time.Unix(1700000000, 0), scrubber{})
		checkErrorSentence(t, "decodeAPIError", e.Error())

		// The client's request path, with an error status.
		if status < 400 || status > 599 {
			status = 400 + int(uint(status)%200)
		}
		var log bytes.Buffer
		c, err := New(Config{BaseURL: "http://127.0.0.1:9/api/v2", ClientID: fuzzClientID, ClientSecret: fuzzSecret,
			MaxAttempts: 1, Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
			HTTPClient: &http.Client{Transport: fuzzTransport{status, contentType, wait, body},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetIncident(context.Background(), IncidentRef{WorkspaceID: "w", Source: SourceSentinel, IncidentID: "1"}, false)
		if err == nil {
			t.Fatalf("HTTP %d was not an error", status)
		}
		msg := err.Error()
		checkErrorSentence(t, "GetIncident", msg)
		forms := leakForms(fuzzClientID, fuzzSecret)
		delete(forms, "secret first half") // a random body may hold a short piece by chance
		for _, needle := range forms {
			if strings.Contains(msg, needle) {
				t.Fatalf("CREDENTIAL LEAK: the error carries the credential (%.10s…) the server echoed: %q", needle, msg)
			}
			if strings.Contains(log.String(), needle) {
				t.Fatalf("CREDENTIAL LEAK: the debug log carries the credential (%.10s…)", needle)
			}
		}
	})
}

// checkErrorSentence asserts what an agent or operator relies on in an
// error's text.
func checkErrorSentence(t *testing.T, what, msg string) {
	t.Helper()
	switch {
	case strings.TrimSpace(msg) == "":
		t.Fatalf("%s: empty error", what)
	case len(msg) > fuzzMaxError:
		t.Fatalf("%s: UNBOUNDED ERROR: %d bytes (server-supplied parts such as the code or the field errors are not shortened): %.200q…",
			what, len(msg), msg)
	case !utf8.ValidString(msg):
		t.Fatalf("%s: the error is not valid UTF-8: %q", what, msg)
	}
	if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
		t.Fatalf("%s: the error carries control character %U from the server (its code is not flattened like the rest): %q",
			what, []rune(msg[i:])[0], msg)
	}
}

// fieldErrorsSeed is n distinct field errors, as members of an object.
func fieldErrorsSeed(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"field` + strings.Repeat("x", i%40) + string(rune('a'+i%26)) + `":["` + strings.Repeat("m", 200) + `"]`)
	}
	return b.String()
}

// jsonEscapeAll writes s as JSON \u escapes, which decode back to s.
func jsonEscapeAll(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.String()
}

// htmlEscapeAll writes s as numeric HTML entities.
func htmlEscapeAll(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, "&#%d;", r)
	}
	return b.String()
}
