package client_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
)

// The default HTTP client keeps the connections a burst of concurrent calls
// needed: the next burst reuses them rather than opening (against the real
// API, TLS-handshaking) new ones. A hosted server runs a hundred sessions
// on one client; 64 concurrent calls stand for them here.
func TestDefaultPoolKeepsABurstsConnections(t *testing.T) {
	var opened atomic.Int64
	release := make(chan struct{})
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-release // every call of the burst is in flight at once
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[],"meta":{"requestId":"r"}}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := client.New(client.Config{BaseURL: srv.URL + "/api/v2", ClientID: "id", ClientSecret: "cf_sa_pool_test"})
	if err != nil {
		t.Fatal(err)
	}
	const burst = 64
	for round := range 3 {
		before := opened.Load()
		arrived.Add(burst)
		release = make(chan struct{})
		var wg sync.WaitGroup
		for range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.ListUsers(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		arrived.Wait()
		close(release)
		wg.Wait()
		if n := opened.Load() - before; round > 0 && n > 0 {
			t.Errorf("burst %d of %d concurrent calls opened %d new connections; the pool should have kept the first burst's",
				round+1, burst, n)
		}
	}
}
