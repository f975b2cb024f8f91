package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
)

// parseServeFlags parses the flags; code is -1 to go on, else the exit code.
func parseServeFlags(args []string, stderr io.Writer, getenv func(string) string) (serveConfig, int) {
	var sc serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	finish := commonFlags(fs, &sc.config, getenv)
	fe := flagEnv{fs: fs, getenv: getenv}
	fe.str(&sc.Addr, "addr", "ADDR", "127.0.0.1:8080", "listen address; anything but loopback needs tokens (0.0.0.0:8080 in a container)")
	fe.str(&sc.MetricsAddr, "metrics-addr", "METRICS_ADDR", "", `serve Prometheus metrics at /metrics on this separate address, kept out of the ingress and Service (e.g. 127.0.0.1:9464, or 0.0.0.0:9464 for a pod scrape); "" serves none`)
	fe.str(&sc.TenantsFile, "tenants-file", "TENANTS_FILE", "", "JSON file mapping token hashes to tenants (credential and policy); CONTRAFORCE_TENANTS may hold the same JSON")
	tokens := fe.str(nil, "token-sha256", "TOKEN_SHA256", "", "comma-separated SHA-256 of the bearer tokens of the single tenant (the common credential flags' credential)")
	fe.boolean(&sc.InsecureNoAuth, "insecure-no-auth", "INSECURE_NO_AUTH", "accept MCP requests without a token (refused unless --addr is loopback)")
	fe.boolean(&sc.Passthrough, "credential-passthrough", "CREDENTIAL_PASSTHROUGH", "store no ContraForce credential: callers send theirs in "+hosted.HeaderClientID+" and "+hosted.HeaderClientSecret+" (with the bearer token)")
	fe.boolean(&sc.Stateless, "stateless", "STATELESS", "streamable HTTP without sessions (any replica can answer; no server-to-client stream)")
	hosts := fe.str(nil, "allowed-hosts", "ALLOWED_HOSTS", "", `extra Host names to answer for (default: the listen host, localhost, 127.0.0.1, [::1]; "*" turns the check off)`)
	origins := fe.str(nil, "allowed-origins", "ALLOWED_ORIGINS", "", "browser origins allowed (default: http(s) origins on the allowed hosts)")
	cors := fe.str(nil, "cors-origins", "CORS_ORIGINS", "", "origins that get CORS headers (default: none, CORS off)")
	maxBody := fe.str(nil, "max-body", "MAX_BODY", "1MiB", "largest request body (bytes, or with KiB/MiB)")
	fe.integer(&sc.MaxSessions, "max-sessions", "MAX_SESSIONS", hosted.DefaultMaxSessions, "open MCP sessions in total (503 beyond)")
	fe.integer(&sc.MaxSessionsPerTenant, "max-sessions-per-tenant", "MAX_SESSIONS_PER_TENANT", hosted.DefaultMaxSessionsPerTenant, "open MCP sessions per tenant (429 beyond)")
	rate := fe.str(nil, "tool-calls-per-second", "TOOL_CALLS_PER_SECOND", strconv.Itoa(hosted.DefaultToolCallsPerSecond), "tool calls per tenant per second (429 with Retry-After beyond; 0: no limit)")
	fe.integer(&sc.ToolCallBurst, "tool-call-burst", "TOOL_CALL_BURST", hosted.DefaultToolCallBurst, "tool calls a tenant may make at once before the rate applies")
	fe.duration(&sc.SessionIdleTTL, "session-idle-ttl", "SESSION_IDLE_TTL", hosted.DefaultSessionIdleTTL, "end a session whose client sent nothing for this long (0: never)")
	fe.duration(&sc.KeepAlive, "keepalive", "KEEPALIVE", 0, "ping open streams this often, for proxies that cut idle connections (0: off)")
	fe.duration(&sc.ReadTimeout, "read-timeout", "READ_TIMEOUT", 30*time.Second, "time to read a request and its body")
	fe.duration(&sc.WriteTimeout, "write-timeout", "WRITE_TIMEOUT", 3*time.Minute, "time to answer a request, a tool call included (streams have no limit)")
	fe.duration(&sc.IdleTimeout, "idle-timeout", "IDLE_TIMEOUT", 2*time.Minute, "keep-alive connection idle time")
	fe.duration(&sc.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", hosted.DefaultShutdownTimeout, "on SIGTERM, time for in-flight calls to finish")
	// Not through fe.str: the URL may hold a password, which --help would print as the default.
	redisURL := fs.String("redis", "", "share each tenant's rate limit and session count, and incident changes for subscribers, with the other replicas through this Redis (redis://[:password@]host:port[/db], rediss:// for TLS; the environment keeps a password out of ps); without it, or while it does not answer, each replica works alone (env "+envPrefix+"REDIS)")
	fe.str(&sc.TLSCert, "tls-cert", "TLS_CERT", "", "serve HTTPS with this certificate file (with --tls-key)")
	fe.str(&sc.TLSKey, "tls-key", "TLS_KEY", "", "the TLS key file")
	audit := auditFlag(fs, getenv, "stderr")
	finishOAuth := oauthFlags(fs, &fe, &sc.OAuth)
	if code, ok := parseFlags(fs, args, stderr, "serve", serveUsage); !ok {
		return sc, code
	}
	errs := []error{finish(), fe.err, finishOAuth()}
	sc.TokenSHA256, sc.AllowedHosts = splitList(*tokens), splitList(*hosts)
	sc.AllowedOrigins, sc.CORSOrigins = splitList(*origins), splitList(*cors)
	sc.TenantsJSON, sc.AuditLog = getenv(envPrefix+"TENANTS"), *audit
	if sc.Redis = *redisURL; sc.Redis == "" {
		sc.Redis = getenv(envPrefix + "REDIS")
	}
	var err error
	if sc.MaxBody, err = parseBytes(*maxBody); err != nil {
		errs = append(errs, err)
	}
	if sc.ToolCallsPerSecond, err = strconv.ParseFloat(*rate, 64); err != nil || sc.ToolCallsPerSecond < 0 {
		errs = append(errs, fmt.Errorf("--tool-calls-per-second %q: use a number ≥ 0", *rate))
	}
	if (sc.TLSCert == "") != (sc.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stderr, "contraforce-mcp serve: %v\n", err)
		return sc, 2
	}
	return sc, -1
}

// orOff maps the flag's 0 ("no limit") to the option's negative.
func orOff(rate float64) float64 {
	if rate == 0 {
		return -1
	}
	return rate
}

// orNever maps the flag's 0 ("never") to the option's negative.
func orNever(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// parseBytes reads a size: 1048576, 512KiB, 1MiB.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	v := strings.TrimSpace(s)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "KB": 1000, "MB": 1000 * 1000} {
		if strings.HasSuffix(v, suffix) {
			v, mult = strings.TrimSpace(strings.TrimSuffix(v, suffix)), m
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("--max-body %q: use a positive size such as 1MiB or 262144", s)
	}
	return n * mult, nil
}

// flagEnv registers flags whose default comes from CONTRAFORCE_<ENV>.
type flagEnv struct {
	fs     *flag.FlagSet
	getenv func(string) string
	err    error
}

func (f *flagEnv) def(env, def string) string {
	if v := f.getenv(envPrefix + env); v != "" {
		return v
	}
	return def
}

// str registers a string flag; with p nil it allocates one.
func (f *flagEnv) str(p *string, name, env, def, usage string) *string {
	if p == nil {
		p = new(string)
	}
	f.fs.StringVar(p, name, f.def(env, def), usage+" (env "+envPrefix+env+")")
	return p
}

func (f *flagEnv) boolean(p *bool, name, env, usage string) {
	v, _ := strconv.ParseBool(f.getenv(envPrefix + env))
	f.fs.BoolVar(p, name, v, usage+" (env "+envPrefix+env+")")
}

func (f *flagEnv) integer(p *int, name, env string, def int, usage string) {
	v := def
	if s := f.getenv(envPrefix + env); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			f.err = errors.Join(f.err, fmt.Errorf("%s%s %q: not a whole number", envPrefix, env, s))
		}
		v = n
	}
	f.fs.IntVar(p, name, v, usage+" (env "+envPrefix+env+")")
}

func (f *flagEnv) duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	v := def
	if s := f.getenv(envPrefix + env); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			f.err = errors.Join(f.err, fmt.Errorf("%s%s %q: use a duration such as 30s or 5m", envPrefix, env, s))
		}
		v = d
	}
	f.fs.DurationVar(p, name, v, usage+" (env "+envPrefix+env+")")
}
