package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/redis/go-redis/v9"
	yaml "go.yaml.in/yaml/v4"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
)

// Replicas sharing through Redis (serve --redis), tested with miniredis so
// that `go test` needs no redis-server; .ci/replicas.sh runs the real
// thing (nginx, redis-server, three serve processes).

// replicas starts n serve instances on one emulator (the first's), sharing
// the Redis at addr; mutate adjusts each configuration.
func replicas(t *testing.T, n int, addr string, mutate func(*serveConfig)) []*harness {
	t.Helper()
	var hs []*harness
	for i := range n {
		hs = append(hs, startServe(t, func(sc *serveConfig) {
			sc.Redis = "redis://" + addr
			if i > 0 {
				sc.BaseURL = hs[0].api.URL + "/api/v2"
			}
			if mutate != nil {
				mutate(sc)
			}
		}))
	}
	return hs
}

// subscriber is an MCP client that records the resource URIs it is told
// changed.
type subscriber struct {
	c    *mcpclient.Client
	mu   sync.Mutex
	uris map[string]int
}

func (s *subscriber) heard(uri string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uris[uri]
}

// subscribe connects to h as token over kind ("sse", "http" legacy with
// its GET stream, "listen": 2026-07-28 subscriptions/listen) and
// subscribes to uri.
func subscribe(ctx context.Context, t *testing.T, h *harness, kind, token, uri string) *subscriber {
	t.Helper()
	hdr := map[string]string{"Authorization": "Bearer " + token}
	var tr transport.Interface
	var err error
	if kind == "sse" {
		tr, err = transport.NewSSE(h.url+"/sse", transport.WithHeaders(hdr))
	} else {
		topts := []transport.StreamableHTTPCOption{transport.WithHTTPHeaders(hdr), transport.WithHTTPLogger(discardLogger())}
		if kind == "http" { // the legacy GET stream; 2026-07-28 has none
			topts = append(topts, transport.WithContinuousListening())
		}
		tr, err = transport.NewStreamableHTTP(h.url+"/mcp", topts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	var opts []mcpclient.ClientOption
	if kind != "listen" {
		opts = append(opts, mcpclient.WithProtocolVersion(legacy))
	}
	s := &subscriber{c: mcpclient.NewClient(tr, opts...), uris: map[string]int{}}
	acked := make(chan struct{}, 1)
	s.c.OnNotification(func(n mcp.JSONRPCNotification) {
		switch n.Method {
		case string(mcp.MethodNotificationResourceUpdated):
			u, _ := n.Params.AdditionalFields["uri"].(string)
			s.mu.Lock()
			s.uris[u]++
			s.mu.Unlock()
		case mcp.MethodNotificationSubscriptionsAcknowledged:
			select {
			case acked <- struct{}{}:
			default:
			}
		}
	})
	t.Cleanup(func() { _ = s.c.Close() })
	if err := s.c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "subscriber", Version: "1"}
	if kind != "listen" {
		init.Params.ProtocolVersion = legacy
	}
	if _, err := s.c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize %s: %v", kind, err)
	}
	if kind == "listen" {
		stop, err := s.c.ListenAsync(ctx, mcp.SubscriptionFilter{ResourceSubscriptions: []string{uri}}, func(error) {})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		select {
		case <-acked:
		case <-time.After(10 * time.Second):
			t.Fatal("subscriptions/listen not acknowledged")
		}
		return s
	}
	if err := s.c.Subscribe(ctx, mcp.SubscribeRequest{Params: mcp.SubscribeParams{URI: uri}}); err != nil {
		t.Fatalf("subscribe %s: %v", kind, err)
	}
	return s
}

// comment adds a comment through c and fails the test unless it is acknowledged.
func comment(ctx context.Context, t *testing.T, c *mcpclient.Client, ref client.IncidentRef, content string) {
	t.Helper()
	args := refArgs(ref)
	args["content"] = content
	if res := call(ctx, t, c, "add_comment", args); res.IsError {
		t.Fatalf("add_comment: %s", text(res))
	}
}

// TestReplicasShareChanges: a write through one replica reaches the
// subscribed sessions of its tenant on another replica (SSE, streamable
// HTTP, subscriptions/listen), never another tenant's; what crosses Redis
// names the incident and nothing of what was written.
func TestReplicasShareChanges(t *testing.T) {
	mr := miniredis.RunT(t)
	hs := replicas(t, 2, mr.Addr(), nil)
	ctx := t.Context()
	ref := hs[0].refIn(workspacesA, 0)
	uri := resources.IncidentURI(ref)

	spy := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer spy.Close()
	ps := spy.PSubscribe(ctx, "contraforce-mcp:*")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}

	subs := map[string]*subscriber{}
	for _, kind := range []string{"sse", "http", "listen"} {
		subs[kind] = subscribe(ctx, t, hs[1], kind, tokenA, uri)
	}
	// Tenant B subscribes to tenant A's incident URI (guessed): it must hear nothing.
	other := subscribe(ctx, t, hs[1], "sse", tokenB, uri)

	writer := hs[0].mustConnect(ctx, "http", tokenA, legacy)
	const marker = "Reviewed the sign-in logs: marker-7f3a"
	comment(ctx, t, writer, ref, marker)
	for kind, s := range subs {
		eventually(t, 10*time.Second, kind+" subscriber on the other replica to hear the write", func() bool { return s.heard(uri) == 1 })
	}
	time.Sleep(300 * time.Millisecond)
	if n := other.heard(uri); n != 0 {
		t.Fatalf("tenant B heard %d notifications of tenant A's incident", n)
	}
	for kind, s := range subs {
		if n := s.heard(uri); n != 1 {
			t.Errorf("%s subscriber heard %d notifications of one write, want 1", kind, n)
		}
	}

	msg, err := ps.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Channel != "contraforce-mcp:tenant:tenant-a" {
		t.Errorf("published on %q, want the tenant's own channel", msg.Channel)
	}
	var wire map[string]any
	if err := json.Unmarshal([]byte(msg.Payload), &wire); err != nil {
		t.Fatal(err)
	}
	if wire["incidentId"] != ref.IncidentID || wire["kind"] != "changed" {
		t.Errorf("published %s, want the change of incident %s", msg.Payload, ref.IncidentID)
	}
	for _, leak := range []string{"marker-7f3a", tokenA, tenantASecret, tenantAClientID, "tenant-b"} {
		if strings.Contains(msg.Payload, leak) {
			t.Errorf("the message in Redis carries %q: %s", leak, msg.Payload)
		}
	}
}

// TestReplicasShareRateLimit: a tenant's tool-call burst holds across the
// replicas together, not per replica.
func TestReplicasShareRateLimit(t *testing.T) {
	mr := miniredis.RunT(t)
	hs := replicas(t, 2, mr.Addr(), func(sc *serveConfig) { sc.ToolCallsPerSecond, sc.ToolCallBurst = 0.02, 4 })
	ctx := t.Context()
	cs := []*mcpclient.Client{hs[0].mustConnect(ctx, "http", tokenA, modern), hs[1].mustConnect(ctx, "http", tokenA, modern)}
	ref := hs[0].refIn(workspacesA, 0)
	allowed, refused := 0, 0
	for i := range 10 {
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = "get_incident", refArgs(ref)
		_, err := cs[i%2].CallTool(ctx, req)
		switch {
		case err == nil:
			allowed++
		case strings.Contains(err.Error(), "429") || strings.Contains(err.Error(), "too many tool calls"):
			refused++
		default:
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if allowed != 4 || refused != 6 {
		t.Fatalf("two replicas allowed %d calls and refused %d; the tenant's burst is 4 across both", allowed, refused)
	}
	// Tenant B has its own bucket.
	b := hs[1].mustConnect(ctx, "http", tokenB, modern)
	call(ctx, t, b, "list_incidents", map[string]any{})
}

// TestReplicasShareSessionCount: a tenant's session limit counts its
// sessions on every replica; a replica ends an idle session of the tenant
// held by another replica to make room, and refuses when none is idle.
func TestReplicasShareSessionCount(t *testing.T) {
	mr := miniredis.RunT(t)
	hs := replicas(t, 2, mr.Addr(), func(sc *serveConfig) { sc.MaxSessionsPerTenant = 2 })

	a1 := hs[0].openSSE(t, tokenA) // open streams: in use, never evicted
	a2 := hs[1].openSSE(t, tokenA)
	resp := hs[0].do(t, http.MethodGet, "/sse", tokenA, "", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "across") {
		t.Fatalf("a third session of tenant A over two replicas: %d %s, want 429 naming the limit across replicas", resp.StatusCode, body)
	}
	hs[0].openSSE(t, tokenB) // tenant B is not counted with A

	// A stream's end gives its slot back to the tenant, whichever replica asks.
	a2.resp.Body.Close()
	<-a2.closed
	var s0 string
	eventually(t, 5*time.Second, "the closed stream's slot to be free on the other replica", func() bool {
		r := hs[0].do(t, http.MethodPost, "/mcp", tokenA, initBody, nil)
		s0 = r.Header.Get("Mcp-Session-Id")
		return r.StatusCode == http.StatusOK
	})

	// a1 (in use) on replica 0, an idle session on replica 1: replica 0
	// gets the idle one ended to open a new session.
	hdr := map[string]string{"Mcp-Session-Id": s0, "Mcp-Protocol-Version": "2025-06-18"}
	if r := hs[0].do(t, http.MethodDelete, "/mcp", tokenA, "", hdr); r.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", r.StatusCode)
	}
	idle := hs[1].openStreamable(t, tokenA)
	if r := hs[0].do(t, http.MethodPost, "/mcp", tokenA, initBody, nil); r.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(r.Body)
		t.Fatalf("a new session with the tenant's other session idle on replica 1: %d %s", r.StatusCode, b)
	}
	hdr["Mcp-Session-Id"] = idle
	if r := hs[1].do(t, http.MethodPost, "/mcp", tokenA, `{"jsonrpc":"2.0","id":2,"method":"ping"}`, hdr); r.StatusCode != http.StatusNotFound {
		t.Fatalf("the idle session on replica 1 answers %d after replica 0 needed its slot, want 404", r.StatusCode)
	}
	_ = a1
}

// TestReplicasWithoutRedis: a Redis that is not there at start, then
// appears, then goes away and comes back: the replicas serve throughout,
// report redis_up and a warning, and share again (leases re-registered,
// changes delivered) once it answers.
func TestReplicasWithoutRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there: Redis is "down" from the start
	hs := replicas(t, 2, addr, nil)
	ctx := t.Context()
	ref := hs[0].refIn(workspacesA, 0)
	uri := resources.IncidentURI(ref)
	up := func(h *harness) float64 { return h.metric(t, "contraforce_mcp_redis_up") }

	writer := hs[0].mustConnect(ctx, "http", tokenA, legacy)
	comment(ctx, t, writer, ref, "Written while Redis is away.")
	if up(hs[0]) != 0 || !strings.Contains(hs[0].stderr.String(), "Redis does not answer") {
		t.Fatalf("redis_up %v; log: %s", up(hs[0]), hs[0].stderr.String())
	}

	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr(addr); err != nil {
		t.Skipf("cannot listen again on %s: %v", addr, err)
	}
	t.Cleanup(mr.Close)
	sub := subscribe(ctx, t, hs[1], "sse", tokenA, uri)
	heardAfter := func(what string) {
		t.Helper()
		eventually(t, 10*time.Second, "both replicas to see Redis "+what, func() bool { return up(hs[0]) == 1 && up(hs[1]) == 1 })
		before := sub.heard(uri)
		// go-redis resubscribes by itself; a change published before it has
		// is not heard, so write until one is (bounded).
		for i := range 20 {
			comment(ctx, t, writer, ref, "Written with Redis back.")
			deadline := time.Now().Add(500 * time.Millisecond)
			for time.Now().Before(deadline) && sub.heard(uri) == before {
				time.Sleep(20 * time.Millisecond)
			}
			if sub.heard(uri) > before {
				return
			}
			t.Logf("write %d not heard yet", i)
		}
		t.Fatalf("the other replica's subscriber heard nothing after Redis %s", what)
	}
	heardAfter("appears")

	mr.Close()
	eventually(t, 10*time.Second, "the replicas to notice Redis is gone", func() bool { return up(hs[0]) == 0 && up(hs[1]) == 0 })
	comment(ctx, t, writer, ref, "Written while Redis is away again.") // still served
	if !strings.Contains(hs[0].stderr.String(), "Redis unreachable") {
		t.Errorf("no warning logged: %s", hs[0].stderr.String())
	}
	if hs[0].metric(t, `contraforce_mcp_redis_failures_total{op="ping"}`) < 1 {
		t.Error("no failed ping counted")
	}
	mr.FlushAll() // Redis comes back empty (restarted without persistence)
	if err := mr.Restart(); err != nil {
		t.Skipf("cannot restart miniredis on %s: %v", addr, err)
	}
	heardAfter("comes back")
	// The replicas registered their sessions again: the writer's (replica 0)
	// and the subscriber's (replica 1), at once on Redis's return (a
	// replica that missed the outage does at its next renewal, 10 s).
	eventually(t, 5*time.Second, "the sessions' leases to be back in Redis", func() bool {
		members, _ := mr.ZMembers("contraforce-mcp:sessions:tenant-a")
		return len(members) == 2
	})
}

// TestDeployRedisManifests: the Kubernetes manifests give the replicas the
// Redis of redis/ (the Deployment's CONTRAFORCE_REDIS names its Service and
// port, with the password from its Secret), which only the replicas reach
// and which the replicas' Service does not select.
func TestDeployRedisManifests(t *testing.T) {
	m := readManifests(t)
	if !slices.Contains(m["Kustomization"].Resources, "redis") {
		t.Fatal("kustomization.yaml does not include redis/")
	}
	docs := map[string]map[string]any{}
	raw, err := os.ReadFile(filepath.Join(k8sDir, "redis", "redis.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		docs[d["kind"].(string)] = d
	}
	var kust struct {
		Resources []string `yaml:"resources"`
	}
	if b, err := os.ReadFile(filepath.Join(k8sDir, "redis", "kustomization.yaml")); err != nil || yaml.Unmarshal(b, &kust) != nil ||
		!slices.Equal(kust.Resources, []string{"redis.yaml"}) {
		t.Fatalf("redis/kustomization.yaml: %v %v", kust.Resources, err)
	}
	dig := func(v any, path ...any) any {
		for _, p := range path {
			switch k := p.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
		}
		return v
	}

	args, env, _ := container(t, m)
	sc, code := parseServeFlags(args[1:], io.Discard, func(k string) string { return env[k] })
	if code != -1 || sc.Redis == "" {
		t.Fatalf("the Deployment gives serve no --redis (CONTRAFORCE_REDIS): %q", sc.Redis)
	}
	u, err := url.Parse(sc.Redis)
	if err != nil {
		t.Fatal(err)
	}
	svc := docs["Service"]
	if u.Scheme != "redis" || u.Hostname() != dig(svc, "metadata", "name") || u.Port() != fmt.Sprint(dig(svc, "spec", "ports", 0, "port")) {
		t.Errorf("CONTRAFORCE_REDIS %q does not name the Redis Service %v", sc.Redis, dig(svc, "metadata", "name"))
	}
	if pw, _ := u.User.Password(); pw != "$(REDIS_PASSWORD)" {
		t.Errorf("CONTRAFORCE_REDIS's password is %q, want the Secret's, by $(REDIS_PASSWORD)", pw)
	}
	var deploy struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Env []struct {
							Name      string `yaml:"name"`
							ValueFrom struct {
								SecretKeyRef struct{ Name, Key string } `yaml:"secretKeyRef"`
							} `yaml:"valueFrom"`
						} `yaml:"env"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	b, _ := os.ReadFile(filepath.Join(k8sDir, "deployment.yaml"))
	if err := yaml.Unmarshal(b, &deploy); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range deploy.Spec.Template.Spec.Containers[0].Env {
		ref := e.ValueFrom.SecretKeyRef
		found = found || e.Name == "REDIS_PASSWORD" && ref.Name == dig(docs["Secret"], "metadata", "name") && ref.Key == "password"
	}
	if !found {
		t.Error("REDIS_PASSWORD does not come from the Redis Secret's password")
	}

	// The replicas' Service must not select the Redis pods, and only the
	// replicas' pods may reach Redis.
	var service map[string]any
	if b, err := os.ReadFile(filepath.Join(k8sDir, "service.yaml")); err != nil || yaml.Unmarshal(b, &service) != nil {
		t.Fatalf("service.yaml: %v", err)
	}
	redisLabels := dig(docs["Deployment"], "spec", "template", "metadata", "labels").(map[string]any)
	selector := dig(service, "spec", "selector").(map[string]any)
	matches := len(selector) > 0
	for k, v := range selector {
		matches = matches && redisLabels[k] == v
	}
	if len(selector) == 0 || matches {
		t.Errorf("the contraforce-mcp Service's selector %v selects the Redis pods (labels %v)", selector, redisLabels)
	}
	from := dig(docs["NetworkPolicy"], "spec", "ingress", 0, "from", 0, "podSelector", "matchLabels").(map[string]any)
	if from["app.kubernetes.io/name"] != "contraforce-mcp" || len(from) != 1 {
		t.Errorf("the Redis NetworkPolicy admits %v, want the contraforce-mcp pods only", from)
	}
}
