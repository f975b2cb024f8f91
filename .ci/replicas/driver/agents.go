package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
)

// Transports an agent speaks: SSE, streamable HTTP with a session
// (protocol 2025-11-25: initialize, Mcp-Session-Id, the GET stream), and
// session-less streamable HTTP (2026-07-28: subscriptions/listen).
const (
	kindSSE    = "sse"
	kindHTTP   = "http"
	kindModern = "modern"
)

// agent is one MCP client with its own token: a writer (of one incident)
// or a subscriber (to several).
type agent struct {
	name, tenant, token, kind string
	base                      string // nginx
	replica                   string // where nginx hashed its token at the start

	ref  client.IncidentRef // a writer's incident
	uris []string           // a subscriber's subscriptions

	mu    sync.Mutex
	c     *mcpclient.Client
	lost  chan struct{} // closed when the current connection is lost
	ready bool          // subscribed on the current connection
	heard map[string]int

	connects    atomic.Int64 // sessions opened (initialize, or SSE streams)
	reconnects  atomic.Int64 // of them, after a failure
	acked       atomic.Int64 // writes the server acknowledged
	confirmed   atomic.Int64 // writes unanswered, then found in the incident
	rateLimited atomic.Int64
	// lastUpstream is the replica of the last answer.
	lastUpstream atomic.Value
}

// quiet discards the clients' own logs: the driver reports what matters.
var quiet = slog.New(slog.DiscardHandler)

// httpClient adds the bearer token to every request (mcp-go's streamable
// client sends its closing DELETE without the configured headers).
// It records the replica that answered last (nginx's X-Upstream).
func (a *agent) httpClient() *http.Client {
	return &http.Client{Transport: bearer{a: a, next: http.DefaultTransport}}
}

type bearer struct {
	a    *agent
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.a.token)
	}
	resp, err := b.next.RoundTrip(r)
	if err == nil && resp.Header.Get("X-Upstream") != "" {
		b.a.lastUpstream.Store(lastUpstream(resp.Header.Get("X-Upstream")))
	}
	return resp, err
}

// connect opens a new session (closing the previous one) and, for a
// subscriber, subscribes.
func (a *agent) connect(ctx context.Context, subscriber bool) error {
	a.close()
	hdr := map[string]string{"Authorization": "Bearer " + a.token}
	var tr transport.Interface
	var err error
	switch a.kind {
	case kindSSE:
		tr, err = transport.NewSSE(a.base+"/sse", transport.WithHeaders(hdr), transport.WithHTTPClient(a.httpClient()),
			transport.WithSSELogger(quiet))
	default:
		opts := []transport.StreamableHTTPCOption{transport.WithHTTPHeaders(hdr), transport.WithHTTPBasicClient(a.httpClient()),
			transport.WithHTTPLogger(quiet)}
		if subscriber && a.kind == kindHTTP {
			opts = append(opts, transport.WithContinuousListening())
		}
		tr, err = transport.NewStreamableHTTP(a.base+"/mcp", opts...)
	}
	if err != nil {
		return err
	}
	var copts []mcpclient.ClientOption
	if a.kind != kindModern {
		copts = append(copts, mcpclient.WithProtocolVersion(mcp.ProtocolVersion20251125))
	}
	c := mcpclient.NewClient(tr, copts...)
	lost := make(chan struct{})
	var once sync.Once
	signal := func() { once.Do(func() { close(lost) }) }
	acked := make(chan struct{}, 1)
	c.OnConnectionLost(func(error) { signal() })
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		switch n.Method {
		case string(mcp.MethodNotificationResourceUpdated):
			uri, _ := n.Params.AdditionalFields["uri"].(string)
			a.mu.Lock()
			a.heard[uri]++
			a.mu.Unlock()
		case mcp.MethodNotificationSubscriptionsAcknowledged:
			select {
			case acked <- struct{}{}:
			default:
			}
		}
	})
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		_ = c.Close()
		return fmt.Errorf("start: %w", err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "replicas-test " + a.name, Version: "1"}
	if a.kind != kindModern {
		init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	}
	if _, err := c.Initialize(cctx, init); err != nil {
		_ = c.Close()
		return fmt.Errorf("initialize: %w", err)
	}
	if a.connects.Add(1) > 1 {
		a.reconnects.Add(1)
	}
	if subscriber {
		if a.kind == kindModern {
			stop, err := c.ListenAsync(ctx, mcp.SubscriptionFilter{ResourceSubscriptions: a.uris}, func(error) { signal() })
			if err != nil {
				_ = c.Close()
				return fmt.Errorf("listen: %w", err)
			}
			go func() { <-lost; stop() }()
			select {
			case <-acked:
			case <-cctx.Done():
				_ = c.Close()
				return errors.New("subscriptions/listen not acknowledged")
			}
		} else {
			for _, uri := range a.uris {
				if err := c.Subscribe(cctx, mcp.SubscribeRequest{Params: mcp.SubscribeParams{URI: uri}}); err != nil {
					_ = c.Close()
					return fmt.Errorf("subscribe: %w", err)
				}
			}
		}
	}
	a.mu.Lock()
	a.c, a.lost, a.ready = c, lost, subscriber
	a.mu.Unlock()
	return nil
}

// close ends the current session, if any.
func (a *agent) close() {
	a.mu.Lock()
	c := a.c
	a.c, a.ready = nil, false
	a.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

func (a *agent) client() *mcpclient.Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.c
}

func (a *agent) isReady() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ready
}

// heardTotal is the notifications heard for the subscriber's URIs.
func (a *agent) heardTotal() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, u := range a.uris {
		n += a.heard[u]
	}
	return n
}

// heardByURI is a copy of the notifications heard, by incident URI.
func (a *agent) heardByURI() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.heard)
}

func (a *agent) resetHeard() {
	a.mu.Lock()
	a.heard = map[string]int{}
	a.mu.Unlock()
}

// subscribe keeps the subscriber connected and subscribed until ctx ends:
// a lost stream (SSE), a failed ping (a session the replica no longer
// has) or a broken listen stream makes it connect again, through nginx, to
// whichever replica now serves its token.
func (a *agent) subscribe(ctx context.Context) {
	for ctx.Err() == nil {
		if err := a.connect(ctx, true); err != nil {
			logf("%s: connect: %v (retrying)", a.name, err)
			sleep(ctx, 300*time.Millisecond)
			continue
		}
		a.mu.Lock()
		c, lost := a.c, a.lost
		a.mu.Unlock()
		for ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-lost:
			case <-time.After(400 * time.Millisecond):
				pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				err := c.Ping(pctx)
				cancel()
				if err == nil {
					continue
				}
				if ctx.Err() == nil {
					logf("%s: ping: %v (reconnecting)", a.name, err)
				}
			}
			break
		}
		a.close()
	}
}

// write posts one comment carrying id on the agent's incident, and makes
// sure it is stored exactly once: a write the server acknowledged is done;
// one refused by the rate limit is sent again after a second; one that got
// no answer (its replica died, its session is gone) is looked for in the
// incident's comments through a new session, and sent again only if absent.
func (a *agent) write(ctx context.Context, id string) error {
	for attempt := 1; attempt <= 12 && ctx.Err() == nil; attempt++ {
		c := a.client()
		if c == nil {
			if err := a.connect(ctx, false); err != nil {
				logf("%s: connect: %v (retrying)", a.name, err)
				sleep(ctx, 500*time.Millisecond)
				continue
			}
			c = a.client()
		}
		req := mcp.CallToolRequest{}
		req.Params.Name = "add_comment"
		req.Params.Arguments = map[string]any{"workspaceId": a.ref.WorkspaceID, "source": string(a.ref.Source),
			"incidentId": a.ref.IncidentID, "content": "Replica test: checked the sign-in logs. " + id}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		res, err := c.CallTool(cctx, req)
		cancel()
		switch {
		case err == nil && !res.IsError:
			a.acked.Add(1)
			return nil
		case err != nil && strings.Contains(err.Error(), "too many tool calls"):
			a.rateLimited.Add(1) // refused before the tool ran: nothing was written
			sleep(ctx, time.Second)
			continue
		case err == nil:
			return fmt.Errorf("%s: add_comment %s failed: %s", a.name, id, resultText(res))
		}
		logf("%s: write %s unanswered: %v", a.name, id, err)
		a.close()
		// A request the dead replica had already passed to the API lands
		// within milliseconds; look after that.
		sleep(ctx, 500*time.Millisecond)
		if found, err := a.hasComment(ctx, id); err != nil {
			logf("%s: reading the comments: %v (retrying)", a.name, err)
			a.close()
		} else if found {
			a.confirmed.Add(1)
			return nil
		}
	}
	return fmt.Errorf("%s: write %s not done after 12 attempts", a.name, id)
}

// hasComment reads the incident's comments resource for id.
func (a *agent) hasComment(ctx context.Context, id string) (bool, error) {
	if a.client() == nil {
		if err := a.connect(ctx, false); err != nil {
			return false, err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := a.client().ReadResource(cctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: resources.CommentsURI(a.ref)}})
	if err != nil {
		return false, err
	}
	for _, c := range res.Contents {
		if t, ok := mcp.AsTextResourceContents(c); ok && strings.Contains(t.Text, id) {
			return true, nil
		}
	}
	return false, nil
}

func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if t, ok := mcp.AsTextContent(c); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, " ")
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
