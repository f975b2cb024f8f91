package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const (
	testID     = "6f1c2a3b-0d4e-4f5a-9b6c-7d8e9fa0b1c2"
	testSecret = "cf_sa_TOPSECRET_value_42"
	testWS     = "11111111-2222-3333-4444-555555555555"
)

// testRef is a well-formed incident reference.
var testRef = IncidentRef{WorkspaceID: testWS, Source: SourceSentinel, IncidentID: "inc-1"}

// waitRecorder replaces the wait between attempts: it records the requested
// durations and returns at once, so retry tests neither sleep nor time.
type waitRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (w *waitRecorder) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waitRecorder) get() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.waits...)
}

// newTestClient starts an httptest server with h and returns a client of it
// whose waits are recorded rather than slept.
func newTestClient(t *testing.T, h http.Handler, mutate ...func(*Config)) (*Client, *httptest.Server, *waitRecorder) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	rec := &waitRecorder{}
	cfg := Config{
		BaseURL:      srv.URL + "/api/v2",
		ClientID:     testID,
		ClientSecret: testSecret,
		HTTPClient:   srv.Client(),
		wait:         rec.wait,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, srv, rec
}

// writeJSON answers status with a JSON body.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// okEnvelope wraps data in a success envelope.
func okEnvelope(data string) string {
	return `{"data":` + data + `,"meta":{"requestId":"req-ok","timestamp":"2026-04-15T20:00:00Z"}}`
}
