package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// api is the emulator on a loopback listener: the one ContraForce API every
// server and every direct measurement in a run talks to.
type api struct {
	emu     *emulator.Emulator
	srv     *http.Server
	baseURL string // …/api/v2
	// direct is the Go client with a generous connection pool, for the
	// direct measurements.
	direct *client.Client
	// raw fetches bodies with net/http, for the compactness figures.
	raw *http.Client
	// conns counts the connections the emulator accepted: a client whose
	// pool is too small for its concurrency shows as many new connections.
	conns atomic.Int64
}

// startAPI serves a fresh emulator on 127.0.0.1.
func startAPI() (*api, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	a := &api{emu: emulator.New(emulator.Options{}), baseURL: "http://" + ln.Addr().String() + "/api/v2"}
	a.srv = &http.Server{Handler: a.emu, ReadHeaderTimeout: 10 * time.Second, ConnState: func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			a.conns.Add(1)
		}
	}}
	go func() { _ = a.srv.Serve(ln) }()
	a.raw = pooledHTTP()
	a.direct, err = client.New(client.Config{
		BaseURL: a.baseURL, ClientID: emulator.DemoClientID, ClientSecret: client.Secret(emulator.DemoClientSecret),
		HTTPClient: pooledHTTP(),
	})
	if err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// pooledHTTP is an HTTP client whose pool never makes a benchmark open and
// close connections: up to 512 idle keep-alive connections to one host.
func pooledHTTP() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 512
	return &http.Client{Transport: t, Timeout: 60 * time.Second}
}

func (a *api) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
}

// refs picks up to n incidents the demo credential may read, spread over
// the sources. The owner workspace is skipped: it holds the dataset's
// deliberately hostile incidents, which are for the robustness tests, not
// for a typical latency.
func (a *api) refs(n int) []client.IncidentRef {
	bySource := map[client.Source][]client.IncidentRef{}
	var order []client.Source
	for _, r := range a.emu.Refs() {
		if r.WorkspaceID == emulator.WorkspaceNoRoleID || r.WorkspaceID == emulator.WorkspaceOwnerID {
			continue
		}
		if _, ok := bySource[r.Source]; !ok {
			order = append(order, r.Source)
		}
		bySource[r.Source] = append(bySource[r.Source], r)
	}
	var out []client.IncidentRef
	for i := 0; len(out) < n; i++ {
		added := false
		for _, s := range order {
			if i < len(bySource[s]) && len(out) < n {
				out = append(out, bySource[s][i])
				added = true
			}
		}
		if !added {
			break
		}
	}
	return out
}

// args are a ref as tool arguments.
func args(r client.IncidentRef) map[string]any {
	return map[string]any{"workspaceId": r.WorkspaceID, "source": string(r.Source), "incidentId": r.IncidentID}
}

// getIncidentDirect makes the API calls of suffixes (the requests
// get_incident makes, see suffixes) with the Go client, concurrently as the
// tool does; it returns the wall time and the time of the slowest call.
func (a *api) getIncidentDirect(ctx context.Context, r client.IncidentRef, suffixes []string) (wall, slowest time.Duration, err error) {
	start := time.Now()
	durs, errs := make([]time.Duration, len(suffixes)), make([]error, len(suffixes))
	done := make(chan struct{}, len(suffixes))
	for i, suffix := range suffixes {
		go func() {
			t := time.Now()
			switch suffix {
			case "?withDetails=true":
				_, errs[i] = a.direct.GetIncident(ctx, r, true)
			case "/comments":
				_, errs[i] = a.direct.ListComments(ctx, r)
			case "/evidence":
				_, errs[i] = a.direct.GetEvidence(ctx, r)
			default:
				errs[i] = fmt.Errorf("no client call for %q", suffix)
			}
			durs[i] = time.Since(t)
			done <- struct{}{}
		}()
	}
	for range suffixes {
		<-done
	}
	wall = time.Since(start)
	for _, d := range durs {
		slowest = max(slowest, d)
	}
	return wall, slowest, errors.Join(errs...)
}

// getIncidentRaw makes the API requests of suffixes (see suffixes)
// concurrently with plain net/http, reading and discarding the bodies: the
// thinnest client, so that the emulator's own capacity shows.
func (a *api) getIncidentRaw(ctx context.Context, r client.IncidentRef, suffixes []string) error {
	errs := make(chan error, len(suffixes))
	for _, suffix := range suffixes {
		go func() { _, err := a.rawGet(ctx, incidentPath(r)+suffix); errs <- err }()
	}
	var all []error
	for range suffixes {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// endpointSuffix maps the per-incident read endpoints to their path
// suffixes. The get-incident endpoint is assumed to be asked withDetails,
// as get_incident needs its alerts and entities.
var endpointSuffix = map[emulator.Endpoint]string{
	emulator.EndpointGetIncident:  "?withDetails=true",
	emulator.EndpointListComments: "/comments",
	emulator.EndpointEvidence:     "/evidence",
}

// suffixes turns the requests one call made into the path suffixes of the
// same requests, in a stable order.
func suffixes(reqs map[emulator.Endpoint]int) ([]string, error) {
	var out []string
	for _, ep := range []emulator.Endpoint{emulator.EndpointGetIncident, emulator.EndpointListComments, emulator.EndpointEvidence} {
		for range reqs[ep] {
			out = append(out, endpointSuffix[ep])
		}
	}
	for ep := range reqs {
		if _, ok := endpointSuffix[ep]; !ok {
			return nil, fmt.Errorf("get_incident called %s, which the benchmark cannot replay; update endpointSuffix", ep)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("get_incident made no API request")
	}
	return out, nil
}

// listIncidentsDirect makes list_incidents' API call (the first page, no
// filter) with the Go client.
func (a *api) listIncidentsDirect(ctx context.Context) error {
	_, err := a.direct.ListIncidents(ctx, client.IncidentFilter{}, client.PageToken{})
	return err
}

// listPageRows is the size of the API page issue 13's list_incidents target
// is stated for; the emulator's first page for the demo credential has it
// (a test checks).
const listPageRows = 140

// listFirstPageBody is list_incidents' request for the first page with no
// filter, as the client encodes it.
var listFirstPageBody = func() string {
	b, _ := json.Marshal(client.ListIncidentsRequest{IsFirstCall: true}) // plain data: cannot fail
	return string(b)
}()

// rawListFirstPage makes list_incidents' API request with plain net/http
// and returns the body, not decoded.
func (a *api) rawListFirstPage(ctx context.Context) ([]byte, error) {
	return a.rawDo(ctx, http.MethodPost, "/incidents/across-workspaces", listFirstPageBody)
}

// rawGet returns the body of a GET, as the API sent it.
func (a *api) rawGet(ctx context.Context, path string) ([]byte, error) {
	return a.rawDo(ctx, http.MethodGet, path, "")
}

// rawDo makes one API request with Basic auth and returns the body.
func (a *api) rawDo(ctx context.Context, method, path, body string) ([]byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.baseURL+path, rd)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(emulator.DemoClientID, emulator.DemoClientSecret)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.raw.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode/100 != 2 {
		err = fmt.Errorf("%s %s: HTTP %d: %s", method, path, res.StatusCode, clip(b, 200))
	}
	return b, err
}

// incidentPath is the API path of an incident, escaped as the client does.
func incidentPath(r client.IncidentRef) string {
	return "/workspaces/" + url.PathEscape(r.WorkspaceID) + "/incidents/" + url.PathEscape(string(r.Source)) +
		"/" + url.PathEscape(r.IncidentID)
}

// requests returns how many API requests the emulator served per endpoint
// since the previous snapshot s0.
func (a *api) requests(s0 emulator.Stats) map[emulator.Endpoint]int {
	s := a.emu.Stats()
	out := map[emulator.Endpoint]int{}
	for ep, n := range s.Requests {
		if d := n - s0.Requests[ep]; d > 0 {
			out[ep] = d
		}
	}
	return out
}
