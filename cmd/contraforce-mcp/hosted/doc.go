// Package hosted is the hosted MCP endpoint of contraforce-mcp (the serve
// command): who may connect, as which tenant, within which limits, with what
// is recorded, over mcp-go's SSE and streamable HTTP transports of one MCP
// server.
//
// Routes, on the MCP listener:
//
//	/mcp            streamable HTTP: POST messages, GET the session's stream, DELETE ends it
//	/sse, /message  the older SSE transport (GET opens the stream, POST sends a message)
//	/healthz        liveness: the process serves HTTP
//	/readyz         readiness: the ContraForce API answers, and the server is not draining
//	/.well-known/oauth-protected-resource  RFC 9728 metadata (with OAuth on; also
//	                at the resource's own path below it when the resource has one)
//
// and on a separate metrics listener (Options.MetricsListener, --metrics-addr),
// never the MCP one, so that an ingress publishing "/" cannot publish it:
//
//	/metrics        Prometheus text exposition (hand-written: no metrics dependency)
//
// Decisions, where the brief or the MCP specification leave room:
//
//   - Authentication. Every MCP request (all methods of /mcp, /sse and
//     /message) needs "Authorization: Bearer <token>". The presented token is
//     hashed (SHA-256) and compared with every stored hash of every tenant
//     with subtle.ConstantTimeCompare, without stopping at a match. Missing
//     or wrong: 401 with WWW-Authenticate: Bearer realm="contraforce-mcp"
//     (and error="invalid_token" when one was presented). Only hashes are
//     configured; tokens exist only at the client. The health and metrics
//     routes need no token: probes and scrapers do not carry MCP tokens, and
//     they reveal no incident data. The Authorization header (and the
//     pass-through credential headers) are removed before mcp-go sees the
//     request, so no handler can log or forward them.
//   - OAuth (OAuthOptions; the MCP authorization specification, the server
//     as a resource server). Beside static tokens, a JWT access token of an
//     issuer a tenant names is accepted when go-jose verifies its signature
//     (RS*, PS*, ES*, EdDSA only: "none" and HMAC are refused while parsing)
//     with a public key of the issuer's JWKS, and its iss, aud (the canonical
//     resource URL, RFC 8707, or a configured audience), exp, nbf and iat
//     check with 60s of skew. Opaque tokens are refused: no introspection.
//     Only configured issuers are ever fetched (metadata, then jwks_uri;
//     https or loopback, no redirects, 256 KiB, a timeout); keys are cached,
//     refetched for an unknown kid at most once per KeyRefresh, and each
//     issuer refreshes on its own, so a hanging one delays only its tenants.
//     A claim maps the token to exactly one tenant (none or two: 403). The
//     session is the tenant's, its scopes intersected with the token's, on
//     behalf of the token's user (tools.Session.OnBehalfOf: comments and
//     audit name them), and bound to that user like a tenant's session. A
//     tools/call (or resources/read, prompts/get, completion) that the
//     token's scopes do not cover but the tenant's do is answered 403
//     insufficient_scope naming the scopes held and needed (clients that
//     replace their scope with the challenge's keep what they had); tools
//     the tenant may not use at all are simply not offered. Every 401 for a
//     missing or invalid token, and these 403s, carry resource_metadata
//     (RFC 9728; the pass-through credential's 401 carries the realm only);
//     such a 401 also names the incident scopes (the gamebook scopes are
//     asked for only on step-up, so that an identity provider that does not
//     define them still signs users in); the metadata lists every scope the
//     server knows.
//   - Tenants. A token maps to a tenant: its ContraForce credential (its own
//     API client), scopes, workspace allowlist, agent name, read-only
//     switch and response-actions switch (run_gamebook). The API base URL
//     is server configuration only; nothing a caller sends (header, query,
//     argument) reaches it.
//   - One reading of every message. The gate reads a POST body once
//     (readMessage) and refuses, with 400 and a JSON-RPC error before mcp-go
//     sees it, whatever two readers could read differently: not one JSON
//     object (a batch, two values, not JSON), invalid UTF-8 or an unpaired
//     surrogate escape, two keys of an object equal under encoding/json's
//     case folding, a case variant of a protocol member ("Method"), a
//     member of the wrong type (id, method, params, _meta and its protocol
//     version, result, error), a message that is neither a request, a
//     notification nor a response, nesting deeper than 64, and an
//     initialize whose params mcp.InitializeRequest cannot decode. The rest
//     is read with mcp-go's own types (mcp.Meta for the era). A header or
//     query parameter that names a session or a version may appear once.
//   - Sessions are bound to the tenant that opened them (and, in pass-through
//     mode, to the credential's HMAC fingerprint). Any request that names a
//     session (Mcp-Session-Id, or sessionId over SSE) must be its owner's,
//     whatever its protocol era; a session used with another tenant's token
//     is answered 404 exactly like an unknown session, so session ids cannot
//     be probed across tenants; the attempt is logged. mcp-go asks the
//     registry (its SessionIdManager) about the session id it read itself,
//     for every message of a session, a client's result to an elicitation
//     included: the registry answers for the caller's sessions only.
//     Session ids are 130 random bits, generated by this package (the SSE id
//     generator and the streamable SessionIdManager) for a reservation
//     counted against the tenant's limit, so that a session exists in the
//     registry before its id reaches the client; without a reservation the
//     manager gives mcp-go no id, and mcp-go then creates no session.
//     Protocol 2026-07-28 requests are session-less: each one is
//     authenticated on its own token; --stateless does the same for older
//     clients. A streamable session has at most one GET stream: a newer one
//     ends the older.
//   - Pass-through (--credential-passthrough): no credential is stored; every
//     request carries the caller's own in X-ContraForce-Client-Id and
//     X-ContraForce-Client-Secret, besides the bearer token (which still
//     decides the tenant and its limits). The credential lives in the API
//     client of that one request and is never stored, logged or echoed.
//   - Limits. Bodies over MaxBodyBytes: 413. A new session at the tenant's
//     limit, or the server's, ends the tenant's own oldest idle session (no
//     request running, no stream open; an SSE session's stream is always
//     open) and takes its slot; with none idle it is refused, 429 for the
//     tenant's limit and 503 for the server's (both with Retry-After and a
//     JSON body). Clients that never end their sessions (mcp-go's, whose
//     DELETE lacks the token) so cost the tenant nothing but its oldest. Tool calls pass a token bucket per tenant; beyond it the HTTP
//     request carrying the tools/call is answered 429 with Retry-After and a
//     JSON-RPC error carrying the request's id, before any tool runs (not a
//     tool result with isError: nothing was attempted, and HTTP clients and
//     gateways know what to do with a 429). Other methods are not limited.
//   - Several replicas (Options.RedisURL, --redis). The tenant's rate bucket
//     and session count live in Redis, shared by the replicas, and incident
//     changes cross to every replica's subscribers on per-tenant channels
//     (redis.go); so do list_incidents' cursors and the confirmations'
//     tickets (Server.CursorShare, Server.TicketShare; redis_stores.go). The
//     session count stays fail-closed: a lease in Redis is taken before the
//     session exists. A Redis that does not answer costs no request: the
//     replica falls back to its own bucket, count, subscribers, cursors and
//     tickets until it answers again; an answer whose ticket it cannot
//     check is not consent.
//   - Idle sessions. SSE: this package's sweeper ends a session whose client
//     sent no message for SessionIdleTTL (it closes the stream). Streamable
//     HTTP: mcp-go's sweeper (WithSessionIdleTTL) ends it through the
//     registry's Terminate, which also closes an open GET stream; mcp-go
//     counts writes to an open stream as activity, so with KeepAlive a
//     session whose client keeps its stream open does not expire. mcp-go's
//     streamable client (v1.2.1) sends its closing DELETE without the
//     configured headers, so such sessions end by expiry.
//   - Timeouts. ReadHeaderTimeout and ReadTimeout bound reading a request and
//     its body; once the body is read the read deadline is lifted (net/http
//     cancels the request's context when it passes, which would cancel a long
//     tool call). The server has no WriteTimeout: every route gets a write
//     deadline through http.ResponseController, and streams (GET /sse, GET
//     /mcp) clear both deadlines.
//   - Host and Origin, against DNS rebinding: on every route the Host must be
//     an allowed name (default: the listen host, localhost, 127.0.0.1, ::1)
//     or an IP literal (a rebinding attack needs a name the attacker controls;
//     kubelet probes send the pod IP), else 421. On every route but the
//     OAuth metadata (public, read cross-origin by browser-based clients) a
//     request with an Origin must come from an allowed origin, else 403;
//     requests without one (non-browser clients) pass. mcp-go's own loopback-only check is off (it would refuse
//     the allowed names behind a proxy). CORS headers are sent only for
//     CORSOrigins; mcp-go's "Access-Control-Allow-Origin: *" on /sse is
//     removed.
//   - Readiness is an API call (list users with the first tenant's
//     credential, one attempt, cached 5s). Any HTTP answer, a 401 included,
//     counts as ready: the network path and the API are up, and one tenant's
//     bad credential must not take every replica out of the load balancer.
//     In pass-through mode a placeholder credential's 401 proves the same.
//   - Shutdown. Serve stops on its context: the listener closes, new MCP
//     requests on open connections get 503, requests already admitted finish
//     and their answers reach the client (an SSE answer counts as delivered
//     when it is written on the stream), then every session ends and Serve
//     returns nil. When ShutdownTimeout runs out first, running tool calls are
//     cancelled and connections closed.
//   - Audit. Auditor (a tool handler middleware, usable by stdio too) writes
//     two JSON lines per write tool call (ReadOnlyHint not true), paired by
//     callId: tool_call_started before the handler runs (a call cut short by
//     a crash or the shutdown's hard stop still leaves it), and tool_call
//     when it ends. Both carry the tenant, MCP session and client (names
//     cleaned with tools.CleanName), tool, incident, the change with the
//     comment as posted (up to 4 KiB, with its length and SHA-256), dryRun;
//     tool_call adds the outcome the tool adapter reported from the typed
//     result (tools.CallReport: ok, error, unknown, dry_run,
//     confirmation_requested, refused; never read from an error's text), the
//     API's code and request id from the client's scrubbed error or result,
//     the HTTP status, and the duration. Its fields are chosen, not copied
//     from the arguments, so no credential can reach it.
//   - Metrics: contraforce_mcp_http_requests_total{route,code},
//     contraforce_mcp_rejected_requests_total{reason},
//     contraforce_mcp_tool_calls_total{tenant,tool,outcome},
//     contraforce_mcp_tool_call_duration_seconds{tool},
//     contraforce_mcp_api_requests_total{endpoint,method,code},
//     contraforce_mcp_api_request_duration_seconds{endpoint} (observed by the
//     RoundTripper of NewAPIHTTPClient), contraforce_mcp_active_sessions{transport},
//     contraforce_mcp_tool_calls_in_flight, contraforce_mcp_build_info, and
//     with Redis (--redis) contraforce_mcp_redis_up, contraforce_mcp_redis_failures_total{op}
//     and contraforce_mcp_redis_changes_total{direction}.
//     Every label value comes from a bounded set, never from caller input.
package hosted
