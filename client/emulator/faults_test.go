package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

func TestFaultsAreFIFOPerEndpoint(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceSentinel, client.StatusNew))
	h.e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, Count: 1, Status: 429, RetryAfter: "2"})
	h.e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUsers, Count: 1, Status: 500})
	h.e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, Count: 1, Status: 503, RetryAfter: "Wed, 15 Apr 2026 20:00:05 GMT"})
	status := map[string]any{"status": "Active"}
	path := incidentPath(ref) + "/status"

	r := h.do(http.MethodPut, path, status)
	problemOf(t, r, http.StatusTooManyRequests, client.CodeRateLimited)
	if r.header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	// Another endpoint's fault does not touch this one, and the list call is unaffected.
	h.do(http.MethodPost, listPath, map[string]any{"isFirstCall": true}).expect(t, http.StatusOK)
	r = h.do(http.MethodPut, path, status)
	problemOf(t, r, http.StatusServiceUnavailable, client.CodeServiceUnavailable)
	if r.header.Get("Retry-After") != "Wed, 15 Apr 2026 20:00:05 GMT" {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	if inc, _ := h.e.Incident(ref); inc.Status != client.StatusNew {
		t.Fatal("a faulted write was applied")
	}
	h.do(http.MethodPut, path, status).expect(t, http.StatusNoContent)
	problemOf(t, h.do(http.MethodGet, "/api/v2/users", nil), http.StatusInternalServerError, client.CodeInternal)
	h.do(http.MethodGet, "/api/v2/users", nil).expect(t, http.StatusOK)

	st := h.e.Stats()
	if st.Requests[emulator.EndpointUpdateStatus] != 3 || st.Requests[emulator.EndpointUsers] != 2 || st.Requests[emulator.EndpointListIncidents] != 1 ||
		st.Applied[emulator.EndpointUpdateStatus] != 1 || st.Faults[emulator.FaultKindStatus(429)] != 1 ||
		st.Faults[emulator.FaultKindStatus(503)] != 1 || st.Faults[emulator.FaultKindStatus(500)] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPersistentFaultUntilCleared(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	h.e.InjectFault(emulator.Fault{Status: 502}) // any endpoint, no count
	for range 3 {
		problemOf(t, h.do(http.MethodGet, "/api/v2/users", nil), http.StatusBadGateway, client.CodeBadGateway)
	}
	problemOf(t, h.do(http.MethodPost, listPath, map[string]any{}), http.StatusBadGateway, client.CodeBadGateway)
	h.e.ClearFaults()
	h.do(http.MethodGet, "/api/v2/users", nil).expect(t, http.StatusOK)
}

func TestRawFaultBodies(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	html := "<html><body><h1>502 Bad Gateway</h1></body></html>"
	empty := ""
	h.e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUsers, Count: 1, Status: 502, Body: &html, ContentType: "text/html"})
	h.e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUsers, Count: 1, Status: 503, Body: &empty, RetryAfter: "1"})
	r := h.do(http.MethodGet, "/api/v2/users", nil).expect(t, http.StatusBadGateway)
	if string(r.body) != html || r.header.Get("Content-Type") != "text/html" || r.header.Get("X-Request-Id") == "" {
		t.Errorf("HTML fault: %q %v", r.body, r.header)
	}
	r = h.do(http.MethodGet, "/api/v2/users", nil).expect(t, http.StatusServiceUnavailable)
	if len(r.body) != 0 || r.header.Get("Retry-After") != "1" {
		t.Errorf("empty fault: %q %v", r.body, r.header)
	}
}

func TestLatencyHonoursCancellation(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceQRadar))
	n := len(h.e.Comments(ref))
	// An hour: if cancellation were ignored the server could not shut down
	// at the end of the test.
	h.e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, Count: 1, Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.send(ctx, http.MethodPost, incidentPath(ref)+"/comments", map[string]any{"content": "late"})
		done <- err
	}()
	for i := 0; h.e.Stats().Requests[emulator.EndpointAddComment] == 0; i++ {
		if i > 5000 {
			t.Fatal("the request never reached the emulator")
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if h.e.Stats().Faults[emulator.FaultKindLatency] != 1 {
		t.Error("latency not counted")
	}
	// A short latency delays but answers.
	h.e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, Count: 1, Latency: time.Millisecond})
	h.do(http.MethodPost, incidentPath(ref)+"/comments", map[string]any{"content": "on time"}).expect(t, http.StatusCreated)
	if got := len(h.e.Comments(ref)); got != n+1 {
		t.Errorf("%d new comments, want 1 (the cancelled one must not land)", got-n)
	}
}

func TestDrops(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceCrowdStrike, client.StatusNew, client.StatusActive))
	path := incidentPath(ref) + "/comments"
	n := len(h.e.Comments(ref))

	h.e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, Count: 1, DropBeforeApply: true})
	if _, err := h.send(context.Background(), http.MethodPost, path, map[string]any{"content": "before"}); err == nil {
		t.Fatal("DropBeforeApply answered")
	}
	if got := len(h.e.Comments(ref)); got != n {
		t.Fatalf("DropBeforeApply applied the comment")
	}

	h.e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, Count: 1, DropAfterApply: true})
	if _, err := h.send(context.Background(), http.MethodPost, path, map[string]any{"content": "after"}); err == nil {
		t.Fatal("DropAfterApply answered")
	}
	cs := h.e.Comments(ref)
	if len(cs) != n+1 || cs[len(cs)-1].Message != "after" {
		t.Fatalf("DropAfterApply did not apply the comment")
	}

	h.e.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, Count: 1, DropAfterApply: true})
	if _, err := h.send(context.Background(), http.MethodPut, incidentPath(ref)+"/status", map[string]any{"status": "Closed"}); err == nil {
		t.Fatal("DropAfterApply answered")
	}
	if inc, _ := h.e.Incident(ref); inc.Status != client.StatusClosed {
		t.Fatal("DropAfterApply did not apply the status")
	}
	// The server is still healthy.
	h.do(http.MethodGet, path, nil).expect(t, http.StatusOK)
	st := h.e.Stats()
	if st.Faults[emulator.FaultKindDropBeforeApply] != 1 || st.Faults[emulator.FaultKindDropAfterApply] != 2 ||
		st.Applied[emulator.EndpointAddComment] != 1 || st.Applied[emulator.EndpointUpdateStatus] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// chaosRun makes a fixed sequence of requests and records their outcomes.
func chaosRun(t *testing.T, seed int64) ([]string, emulator.Stats) {
	h := newHarness(t, emulator.Options{})
	h.e.SetChaos(&emulator.Chaos{Seed: seed, MaxLatency: time.Millisecond, P429: 0.2, P503: 0.1, P502: 0.1,
		PDropAfterApply: 0.05, PDropBeforeApply: 0.05, RetryAfter: "1"})
	ref := h.findRef(inWorkspace(emulator.WorkspaceOwnerID, client.SourceSentinel))
	var out []string
	for i := range 60 {
		var r *response
		var err error
		if i%2 == 0 {
			r, err = h.send(context.Background(), http.MethodGet, "/api/v2/users", nil)
		} else {
			r, err = h.send(context.Background(), http.MethodPost, incidentPath(ref)+"/comments", map[string]any{"content": fmt.Sprint("n", i)})
		}
		switch {
		case err != nil:
			out = append(out, "drop")
		case r.status == 429 || r.status == 503:
			if r.header.Get("Retry-After") != "1" {
				t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
			}
			out = append(out, fmt.Sprint(r.status))
		default:
			out = append(out, fmt.Sprint(r.status))
		}
	}
	return out, h.e.Stats()
}

func TestChaosIsDeterministic(t *testing.T) {
	a, sa := chaosRun(t, 99)
	b, sb := chaosRun(t, 99)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different outcomes:\n%v\n%v", a, b)
	}
	for _, want := range []string{"200", "201", "429", "drop"} {
		if !slices.Contains(a, want) {
			t.Errorf("outcomes %v never show %s", a, want)
		}
	}
	if sa.Faults[emulator.FaultKindStatus(429)] != sb.Faults[emulator.FaultKindStatus(429)] || sa.Requests[emulator.EndpointUsers] != 30 {
		t.Errorf("stats %+v vs %+v", sa, sb)
	}
	if c, _ := chaosRun(t, 100); slices.Equal(a, c) {
		t.Error("seeds 99 and 100 gave the same outcomes")
	}
}
