package emulator_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// TestConcurrentWriters runs comment, status and assignment writers and
// readers in parallel on the same incidents (meaningful under -race), then
// checks that no write was lost.
func TestConcurrentWriters(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	h.hc = &http.Client{} // keep-alive: many requests, few connections
	var refs []client.IncidentRef
	for _, src := range []client.Source{client.SourceSplunk, client.SourceSentinelOne, client.SourceDefenderXDR} {
		refs = append(refs, h.findRef(inWorkspace(emulator.WorkspaceOwnerID, src)))
	}
	before := map[client.IncidentRef]int{}
	for _, ref := range refs {
		before[ref] = len(h.e.Comments(ref))
	}
	const workers, rounds = 6, 8
	assignees := []string{emulator.UserJaneDoeID, emulator.UserAnalystID}
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*len(refs)*4)
	call := func(method, path string, body any, want int) {
		r, err := h.send(t.Context(), method, path, body)
		if err != nil {
			errs <- err
		} else if r.status != want {
			errs <- fmt.Errorf("status %d, want %d: %s", r.status, want, r.body)
		}
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				for _, ref := range refs {
					p := incidentPath(ref)
					switch w % 3 {
					case 0:
						call(http.MethodPost, p+"/comments", map[string]any{"content": fmt.Sprintf("w%d r%d", w, i)}, http.StatusCreated)
					case 1:
						status := []string{"Active", "New"}[i%2]
						call(http.MethodPut, p+"/status", map[string]any{"status": status, "comment": "status " + status}, http.StatusNoContent)
					case 2:
						call(http.MethodPut, p+"/assignee", map[string]any{"userId": assignees[i%2]}, http.StatusNoContent)
					}
					call(http.MethodGet, p+"?withDetails=true", nil, http.StatusOK)
				}
				call(http.MethodPost, listPath, map[string]any{"isFirstCall": true, "query": "a"}, http.StatusOK)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Comments come from the comment writers and the status writers.
	perKind := workers / 3 * rounds
	for _, ref := range refs {
		if got, want := len(h.e.Comments(ref)), before[ref]+2*perKind; got != want {
			t.Errorf("%v: %d comments, want %d", ref, got, want)
		}
	}
	st := h.e.Stats()
	n := perKind * len(refs)
	if st.Applied[emulator.EndpointAddComment] != n || st.Applied[emulator.EndpointUpdateStatus] != n || st.Applied[emulator.EndpointAssign] != n {
		t.Errorf("applied = %v, want %d each", st.Applied, n)
	}
	seen := map[string]bool{}
	for _, ref := range refs {
		for _, c := range h.e.Comments(ref) {
			if seen[c.ID] {
				t.Fatalf("comment id %s repeated", c.ID)
			}
			seen[c.ID] = true
		}
	}
}
