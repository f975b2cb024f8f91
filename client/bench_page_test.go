package client_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// recorded answers every request with one recorded body, so that a
// benchmark measures the client, not the emulator.
type recorded struct{ body []byte }

func (r recorded) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(r.body)), ContentLength: -1, Request: req}, nil
}

// BenchmarkListIncidents140 measures listing in the client (the request,
// reading the answer, building the page) on the emulator's first page for
// the demo credential: 140 rows with their entities, the page
// list_incidents reads to show 25. "all rows" decodes every row
// (ListIncidents); "25 shown" decodes the 25 rows list_incidents shows
// (ListIncidentRange). The answer comes without a Content-Length, as the
// emulator sends it.
func BenchmarkListIncidents140(b *testing.B) {
	emu := emulator.New(emulator.Options{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/v2/incidents/across-workspaces", strings.NewReader(`{"isFirstCall":true}`))
	req.SetBasicAuth(emulator.DemoClientID, emulator.DemoClientSecret)
	emu.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("emulator: HTTP %d", rec.Code)
	}
	body := rec.Body.Bytes()
	c, err := client.New(client.Config{BaseURL: "http://emulator.invalid/api/v2", ClientID: emulator.DemoClientID,
		ClientSecret: client.Secret(emulator.DemoClientSecret), HTTPClient: &http.Client{Transport: recorded{body}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("all rows", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			p, err := c.ListIncidents(ctx, client.IncidentFilter{}, client.PageToken{})
			if err != nil || len(p.Incidents) != 140 {
				b.Fatalf("ListIncidents = %d rows, %v", len(p.Incidents), err)
			}
		}
	})
	b.Run("25 shown", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			p, err := c.ListIncidentRange(ctx, client.IncidentFilter{}, client.PageToken{}, 0, 25)
			if err != nil || p.Rows != 140 || len(p.Incidents) != 25 {
				b.Fatalf("ListIncidentRange = %d of %d rows, %v", len(p.Incidents), p.Rows, err)
			}
		}
	})
}
