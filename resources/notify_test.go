package resources_test

import (
	"context"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/resources"
)

// Notifications reach a session in the order they are sent, so "session B
// got nothing for X" is shown by B's next notification being a later one
// for Y: no sleeping, no timed assertions.

func subscribe(t *testing.T, ctx context.Context, s *session, uri string) {
	t.Helper()
	if err := s.Subscribe(ctx, mcp.SubscribeRequest{Params: mcp.SubscribeParams{URI: uri}}); err != nil {
		t.Fatalf("subscribe %s: %v", uri, err)
	}
}

// refs returns n distinct incidents the demo credential sees.
func refs(e *env, n int) []client.IncidentRef {
	var out []client.IncidentRef
	for _, ref := range e.emu.Refs() {
		if ref.WorkspaceID == emulator.WorkspaceOwnerID && len(out) < n {
			out = append(out, ref)
		}
	}
	return out
}

func TestChangedNotifiesSubscribedSessions(t *testing.T) {
	e := newEnv(t)
	a, b := e.connect(t, true), e.connect(t, true)
	rs := refs(e, 3)
	x, y, z := rs[0], rs[1], rs[2]
	ctx := t.Context()

	subscribe(t, ctx, a, resources.IncidentURI(x))
	subscribe(t, ctx, a, resources.EvidenceURI(z))
	subscribe(t, ctx, a, resources.CommentsURI(z))
	subscribe(t, ctx, b, resources.IncidentURI(y))

	e.notifier.Changed(ctx, x)
	if got := a.nextUpdated(t); got != resources.IncidentURI(x) {
		t.Fatalf("A got %s, want %s", got, resources.IncidentURI(x))
	}
	e.notifier.Changed(ctx, y)
	if got := b.nextUpdated(t); got != resources.IncidentURI(y) {
		t.Fatalf("B's first update is %s, want %s (B is not subscribed to %s)", got, resources.IncidentURI(y), x.IncidentID)
	}
	// A change notifies the comments resource, never the evidence.
	e.notifier.Changed(ctx, z)
	if got := a.nextUpdated(t); got != resources.CommentsURI(z) {
		t.Fatalf("A got %s, want %s", got, resources.CommentsURI(z))
	}

	// After unsubscribing, x is quiet: A's next update is z's.
	if err := a.Unsubscribe(ctx, mcp.UnsubscribeRequest{Params: mcp.UnsubscribeParams{URI: resources.IncidentURI(x)}}); err != nil {
		t.Fatal(err)
	}
	e.notifier.Changed(ctx, x)
	e.notifier.Changed(ctx, z)
	if got := a.nextUpdated(t); got != resources.CommentsURI(z) {
		t.Fatalf("after unsubscribing, A got %s, want %s", got, resources.CommentsURI(z))
	}
}

func TestChangedStaysWithinTenant(t *testing.T) {
	e := newEnv(t)
	a := e.connect(t, true)
	rs := refs(e, 2)
	x, y := rs[0], rs[1]
	ctxA, ctxB := withTenant(t.Context(), "tenant-a"), withTenant(t.Context(), "tenant-b")

	subscribe(t, ctxA, a, resources.IncidentURI(x))
	subscribe(t, ctxA, a, resources.IncidentURI(y))

	e.notifier.Changed(ctxB, x) // another tenant's change to the same URI
	e.notifier.Changed(ctxA, y)
	if got := a.nextUpdated(t); got != resources.IncidentURI(y) {
		t.Fatalf("tenant A's session got %s, want only its own tenant's change to %s", got, resources.IncidentURI(y))
	}
}

func TestChangedNotifiesListenStreams(t *testing.T) {
	e := newEnv(t)
	s := e.connect(t, false)
	if !mcp.IsModernProtocol(s.ProtocolVersion()) {
		t.Skipf("negotiated %s; subscriptions/listen needs %s", s.ProtocolVersion(), mcp.ProtocolVersion20260728)
	}
	x := refs(e, 1)[0]
	ctx := t.Context()
	stop, err := s.ListenAsync(ctx, mcp.SubscriptionFilter{ResourceSubscriptions: []string{resources.IncidentURI(x)}},
		func(err error) { t.Errorf("listen: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	// The acknowledgement comes after the server recorded the subscriptions.
	s.next(t, mcp.MethodNotificationSubscriptionsAcknowledged)

	e.notifier.Changed(ctx, x)
	if got := s.nextUpdated(t); got != resources.IncidentURI(x) {
		t.Fatalf("listen stream got %s, want %s", got, resources.IncidentURI(x))
	}
	stop()
}

func TestChangedWithoutSubscribersIsHarmless(t *testing.T) {
	e := newEnv(t)
	// Concurrent changes, subscriptions and sessions closing: run with -race.
	sessions := make([]*session, 4)
	for i := range sessions {
		sessions[i] = e.connect(t, true)
	}
	rs := refs(e, 4)
	parallel(len(sessions), func(i int) {
		err := sessions[i].Subscribe(t.Context(), mcp.SubscribeRequest{Params: mcp.SubscribeParams{URI: resources.IncidentURI(rs[i])}})
		if err != nil {
			t.Error(err) // not Fatal: this is not the test's goroutine
		}
		e.notifier.Changed(t.Context(), rs[(i+1)%len(rs)])
		sessions[i].Close()
	})
	e.notifier.Changed(context.Background(), client.IncidentRef{WorkspaceID: "w", Source: client.SourceSplunk, IncidentID: "1"})
}
