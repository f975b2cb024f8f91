package hosted

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/contraforce/contraforce-mcp/client"
)

// Metrics are the server's Prometheus metrics, served on GET /metrics.
type Metrics struct {
	httpRequests *family
	rejected     *family
	toolCalls    *family
	toolDuration *family
	apiRequests  *family
	apiDuration  *family
	sessions     *family
	toolsRunning *family
	info         *family
	// With --redis only: whether Redis answers, its failed operations, and
	// the changes passed between replicas.
	redisUp       *family
	redisFailures *family
	redisChanges  *family

	mu       sync.Mutex
	refresh  []func() // update the gauges before a scrape
	families []*family
}

// Histogram bounds, in seconds: tool calls span several API requests and
// retries; one API request is usually well under a second.
var (
	toolBounds = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	apiBounds  = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
)

// NewMetrics creates the metric families.
func NewMetrics() *Metrics {
	m := &Metrics{
		httpRequests: newFamily("contraforce_mcp_http_requests_total", "HTTP requests served, by route and status code.", "counter", []string{"route", "code"}, nil),
		rejected:     newFamily("contraforce_mcp_rejected_requests_total", "Requests refused before reaching MCP, by reason.", "counter", []string{"reason"}, nil),
		toolCalls:    newFamily("contraforce_mcp_tool_calls_total", "MCP tool calls, by tenant, tool and outcome (ok, error).", "counter", []string{"tenant", "tool", "outcome"}, nil),
		toolDuration: newFamily("contraforce_mcp_tool_call_duration_seconds", "Duration of MCP tool calls, by tool.", "histogram", []string{"tool"}, toolBounds),
		apiRequests:  newFamily("contraforce_mcp_api_requests_total", "ContraForce API requests (attempts), by endpoint, method and status code (\"error\" when no answer came).", "counter", []string{"endpoint", "method", "code"}, nil),
		apiDuration:  newFamily("contraforce_mcp_api_request_duration_seconds", "Latency of ContraForce API requests (attempts), by endpoint.", "histogram", []string{"endpoint"}, apiBounds),
		sessions:     newFamily("contraforce_mcp_active_sessions", "Open MCP sessions, by transport.", "gauge", []string{"transport"}, nil),
		toolsRunning: newFamily("contraforce_mcp_tool_calls_in_flight", "MCP tool calls running now.", "gauge", nil, nil),
		info:         newFamily("contraforce_mcp_build_info", "Build information; the value is always 1.", "gauge", []string{"version"}, nil),
	}
	m.redisUp = newFamily("contraforce_mcp_redis_up", "1 while Redis (--redis) answers; 0 while this replica works alone (per-replica limits, its own changes only).", "gauge", nil, nil)
	m.redisFailures = newFamily("contraforce_mcp_redis_failures_total", "Redis operations that failed, by operation; each fell back to this replica's own state.", "counter", []string{"op"}, nil)
	m.redisChanges = newFamily("contraforce_mcp_redis_changes_total", "Incident changes passed between replicas through Redis, by direction (published, received, dropped).", "counter", []string{"direction"}, nil)
	m.info.set(1, client.Version)
	m.families = []*family{m.httpRequests, m.rejected, m.toolCalls, m.toolDuration, m.apiRequests, m.apiDuration, m.sessions, m.toolsRunning, m.info,
		m.redisUp, m.redisFailures, m.redisChanges}
	return m
}

// onScrape registers a function that updates gauges before each scrape.
func (m *Metrics) onScrape(f func()) {
	m.mu.Lock()
	m.refresh = append(m.refresh, f)
	m.mu.Unlock()
}

// ServeHTTP writes the exposition.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	refresh := append([]func(){}, m.refresh...)
	m.mu.Unlock()
	for _, f := range refresh {
		f()
	}
	var b bytes.Buffer
	for _, f := range m.families {
		f.write(&b)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}
