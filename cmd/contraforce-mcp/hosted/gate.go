package hosted

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// The gate stands before mcp-go on every MCP route. In order: refuse new
// work while draining, authenticate the bearer token (and in pass-through
// mode read the caller's credential), bound and read the body, check that a
// session belongs to the caller, apply the session and rate limits, and put
// the caller's session in the context. mcp-go sees only admitted requests,
// without the Authorization and credential headers.

// admit authenticates a request; on failure it has answered.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, env envelope) (*principal, bool) {
	if s.draining.Load() {
		s.reject(w, env, http.StatusServiceUnavailable, reasonShuttingDown,
			"this server is shutting down; reconnect (a load balancer will send you to another instance)", time.Second)
		return nil, false
	}
	t, id, fail := s.auth.authenticate(r)
	if fail != nil {
		s.metrics.rejected.add(1, fail.reason)
		s.auth.refuse(w, env, fail)
		return nil, false
	}
	r.Header.Del("Authorization") // no handler needs it; it must not travel further
	p := &principal{tenant: t, session: t.session}
	if s.pass != nil {
		sess, fp, err := s.pass.session(t, r)
		if err != nil {
			s.metrics.rejected.add(1, reasonUnauthorized)
			w.Header().Set("WWW-Authenticate", realm)
			writeError(w, env, http.StatusUnauthorized, reasonUnauthorized, err.Error(), 0)
			return nil, false
		}
		p.session, p.fingerprint = sess, fp
	}
	if id != nil {
		p.actFor(s.auth.oauth, id) // OAuth: the token's scopes narrow the session
	}
	return p, true
}

// readBody reads a POST body within the limit and lifts the read deadline
// (a tool call can outlast ReadTimeout, and net/http cancels the request's
// context when the connection's read deadline passes).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.reject(w, envelope{}, http.StatusRequestEntityTooLarge, reasonBodyTooLarge,
				"the request body is larger than this server accepts ("+strconv.FormatInt(s.o.MaxBodyBytes, 10)+" bytes); send less (a shorter comment), or ask the operator to raise --max-body", 0)
		} else {
			s.reject(w, envelope{}, http.StatusBadRequest, reasonBadRequest, "the request body could not be read", 0)
		}
		return nil, false
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, true
}

// streamDeadlines lifts both deadlines of a long-lived stream.
func streamDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
}

// rateLimit applies the tenant's tool-call bucket to a tools/call.
func (s *Server) rateLimit(w http.ResponseWriter, p *principal, env envelope) bool {
	if env.Method != string(mcp.MethodToolsCall) {
		return true
	}
	ok, wait := s.limiter.allow(p.tenant.Name)
	if !ok {
		s.reject(w, env, http.StatusTooManyRequests, reasonRateLimited,
			"too many tool calls: tenant "+strconv.Quote(p.tenant.Name)+" may make "+
				strconv.FormatFloat(s.o.ToolCallsPerSecond, 'g', -1, 64)+" a second; wait for Retry-After and call again", max(wait, time.Second))
	}
	return ok
}

// sessionLimit answers a refused reservation.
func (s *Server) sessionLimit(w http.ResponseWriter, env envelope, err error) {
	var le *limitError
	if !errors.As(err, &le) {
		s.reject(w, env, http.StatusServiceUnavailable, reasonSessionLimit, err.Error(), 5*time.Second)
		return
	}
	status := http.StatusServiceUnavailable
	if le.reason == reasonTenantSessions {
		status = http.StatusTooManyRequests
	}
	s.reject(w, env, status, le.reason, le.msg, 5*time.Second)
}

// ownedSession finds the caller's session; a session of another tenant (or
// another pass-through credential) is answered exactly like an unknown one,
// so that ids cannot be probed across tenants.
func (s *Server) ownedSession(w http.ResponseWriter, p *principal, env envelope, id string, tr Transport) (*session, bool) {
	sess := s.reg.lookup(id)
	if sess != nil && sess.transport == tr && sess.owns(p) {
		return sess, true
	}
	if sess != nil {
		s.log.Warn("MCP session used with another tenant's token: refused", "session", id, "owner", sess.tenant.Name, "caller", p.tenant.Name)
	}
	s.reject(w, env, http.StatusNotFound, reasonSessionNotFound,
		"no such MCP session (it ended, expired, or belongs to another client); start a new session", 0)
	return nil, false
}

// reserve takes a session slot for p, ending the tenant's oldest idle
// session when it is at a limit; with --redis the tenant's limit counts
// the sessions of every replica (registry.share).
func (s *Server) reserve(p *principal, tr Transport) (*reservation, error) {
	res, evicted, err := s.reg.reserve(p, tr)
	if evicted != nil {
		s.evicted(evicted)
	}
	if err != nil {
		return nil, err
	}
	if err := s.reg.share(res); err != nil {
		s.reg.release(res)
		return nil, err
	}
	return res, nil
}

// evicted ends a session the registry gave up for another's reservation.
func (s *Server) evicted(sess *session) {
	s.log.Info("tenant at its session limit: ending its oldest idle MCP session", "tenant", sess.tenant.Name,
		"transport", sess.transport, "session", sess.id, "idle", s.now().Sub(time.Unix(0, sess.lastActive.Load())).Round(time.Second))
	s.reg.end(sess)
	if sess.transport == TransportStreamable {
		s.forgetStreamable(sess)
	}
}

// forgetStreamable makes mcp-go drop its state of a session the registry
// has ended, through mcp-go's own DELETE (its sweeper would keep it until
// the idle TTL, and a tenant cycling sessions would grow it without bound).
func (s *Server) forgetStreamable(sess *session) {
	owner := &principal{tenant: sess.tenant, fingerprint: sess.fingerprint}
	r, err := http.NewRequestWithContext(withPrincipal(context.Background(), owner), http.MethodDelete, "/mcp", nil)
	if err != nil {
		return
	}
	r.Header.Set(server.HeaderKeySessionID, sess.id)
	s.streamable.ServeHTTP(discardResponse{header: http.Header{}}, r)
}

// discardResponse is the response writer of an internal request.
type discardResponse struct{ header http.Header }

func (d discardResponse) Header() http.Header         { return d.header }
func (d discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d discardResponse) WriteHeader(int)             {}

// singleValued refuses a request that repeats a header or query parameter
// the gate and mcp-go both read: each reads the first, but a proxy in
// front may have read another.
func (s *Server) singleValued(w http.ResponseWriter, r *http.Request) bool {
	for _, h := range []string{server.HeaderKeySessionID, mcp.HeaderProtocolVersion} {
		if len(r.Header.Values(h)) > 1 {
			s.reject(w, envelope{}, http.StatusBadRequest, reasonBadRequest, "send the "+h+" header once", 0)
			return false
		}
	}
	if len(r.URL.Query()["sessionId"]) > 1 {
		s.reject(w, envelope{}, http.StatusBadRequest, reasonBadRequest, "send the sessionId query parameter once", 0)
		return false
	}
	return true
}

// readMessageBody reads the body and the gate's one reading of it; a body
// that can be read two ways is refused here, before mcp-go sees it.
func (s *Server) readMessageBody(w http.ResponseWriter, r *http.Request) (envelope, bool) {
	body, ok := s.readBody(w, r)
	if !ok {
		return envelope{}, false
	}
	env, err := readMessage(body)
	if err != nil {
		s.refuseMessage(w, env, err)
		return envelope{}, false
	}
	return env, true
}

// serveSSE opens an SSE stream: the stream is the session, so its slot is
// taken here and given back when the stream ends.
func (s *Server) serveSSE(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.reject(w, envelope{}, http.StatusMethodNotAllowed, reasonMethod, "GET /sse opens the SSE stream; messages go to POST /message", 0)
		return
	}
	p, ok := s.admit(w, r, envelope{})
	if !ok {
		return
	}
	res, err := s.reserve(p, TransportSSE)
	if err != nil {
		s.sessionLimit(w, envelope{}, err)
		return
	}
	defer s.reg.release(res)
	// An idle expiry or the shutdown ends the stream through its session.
	ctx, cancel := context.WithCancel(withPrincipal(r.Context(), p))
	defer cancel()
	res.streamCancel = cancel
	streamDeadlines(w)
	stream := &sseStream{ResponseWriter: w, s: s, res: res}
	s.sse.SSEHandler().ServeHTTP(stream, r.WithContext(context.WithValue(ctx, reservationKey, res)))
}

// serveMessage admits one message of an SSE session. mcp-go answers 202 at
// once and sends the answer on the stream; the answer is pending until then.
func (s *Server) serveMessage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.reject(w, envelope{}, http.StatusMethodNotAllowed, reasonMethod, "POST /message sends a message of an SSE session", 0)
		return
	}
	p, ok := s.admit(w, r, envelope{})
	if !ok || !s.singleValued(w, r) {
		return
	}
	env, ok := s.readMessageBody(w, r)
	if !ok {
		return
	}
	// mcp-go reads the session the same way (Query().Get("sessionId")),
	// whatever the message's protocol era.
	sess, ok := s.ownedSession(w, p, env, r.URL.Query().Get("sessionId"), TransportSSE)
	if !ok || !s.scopeAllowed(w, p, env) || !s.rateLimit(w, p, env) {
		return
	}
	if env.Method != "" {
		sess.touch(s.now())
	}
	counted := env.isRequest()
	if counted {
		sess.pending.Add(1)
		s.inflight.Add(1)
	}
	sw := &statusWriter{ResponseWriter: w} // only to learn the status
	s.sse.MessageHandler().ServeHTTP(sw, r.WithContext(withPrincipal(r.Context(), p)))
	if counted && sw.code() != http.StatusAccepted {
		// mcp-go refused the message: no answer will come on the stream.
		if sess.pending.Add(-1) >= 0 {
			s.inflight.Add(-1)
		} else {
			sess.pending.Add(1)
		}
	}
}

// serveStreamable serves /mcp: POST messages, GET streams, DELETE ends.
func (s *Server) serveStreamable(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		s.streamablePost(w, r)
	case http.MethodGet, http.MethodDelete:
		s.streamableSession(w, r)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		s.reject(w, envelope{}, http.StatusMethodNotAllowed, reasonMethod, "use POST, GET or DELETE on /mcp", 0)
	}
}

// streamablePost admits one JSON-RPC message of streamable HTTP. A session
// named by Mcp-Session-Id must be the caller's whatever the message's era
// (mcp-go ignores the header of a 2026-07-28 message, but the gate's and
// mcp-go's readings of the era must not be what keeps tenants apart); the
// session id manager checks the same again on mcp-go's own reading.
func (s *Server) streamablePost(w http.ResponseWriter, r *http.Request) {
	p, ok := s.admit(w, r, envelope{})
	if !ok || !s.singleValued(w, r) {
		return
	}
	env, ok := s.readMessageBody(w, r)
	if !ok {
		return
	}
	ctx := withPrincipal(r.Context(), p)
	if id := r.Header.Get(server.HeaderKeySessionID); id != "" && !s.o.Stateless {
		sess, ok := s.ownedSession(w, p, env, id, TransportStreamable)
		if !ok {
			return
		}
		sess.touch(s.now())
		sess.busy.Add(1)
		defer sess.busy.Add(-1)
	}
	if !s.o.Stateless && !env.modern(r) && env.Method == string(mcp.MethodInitialize) {
		res, err := s.reserve(p, TransportStreamable)
		if err != nil {
			s.sessionLimit(w, env, err)
			return
		}
		// The session outlives this request once mcp-go has generated its id.
		defer func() {
			if !res.bound() {
				s.reg.release(res)
			}
		}()
		ctx = context.WithValue(ctx, reservationKey, res)
	}
	if !s.scopeAllowed(w, p, env) || !s.rateLimit(w, p, env) {
		return
	}
	if env.isRequest() {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
	}
	s.streamable.ServeHTTP(w, r.WithContext(ctx))
}

// streamableSession serves GET (the session's stream) and DELETE (its end).
// A session has one GET stream: a newer one replaces it.
func (s *Server) streamableSession(w http.ResponseWriter, r *http.Request) {
	p, ok := s.admit(w, r, envelope{})
	if !ok || !s.singleValued(w, r) {
		return
	}
	ctx := withPrincipal(r.Context(), p)
	id := r.Header.Get(server.HeaderKeySessionID)
	if !s.o.Stateless && (id != "" || !(envelope{}).modern(r)) {
		if id == "" {
			s.reject(w, envelope{}, http.StatusBadRequest, reasonBadRequest,
				"send the Mcp-Session-Id header the initialize response gave you", 0)
			return
		}
		sess, ok := s.ownedSession(w, p, envelope{}, id, TransportStreamable)
		if !ok {
			return
		}
		if r.Method == http.MethodGet {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
			defer sess.setStream(cancel)()
			// Idle time counts from the stream's end, for eviction.
			defer sess.touch(s.now())
			streamDeadlines(w)
		}
	}
	s.streamable.ServeHTTP(w, r.WithContext(ctx))
}
