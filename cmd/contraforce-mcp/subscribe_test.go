package main

import (
	"context"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/resources"
)

// TestWriteNotifiesSubscribers: a session subscribed to an incident is told
// (notifications/resources/updated) when a tool in another session of the
// same server changes it, and is not told about other incidents; with the
// legacy resources/subscribe and with a 2026-07-28 subscriptions/listen stream.
func TestWriteNotifiesSubscribers(t *testing.T) {
	for _, legacy := range []bool{true, false} {
		name := map[bool]string{true: "resources/subscribe", false: "subscriptions/listen"}[legacy]
		t.Run(name, func(t *testing.T) {
			sess := newTestSession(t, defaultScopes, false)
			srv, _ := newMCPServer(serverDeps{Session: func(context.Context) (*toolsSession, error) { return sess, nil }, Logger: discardLogger()})
			writer := connectTo(t, srv)
			ctx := t.Context()

			page, err := sess.Client.ListIncidents(ctx, filterOwnerOpen(), emptyPage())
			if err != nil {
				t.Fatal(err)
			}
			var refs []refT
			for _, row := range page.Incidents {
				if row.WorkspaceID == emulator.WorkspaceOwnerID && len(refs) < 2 {
					refs = append(refs, refT{WorkspaceID: row.WorkspaceID, Source: row.Source, IncidentID: row.ID})
				}
			}
			if len(refs) < 2 {
				t.Fatal("need two incidents in the owner workspace")
			}
			watched, other := refs[0], refs[1]

			notes := make(chan mcp.JSONRPCNotification, 16)
			watcher, err := mcpclient.NewInProcessClient(srv)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { watcher.Close() })
			watcher.OnNotification(func(n mcp.JSONRPCNotification) { notes <- n })
			if err := watcher.Start(ctx); err != nil {
				t.Fatal(err)
			}
			init := mcp.InitializeRequest{}
			init.Params.ClientInfo = mcp.Implementation{Name: "watcher", Version: "1"}
			if legacy {
				init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
			}
			if _, err := watcher.Initialize(ctx, init); err != nil {
				t.Fatal(err)
			}
			next := func(method string) mcp.JSONRPCNotification {
				t.Helper()
				timeout := time.After(10 * time.Second)
				for {
					select {
					case n := <-notes:
						if n.Method == method {
							return n
						}
					case <-timeout:
						t.Fatalf("no %s within 10s", method)
					}
				}
			}
			uri := resources.IncidentURI(watched)
			if legacy {
				if err := watcher.Subscribe(ctx, mcp.SubscribeRequest{Params: mcp.SubscribeParams{URI: uri}}); err != nil {
					t.Fatal(err)
				}
			} else {
				stop, err := watcher.ListenAsync(ctx, mcp.SubscriptionFilter{ResourceSubscriptions: []string{uri}},
					func(err error) { t.Errorf("listen: %v", err) })
				if err != nil {
					t.Fatal(err)
				}
				defer stop()
				next(mcp.MethodNotificationSubscriptionsAcknowledged) // the server recorded the subscription
			}

			comment := func(ref refT) {
				t.Helper()
				req := mcp.CallToolRequest{}
				req.Params.Name = "add_comment"
				req.Params.Arguments = map[string]any{"workspaceId": ref.WorkspaceID, "source": string(ref.Source),
					"incidentId": ref.IncidentID, "content": "Looked at the sign-in logs."}
				res, err := writer.CallTool(ctx, req)
				if err != nil || res.IsError {
					t.Fatalf("add_comment: %v %v", err, res)
				}
			}
			comment(other)   // not watched: no notification
			comment(watched) // watched: its notification is the first one
			n := next(string(mcp.MethodNotificationResourceUpdated))
			if got, _ := n.Params.AdditionalFields["uri"].(string); got != uri {
				t.Fatalf("notified about %q, want only %q", got, uri)
			}
		})
	}
}
