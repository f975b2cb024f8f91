package hosted

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/tools"
)

// Options configure the hosted server. Zero values take the defaults below.
type Options struct {
	// Tenants are who may connect. With InsecureNoAuth there must be exactly
	// one, and every request is admitted as it.
	Tenants []*Tenant
	// InsecureNoAuth admits requests without a bearer token. The caller must
	// refuse it unless the listener is loopback-only (see IsLoopbackAddr).
	InsecureNoAuth bool
	// Passthrough: callers present their own ContraForce credential
	// (HeaderClientID, HeaderClientSecret); API configures their clients.
	Passthrough bool
	// API is how pass-through sessions (and the readiness probe) reach ContraForce.
	API APIConfig
	// OAuth, when set, also admits OAuth access tokens of the issuers the
	// tenants name, and serves the protected resource metadata.
	OAuth *OAuthOptions

	// ListenAddr is --addr; its host is allowed in Host and Origin.
	ListenAddr string
	// AllowedHosts are further Host names ("*": no Host check).
	AllowedHosts []string
	// AllowedOrigins are the browser origins allowed; empty allows http(s)
	// origins on the allowed host names.
	AllowedOrigins []string
	// CORSOrigins get CORS headers (and are allowed). Empty: CORS is off.
	CORSOrigins []string

	// MaxBodyBytes bounds a POST body (413 beyond). Default 1 MiB.
	MaxBodyBytes int64
	// MaxSessions bounds open sessions in total (503 beyond); default 1000.
	MaxSessions int
	// MaxSessionsPerTenant bounds one tenant's open sessions (429 beyond);
	// default 100.
	MaxSessionsPerTenant int
	// ToolCallsPerSecond and ToolCallBurst are each tenant's token bucket
	// of tool calls (429 with Retry-After beyond). Rate 0 takes the default
	// 10/s; a negative rate turns the limit off. Burst default 20.
	ToolCallsPerSecond float64
	ToolCallBurst      int
	// SessionIdleTTL ends a session whose client sent nothing for this long;
	// default 30 minutes, negative: never.
	SessionIdleTTL time.Duration
	// Stateless serves streamable HTTP without sessions (every request
	// stands alone; no server-to-client stream). SSE is stateful by nature.
	Stateless bool
	// KeepAlive, when positive, pings open streams this often (for proxies
	// that cut idle connections).
	KeepAlive time.Duration
	// RedisURL, when set, is the Redis the replicas of one deployment
	// share: each tenant's rate limit and session count, and incident
	// changes for the subscribed sessions of every replica (see redis.go).
	// MaxSessions stays this replica's own limit.
	RedisURL string

	// HTTP timeouts. ReadTimeout bounds reading a request with its body;
	// WriteTimeout bounds writing a non-streaming answer (a tool call
	// included); streams have neither. Defaults 10s, 30s, 3m, 2m, 20s.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds a graceful shutdown: in-flight calls get this
	// long to finish.
	ShutdownTimeout time.Duration
	// TLSCertFile and TLSKeyFile serve HTTPS when both are set.
	TLSCertFile, TLSKeyFile string

	// Metrics receive the server's metrics; nil creates them.
	Metrics *Metrics
	// MetricsListener, when set, serves GET /metrics (and nothing else)
	// while Serve runs; nil serves no metrics. The MCP listener never
	// serves /metrics: whatever publishes it (an ingress routing "/")
	// would publish the tenants' names and traffic with it.
	MetricsListener net.Listener
	// Logger logs to the operator; nil discards.
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultMaxBodyBytes         = 1 << 20
	DefaultMaxSessions          = 1000
	DefaultMaxSessionsPerTenant = 100
	DefaultToolCallsPerSecond   = 10
	DefaultToolCallBurst        = 20
	DefaultSessionIdleTTL       = 30 * time.Minute
	DefaultShutdownTimeout      = 20 * time.Second
)

func (o *Options) defaults() {
	set := func(p *time.Duration, d time.Duration) {
		if *p == 0 {
			*p = d
		}
	}
	set(&o.ReadHeaderTimeout, 10*time.Second)
	set(&o.ReadTimeout, 30*time.Second)
	set(&o.WriteTimeout, 3*time.Minute)
	set(&o.IdleTimeout, 2*time.Minute)
	set(&o.ShutdownTimeout, DefaultShutdownTimeout)
	set(&o.SessionIdleTTL, DefaultSessionIdleTTL)
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.MaxSessionsPerTenant == 0 {
		o.MaxSessionsPerTenant = DefaultMaxSessionsPerTenant
	}
	if o.ToolCallsPerSecond == 0 {
		o.ToolCallsPerSecond = DefaultToolCallsPerSecond
	}
	if o.ToolCallBurst <= 0 {
		o.ToolCallBurst = DefaultToolCallBurst
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server is the hosted MCP endpoint: authentication, tenants, limits, the
// two HTTP transports of one MCP server, health, metrics and shutdown.
type Server struct {
	o       Options
	log     *slog.Logger
	now     func() time.Time
	auth    *authenticator
	pass    *passthrough
	origins *originPolicy
	limiter *rateLimiter
	reg     *registry
	// shared is the Redis of --redis (nil without).
	shared  *redisShare
	metrics *Metrics
	ready   *readiness
	// tools is what each tool needs (SetToolAccess), for OAuth's 403s.
	tools map[string]ToolAccess

	// inflight counts MCP requests awaiting their answer (drained on shutdown).
	inflight atomic.Int64
	// toolsRunning counts tool handlers running now.
	toolsRunning atomic.Int64
	draining     atomic.Bool
	// hardStop is cancelled when the shutdown's grace runs out: tool calls
	// still running are cancelled then.
	hardStop   context.Context
	stopHard   context.CancelFunc
	sse        *server.SSEServer
	streamable *server.StreamableHTTPServer
	handler    http.Handler

	bgStop    chan struct{}
	bg        sync.WaitGroup
	closeOnce sync.Once
}

// New checks the options and builds the server; Mount must follow.
func New(o Options) (*Server, error) {
	o.defaults()
	if len(o.Tenants) == 0 {
		return nil, errors.New("no tenants: configure --tenants-file, CONTRAFORCE_TENANTS or --token-sha256")
	}
	if o.InsecureNoAuth && len(o.Tenants) != 1 {
		return nil, errors.New("--insecure-no-auth serves exactly one tenant; it cannot be combined with a tenants file")
	}
	for _, t := range o.Tenants {
		if (t.session == nil) != o.Passthrough {
			return nil, fmt.Errorf("tenant %q: built for a different credential mode", t.Name)
		}
	}
	listenHost, _, _ := net.SplitHostPort(o.ListenAddr)
	origins, err := newOriginPolicy(listenHost, o.AllowedHosts, o.AllowedOrigins, o.CORSOrigins)
	if err != nil {
		return nil, err
	}
	s := &Server{
		o: o, log: o.Logger, now: time.Now, origins: origins, metrics: o.Metrics,
		auth:    &authenticator{tenants: sortedTenants(o.Tenants)},
		limiter: newRateLimiter(o.ToolCallsPerSecond, o.ToolCallBurst, time.Now),
		bgStop:  make(chan struct{}),
	}
	if o.InsecureNoAuth {
		s.auth.open = o.Tenants[0]
	}
	if err := s.setupOAuth(); err != nil {
		return nil, err
	}
	if o.Passthrough {
		if s.pass, err = newPassthrough(o.API); err != nil {
			return nil, err
		}
	}
	s.reg = newRegistry(o.MaxSessions, o.MaxSessionsPerTenant, s.now, s.log, &s.inflight)
	s.reg.onEvict = s.evicted
	if o.RedisURL != "" {
		if s.shared, err = newRedisShare(o.RedisURL, o.Tenants, o.Metrics, s.log); err != nil {
			return nil, err
		}
		s.reg.shared, s.limiter.shared = s.shared, s.shared
		s.shared.onEvict, s.shared.leases = s.reg.evictFor, s.reg.leaseSnapshot
	}
	s.hardStop, s.stopHard = context.WithCancel(context.Background())
	s.ready = newReadiness(s.readyProbe(), 5*time.Second, s.log)
	s.metrics.onScrape(func() {
		for tr, n := range s.reg.counts() {
			s.metrics.sessions.set(float64(n), string(tr))
		}
		s.metrics.toolsRunning.set(float64(s.toolsRunning.Load()))
	})
	return s, nil
}

// Mount builds the SSE and streamable HTTP transports of mcpSrv behind the
// gate and starts the idle-session sweepers. Call it once, before Serve.
func (s *Server) Mount(mcpSrv *server.MCPServer) {
	sseOpts := []server.SSEOption{
		server.WithSSEContextFunc(attachSession),
		server.WithSessionIDGenerator(s.reg.sseSessionID),
		// The gate checks Host and Origin for every route; mcp-go's own
		// loopback-only check would refuse the allowed names behind a proxy.
		server.WithSSEDisableLocalhostProtection(true),
	}
	if s.o.KeepAlive > 0 {
		sseOpts = append(sseOpts, server.WithKeepAliveInterval(s.o.KeepAlive))
	}
	s.sse = server.NewSSEServer(mcpSrv, sseOpts...)

	httpOpts := []server.StreamableHTTPOption{
		server.WithHTTPContextFunc(attachSession),
		server.WithDisableLocalhostProtection(true),
		server.WithStreamableHTTPLogger(s.log),
	}
	if s.o.Stateless {
		httpOpts = append(httpOpts, server.WithStateLess(true), server.WithDisableStreaming(true))
	} else {
		httpOpts = append(httpOpts, server.WithSessionIdManagerResolver(s.reg))
		if s.o.SessionIdleTTL > 0 {
			httpOpts = append(httpOpts, server.WithSessionIdleTTL(s.o.SessionIdleTTL))
		}
		if s.o.KeepAlive > 0 {
			httpOpts = append(httpOpts, server.WithHeartbeatInterval(s.o.KeepAlive))
		}
	}
	s.streamable = server.NewStreamableHTTPServer(mcpSrv, httpOpts...)
	s.handler = s.routes()

	if s.o.SessionIdleTTL > 0 {
		s.bg.Go(func() { s.sweepIdle(s.o.SessionIdleTTL) })
	}
	if s.shared != nil {
		s.shared.run(&s.bg, s.bgStop)
	}
}

// PublishChange passes a change made through this replica to the others
// (with --redis; otherwise it does nothing). It is the MCP server's
// resources.NotifierOptions.Publish, and never blocks.
func (s *Server) PublishChange(tenant string, ref client.IncidentRef) {
	s.shared.changed(tenant, ref)
}

// OnRemoteChange registers deliver for the changes other replicas publish
// (with --redis): the MCP server's Notifier.Deliver. Call it before Mount.
func (s *Server) OnRemoteChange(deliver func(tenant string, ref client.IncidentRef)) {
	if s.shared != nil {
		s.shared.onChange = deliver
	}
}

// CursorShare is where the replicas keep list_incidents' cursors together
// (with --redis; nil without): the tools' tools.CursorOptions.Share.
func (s *Server) CursorShare() tools.CursorShare {
	if s.shared == nil {
		return nil
	}
	return s.shared
}

// TicketShare is where the replicas keep the confirmations' tickets
// together (with --redis; nil without): tools.ConfirmationOptions.Share.
func (s *Server) TicketShare() tools.TicketShare {
	if s.shared == nil {
		return nil
	}
	return s.shared
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler { return s.handler }

// sweepIdle expires idle SSE sessions until the server closes.
func (s *Server) sweepIdle(ttl time.Duration) {
	t := time.NewTicker(min(max(ttl/4, 100*time.Millisecond), 30*time.Second))
	defer t.Stop()
	for {
		select {
		case <-s.bgStop:
			return
		case <-t.C:
			s.reg.expireIdle(ttl)
		}
	}
}

// routes is the MCP listener's mux: MCP transports behind the gate, health
// beside them, all behind the Host/Origin check. Metrics are not here (see
// metricsRoutes).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/sse", s.outer("/sse", http.HandlerFunc(s.serveSSE)))
	mux.Handle("/message", s.outer("/message", http.HandlerFunc(s.serveMessage)))
	mux.Handle("/mcp", s.outer("/mcp", http.HandlerFunc(s.serveStreamable)))
	mux.Handle("/healthz", s.outer("/healthz", http.HandlerFunc(s.serveHealth)))
	mux.Handle("/readyz", s.outer("/readyz", http.HandlerFunc(s.serveReady)))
	s.mountMetadata(mux)
	mux.Handle("/", s.outer("other", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, envelope{}, http.StatusNotFound, reasonNotFound,
			"no such endpoint; MCP is served at /mcp (streamable HTTP) and /sse (SSE)", 0)
	})))
	return mux
}

// httpServer is the net/http server with the configured timeouts.
// WriteTimeout is not set on it: SSE streams live for hours, so write
// deadlines are set per route (see outer and the stream handlers).
func (s *Server) httpServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.o.ReadHeaderTimeout,
		ReadTimeout:       s.o.ReadTimeout,
		IdleTimeout:       s.o.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// metricsRoutes is the metrics listener's mux: /metrics behind the same
// Host/Origin check (a browser page must not read it by DNS rebinding), and
// 404 for anything else.
func (s *Server) metricsRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", s.outer("/metrics", s.metrics))
	mux.Handle("/", s.outer("other", http.NotFoundHandler()))
	return mux
}

// MetricsAddr is the address metrics are served on, or nil when they are not.
func (s *Server) MetricsAddr() net.Addr {
	if s.o.MetricsListener == nil {
		return nil
	}
	return s.o.MetricsListener.Addr()
}

// serveMetrics serves the metrics listener, if any, until stop is called
// (at the end of Serve: metrics stay readable while the server drains).
func (s *Server) serveMetrics() (stop func()) {
	if s.o.MetricsListener == nil {
		return func() {}
	}
	hs := &http.Server{
		Handler: s.metricsRoutes(), ReadHeaderTimeout: s.o.ReadHeaderTimeout, ReadTimeout: s.o.ReadTimeout,
		IdleTimeout: s.o.IdleTimeout, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(s.o.MetricsListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("the metrics listener stopped", "err", err)
		}
	}()
	return func() {
		_ = hs.Close()
		<-done
	}
}
