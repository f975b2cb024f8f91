package hosted

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// envelope is what the gate needs to know of a JSON-RPC message before
// mcp-go sees it: its method, whether it expects an answer, the tool it calls
// and the protocol version it declares.
type envelope struct {
	// object reports whether the body is one JSON object (a message).
	object bool
	Method string
	// ID is the request id, raw; empty for a notification or no message.
	ID json.RawMessage
	// response: a message with an id, a result or error, and no method.
	response bool
	// Tool is params.name of a tools/call.
	Tool string
	// Version is the protocol version in params._meta (2026-07-28 and later).
	Version string
}

// parseEnvelope reads the envelope of a JSON-RPC body; anything that is not
// one JSON object gives a zero envelope, and mcp-go answers it.
func parseEnvelope(body []byte) envelope {
	var m struct {
		Method string          `json:"method"`
		ID     json.RawMessage `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
		Params struct {
			Name string         `json:"name"`
			Meta map[string]any `json:"_meta"`
		} `json:"params"`
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &m) != nil {
		return envelope{}
	}
	env := envelope{object: true, Method: m.Method}
	if len(m.ID) > 0 && string(m.ID) != "null" {
		env.ID = m.ID
	}
	env.response = m.Method == "" && env.ID != nil && (m.Result != nil || m.Error != nil)
	if m.Method == string(mcp.MethodToolsCall) {
		env.Tool = m.Params.Name
	}
	if v, ok := m.Params.Meta[mcp.MetaKeyProtocolVersion].(string); ok {
		env.Version = v
	}
	return env
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
	reasonNotFound        = "not_found"
	reasonMethod          = "method_not_allowed"
)

// jsonRPCServerError is the JSON-RPC code of a refusal by the gate (the
// implementation-defined server error range).
const jsonRPCServerError = -32000

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
