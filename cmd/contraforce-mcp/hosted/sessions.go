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
	// lease counts the session in its tenant's shared count (--redis).
	lease string

	// pending counts SSE requests accepted but not yet answered on the
	// stream; a graceful shutdown waits for them.
	pending atomic.Int64
	// busy counts the session's streamable POSTs in progress.
	busy atomic.Int64

	mu sync.Mutex
	// stream cancels the session's open stream (the SSE stream, or the
	// streamable GET stream); streamID tells a replaced stream's removal
	// from the current one's.
	stream   context.CancelFunc
	streamID int
	ended    bool
}

// owns reports whether p may use the session: same tenant and, in
// pass-through mode, the same credential.
func (s *session) owns(p *principal) bool {
	return s.tenant == p.tenant && s.fingerprint == p.fingerprint
}

func (s *session) touch(now time.Time) { s.lastActive.Store(now.UnixNano()) }

// setStream makes cancel the session's one stream, cancelling the stream it
// replaces: a client reconnecting its GET stream gets the new one, and a
// session cannot hold more than one. A stream of an ended session is
// cancelled at once. The returned func removes the stream.
func (s *session) setStream(cancel context.CancelFunc) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		cancel()
		return func() {}
	}
	if s.stream != nil {
		s.stream()
	}
	s.streamID++
	id := s.streamID
	s.stream = cancel
	return func() {
		s.mu.Lock()
		if s.streamID == id {
			s.stream = nil
		}
		s.mu.Unlock()
	}
}

// idle reports whether nothing of the session is running: no request, no
// open stream. Only an idle session may be evicted.
func (s *session) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.ended && s.stream == nil && s.busy.Load() == 0 && s.pending.Load() == 0
}

// end cancels the session's stream; it reports false if it had ended.
func (s *session) end() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return false
	}
	s.ended = true
	if s.stream != nil {
		s.stream()
		s.stream = nil
	}
	return true
}

// reservation is a session slot taken before the transport creates the
// session (SSE GET, streamable initialize); the transport's id generator
// binds it to the new id. An unbound reservation is released when its
// request ends.
type reservation struct {
	p         *principal
	transport Transport
	// lease is the slot's lease in the tenant's shared count ("" without Redis).
	lease string
	sess  atomic.Pointer[session]
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

	// shared, with --redis, counts the tenant's sessions across the
	// replicas (redis_sessions.go); onEvict ends a session the registry has
	// given up for another's reservation.
	shared  *redisShare
	onEvict func(*session)

	mu        sync.Mutex
	byID      map[string]*session
	perTenant map[string]int
	total     int
	open      map[Transport]int
	// leases are this replica's leases by id (with shared only): counted
	// once the shared count has taken them.
	leases map[string]*leaseState
	// waiting are the tenants with a reservation waiting for another
	// replica to end an idle session (redis_sessions.go).
	waiting map[string]bool
}

// leaseState is one lease of a reservation or session.
type leaseState struct {
	tenant  string
	counted bool
}

func newRegistry(maxTotal, maxPerTenant int, now func() time.Time, log *slog.Logger, inflight *atomic.Int64) *registry {
	return &registry{
		maxTotal: maxTotal, maxPerTenant: maxPerTenant, now: now, log: log, inflight: inflight,
		byID: map[string]*session{}, perTenant: map[string]int{}, open: map[Transport]int{},
		leases: map[string]*leaseState{},
	}
}

// reserve takes a slot for a new session of p's tenant. At a limit, the
// tenant's oldest idle session gives up its slot: it is returned, removed
// from the registry, for the caller to end (outside the lock). Only with
// none idle is the reservation refused: a client that never ends its
// sessions (mcp-go's own streamable client sends its DELETE without the
// bearer token) must not lock its tenant out until the idle TTL.
//
// With --redis this is the replica's own count; share then takes the
// reservation's place in the tenant's count across the replicas.
func (g *registry) reserve(p *principal, tr Transport) (res *reservation, evicted *session, err error) {
	g.mu.Lock()
	defer func() {
		g.mu.Unlock()
		if evicted != nil {
			g.shared.release(evicted.tenant.Name, evicted.lease)
		}
	}()
	name := p.tenant.Name
	full := g.maxTotal > 0 && g.total >= g.maxTotal
	tenantFull := g.maxPerTenant > 0 && g.perTenant[name] >= g.maxPerTenant
	if full || tenantFull {
		if evicted = g.oldestIdle(name); evicted == nil {
			if full {
				return nil, nil, &limitError{reasonSessionLimit, fmt.Sprintf(
					"this server has %d open MCP sessions, its limit; retry later or connect to another instance", g.total)}
			}
			return nil, nil, &limitError{reasonTenantSessions, fmt.Sprintf(
				"tenant %q has %d open MCP sessions, its limit, and every one is in use (a request running or a stream open); close one and retry", name, g.perTenant[name])}
		}
		delete(g.byID, evicted.id)
		g.free(name, evicted.transport, evicted.lease)
	}
	g.total++
	g.perTenant[name]++
	g.open[tr]++
	res = &reservation{p: p, transport: tr, lease: g.shared.newLease()}
	if res.lease != "" {
		g.leases[res.lease] = &leaseState{tenant: name}
	}
	return res, evicted, nil
}

// oldestIdle is the tenant's idle session whose client was silent longest,
// or nil; g.mu is held.
func (g *registry) oldestIdle(tenant string) *session {
	var oldest *session
	for _, s := range g.byID {
		if s.tenant.Name == tenant && s.idle() && (oldest == nil || s.lastActive.Load() < oldest.lastActive.Load()) {
			oldest = s
		}
	}
	return oldest
}

// bind creates the session of a reservation under a new id.
func (g *registry) bind(res *reservation) *session {
	s := &session{id: newSessionID(), transport: res.transport, tenant: res.p.tenant, fingerprint: res.p.fingerprint, lease: res.lease}
	s.touch(g.now())
	if res.streamCancel != nil {
		s.setStream(res.streamCancel)
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
	g.free(res.p.tenant.Name, res.transport, res.lease)
	g.mu.Unlock()
	g.shared.release(res.p.tenant.Name, res.lease)
}

// bound reports whether the transport created the reservation's session.
func (res *reservation) bound() bool { return res.sess.Load() != nil }

// remove ends a session and frees its slot; unknown ids are ignored.
func (g *registry) remove(id string) {
	g.mu.Lock()
	s, ok := g.byID[id]
	if ok {
		delete(g.byID, id)
		g.free(s.tenant.Name, s.transport, s.lease)
	}
	g.mu.Unlock()
	if ok {
		g.shared.release(s.tenant.Name, s.lease)
		g.end(s)
	}
}

// end ends a session taken out of the registry: its stream closes and its
// pending answers are given back.
func (g *registry) end(s *session) {
	if s.end() {
		if n := s.pending.Swap(0); n > 0 {
			g.inflight.Add(-n)
		}
	}
}

// free gives back one slot (the caller releases its lease after
// unlocking); g.mu is held.
func (g *registry) free(tenant string, tr Transport, lease string) {
	delete(g.leases, lease)
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
// the streamable HTTP transport: mcp-go reads the session id of a request
// itself and asks this manager about exactly that id, so the checks here
// hold for whatever mcp-go acts on. Ids are generated only for the
// request's reservation; an id validates only for a live streamable session
// of the caller's tenant (a client's result to a server request included).
// r is nil when mcp-go's idle sweeper or shutdown asks.
func (g *registry) ResolveSessionIdManager(r *http.Request) server.SessionIdManager {
	m := &streamableIDs{g: g}
	if r != nil {
		m.res, _ = r.Context().Value(reservationKey).(*reservation)
		m.caller = principalFrom(r.Context())
		m.request = true
	}
	return m
}

// streamableIDs is the session id manager of one streamable request.
type streamableIDs struct {
	g   *registry
	res *reservation
	// request: asked for an HTTP request of caller (nil: not admitted).
	request bool
	caller  *principal
}

var errUnknownSession = errors.New("unknown or expired session")

// Generate binds the initialize request's reservation. Without one it
// returns "": mcp-go then creates no session (as with its stateless
// manager), so no session exists that was not counted.
func (m *streamableIDs) Generate() string {
	if m.res == nil || m.res.bound() {
		m.g.log.Error("streamable session id requested without a reservation: no session created")
		return ""
	}
	return m.g.bind(m.res).id
}

// Validate accepts only live streamable sessions of this process, and for
// a request only the caller's own.
func (m *streamableIDs) Validate(id string) (bool, error) {
	s := m.g.lookup(id)
	if s == nil || s.transport != TransportStreamable {
		return false, errUnknownSession
	}
	if m.request && (m.caller == nil || !s.owns(m.caller)) {
		m.g.log.Warn("MCP session named by another tenant's request: refused", "session", id, "owner", s.tenant.Name)
		return false, errUnknownSession
	}
	return false, nil
}

// Terminate ends the session (DELETE, idle sweep, shutdown, eviction); a
// request may end only its caller's session.
func (m *streamableIDs) Terminate(id string) (bool, error) {
	if s := m.g.lookup(id); s != nil && m.request && (m.caller == nil || !s.owns(m.caller)) {
		return true, nil // not allowed: mcp-go keeps the session
	}
	m.g.remove(id)
	return false, nil
}
