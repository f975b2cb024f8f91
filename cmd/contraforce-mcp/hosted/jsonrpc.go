package hosted

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// envelope is what the gate knows of a JSON-RPC message before mcp-go
// sees it (readMessage reads it): its method, its id, whether it is a
// client's response, and the protocol version it declares.
type envelope struct {
	Method string
	// ID is the request id, raw; empty for a notification or no message.
	ID json.RawMessage
	// response: a client's answer to a server request (an id, a result or
	// an error, no method).
	response bool
	// Version is the protocol version in params._meta (2026-07-28 and later).
	Version string
	// Tool is params.name of a tools/call.
	Tool string
}

// isRequest reports whether the message expects a response.
func (e envelope) isRequest() bool { return e.Method != "" && e.ID != nil }

// modern reports whether a request uses the session-less protocol core
// (2026-07-28 and later), by its header or its _meta.
func (e envelope) modern(r *http.Request) bool {
	return mcp.IsModernProtocol(e.Version) || mcp.IsModernProtocol(r.Header.Get(mcp.HeaderProtocolVersion))
}

// Reasons name why the gate refused a request, in error bodies and in the
// rejected-requests metric.
const (
	reasonUnauthorized    = "unauthorized"
	reasonForbiddenOrigin = "forbidden_origin"
	reasonMisdirectedHost = "misdirected_host"
	reasonBodyTooLarge    = "body_too_large"
	reasonSessionNotFound = "session_not_found"
	reasonSessionLimit    = "session_limit"
	reasonTenantSessions  = "tenant_session_limit"
	reasonRateLimited     = "rate_limited"
	reasonShuttingDown    = "shutting_down"
	reasonBadRequest      = "bad_request"
	reasonBadMessage      = "bad_message"
	reasonNotFound        = "not_found"
	reasonMethod          = "method_not_allowed"
)

// jsonRPCServerError is the JSON-RPC code of a refusal by the gate (the
// implementation-defined server error range).
const jsonRPCServerError = -32000

// refuseMessage answers a message the gate will not pass to mcp-go: 400
// with a JSON-RPC error (the id when it was read unambiguously, else null).
func (s *Server) refuseMessage(w http.ResponseWriter, env envelope, err error) {
	code, msg := codeInvalidRequest, err.Error()
	var me *messageError
	if errors.As(err, &me) {
		code = me.code
	}
	id := env.ID
	if id == nil {
		id = json.RawMessage("null")
	}
	s.metrics.rejected.add(1, reasonBadMessage)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadRequest)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{
		"jsonrpc": "2.0", "id": id,
		"error": map[string]any{"code": code, "message": "refused: " + msg,
			"data": map[string]any{"reason": reasonBadMessage, "httpStatus": http.StatusBadRequest}},
	})
}

// writeError answers a refused request with a JSON body a person or an
// agent can act on. A JSON-RPC request gets a JSON-RPC error with its id (so
// a client can match it); anything else gets {"error", "message"}. A
// positive retryAfter adds Retry-After (whole seconds, rounded up).
func writeError(w http.ResponseWriter, env envelope, status int, reason, msg string, retryAfter time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	secs := 0
	if retryAfter > 0 {
		secs = int(math.Ceil(retryAfter.Seconds()))
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	var body any
	if env.isRequest() {
		data := map[string]any{"reason": reason, "httpStatus": status}
		if secs > 0 {
			data["retryAfterSeconds"] = secs
		}
		body = map[string]any{
			"jsonrpc": "2.0", "id": env.ID,
			"error": map[string]any{"code": jsonRPCServerError, "message": msg, "data": data},
		}
	} else {
		b := map[string]any{"error": reason, "message": msg}
		if secs > 0 {
			b["retryAfterSeconds"] = secs
		}
		body = b
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}
