package resources

import (
	"context"
	"fmt"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
)

// fakeSession is a ClientSession whose notifications land in a buffer.
type fakeSession struct{ ch chan mcp.JSONRPCNotification }

func (s *fakeSession) Initialize()                                         {}
func (s *fakeSession) Initialized() bool                                   { return true }
func (s *fakeSession) NotificationChannel() chan<- mcp.JSONRPCNotification { return s.ch }
func (s *fakeSession) SessionID() string                                   { return "fake" }

func TestSubscriptionsAreBounded(t *testing.T) {
	n := NewNotifier(NotifierOptions{})
	sess := &fakeSession{ch: make(chan mcp.JSONRPCNotification, 4)}
	ctx := server.NewMCPServer("t", "0").WithContext(context.Background(), sess)
	ref := func(i int) client.IncidentRef {
		return client.IncidentRef{WorkspaceID: "w", Source: client.SourceSplunk, IncidentID: fmt.Sprint(i)}
	}
	for i := range maxSubscriptions + 1 {
		n.subscribe(ctx, IncidentURI(ref(i)))
	}
	if got := len(n.legacy["fake"].uris); got != maxSubscriptions {
		t.Fatalf("%d subscriptions tracked, want the bound %d", got, maxSubscriptions)
	}
	n.Changed(ctx, ref(maxSubscriptions)) // over the bound: not tracked
	n.Changed(ctx, ref(0))
	if got := (<-sess.ch).Params.AdditionalFields["uri"]; got != IncidentURI(ref(0)) {
		t.Fatalf("first notification for %v, want %s", got, IncidentURI(ref(0)))
	}
	// A full queue drops the notification rather than blocking the tool.
	for range cap(sess.ch) + 1 {
		n.Changed(ctx, ref(1))
	}
}
