package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// fixedNow is the clock of every test emulator.
var fixedNow = time.Date(2026, 4, 15, 20, 0, 0, 0, time.UTC)

type harness struct {
	t   *testing.T
	e   *emulator.Emulator
	srv *httptest.Server
	hc  *http.Client
}

func newHarness(t *testing.T, opts emulator.Options) *harness {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	e := emulator.New(opts)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	// No keep-alive: a dropped connection then never looks like a stale
	// pooled one that the transport would silently retry.
	return &harness{t: t, e: e, srv: srv, hc: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// reqOpt adjusts a request.
type reqOpt func(*http.Request)

func withCred(id, secret string) reqOpt {
	return func(r *http.Request) { r.SetBasicAuth(id, secret) }
}

func noAuth() reqOpt { return func(r *http.Request) { r.Header.Del("Authorization") } }

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// rawBody marks a body that is sent as is.
type rawBody string

// send makes a request with the demo credential unless an option says otherwise.
func (h *harness) send(ctx context.Context, method, path string, body any, opts ...reqOpt) (*response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case rawBody:
		rd = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(emulator.DemoClientID, emulator.DemoClientSecret)
	for _, o := range opts {
		o(req)
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

func (h *harness) do(method, path string, body any, opts ...reqOpt) *response {
	h.t.Helper()
	resp, err := h.send(context.Background(), method, path, body, opts...)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// expect fails the test unless the answer has the given status.
func (r *response) expect(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

func data[T any](t *testing.T, r *response) T {
	t.Helper()
	var env client.Envelope[T]
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("decode envelope: %v; body: %s", err, r.body)
	}
	if env.Meta.RequestID == "" || env.Meta.RequestID != r.header.Get("X-Request-Id") {
		t.Fatalf("meta.requestId %q, header X-Request-Id %q: want equal and non-empty", env.Meta.RequestID, r.header.Get("X-Request-Id"))
	}
	return env.Data
}

// problemBody is RFC 7807 problem details as the emulator sends them.
type problemBody struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Instance  string              `json:"instance"`
	Code      string              `json:"code"`
	RequestID string              `json:"requestId"`
	Timestamp string              `json:"timestamp"`
	Target    string              `json:"target"`
	Errors    map[string][]string `json:"errors"`
}

// problemOf checks an error answer's status, content type, code and request id.
func problemOf(t *testing.T, r *response, status int, code string) problemBody {
	t.Helper()
	r.expect(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json; charset=utf-8" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p problemBody
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode problem: %v; body: %s", err, r.body)
	}
	if p.Code != code || p.Status != status || p.Title == "" || p.Type == "" || p.Timestamp == "" {
		t.Fatalf("problem = %+v, want code %s status %d with title, type and timestamp", p, code, status)
	}
	if p.RequestID == "" || p.RequestID != r.header.Get("X-Request-Id") {
		t.Fatalf("problem requestId %q vs header %q", p.RequestID, r.header.Get("X-Request-Id"))
	}
	return p
}

// fieldError fails unless the problem has an error for key.
func fieldError(t *testing.T, p problemBody, key string) {
	t.Helper()
	if len(p.Errors[key]) == 0 {
		t.Fatalf("errors = %v, want a message for %q", p.Errors, key)
	}
}

func incidentPath(ref client.IncidentRef) string {
	return "/api/v2/workspaces/" + ref.WorkspaceID + "/incidents/" + string(ref.Source) + "/" + url.PathEscape(ref.IncidentID)
}

const listPath = "/api/v2/incidents/across-workspaces"

// listAll walks every page of a list call and returns the rows and the number of pages.
func (h *harness) listAll(filter map[string]any, opts ...reqOpt) ([]client.IncidentSummary, int) {
	h.t.Helper()
	body := map[string]any{"isFirstCall": true}
	for k, v := range filter {
		body[k] = v
	}
	var rows []client.IncidentSummary
	for pages := 1; pages <= 200; pages++ {
		d := data[client.ListIncidentsData](h.t, h.do(http.MethodPost, listPath, body, opts...).expect(h.t, http.StatusOK))
		rows = append(rows, d.Incidents...)
		if d.HasMore == nil {
			h.t.Fatal("hasMore missing")
		}
		if !*d.HasMore {
			if len(d.WorkspacePageTokens) != 0 {
				h.t.Fatalf("hasMore false but tokens %v", d.WorkspacePageTokens)
			}
			return rows, pages
		}
		body["isFirstCall"] = false
		body["workspacePageTokens"] = d.WorkspacePageTokens
	}
	h.t.Fatal("more than 200 pages")
	return nil, 0
}

// findRef returns the first incident (in Refs order) that satisfies pred.
func (h *harness) findRef(pred func(emulator.IncidentState, client.IncidentRef) bool) client.IncidentRef {
	h.t.Helper()
	for _, ref := range h.e.Refs() {
		inc, _ := h.e.Incident(ref)
		if pred(inc, ref) {
			return ref
		}
	}
	h.t.Fatal("no incident matches")
	return client.IncidentRef{}
}

func inWorkspace(ws string, src client.Source, status ...client.Status) func(emulator.IncidentState, client.IncidentRef) bool {
	return func(inc emulator.IncidentState, ref client.IncidentRef) bool {
		if ref.WorkspaceID != ws || ref.Source != src {
			return false
		}
		for _, s := range status {
			if inc.Status == s {
				return true
			}
		}
		return len(status) == 0
	}
}
