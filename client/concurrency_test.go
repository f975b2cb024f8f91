package client_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// One Client shared by many goroutines, under random faults: reads always
// succeed within their retries, and no comment is ever posted twice.
func TestConcurrentUseUnderChaos(t *testing.T) {
	e, srv := startEmulator(t)
	c := demoClient(t, srv, func(cfg *client.Config) { cfg.MaxAttempts = 12 })
	var refs []client.IncidentRef
	for _, r := range e.Refs() {
		if r.WorkspaceID == emulator.WorkspaceOwnerID || r.WorkspaceID == emulator.WorkspaceResponderID {
			refs = append(refs, r)
		}
	}
	e.SetChaos(&emulator.Chaos{Seed: 7, P429: 0.08, P503: 0.08, P502: 0.08, PDropAfterApply: 0.04, PDropBeforeApply: 0.04, RetryAfter: "0"})
	t.Cleanup(func() { e.SetChaos(nil) })

	const workers, rounds = 8, 6
	type posted struct {
		ref     client.IncidentRef
		msg     string
		unknown bool
	}
	var (
		mu       sync.Mutex
		comments []posted
		wg       sync.WaitGroup
	)
	ctx := context.Background()
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				ref := refs[(w*rounds+i)%len(refs)]
				if _, err := c.GetIncident(ctx, ref, i%2 == 0); err != nil {
					t.Errorf("worker %d: GetIncident: %v", w, err)
				}
				if _, err := c.ListComments(ctx, ref); err != nil {
					t.Errorf("worker %d: ListComments: %v", w, err)
				}
				if _, err := c.ListIncidents(ctx, client.IncidentFilter{Statuses: []client.Status{client.StatusNew}}, client.PageToken{}); err != nil {
					t.Errorf("worker %d: ListIncidents: %v", w, err)
				}
				if _, err := c.Assign(ctx, ref, client.AssignRequest{UserID: emulator.UserJaneDoeID}); err != nil {
					t.Errorf("worker %d: Assign: %v", w, err)
				}
				msg := fmt.Sprintf("worker %d round %d", w, i)
				_, _, err := c.AddComment(ctx, ref, client.AddCommentRequest{Content: msg})
				if err != nil && !errors.Is(err, client.ErrOutcomeUnknown) {
					t.Errorf("worker %d: AddComment: %v", w, err)
				}
				mu.Lock()
				comments = append(comments, posted{ref, msg, err != nil})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	e.SetChaos(nil)
	unknown := 0
	for _, p := range comments {
		n := 0
		for _, cm := range e.Comments(p.ref) {
			if cm.Message == p.msg {
				n++
			}
		}
		switch {
		case n > 1:
			t.Errorf("%q was posted %d times", p.msg, n)
		case !p.unknown && n != 1:
			t.Errorf("%q succeeded but exists %d times", p.msg, n)
		}
		if p.unknown {
			unknown++
		}
	}
	if e.Stats().Faults == nil || len(e.Stats().Faults) == 0 {
		t.Error("chaos injected no faults: the test proves nothing")
	}
	t.Logf("%d comments, %d with an unknown outcome; faults: %v", len(comments), unknown, e.Stats().Faults)
}
