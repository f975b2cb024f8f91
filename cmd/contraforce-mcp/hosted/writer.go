package hosted

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// outer wraps every route: the Host and Origin checks against DNS
// rebinding and cross-site use, CORS for the configured origins only, a
// default write deadline, and the request metric.
func (s *Server) outer(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, fixCORS: true}
		defer func() { s.metrics.httpRequests.add(1, route, strconv.Itoa(sw.code())) }()
		if !s.origins.hostAllowed(r.Host) {
			s.reject(sw, envelope{}, http.StatusMisdirectedRequest, reasonMisdirectedHost,
				"this server does not answer for the host "+strconv.Quote(clip(r.Host, 100))+"; the operator can allow it with --allowed-hosts", 0)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			if !s.origins.originAllowed(origin) {
				s.reject(sw, envelope{}, http.StatusForbidden, reasonForbiddenOrigin,
					"requests from the origin "+strconv.Quote(clip(origin, 100))+" are not allowed; the operator can allow it with --allowed-origins", 0)
				return
			}
			if s.origins.corsAllowed(origin) {
				sw.cors = origin
				if applyCORS(sw, r, origin) {
					return
				}
			}
		}
		// Streams clear this deadline; everything else must answer in time.
		_ = http.NewResponseController(sw).SetWriteDeadline(time.Now().Add(s.o.WriteTimeout))
		next.ServeHTTP(sw, r)
	})
}

// reject answers a refused request and counts it.
func (s *Server) reject(w http.ResponseWriter, env envelope, status int, reason, msg string, retryAfter time.Duration) {
	s.metrics.rejected.add(1, reason)
	writeError(w, env, status, reason, msg, retryAfter)
}

// statusWriter records the status code, and keeps CORS headers to what the
// server decided: mcp-go's SSE handler sets "Access-Control-Allow-Origin: *"
// on its own, which would let any web page read the stream.
type statusWriter struct {
	http.ResponseWriter
	status int
	// fixCORS: this writer (the outermost) decides Access-Control-Allow-Origin.
	fixCORS bool
	cors    string // the allowed CORS origin of this request, if any
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// WriteHeader fixes the CORS header before the headers go out.
func (w *statusWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	switch {
	case !w.fixCORS:
	case w.cors == "":
		w.Header().Del("Access-Control-Allow-Origin")
	default:
		w.Header().Set("Access-Control-Allow-Origin", w.cors)
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Flush implements http.Flusher (mcp-go streams need it).
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// sseStream is the writer of an SSE stream: it sees every event mcp-go
// writes, and counts the answers to the session's pending requests, so that
// a graceful shutdown knows when every accepted request has its answer.
type sseStream struct {
	http.ResponseWriter
	s   *Server
	res *reservation
}

// Write implements http.ResponseWriter. mcp-go writes one event per call.
func (w *sseStream) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	if sess := w.res.sess.Load(); err == nil && sess != nil && sess.pending.Load() > 0 && isAnswerEvent(p) {
		if sess.pending.Add(-1) >= 0 {
			w.s.inflight.Add(-1)
		} else {
			sess.pending.Add(1) // gave back by the session's end already
		}
	}
	return n, err
}

// Flush implements http.Flusher.
func (w *sseStream) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the connection.
func (w *sseStream) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// isAnswerEvent reports whether an SSE event carries a JSON-RPC response
// (a result or an error for a client's request): an id and a result or an
// error, and no method. Every event of a session passes here, answers of a
// few kilobytes among them, so the members are read without decoding their
// values; and since mcp-go writes a message's members in its types' order
// ("jsonrpc", "id", then "result" or "error", or "method"), an answer is
// known by its first members, without reading its result.
func isAnswerEvent(p []byte) bool {
	_, data, ok := bytes.Cut(p, []byte("data:"))
	if !ok {
		return false
	}
	dec := jsontext.NewDecoder(bytes.NewReader(bytes.TrimSpace(data)))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return false
	}
	var id, answer bool
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return false
		}
		switch name.String() {
		case "method":
			return false
		case "id":
			id = true
		case "result", "error":
			if id {
				return true
			}
			answer = true
		}
		if err := dec.SkipValue(); err != nil {
			return false
		}
	}
	return id && answer
}
