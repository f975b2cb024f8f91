package hosted

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// NewAPIHTTPClient returns the HTTP client every tenant's API client shares:
// one tuned pool of keep-alive connections to the API host, no redirects
// (the base URL is the operator's; a redirect must not send a credential
// elsewhere), and the metrics RoundTripper. m may be nil (no metrics).
func NewAPIHTTPClient(m *Metrics) *http.Client {
	// Every tenant talks to the same API host, and one get_incident holds two
	// connections at once: a pool smaller than the concurrent calls makes
	// each burst open (and, against the real API, TLS-handshake) new ones.
	c := client.NewHTTPClient(apiIdleConns)
	t := c.Transport.(*http.Transport)
	t.ResponseHeaderTimeout = 60 * time.Second
	c.Transport = &apiTransport{next: t, m: m}
	return c
}

// apiIdleConns is the shared pool's idle limit: above the API calls in
// flight of the sessions one replica serves.
const apiIdleConns = 512

// apiTransport observes every API attempt: latency and status for the
// metrics, and, inside an audited tool call, the write's HTTP status for the
// audit record.
type apiTransport struct {
	next http.RoundTripper
	m    *Metrics
}

// RoundTrip implements http.RoundTripper.
func (t *apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	endpoint := apiEndpoint(req.Method, req.URL.Path)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	if t.m != nil {
		t.m.apiRequests.add(1, endpoint, req.Method, code)
		t.m.apiDuration.observe(time.Since(start).Seconds(), endpoint)
	}
	if rec := recorderFrom(req.Context()); rec != nil && req.Method != http.MethodGet {
		// Only the status: the answer's text (request id, error code) is
		// the client's to read, after it has scrubbed the credential.
		call := apiCall{endpoint: endpoint}
		if err == nil {
			call.status = resp.StatusCode
		}
		rec.add(call)
	}
	return resp, err
}

// CloseIdleConnections closes the pool's idle connections
// (http.Client.CloseIdleConnections reaches it through this method).
func (t *apiTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// apiEndpoint names an API path by its shape (ids would make unbounded
// label values), from the end, so that any base path works.
func apiEndpoint(method, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	last := func(i int) string {
		if len(segs) > i {
			return segs[len(segs)-1-i]
		}
		return ""
	}
	switch {
	case last(0) == "across-workspaces" && last(1) == "incidents":
		return "list_incidents"
	case last(0) == "users":
		return "users"
	case last(4) == "workspaces" && last(2) == "incidents":
		return "get_incident"
	case last(5) == "workspaces" && last(3) == "incidents":
		switch last(0) {
		case "comments":
			if method == http.MethodPost {
				return "add_comment"
			}
			return "list_comments"
		case "status":
			return "update_status"
		case "assignee":
			return "assign"
		case "evidence":
			return "evidence"
		}
	}
	return "other"
}

// apiCall is one API write attempt seen during a tool call.
type apiCall struct {
	endpoint string
	status   int // 0 when no answer came
}

// recorder keeps the last API write of one tool call (the audit reads its
// status).
type recorder struct {
	mu    sync.Mutex
	call  apiCall
	wrote bool
}

func (r *recorder) add(c apiCall) {
	r.mu.Lock()
	r.call, r.wrote = c, true
	r.mu.Unlock()
}

// last returns the last write attempt, if any.
func (r *recorder) last() (apiCall, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.call, r.wrote
}

func withRecorder(ctx context.Context, r *recorder) context.Context {
	return context.WithValue(ctx, recorderKey, r)
}

func recorderFrom(ctx context.Context) *recorder {
	r, _ := ctx.Value(recorderKey).(*recorder)
	return r
}
