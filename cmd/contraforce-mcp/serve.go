package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
)

const serveUsage = `Usage: contraforce-mcp serve [flags]
       contraforce-mcp serve token

Serves MCP over HTTP for agent platforms and remote clients, on one listener:
  /mcp            streamable HTTP (POST, GET, DELETE)
  /sse, /message  the older SSE transport
  /healthz        liveness;  /readyz  readiness (the ContraForce API answers)
and Prometheus metrics at /metrics on a separate listener (--metrics-addr),
which the ingress and Service must not publish.

Every MCP request needs "Authorization: Bearer <token>". The operator maps
each token's SHA-256 to a tenant (its ContraForce credential and policy) in a
tenants file, or gives one --token-sha256 for the credential of the common
flags. "contraforce-mcp serve token" prints a new token and its hash.

With --oauth-resource (this server's canonical URL) and --oauth-issuer (or
"oauth" in the tenants file), tenants' users may also sign in with OAuth
access tokens (JWTs) of their identity provider, as the MCP authorization
specification describes; /.well-known/oauth-protected-resource tells clients
where to get one.

With --demo it serves the embedded emulator's demo data and, unless a token
is configured, prints a fresh token and client configurations.

Flags:
`

// serveConfig is the configuration of the serve command.
type serveConfig struct {
	config
	Addr                 string
	MetricsAddr          string // "" serves no metrics
	TenantsFile          string
	TenantsJSON          string // CONTRAFORCE_TENANTS
	TokenSHA256          []string
	InsecureNoAuth       bool
	Passthrough          bool
	Stateless            bool
	AllowedHosts         []string
	AllowedOrigins       []string
	CORSOrigins          []string
	MaxBody              int64
	MaxSessions          int
	MaxSessionsPerTenant int
	ToolCallsPerSecond   float64
	ToolCallBurst        int
	SessionIdleTTL       time.Duration
	KeepAlive            time.Duration
	ReadTimeout          time.Duration
	WriteTimeout         time.Duration
	IdleTimeout          time.Duration
	ShutdownTimeout      time.Duration
	AuditLog             string
	TLSCert, TLSKey      string
	OAuth                oauthConfig
	// Redis is the URL of the Redis the replicas share ("" : none).
	Redis string
}

// runServe runs the serve command until ctx ends (SIGTERM, SIGINT).
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 && args[0] == "token" {
		return runToken(args[1:], stdout, stderr)
	}
	sc, code := parseServeFlags(args, stderr, getenv)
	if code >= 0 {
		return code
	}
	log := newLogger(stderr, sc.LogLevel)
	inst, err := newServe(sc, log, stderr, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "contraforce-mcp serve: %v\n", err)
		return 2
	}
	defer inst.cleanup()
	ln, err := net.Listen("tcp", sc.Addr)
	if err != nil {
		log.Error("cannot listen", "addr", sc.Addr, "err", err)
		return 1
	}
	base := publicURL(ln.Addr(), sc.TLSCert != "")
	metricsURL := "off (--metrics-addr)"
	if a := inst.srv.MetricsAddr(); a != nil {
		metricsURL = publicURL(a, false) + "/metrics"
	}
	log.Info("contraforce-mcp serving MCP over HTTP", "version", client.Version, "streamable", base+"/mcp", "sse", base+"/sse",
		"metrics", metricsURL, "api", inst.api, "tenants", inst.tenants, "demo", sc.Demo, "passthrough", sc.Passthrough, "stateless", sc.Stateless,
		"oauth_resource", sc.OAuth.Resource, "redis", sc.Redis != "")
	if inst.token != "" || sc.InsecureNoAuth {
		fmt.Fprint(stderr, connectHintHTTP(base, inst.token, sc.Passthrough))
	}
	if err := inst.srv.Serve(ctx, ln); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	log.Info("stopped; bye")
	return 0
}

// served is a built serve command: the hosted server and what to clean up.
type served struct {
	srv     *hosted.Server
	token   string // generated demo token, printed once
	api     string
	tenants int
	// apiHTTP is the pool every tenant's API client shares.
	apiHTTP *http.Client
	cleanup func()
}

// newServe builds the hosted server from the configuration: tenants and
// their API clients (on the embedded emulator with --demo), the MCP server
// with the hosted and audit middleware, and both transports.
func newServe(sc serveConfig, log *slog.Logger, stderr io.Writer, getenv func(string) string) (*served, error) {
	if sc.InsecureNoAuth && !hosted.IsLoopbackAddr(sc.Addr) {
		return nil, fmt.Errorf("--insecure-no-auth serves anyone who can connect, so it needs a loopback --addr (127.0.0.1:PORT), not %q; configure tokens instead", sc.Addr)
	}
	inst := &served{cleanup: func() {}}
	var cleanups []func()
	inst.cleanup = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	fail := func(err error) (*served, error) { inst.cleanup(); return nil, err }

	metrics := hosted.NewMetrics()
	api := hosted.APIConfig{BaseURL: sc.BaseURL, HTTPClient: hosted.NewAPIHTTPClient(metrics), Timeout: sc.Timeout, Logger: log}
	if sc.Demo {
		demo, err := startDemo(log)
		if err != nil {
			return fail(err)
		}
		cleanups = append(cleanups, func() { _ = demo.Close() })
		api.BaseURL = demo.BaseURL
	}
	cfgs, token, err := tenantConfigs(sc, log)
	if err != nil {
		return fail(err)
	}
	tenants, err := hosted.BuildTenants(cfgs, hosted.BuildOptions{API: api, Passthrough: sc.Passthrough, DefaultScopes: defaultScopes, Getenv: getenv})
	if err != nil {
		return fail(err)
	}
	var metricsLn net.Listener
	if sc.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", sc.MetricsAddr); err != nil {
			return fail(fmt.Errorf("--metrics-addr: %w", err))
		}
		cleanups = append(cleanups, func() { _ = metricsLn.Close() })
	}
	h, err := hosted.New(hosted.Options{
		Tenants: tenants, InsecureNoAuth: sc.InsecureNoAuth, Passthrough: sc.Passthrough, API: api,
		ListenAddr: sc.Addr, AllowedHosts: sc.AllowedHosts, AllowedOrigins: sc.AllowedOrigins, CORSOrigins: sc.CORSOrigins,
		MaxBodyBytes: sc.MaxBody, MaxSessions: sc.MaxSessions, MaxSessionsPerTenant: sc.MaxSessionsPerTenant,
		ToolCallsPerSecond: orOff(sc.ToolCallsPerSecond), ToolCallBurst: sc.ToolCallBurst,
		SessionIdleTTL: orNever(sc.SessionIdleTTL), Stateless: sc.Stateless, KeepAlive: sc.KeepAlive,
		ReadTimeout: sc.ReadTimeout, WriteTimeout: sc.WriteTimeout, IdleTimeout: sc.IdleTimeout, ShutdownTimeout: sc.ShutdownTimeout,
		TLSCertFile: sc.TLSCert, TLSKeyFile: sc.TLSKey, Metrics: metrics, MetricsListener: metricsLn, Logger: log,
		OAuth: sc.OAuth.options(), RedisURL: sc.Redis,
	})
	if err != nil {
		return fail(err)
	}
	audit, closeAudit, err := openAudit(sc.AuditLog, stderr, log)
	if err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, closeAudit)
	srv, surf := newMCPServer(serverDeps{
		Session: hosted.SessionFrom, Logger: log, ConfirmClose: sc.ConfirmClose,
		ToolMiddleware: append([]server.ToolHandlerMiddleware{h.ToolMiddleware()}, audit...),
		Publish:        h.PublishChange, Receive: h.OnRemoteChange,
		CursorShare: h.CursorShare(), TicketShare: h.TicketShare(),
	})
	h.SetToolAccess(toolAccess(surf))
	h.Mount(srv)
	inst.srv, inst.token, inst.api, inst.tenants, inst.apiHTTP = h, token, api.BaseURL, len(tenants), api.HTTPClient
	if inst.api == "" {
		inst.api = client.DefaultBaseURL
	}
	return inst, nil
}

// tenantConfigs returns the tenants: from the tenants file or
// CONTRAFORCE_TENANTS, else the single tenant of the common flags. With
// --demo and no token configured, it generates one (returned, to print).
func tenantConfigs(sc serveConfig, log *slog.Logger) ([]hosted.TenantConfig, string, error) {
	var cfgs []hosted.TenantConfig
	var warnings []string
	var err error
	switch {
	case sc.TenantsFile != "" && sc.TenantsJSON != "":
		return nil, "", errors.New("give the tenants once: --tenants-file or CONTRAFORCE_TENANTS, not both")
	case sc.TenantsFile != "":
		cfgs, warnings, err = hosted.LoadTenantsFile(sc.TenantsFile)
	case sc.TenantsJSON != "":
		cfgs, warnings, err = hosted.ParseTenants([]byte(sc.TenantsJSON), envPrefix+"TENANTS")
	}
	if err != nil {
		return nil, "", err
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	if len(cfgs) > 0 {
		if len(sc.TokenSHA256) > 0 || sc.InsecureNoAuth {
			return nil, "", errors.New("with a tenants file, give tokens in the file: not --token-sha256 or --insecure-no-auth")
		}
		return cfgs, "", sc.OAuth.bindIssuers(cfgs)
	}
	one := hosted.TenantConfig{
		Name: "default", TokenSHA256: sc.TokenSHA256, Scopes: sc.Scopes,
		Workspaces: sc.Workspaces, AgentName: sc.AgentName, ReadOnly: sc.ReadOnly,
		ResponseActions: sc.ResponseActions, OAuth: sc.OAuth.bindings(),
	}
	token := ""
	switch {
	case sc.InsecureNoAuth:
		if len(sc.TokenSHA256) > 0 {
			return nil, "", errors.New("--insecure-no-auth and --token-sha256 contradict each other")
		}
		_, unguessable := hosted.NewToken() // admits nobody: every request is admitted anyway
		one.TokenSHA256 = hosted.HashList{unguessable}
	case len(sc.TokenSHA256) == 0 && sc.Demo:
		var sum string
		token, sum = hosted.NewToken()
		one.TokenSHA256 = hosted.HashList{sum}
	case len(sc.TokenSHA256) == 0 && len(sc.OAuth.Issuers) > 0:
		// OAuth only: the tenant's users sign in with its issuers.
	case len(sc.TokenSHA256) == 0:
		return nil, "", errors.New("no bearer tokens configured: every MCP request must present one. " +
			`Run "contraforce-mcp serve token", then give its sha256 with --token-sha256 (one tenant, the common credential) or in --tenants-file; ` +
			"or try --demo")
	}
	if sc.Passthrough {
		if sc.ClientID != "" || sc.ClientSecret != "" || sc.ClientSecretFile != "" {
			return nil, "", errors.New("--credential-passthrough stores no credential: unset CONTRAFORCE_CLIENT_ID and the client secret")
		}
		return []hosted.TenantConfig{one}, token, nil
	}
	if sc.Demo {
		one.Name, one.ClientID, one.ClientSecret = "demo", emulator.DemoClientID, emulator.DemoClientSecret
		return []hosted.TenantConfig{one}, token, nil
	}
	cfg := sc.config
	if err := cfg.credentials(); err != nil {
		return nil, "", err
	}
	one.ClientID, one.ClientSecret = cfg.ClientID, cfg.ClientSecret
	return []hosted.TenantConfig{one}, token, nil
}

// runToken prints a new bearer token and its SHA-256.
func runToken(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprint(stderr, "Usage: contraforce-mcp serve token\n\nPrints a new random bearer token and the SHA-256 to put in the tenants file\n(\"tokenSha256\") or in --token-sha256. Give the token to the client; store only the hash.\n")
		if args[0] == "--help" || args[0] == "-h" || args[0] == "-help" {
			return 0
		}
		return 2
	}
	token, sum := hosted.NewToken()
	fmt.Fprintf(stdout, "token:  %s\nsha256: %s\n", token, sum)
	return 0
}

// publicURL is how a client on this machine reaches the listener.
func publicURL(addr net.Addr, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// connectHintHTTP prints, once at start, how to connect a client: the
// generated demo token, for the two transports.
func connectHintHTTP(base, token string, passthrough bool) string {
	header, headers, auth := "", "", "without a token (--insecure-no-auth, loopback only)"
	if token != "" {
		header = fmt.Sprintf(` --header "Authorization: Bearer %s"`, token)
		headers = fmt.Sprintf(`, "headers": {"Authorization": "Bearer %s"}`, token)
		auth = "with this bearer token (generated for this run; it is printed only here):\n\n  " + token
	}
	if passthrough {
		auth += "\n\nand your own ContraForce credential in the " + hosted.HeaderClientID + " and " +
			hosted.HeaderClientSecret + " headers (credential pass-through)"
	}
	return fmt.Sprintf(`
Connect an MCP client %[1]s

  Claude Code (streamable HTTP):
    claude mcp add --transport http contraforce %[2]s/mcp%[3]s
  Claude Code (SSE):
    claude mcp add --transport sse contraforce %[2]s/sse%[3]s
  JSON configuration ("mcpServers"), streamable HTTP and SSE:
    "contraforce":     {"type": "http", "url": "%[2]s/mcp"%[4]s}
    "contraforce-sse": {"type": "sse",  "url": "%[2]s/sse"%[4]s}

`, auth, base, header, headers)
}
