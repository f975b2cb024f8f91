package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
	"github.com/contraforce/contraforce-mcp/tools"
)

// Cursors and confirmations across replicas sharing Redis (--redis): what
// one replica issues, another honours, with the guarantees of one process.

// tokenC is tenant C's: another tenant on tenant A's ContraForce credential
// (an MSSP giving two teams their own tenants over one service account).
const tokenC = "cfmcp_test-token-tenant-C-0123456789abcdefghijkl"

// sharedCredentialTenants are responseTenants plus tenant C.
func sharedCredentialTenants(sc *serveConfig) {
	gamebooks := `"scopes": ["incidents:read", "incidents:write", "incidents:comments", "gamebooks:read", "gamebooks:run"], "responseActions": true`
	sc.TenantsJSON = fmt.Sprintf(`{"tenants": [
		{"name": "tenant-a", "tokenSha256": %q, "clientId": %q, "clientSecretEnv": "SECRET_A", %s},
		{"name": "tenant-b", "tokenSha256": [%q], "clientId": %q, "clientSecretEnv": "SECRET_B"},
		{"name": "tenant-c", "tokenSha256": [%q], "clientId": %q, "clientSecretEnv": "SECRET_A", %s}]}`,
		hosted.HashToken(tokenA), tenantAClientID, gamebooks, hosted.HashToken(tokenB), tenantBClientID,
		hosted.HashToken(tokenC), tenantAClientID, gamebooks)
}

// router is a client's HTTP transport that sends the calls carrying a
// confirmation's answer (inputResponses) to the answering replica and the
// rest to the asking one, as a balancer without affinity may; it keeps the
// answers, to send them again.
type router struct {
	answerTo *url.URL
	mu       sync.Mutex
	answers  []*http.Request // with their bodies in bodies
	bodies   [][]byte
}

func (r *router) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Method != http.MethodPost {
		return http.DefaultTransport.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	if bytes.Contains(body, []byte(`"inputResponses"`)) {
		out.URL.Host, out.Host = r.answerTo.Host, r.answerTo.Host
		r.mu.Lock()
		r.answers, r.bodies = append(r.answers, req.Clone(context.Background())), append(r.bodies, body)
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(out)
}

// resend sends answer i again, as token, to replica h; it returns the body.
func (r *router) resend(t *testing.T, i int, h *harness, token string) string {
	t.Helper()
	return r.send(t, i, h, token, nil)
}

// send sends answer i again, changed by edit, as token, to replica h.
func (r *router) send(t *testing.T, i int, h *harness, token string, edit func(params map[string]any)) string {
	t.Helper()
	r.mu.Lock()
	req, body := r.answers[i].Clone(t.Context()), r.bodies[i]
	r.mu.Unlock()
	if edit != nil {
		var msg map[string]any
		if err := json.Unmarshal(body, &msg); err != nil {
			t.Fatal(err)
		}
		edit(msg["params"].(map[string]any))
		body, _ = json.Marshal(msg)
	}
	u, _ := url.Parse(h.url)
	req.URL.Host, req.Host = u.Host, u.Host
	req.Header.Set("Authorization", "Bearer "+token)
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return string(out)
}

// connectRouted connects token's client (protocol 2026-07-28, session-less)
// to replica ask, its answers going to replica answer.
func connectRouted(ctx context.Context, t *testing.T, ask, answer *harness, token string, human mcpclient.ElicitationHandler) (*mcpclient.Client, *router) {
	t.Helper()
	u, _ := url.Parse(answer.url)
	rt := &router{answerTo: u}
	tr, err := transport.NewStreamableHTTP(ask.url+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}),
		transport.WithHTTPBasicClient(&http.Client{Transport: rt}))
	if err != nil {
		t.Fatal(err)
	}
	c := mcpclient.NewClient(tr, mcpclient.WithElicitationHandler(human))
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "routed-client", Version: "1"}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c, rt
}

// human accepts every confirmation, recording the questions; first, when
// set, runs before the first answer.
type human struct {
	mu        sync.Mutex
	questions []string
	first     func()
}

func (h *human) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	h.mu.Lock()
	h.questions = append(h.questions, req.Params.Message)
	first := len(h.questions) == 1
	h.mu.Unlock()
	if first && h.first != nil {
		h.first()
	}
	res := &mcp.ElicitationResult{}
	res.Action, res.Content = mcp.ElicitationResponseActionAccept, map[string]any{"confirm": true}
	return res, nil
}

func (h *human) asked() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.questions...)
}

// listPage lists tenant's incidents through c: a page of limit rows, from
// cursor when set.
func listPage(ctx context.Context, t *testing.T, c *mcpclient.Client, cursor string, limit int) tools.ListIncidentsOutput {
	t.Helper()
	args := map[string]any{"limit": limit}
	if cursor != "" {
		args["cursor"] = cursor
	}
	out := structured[tools.ListIncidentsOutput](t, call(ctx, t, c, "list_incidents", args))
	if len(out.Incidents) != limit || out.NextCursor == "" {
		t.Fatalf("a page of %d rows and a cursor, got %d rows, cursor %q (%s)", limit, len(out.Incidents), out.NextCursor, out.Note)
	}
	return out
}

func rowIDs(rows []tools.IncidentRow) string {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.IncidentID
	}
	return strings.Join(ids, ",")
}

// redisHolds returns everything miniredis holds, keys and values, as text.
func redisHolds(t *testing.T, mr *miniredis.Miniredis) string {
	t.Helper()
	var b strings.Builder
	for _, k := range mr.Keys() {
		b.WriteString(k + "\n")
		switch mr.Type(k) {
		case "hash":
			fields, _ := mr.HKeys(k)
			for _, f := range fields {
				fmt.Fprintf(&b, "  %s=%s\n", f, mr.HGet(k, f))
			}
		case "zset":
			members, _ := mr.ZMembers(k)
			fmt.Fprintf(&b, "  %v\n", members)
		case "string":
			v, _ := mr.Get(k)
			fmt.Fprintf(&b, "  %s\n", v)
		}
	}
	return b.String()
}

// TestReplicasShareCursors: a list_incidents cursor issued through one
// replica pages on another, to the rows that follow; a cursor is bound to
// its credential on every replica; Redis holds no credential or token.
func TestReplicasShareCursors(t *testing.T) {
	mr := miniredis.RunT(t)
	hs := replicas(t, 2, mr.Addr(), nil)
	ctx := t.Context()
	a := hs[0].mustConnect(ctx, "http", tokenA, modern)
	b := hs[1].mustConnect(ctx, "http", tokenA, modern)

	whole := listPage(ctx, t, a, "", 9)
	first := listPage(ctx, t, a, "", 3)
	second := listPage(ctx, t, b, first.NextCursor, 3) // issued by replica 0, paged on replica 1
	third := listPage(ctx, t, a, second.NextCursor, 3) // and back
	if got, want := rowIDs(append(append(first.Incidents, second.Incidents...), third.Incidents...)), rowIDs(whole.Incidents); got != want {
		t.Fatalf("three pages over two replicas list %s, one page of nine %s", got, want)
	}
	if again := listPage(ctx, t, b, first.NextCursor, 3); rowIDs(again.Incidents) != rowIDs(second.Incidents) {
		t.Errorf("a cursor used again on the other replica lists %s, first %s", rowIDs(again.Incidents), rowIDs(second.Incidents))
	}

	// Tenant B, another credential, cannot continue A's listing anywhere.
	for i, h := range hs {
		other := h.mustConnect(ctx, "http", tokenB, modern)
		res := call(ctx, t, other, "list_incidents", map[string]any{"cursor": first.NextCursor})
		if !res.IsError || !strings.Contains(text(res), "unknown or has expired") {
			t.Errorf("tenant B redeemed tenant A's cursor on replica %d (isError=%v): %s", i, res.IsError, text(res))
		}
	}

	held := redisHolds(t, mr)
	if !strings.Contains(held, "contraforce-mcp:cursor:") {
		t.Fatalf("no cursor in Redis:\n%s", held)
	}
	for _, leak := range []string{tokenA, tokenB, tenantASecret, tenantBSecret, tenantAClientID, tenantBClientID, hosted.HashToken(tokenA)} {
		if strings.Contains(held, leak) {
			t.Errorf("Redis holds %q", leak)
		}
	}
}

// gamebookCall prepares run_gamebook's arguments for the n-th open
// Defender XDR incident of tenant A, on the emulator of h: the incident,
// the arguments and the first gamebook list_gamebooks proposes for it.
func gamebookCall(ctx context.Context, t *testing.T, h *harness, c *mcpclient.Client, n int) (client.IncidentRef, map[string]any, tools.GamebookView) {
	t.Helper()
	ref := h.openIn(emulator.WorkspaceOwnerID, client.SourceDefenderXDR, n)
	gbs := structured[tools.ListGamebooksOutput](t, call(ctx, t, c, "list_gamebooks", refArgs(ref)))
	if len(gbs.Gamebooks) == 0 {
		t.Fatalf("no gamebook proposed for %s", ref.IncidentID)
	}
	args := refArgs(ref)
	args["gamebookId"] = gbs.Gamebooks[0].GamebookID
	return ref, args, gbs.Gamebooks[0]
}

// TestReplicasShareConfirmations: under 2026-07-28, a confirmation asked
// by one replica and answered on the other sends the gamebook once; the
// same answer sent again to either replica sends nothing more; another
// tenant sending that answer, even over the same credential, is asked
// again and sends nothing.
func TestReplicasShareConfirmations(t *testing.T) {
	mr := miniredis.RunT(t)
	hs := replicas(t, 2, mr.Addr(), sharedCredentialTenants)
	hs[0].grantGamebooks()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	person := &human{}
	c, rt := connectRouted(ctx, t, hs[0], hs[1], tokenA, person)
	ref, args, _ := gamebookCall(ctx, t, hs[0], c, 0)
	submitted := func() int { return hs[0].emu.Stats().Applied[emulator.EndpointSubmitGamebook] }

	res := call(ctx, t, c, "run_gamebook", args)
	if res.IsError || len(person.asked()) != 1 || len(rt.answers) != 1 {
		t.Fatalf("asked %d times, %d answers sent; result (isError=%v): %s", len(person.asked()), len(rt.answers), res.IsError, text(res))
	}
	if n := len(hs[0].emu.GamebookRuns(ref)); n != 1 || submitted() != 1 {
		t.Fatalf("%d runs (%d submissions) after one confirmation answered on the other replica, want 1", n, submitted())
	}
	outcomes := func(h *harness) string {
		_, recs := h.auditRecords(t)
		var out []string
		for _, r := range recs {
			if r.Event == "tool_call" && r.Tool == "run_gamebook" {
				out = append(out, r.Outcome)
			}
		}
		return strings.Join(out, ",")
	}
	if a, b := outcomes(hs[0]), outcomes(hs[1]); a != "confirmation_requested" || b != "ok" {
		t.Errorf("replica 0 audited %q and replica 1 %q, want the question on 0 and the run on 1", a, b)
	}

	for i, h := range hs {
		if out := rt.resend(t, 0, h, tokenA); !strings.Contains(out, "already submitted: gamebook") {
			t.Errorf("the answer sent again to replica %d: %.400s", i, out)
		}
	}
	for _, tok := range []string{tokenC, tokenB} {
		for i, h := range hs {
			out := rt.resend(t, 0, h, tok)
			if strings.Contains(out, "already submitted") || tok == tokenC && !strings.Contains(out, `"input_required"`) {
				t.Errorf("tenant A's answer sent by another tenant to replica %d was taken: %.400s", i, out)
			}
		}
	}
	if n := len(hs[0].emu.GamebookRuns(ref)); n != 1 || submitted() != 1 {
		t.Errorf("%d runs (%d submissions) after the answer was sent again, want 1", n, submitted())
	}

	// A question replica 0 asks tenant A, not answered yet: tenant C, on
	// A's credential, cannot answer it on replica 1; A can.
	question := rt.send(t, 0, hs[0], tokenA, func(p map[string]any) { delete(p, "inputResponses"); delete(p, "requestState") })
	m := regexp.MustCompile(`"requestState":"([^"]+)"`).FindStringSubmatch(question)
	if m == nil {
		t.Fatalf("no question asked: %.400s", question)
	}
	answer := func(p map[string]any) { p["requestState"] = m[1] }
	if out := rt.send(t, 0, hs[1], tokenC, answer); !strings.Contains(out, `"input_required"`) {
		t.Errorf("tenant C answered tenant A's question: %.400s", out)
	}
	if n := submitted(); n != 1 {
		t.Fatalf("%d submissions after another tenant answered A's question, want 1", n)
	}
	if out := rt.send(t, 0, hs[1], tokenA, answer); !strings.Contains(out, "submitted for incident") || submitted() != 2 {
		t.Errorf("tenant A's own answer on replica 1 (%d submissions): %.400s", submitted(), out)
	}
}

// TestReplicasStoresWhenRedisStops: Redis stops between the question
// (asked by one replica, its ticket in Redis) and the answer (on the
// other): the answer, which cannot be checked, is not taken; the human is
// asked again, saying why, and the gamebook runs once. Cursors kept in
// Redis cannot be used meanwhile (the agent is told why), and the replicas
// keep issuing cursors of their own. Once Redis is back, the first answer
// sent again to either replica sends nothing: no double submission.
func TestReplicasStoresWhenRedisStops(t *testing.T) {
	mr := miniredis.RunT(t)
	hs := replicas(t, 2, mr.Addr(), responseTenants)
	hs[0].grantGamebooks()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	a := hs[0].mustConnect(ctx, "http", tokenA, modern)
	b := hs[1].mustConnect(ctx, "http", tokenA, modern)
	kept := listPage(ctx, t, a, "", 3) // its cursor in Redis

	person := &human{first: mr.Close} // Redis stops while the human reads the question
	c, rt := connectRouted(ctx, t, hs[0], hs[1], tokenA, person)
	ref, args, _ := gamebookCall(ctx, t, hs[0], c, 1)
	submitted := func() int { return hs[0].emu.Stats().Applied[emulator.EndpointSubmitGamebook] }
	res := call(ctx, t, c, "run_gamebook", args)
	asked := person.asked()
	if res.IsError || len(asked) != 2 || len(rt.answers) != 2 {
		t.Fatalf("asked %d times, %d answers sent; result (isError=%v): %s", len(asked), len(rt.answers), res.IsError, text(res))
	}
	if !strings.Contains(asked[1], "could not be checked just now; nothing was sent") {
		t.Errorf("the second question does not say why it is asked again: %q", asked[1])
	}
	if n := len(hs[0].emu.GamebookRuns(ref)); n != 1 || submitted() != 1 {
		t.Fatalf("%d runs (%d submissions) after two answers across a Redis outage, want 1", n, submitted())
	}

	res = call(ctx, t, b, "list_incidents", map[string]any{"cursor": kept.NextCursor})
	if !res.IsError || !strings.Contains(text(res), "could not be checked") || !strings.Contains(text(res), "list again") {
		t.Errorf("a cursor kept in Redis, used while Redis is away (isError=%v): %s", res.IsError, text(res))
	}
	local := listPage(ctx, t, b, "", 3)
	listPage(ctx, t, b, local.NextCursor, 3) // kept by replica 1 itself
	if !strings.Contains(hs[1].stderr.String(), "Redis unreachable") {
		t.Errorf("no warning logged: %s", hs[1].stderr.String())
	}

	if err := mr.Restart(); err != nil { // its data kept: the first ticket is still there
		t.Skipf("cannot restart miniredis: %v", err)
	}
	up := func(h *harness) float64 { return h.metric(t, "contraforce_mcp_redis_up") }
	eventually(t, 10*time.Second, "both replicas to see Redis back", func() bool { return up(hs[0]) == 1 && up(hs[1]) == 1 })
	for i, h := range hs {
		if out := rt.resend(t, 0, h, tokenA); !strings.Contains(out, `"input_required"`) || strings.Contains(out, "already submitted") {
			t.Errorf("the answer that could not be checked, sent again to replica %d with Redis back: %.400s", i, out)
		}
	}
	if out := rt.resend(t, 1, hs[1], tokenA); !strings.Contains(out, "already submitted: gamebook") {
		t.Errorf("the answer taken while Redis was away, sent again to its replica: %.400s", out)
	}
	if n := len(hs[0].emu.GamebookRuns(ref)); n != 1 || submitted() != 1 {
		t.Errorf("%d runs (%d submissions) after the answers were sent again, want 1", n, submitted())
	}
	// The cursor kept in Redis pages again, on either replica.
	listPage(ctx, t, b, kept.NextCursor, 3)
}
