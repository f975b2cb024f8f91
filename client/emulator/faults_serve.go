package emulator

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// serveWithFaults runs the request's faults around handle, which serves it
// normally (authentication included).
func (e *Emulator) serveWithFaults(w http.ResponseWriter, r *http.Request, c *call, handle func(http.ResponseWriter)) {
	f := e.faults.next(c.endpoint)
	if f.Latency > 0 && r.Body != nil {
		// net/http notices a client hanging up (and cancels the request's
		// context) only once the body has been read: read it before waiting.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			return // the client is gone
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the caller is gone: nothing is applied or answered
		}
	}
	switch {
	case f.Status != 0:
		e.writeFaultStatus(w, c, f)
	case f.DropBeforeApply:
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBodyBytes))
		dropConnection(w)
	case f.DropAfterApply:
		handle(&discardWriter{header: http.Header{}})
		dropConnection(w)
	default:
		handle(w)
	}
}

// dropConnection closes the client's connection without an answer. Behind
// an HTTP/1.1 server it hijacks the connection; otherwise (HTTP/2, or a
// ResponseWriter that cannot hijack) it aborts the handler with
// http.ErrAbortHandler, which the net/http server turns into a reset.
func dropConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// faultCodes are the problem codes of injected statuses.
var faultCodes = map[int]string{
	http.StatusBadRequest: client.CodeBadRequest, http.StatusUnauthorized: client.CodeUnauthorized,
	http.StatusForbidden: client.CodeForbidden, http.StatusNotFound: client.CodeNotFound,
	http.StatusConflict: client.CodeConflict, http.StatusTooManyRequests: client.CodeRateLimited,
	http.StatusInternalServerError: client.CodeInternal, http.StatusBadGateway: client.CodeBadGateway,
	http.StatusServiceUnavailable: client.CodeServiceUnavailable, http.StatusGatewayTimeout: client.CodeGatewayTimeout,
}

var faultDetails = map[int]string{
	http.StatusTooManyRequests:    "The request rate limit of this credential was exceeded; retry after the delay in Retry-After.",
	http.StatusServiceUnavailable: "The service is temporarily unavailable; retry later.",
	http.StatusBadGateway:         "The upstream security product did not answer in time.",
	http.StatusGatewayTimeout:     "The upstream security product did not answer in time.",
}

func (e *Emulator) writeFaultStatus(w http.ResponseWriter, c *call, f Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body != nil {
		if f.ContentType != "" {
			w.Header().Set("Content-Type", f.ContentType)
		}
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, *f.Body)
		return
	}
	code := faultCodes[f.Status]
	if code == "" {
		code = client.CodeInternal
		if f.Status < 500 {
			code = client.CodeBadRequest
		}
	}
	detail := faultDetails[f.Status]
	if detail == "" {
		detail = http.StatusText(f.Status)
	}
	e.writeProblem(w, c, problem{status: f.Status, code: code, detail: detail})
}

// discardWriter swallows the answer of a request whose connection will be dropped.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
