package hosted

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// Transport names a session's transport, in metrics and logs.
type Transport string

// The two HTTP transports.
const (
	TransportSSE        Transport = "sse"
	TransportStreamable Transport = "streamable_http"
)

// session is one MCP session of the hosted server: who opened it, on which
// transport, and what to cancel when it ends.
type session struct {
	id          string
	transport   Transport
	tenant      *Tenant
	fingerprint [32]byte
	lastActive  atomic.Int64 // unix nanoseconds of the client's last message

	// pending counts SSE requests accepted but not yet answered on the
	// stream; a graceful shutdown waits for them.
	pending atomic.Int64

	mu      sync.Mutex
	streams map[int]context.CancelFunc // open GET streams of the session
	nextID  int
	ended   bool
}

// owns reports whether p may use the session: same tenant and, in
// pass-through mode, the same credential.
func (s *session) owns(p *principal) bool {
	return s.tenant == p.tenant && s.fingerprint == p.fingerprint
}

func (s *session) touch(now time.Time) { s.lastActive.Store(now.UnixNano()) }

// addStream registers a GET stream's cancel; the returned func removes it.
// A stream of an ended session is cancelled at once.
func (s *session) addStream(cancel context.CancelFunc) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		cancel()
		return func() {}
	}
	if s.streams == nil {
		s.streams = map[int]context.CancelFunc{}
	}
	id := s.nextID
	s.nextID++
	s.streams[id] = cancel
	return func() {
		s.mu.Lock()
		delete(s.streams, id)
		s.mu.Unlock()
	}
}

// end cancels the session's streams; it reports false if it had ended.
func (s *session) end() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return false
	}
	s.ended = true
	for _, cancel := range s.streams {
		cancel()
	}
	s.streams = nil
	return true
}

// reservation is a session slot taken before the transport creates the
// session (SSE GET, streamable initialize); the transport's id generator
// binds it to the new id. An unbound reservation is released when its
// request ends.
type reservation struct {
	p         *principal
	transport Transport
	sess      atomic.Pointer[session]
	// streamCancel ends the SSE stream that is the session.
	streamCancel context.CancelFunc
}

// limitError is a refused session: over the server's or the tenant's limit.
type limitError struct {
	reason string
	msg    string
}

func (e *limitError) Error() string { return e.msg }

// registry holds the sessions of this process and enforces the limits.
type registry struct {
	maxTotal, maxPerTenant int
	now                    func() time.Time
	log                    *slog.Logger
	// inflight is the server's count of requests awaiting an answer; it
	// gives back an ended SSE session's pending answers.
	inflight *atomic.Int64

	mu        sync.Mutex
	byID      map[string]*session
	perTenant map[string]int
	total     int
	open      map[Transport]int
}

func newRegistry(maxTotal, maxPerTenant int, now func() time.Time, log *slog.Logger, inflight *atomic.Int64) *registry {
	return &registry{
		maxTotal: maxTotal, maxPerTenant: maxPerTenant, now: now, log: log, inflight: inflight,
		byID: map[string]*session{}, perTenant: map[string]int{}, open: map[Transport]int{},
	}
}

// reserve takes a slot for a new session of p's tenant.
func (g *registry) reserve(p *principal, tr Transport) (*reservation, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	name := p.tenant.Name
	if g.maxTotal > 0 && g.total >= g.maxTotal {
		return nil, &limitError{reasonSessionLimit, fmt.Sprintf(
			"this server has %d open MCP sessions, its limit; retry later or connect to another instance", g.total)}
	}
	if g.maxPerTenant > 0 && g.perTenant[name] >= g.maxPerTenant {
		return nil, &limitError{reasonTenantSessions, fmt.Sprintf(
			"tenant %q has %d open MCP sessions, its limit; close unused sessions (or let them expire) and retry", name, g.perTenant[name])}
	}
	g.total++
	g.perTenant[name]++
	g.open[tr]++
	return &reservation{p: p, transport: tr}, nil
}

// bind creates the session of a reservation under a new id.
func (g *registry) bind(res *reservation) *session {
	s := &session{id: newSessionID(), transport: res.transport, tenant: res.p.tenant, fingerprint: res.p.fingerprint}
	s.touch(g.now())
	if res.streamCancel != nil {
		s.addStream(res.streamCancel)
	}
	g.mu.Lock()
	g.byID[s.id] = s
	g.mu.Unlock()
	res.sess.Store(s)
	return s
}

// release gives back a reservation's slot when its request ends without a
// session (it failed before the id was generated) or, for SSE, when the
// stream (which is the session) ends.
func (g *registry) release(res *reservation) {
	if s := res.sess.Load(); s != nil {
		g.remove(s.id)
		return
	}
	g.mu.Lock()
	g.free(res.p.tenant.Name, res.transport)
	g.mu.Unlock()
}

// bound reports whether the transport created the reservation's session.
func (res *reservation) bound() bool { return res.sess.Load() != nil }

// remove ends a session and frees its slot; unknown ids are ignored.
func (g *registry) remove(id string) {
	g.mu.Lock()
	s, ok := g.byID[id]
	if ok {
		delete(g.byID, id)
		g.free(s.tenant.Name, s.transport)
	}
	g.mu.Unlock()
	if ok && s.end() {
		if n := s.pending.Swap(0); n > 0 {
			g.inflight.Add(-n)
		}
	}
}

// free gives back one slot; g.mu is held.
func (g *registry) free(tenant string, tr Transport) {
	g.total--
	g.open[tr]--
	if g.perTenant[tenant]--; g.perTenant[tenant] <= 0 {
		delete(g.perTenant, tenant)
	}
}

// lookup returns the session with the id, or nil.
func (g *registry) lookup(id string) *session {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.byID[id]
}

// counts returns the open sessions (and reservations) by transport.
func (g *registry) counts() map[Transport]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return map[Transport]int{TransportSSE: g.open[TransportSSE], TransportStreamable: g.open[TransportStreamable]}
}

// expireIdle ends SSE sessions whose client sent nothing for ttl (mcp-go's
// own sweeper expires streamable sessions, through Terminate).
func (g *registry) expireIdle(ttl time.Duration) {
	cutoff := g.now().Add(-ttl).UnixNano()
	var idle []*session
	g.mu.Lock()
	for _, s := range g.byID {
		if s.transport == TransportSSE && s.lastActive.Load() < cutoff {
			idle = append(idle, s)
		}
	}
	g.mu.Unlock()
	for _, s := range idle {
		g.log.Info("closing idle MCP session", "tenant", s.tenant.Name, "transport", s.transport, "session", s.id, "idle", ttl)
		g.remove(s.id)
	}
}

// endAll ends every session (shutdown): their streams close.
func (g *registry) endAll() {
	g.mu.Lock()
	ids := make([]string, 0, len(g.byID))
	for id := range g.byID {
		ids = append(ids, id)
	}
	g.mu.Unlock()
	for _, id := range ids {
		g.remove(id)
	}
}

// newSessionID returns an unguessable session id (130 random bits).
func newSessionID() string { return "cfs-" + rand.Text() }

// sseSessionID is the SSE server's session id generator: it binds the
// stream's reservation.
func (g *registry) sseSessionID(ctx context.Context, _ *http.Request) (string, error) {
	res, _ := ctx.Value(reservationKey).(*reservation)
	if res == nil {
		return "", errors.New("no session reservation")
	}
	return g.bind(res).id, nil
}

// ResolveSessionIdManager makes the registry mcp-go's session id manager of
// the streamable HTTP transport: ids are generated for the request's
// reservation, and only live ids of this process validate. r is nil when
// mcp-go's idle sweeper asks.
func (g *registry) ResolveSessionIdManager(r *http.Request) server.SessionIdManager {
	m := &streamableIDs{g: g}
	if r != nil {
		m.res, _ = r.Context().Value(reservationKey).(*reservation)
	}
	return m
}

// streamableIDs is the session id manager of one streamable request.
type streamableIDs struct {
	g   *registry
	res *reservation
}

var errUnknownSession = errors.New("unknown or expired session")

// Generate binds the initialize request's reservation. Without one (the gate
// reserves for every initialize) it returns an id that never validates.
func (m *streamableIDs) Generate() string {
	if m.res == nil {
		m.g.log.Error("streamable session id requested without a reservation; the session will not validate")
		return newSessionID()
	}
	return m.g.bind(m.res).id
}

// Validate accepts only live streamable sessions of this process.
func (m *streamableIDs) Validate(id string) (bool, error) {
	if s := m.g.lookup(id); s != nil && s.transport == TransportStreamable {
		return false, nil
	}
	return false, errUnknownSession
}

// Terminate ends the session (DELETE, idle sweep, shutdown).
func (m *streamableIDs) Terminate(id string) (bool, error) {
	m.g.remove(id)
	return false, nil
}
