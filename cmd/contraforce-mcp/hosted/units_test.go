package hosted

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// httpHandlerFunc is a stand-in API that reports the Basic credential it
// saw and answers an empty user list.
func httpHandlerFunc(saw func(user, pass string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		saw(u, p)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[],"meta":{"requestId":"r1"}}`)
	})
}

func TestAuthenticate(t *testing.T) {
	a := &Tenant{Name: "a"}
	b := &Tenant{Name: "b"}
	for _, tok := range []string{"tok-a1", "tok-a2"} {
		sum, _ := parseHash(HashToken(tok))
		a.hashes = append(a.hashes, sum)
	}
	sum, _ := parseHash(HashToken("tok-b"))
	b.hashes = append(b.hashes, sum)
	auth := &authenticator{tenants: []*Tenant{a, b}}
	tests := []struct {
		header string
		want   *Tenant
	}{
		{"Bearer tok-a1", a}, {"bearer tok-a2", a}, {"Bearer  tok-b ", b},
		{"", nil}, {"Bearer", nil}, {"Bearer ", nil}, {"Basic tok-a1", nil}, {"Bearer tok-a1x", nil}, {"tok-a1", nil},
		{"Bearer " + HashToken("tok-a1"), nil}, // the hash itself is not a token
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", tt.header)
		got, _, fail := auth.authenticate(r)
		if got != tt.want || (fail == nil) != (tt.want != nil) {
			t.Errorf("%q: got %v %v, want %v", tt.header, got, fail, tt.want)
		}
	}
	open := &authenticator{tenants: []*Tenant{a}, open: a}
	if got, _, fail := open.authenticate(httptest.NewRequest(http.MethodGet, "/", nil)); fail != nil || got != a {
		t.Error("--insecure-no-auth must admit a request without a token")
	}
}

func TestNewToken(t *testing.T) {
	tok1, sum1 := NewToken()
	tok2, _ := NewToken()
	if !strings.HasPrefix(tok1, TokenPrefix) || len(tok1) < len(TokenPrefix)+40 || tok1 == tok2 {
		t.Errorf("tokens %q %q", tok1, tok2)
	}
	if HashToken(tok1) != sum1 || len(sum1) != 64 {
		t.Errorf("hash %q of %q", sum1, tok1)
	}
}

func TestOriginPolicy(t *testing.T) {
	p, err := newOriginPolicy("mcp.internal", []string{"mcp.example.com:443"}, nil, []string{"https://app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]bool{
		"localhost:8080": true, "127.0.0.1:8080": true, "[::1]:8080": true, "mcp.internal": true, "MCP.Example.com": true,
		"10.0.0.7:8080": true, "[fd00::1]:80": true, "evil.example": false, "localhost.evil.example": false, "": false,
	}
	for h, want := range hosts {
		if got := p.hostAllowed(h); got != want {
			t.Errorf("host %q: %v, want %v", h, got, want)
		}
	}
	origins := map[string]bool{
		"http://localhost:6274": true, "https://mcp.example.com": true, "https://app.example.com": true, "https://app.example.com:443": true,
		"https://evil.example": false, "null": false, "file://": false, "http://localhost.evil.example": false, "https://app.example.com/x": false,
	}
	for o, want := range origins {
		if got := p.originAllowed(o); got != want {
			t.Errorf("origin %q: %v, want %v", o, got, want)
		}
	}
	if !p.corsAllowed("https://app.example.com") || p.corsAllowed("http://localhost:6274") {
		t.Error("CORS must be limited to --cors-origins")
	}
	// An explicit origin list replaces the default.
	strict, _ := newOriginPolicy("127.0.0.1", nil, []string{"https://console.example.com"}, nil)
	if strict.originAllowed("http://localhost:6274") || !strict.originAllowed("https://console.example.com") {
		t.Error("--allowed-origins must replace the default origins")
	}
	any, _ := newOriginPolicy("", []string{"*"}, nil, nil)
	if !any.hostAllowed("whatever.example") {
		t.Error(`"*" must turn the Host check off`)
	}
	if _, err := newOriginPolicy("", nil, []string{"app.example.com"}, nil); err == nil {
		t.Error("an origin without a scheme must be refused")
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true, "127.0.0.2:1": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "10.0.0.1:8080": false, "example.com:80": false, "garbage": false,
	} {
		if got := IsLoopbackAddr(addr); got != want {
			t.Errorf("%q: %v, want %v", addr, got, want)
		}
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRateLimiter(2, 3, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("call %d within the burst refused", i)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait <= 0 || wait > 500*time.Millisecond {
		t.Errorf("beyond the burst: %v, wait %s (want ≤ 0.5s at 2/s)", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Error("another tenant has its own bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Error("a token must come back after 1/rate")
	}
	if ok, _ := newRateLimiter(-1, 1, time.Now).allow("a"); !ok {
		t.Error("a negative rate means no limit")
	}
}

func TestMetricsExposition(t *testing.T) {
	m := NewMetrics()
	m.httpRequests.add(1, "/mcp", "200")
	m.httpRequests.add(2, "/mcp", "200")
	m.toolCalls.add(1, `we"ird\tenant`, "list_incidents", "ok")
	m.apiDuration.observe(0.03, "users")
	m.apiDuration.observe(7, "users")
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		"# TYPE contraforce_mcp_http_requests_total counter",
		`contraforce_mcp_http_requests_total{route="/mcp",code="200"} 3`,
		`contraforce_mcp_tool_calls_total{tenant="we\"ird\\tenant",tool="list_incidents",outcome="ok"} 1`,
		"# TYPE contraforce_mcp_api_request_duration_seconds histogram",
		`contraforce_mcp_api_request_duration_seconds_bucket{endpoint="users",le="0.025"} 0`,
		`contraforce_mcp_api_request_duration_seconds_bucket{endpoint="users",le="0.05"} 1`,
		`contraforce_mcp_api_request_duration_seconds_bucket{endpoint="users",le="10"} 2`,
		`contraforce_mcp_api_request_duration_seconds_bucket{endpoint="users",le="+Inf"} 2`,
		`contraforce_mcp_api_request_duration_seconds_sum{endpoint="users"} 7.03`,
		`contraforce_mcp_api_request_duration_seconds_count{endpoint="users"} 2`,
		`contraforce_mcp_build_info{version="`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q:\n%s", want, out)
		}
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
}

func TestAPIEndpoint(t *testing.T) {
	base := "/api/v2/workspaces/w/incidents/Sentinel/i-1"
	tests := map[[2]string]string{
		{"POST", "/api/v2/incidents/across-workspaces"}: "list_incidents",
		{"GET", base}:                     "get_incident",
		{"GET", base + "/comments"}:       "list_comments",
		{"POST", base + "/comments"}:      "add_comment",
		{"PUT", base + "/status"}:         "update_status",
		{"PUT", base + "/assignee"}:       "assign",
		{"GET", base + "/evidence"}:       "evidence",
		{"GET", "/prefix/api/v2/users"}:   "users",
		{"GET", "/api/v2/something/else"}: "other",
	}
	for in, want := range tests {
		if got := apiEndpoint(in[0], in[1]); got != want {
			t.Errorf("%s %s: %q, want %q", in[0], in[1], got, want)
		}
	}
}

// TestAPITransportRecordsWrites: inside an audited call the transport
// records a write's status (and nothing of the answer's text, which only
// the client reads, scrubbed), and the client still reads the whole body.
func TestAPITransportRecordsWrites(t *testing.T) {
	problem := `{"type":"about:blank","title":"Forbidden","status":403,"code":"INSUFFICIENT_SCOPE","detail":"needs incidents:write"}`
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-9")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, problem)
	}))
	defer api.Close()
	m := NewMetrics()
	hc := NewAPIHTTPClient(m)
	rec := &recorder{}
	req, _ := http.NewRequestWithContext(withRecorder(t.Context(), rec), http.MethodPut, api.URL+"/api/v2/workspaces/w/incidents/Sentinel/i/status", strings.NewReader("{}"))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != problem {
		t.Errorf("the client read %q, want the whole body", body)
	}
	got, ok := rec.last()
	if !ok || got.status != 403 || got.endpoint != "update_status" {
		t.Errorf("recorded %+v", got)
	}
	var b bytes.Buffer
	for _, f := range m.families {
		f.write(&b)
	}
	if !strings.Contains(b.String(), `contraforce_mcp_api_requests_total{endpoint="update_status",method="PUT",code="403"} 1`) {
		t.Errorf("metrics:\n%s", b.String())
	}
	// A write whose answer never came is recorded as such.
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}))
	defer dead.Close()
	rec = &recorder{}
	req, _ = http.NewRequestWithContext(withRecorder(t.Context(), rec), http.MethodPost, dead.URL+"/x/comments", nil)
	if _, err := hc.Do(req); err == nil {
		t.Fatal("want an error")
	}
	if got, ok := rec.last(); !ok || got.status != 0 {
		t.Errorf("recorded %+v, want a write without an answer (status 0)", got)
	}
}

func TestRegistryLimitsAndLifecycle(t *testing.T) {
	var inflight atomic.Int64
	now := time.Unix(1000, 0)
	g := newRegistry(3, 2, func() time.Time { return now }, slog.New(slog.DiscardHandler), &inflight)
	a := &principal{tenant: &Tenant{Name: "a"}}
	b := &principal{tenant: &Tenant{Name: "b"}}
	r1, _, _ := g.reserve(a, TransportSSE)
	r2, _, _ := g.reserve(a, TransportStreamable)
	// Reservations not yet bound are in use: nothing to evict.
	if _, _, err := g.reserve(a, TransportSSE); err == nil || err.(*limitError).reason != reasonTenantSessions {
		t.Fatalf("third session of a tenant: %v", err)
	}
	r3, _, _ := g.reserve(b, TransportSSE)
	if _, _, err := g.reserve(b, TransportSSE); err == nil || err.(*limitError).reason != reasonSessionLimit {
		t.Fatalf("fourth session of the server: %v", err)
	}
	g.release(r3) // never bound: the slot comes back
	if _, _, err := g.reserve(b, TransportSSE); err != nil {
		t.Fatalf("after a release: %v", err)
	}

	ended := make(chan struct{})
	r1.streamCancel = func() { close(ended) }
	s1 := g.bind(r1)
	s2 := g.bind(r2)
	if g.lookup(s1.id) != s1 || !s1.owns(a) || s1.owns(b) || s1.id == s2.id {
		t.Fatal("bound sessions must be found and owned by their tenant only")
	}
	ids := g.ResolveSessionIdManager(nil)
	if _, err := ids.Validate(s1.id); err == nil {
		t.Error("an SSE session must not validate as a streamable one")
	}
	if _, err := ids.Validate(s2.id); err != nil {
		t.Errorf("the streamable session: %v", err)
	}
	s1.pending.Store(2)
	inflight.Store(2)
	now = now.Add(time.Hour)
	g.expireIdle(time.Minute)
	select {
	case <-ended:
	default:
		t.Fatal("an idle SSE session's stream must be ended")
	}
	if g.lookup(s1.id) != nil || inflight.Load() != 0 {
		t.Errorf("after expiry: session %v, inflight %d", g.lookup(s1.id), inflight.Load())
	}
	if g.lookup(s2.id) == nil {
		t.Error("streamable sessions expire through mcp-go's sweeper, not this one")
	}
	_, _ = ids.Terminate(s2.id)
	if _, err := ids.Validate(s2.id); err == nil {
		t.Error("a terminated session must not validate")
	}
	if c := g.counts(); c[TransportSSE] != 1 || c[TransportStreamable] != 0 {
		t.Errorf("counts %v", c)
	}
}

func TestWriteErrorShapes(t *testing.T) {
	rec := httptest.NewRecorder()
	writeError(rec, envelope{Method: "tools/call", ID: json.RawMessage(`7`)}, 429, reasonRateLimited, "slow down <now>", 1500*time.Millisecond)
	var rpc struct {
		ID    int `json:"id"`
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    struct {
				RetryAfterSeconds int `json:"retryAfterSeconds"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &rpc); err != nil || rpc.ID != 7 || rpc.Error.Code != jsonRPCServerError ||
		rpc.Error.Message != "slow down <now>" || rpc.Error.Data.RetryAfterSeconds != 2 || rec.Header().Get("Retry-After") != "2" {
		t.Errorf("JSON-RPC refusal: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	rec = httptest.NewRecorder()
	writeError(rec, envelope{}, 503, reasonSessionLimit, "full", 0)
	if !strings.Contains(rec.Body.String(), `"error":"session_limit"`) || rec.Header().Get("Retry-After") != "" {
		t.Errorf("plain refusal: %s %v", rec.Body, rec.Header())
	}
}

// TestSessionIDManagerAnswersForTheCaller: mcp-go asks the manager about
// the session id it read itself; the manager answers for the caller's own
// sessions only, and gives no id without a counted reservation.
func TestSessionIDManagerAnswersForTheCaller(t *testing.T) {
	var inflight atomic.Int64
	g := newRegistry(10, 10, time.Now, slog.New(slog.DiscardHandler), &inflight)
	a := &principal{tenant: &Tenant{Name: "a"}}
	b := &principal{tenant: &Tenant{Name: "b"}}
	asked := func(p *principal, res *reservation) *streamableIDs {
		ctx := withPrincipal(t.Context(), p)
		if res != nil {
			ctx = context.WithValue(ctx, reservationKey, res)
		}
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/mcp", nil)
		return g.ResolveSessionIdManager(r).(*streamableIDs)
	}
	if id := asked(a, nil).Generate(); id != "" {
		t.Fatalf("an id without a reservation: %q", id)
	}
	res, _, _ := g.reserve(a, TransportStreamable)
	m := asked(a, res)
	id := m.Generate()
	if id == "" || m.Generate() != "" {
		t.Fatalf("a reservation gives one id: %q", id)
	}
	if _, err := asked(a, nil).Validate(id); err != nil {
		t.Errorf("the owner's request: %v", err)
	}
	if _, err := asked(b, nil).Validate(id); err == nil {
		t.Error("another tenant's request validated the session")
	}
	if _, err := g.ResolveSessionIdManager(nil).Validate(id); err != nil {
		t.Errorf("mcp-go's own sweeper: %v", err)
	}
	if notAllowed, _ := asked(b, nil).Terminate(id); !notAllowed || g.lookup(id) == nil {
		t.Error("another tenant's request ended the session")
	}
	if notAllowed, _ := asked(a, nil).Terminate(id); notAllowed || g.lookup(id) != nil {
		t.Error("the owner could not end its session")
	}
}

// TestEvictionTakesTheOldestIdle: at its limit a tenant's oldest idle
// session gives way; a session with a request running or a stream open
// never does, nor another tenant's.
func TestEvictionTakesTheOldestIdle(t *testing.T) {
	var inflight atomic.Int64
	now := time.Unix(1000, 0)
	g := newRegistry(0, 3, func() time.Time { return now }, slog.New(slog.DiscardHandler), &inflight)
	a := &principal{tenant: &Tenant{Name: "a"}}
	b := &principal{tenant: &Tenant{Name: "b"}}
	open := func(p *principal) *session {
		res, evicted, err := g.reserve(p, TransportStreamable)
		if err != nil || evicted != nil {
			t.Fatalf("reserve: %v, evicted %v", err, evicted)
		}
		now = now.Add(time.Second)
		return g.bind(res)
	}
	oldest, streaming, working := open(a), open(a), open(a)
	other := open(b)
	other.touch(time.Unix(0, 0)) // older than all, but b's
	streaming.touch(time.Unix(1, 0))
	defer streaming.setStream(func() {})()
	working.touch(time.Unix(2, 0))
	working.busy.Add(1)
	_, evicted, err := g.reserve(a, TransportStreamable)
	if err != nil || evicted != oldest {
		t.Fatalf("evicted %v (%v), want the oldest idle %s", evicted, err, oldest.id)
	}
	if g.lookup(oldest.id) != nil || g.lookup(streaming.id) == nil || g.lookup(working.id) == nil || g.lookup(other.id) == nil {
		t.Error("eviction removed the wrong session")
	}
	// Now every session of a is in use (the new reservation is not bound).
	if _, _, err := g.reserve(a, TransportStreamable); err == nil || err.(*limitError).reason != reasonTenantSessions {
		t.Errorf("every session in use: %v, want the tenant's limit", err)
	}
}
