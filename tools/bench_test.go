package tools

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/schema"
)

// The benchmarks of the tools' hot paths: argument decoding and
// validation, the call through the adapter, and output rendering. The API
// is an emulator served in memory (no sockets), so the figures are this
// code's and the emulator's, not the network stack's. Run with
// go test -run '^$' -bench . ./tools

// inMemory is an http.RoundTripper that serves requests with a handler in
// the calling goroutine.
type inMemory struct{ h http.Handler }

func (t inMemory) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// benchDeps are tool dependencies whose client calls an in-memory emulator
// with the demo credential; ref is an ordinary incident it may read.
func benchDeps(b *testing.B) (Deps, *emulator.Emulator, client.IncidentRef) {
	b.Helper()
	emu := emulator.New(emulator.Options{})
	api, err := client.New(client.Config{
		BaseURL: "http://emulator.invalid/api/v2", ClientID: emulator.DemoClientID,
		ClientSecret: client.Secret(emulator.DemoClientSecret), HTTPClient: &http.Client{Transport: inMemory{emu}},
	})
	if err != nil {
		b.Fatal(err)
	}
	sess := &Session{Client: api, Scopes: []client.Scope{client.ScopeIncidentsRead}}
	var ref client.IncidentRef
	for _, r := range emu.Refs() {
		if r.WorkspaceID == emulator.WorkspaceResponderID {
			ref = r
			break
		}
	}
	if ref.IncidentID == "" {
		b.Fatal("no incident in the responder workspace")
	}
	return Deps{Session: func(context.Context) (*Session, error) { return sess, nil }}, emu, ref
}

// callRequest is a tools/call request as mcp-go hands it to a handler.
func callRequest(b *testing.B, name, args string) mcp.CallToolRequest {
	b.Helper()
	var req mcp.CallToolRequest
	req.Params.Name = name
	var m map[string]any
	if err := json.Unmarshal([]byte(args), &m); err != nil {
		b.Fatal(err)
	}
	req.Params.Arguments = m
	return req
}

func refArgs(r client.IncidentRef) string {
	raw, _ := json.Marshal(map[string]string{"workspaceId": r.WorkspaceID, "source": string(r.Source), "incidentId": r.IncidentID})
	return string(raw)
}

// BenchmarkDecodeArgs measures argument decoding and validation of the
// read tools' inputs, as the adapter receives them (a decoded map).
func BenchmarkDecodeArgs(b *testing.B) {
	get := map[string]any{"workspaceId": emulator.WorkspaceResponderID, "source": "Sentinel", "incidentId": "a1b2c3d4-0000-4000-8000-000000000001"}
	var list map[string]any
	_ = json.Unmarshal([]byte(`{"severities":["High","Medium"],"statuses":["New","Active"],"sources":["Sentinel","DefenderXDR"],
		"timeFilterSelection":{"type":"FourtyEightHours"},"query":"powershell","includeUnassigned":true,"limit":50}`), &list)
	b.Run("get_incident", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := schema.Decode[GetIncidentInput](get); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list_incidents", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := schema.Decode[ListIncidentsInput](list); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRender measures output rendering: the structured JSON with its
// sanitizing and the text rendering, for real results of the read tools.
func BenchmarkRender(b *testing.B) {
	deps, _, ref := benchDeps(b)
	ctx := context.Background()
	inc, err := getIncident(ctx, deps, GetIncidentInput{IncidentArgs{WorkspaceID: ref.WorkspaceID, Source: ref.Source, IncidentID: ref.IncidentID}})
	if err != nil {
		b.Fatal(err)
	}
	list, err := listIncidents(ctx, deps, ListIncidentsInput{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("get_incident", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := render(inc, renderIncident); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list_incidents", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := render(list, renderList); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCall measures a whole tool call through the adapter: decoding,
// validation, the API calls against the in-memory emulator (its share is
// BenchmarkEmulator's), the views and the rendering.
func BenchmarkCall(b *testing.B) {
	deps, _, ref := benchDeps(b)
	ctx := context.Background()
	for _, c := range []struct {
		tool Tool
		args string
	}{
		{GetIncident(deps), refArgs(ref)},
		{ListIncidents(deps), `{}`},
		{ListIncidents(deps), `{"severities":["High","Medium"],"statuses":["New","Active"],"limit":50}`},
	} {
		name := c.tool.Def.Name
		if c.args != `{}` && strings.HasPrefix(name, "list") {
			name += "/filtered"
		}
		b.Run(name, func(b *testing.B) {
			req := callRequest(b, c.tool.Def.Name, c.args)
			b.ReportAllocs()
			for b.Loop() {
				res, err := c.tool.Handler(ctx, req)
				if err != nil || res.IsError {
					b.Fatalf("%s: %v %+v", name, err, res)
				}
			}
		})
	}
}

// BenchmarkEmulator measures the emulator serving the requests the read
// tools make: the list's first page, and get_incident's three GETs. It is
// the floor under BenchmarkCall.
func BenchmarkEmulator(b *testing.B) {
	_, emu, ref := benchDeps(b)
	path := "/api/v2/workspaces/" + ref.WorkspaceID + "/incidents/" + string(ref.Source) + "/" + ref.IncidentID
	serve := func(b *testing.B, method, target, body string) {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.SetBasicAuth(emulator.DemoClientID, emulator.DemoClientSecret)
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			b.Fatalf("%s %s: HTTP %d: %s", method, target, rec.Code, rec.Body.String())
		}
	}
	b.Run("list_first_page", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(b, http.MethodPost, "/api/v2/incidents/across-workspaces", `{"isFirstCall":true}`)
		}
	})
	b.Run("list_filtered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(b, http.MethodPost, "/api/v2/incidents/across-workspaces",
				`{"isFirstCall":true,"severities":["High"],"statuses":["New","Active"],"query":"powershell"}`)
		}
	})
	b.Run("get_incident_requests", func(b *testing.B) { // the two requests get_incident makes
		b.ReportAllocs()
		for b.Loop() {
			serve(b, http.MethodGet, path+"?withDetails=true", "")
			serve(b, http.MethodGet, path+"/comments", "")
		}
	})
}
