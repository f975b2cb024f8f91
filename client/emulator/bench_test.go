package emulator_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// BenchmarkListIncidents measures the list endpoint alone (no network): the
// baseline that the MCP server's benchmarks compare against.
func BenchmarkListIncidents(b *testing.B) {
	e := emulator.New(emulator.Options{Now: func() time.Time { return fixedNow }})
	bodies := map[string]string{
		"first page":      `{"isFirstCall":true}`,
		"filtered":        `{"isFirstCall":true,"severities":["High","Medium"],"statuses":["New","Active"],"timeFilterSelection":{"type":"FourtyEightHours"}}`,
		"query":           `{"isFirstCall":true,"query":"powershell"}`,
		"only unassigned": `{"isFirstCall":true,"includeUnassigned":true,"sources":["Sentinel"]}`,
	}
	for name, body := range bodies {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/api/v2/incidents/across-workspaces", strings.NewReader(body))
				r.SetBasicAuth(emulator.DemoClientID, emulator.DemoClientSecret)
				w := httptest.NewRecorder()
				e.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
