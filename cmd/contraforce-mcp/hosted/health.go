package hosted

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// readiness answers /readyz: whether the ContraForce API answers at all.
// Any HTTP answer counts, a 401 included: it proves the network path and
// the API are up, and a wrong tenant credential is that tenant's problem
// (logged), not a reason to take the instance out of the load balancer.
// The result is cached for ttl, and concurrent probes wait for one.
type readiness struct {
	probe func(ctx context.Context) error
	ttl   time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	checked time.Time
	state   readyState
}

// readyState is the body of /readyz.
type readyState struct {
	Status    string `json:"status"` // "ready", "not_ready", "draining"
	API       string `json:"api"`    // "reachable", "unreachable"
	APIStatus int    `json:"apiStatus,omitempty"`
	Detail    string `json:"detail,omitempty"`
	CheckedAt string `json:"checkedAt,omitempty"`
}

func newReadiness(probe func(ctx context.Context) error, ttl time.Duration, log *slog.Logger) *readiness {
	return &readiness{probe: probe, ttl: ttl, log: log}
}

// check returns the cached state, probing when it is older than ttl.
func (rd *readiness) check(ctx context.Context) readyState {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !rd.checked.IsZero() && time.Since(rd.checked) < rd.ttl {
		return rd.state
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout+time.Second)
	defer cancel()
	err := rd.probe(ctx)
	st := readyState{Status: "ready", API: "reachable", CheckedAt: time.Now().UTC().Format(time.RFC3339)}
	if apiErr, ok := client.AsAPIError(err); ok && apiErr.Status != 0 {
		st.APIStatus = apiErr.Status
		if apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden {
			rd.log.Warn("readiness probe: the API refused the probing tenant's credential", "status", apiErr.Status, "code", apiErr.Code)
		}
	} else if err != nil {
		st.Status, st.API, st.Detail = "not_ready", "unreachable", clip(err.Error(), 300)
		rd.log.Warn("readiness probe: the ContraForce API did not answer", "err", err)
	} else {
		st.APIStatus = http.StatusOK
	}
	if ctx.Err() == nil || st.Status == "ready" {
		rd.checked, rd.state = time.Now(), st
	}
	return st
}

// readyProbe lists users (cheap, needs only incidents:read) with the first
// tenant's credential; in pass-through mode, with a placeholder credential
// whose 401 still proves the API answers.
func (s *Server) readyProbe() func(ctx context.Context) error {
	t := s.auth.tenants[0]
	probe := t.probe
	if probe == nil {
		probe, _ = (&Tenant{}).newClient(s.o.API, "readiness-probe", "no-credential", true)
	}
	if probe == nil {
		return func(context.Context) error { return nil }
	}
	return func(ctx context.Context) error {
		_, err := probe.ListUsers(ctx)
		return err
	}
}

// serveHealth is liveness: the process serves HTTP.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// serveReady is readiness: not while draining, and only if the API answers.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, readyState{Status: "draining"})
		return
	}
	st := s.ready.check(r.Context())
	code := http.StatusOK
	if st.Status != "ready" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, st)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
