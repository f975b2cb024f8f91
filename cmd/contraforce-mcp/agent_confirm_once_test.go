package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// resender is a client's HTTP transport that sends every request carrying
// a confirmation answer (inputResponses) twice, as a client does that
// retries after losing the answer: the first answer is dropped, the second
// is the one the client sees.
type resender struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent int // requests sent twice
	last *http.Request
	body []byte // the last one's body
}

func (r *resender) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Method != http.MethodPost {
		return r.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	again := func() *http.Request {
		c := req.Clone(req.Context())
		c.Body, c.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		return c
	}
	if !bytes.Contains(body, []byte(`"inputResponses"`)) {
		return r.next.RoundTrip(again())
	}
	first, err := r.next.RoundTrip(again())
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, first.Body) // lost on the way back
	_ = first.Body.Close()
	r.mu.Lock()
	r.sent++
	r.last, r.body = again(), body
	r.mu.Unlock()
	return r.next.RoundTrip(again())
}

// replay sends the last answered request again with its body changed by edit.
func (r *resender) replay(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	r.mu.Lock()
	req, body := r.last, r.body
	r.mu.Unlock()
	var msg map[string]any
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	edit(msg)
	body, _ = json.Marshal(msg)
	req = req.Clone(t.Context())
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	res, err := r.next.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return string(out)
}

// connectResending connects tenant A over streamable HTTP (protocol
// 2026-07-28) with a client whose answers are sent twice.
func connectResending(ctx context.Context, t *testing.T, h *harness, human mcpclient.ElicitationHandler) (*mcpclient.Client, *resender) {
	t.Helper()
	rs := &resender{next: http.DefaultTransport}
	tr, err := transport.NewStreamableHTTP(h.url+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tokenA}),
		transport.WithHTTPBasicClient(&http.Client{Transport: rs}))
	if err != nil {
		t.Fatal(err)
	}
	c := mcpclient.NewClient(tr, mcpclient.WithElicitationHandler(human)) // the default protocol: 2026-07-28
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "resending-client", Version: "1"}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c, rs
}

// TestConfirmationAnswerResentSubmitsOnce: under protocol 2026-07-28 the
// human's answer comes back in a tools/call of its own. A client that
// sends that call twice (the same answer, the same request state) gets one
// gamebook run and one batch: the second call is told the change was
// already submitted, names it, and sends nothing. The same answer with
// other arguments, or without its request state, is no answer: the human
// is asked again.
func TestConfirmationAnswerResentSubmitsOnce(t *testing.T) {
	h := startServe(t, responseTenants)
	h.grantGamebooks()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	human := &yes{}
	c, rs := connectResending(ctx, t, h, human)

	// A gamebook: asked once, submitted once.
	ref, args, gb := gamebookCall(ctx, t, h, c, 0)
	id := gb.GamebookID
	comments := len(h.emu.Comments(ref))
	res := call(ctx, t, c, "run_gamebook", args)
	runs := h.emu.GamebookRuns(ref)
	if rs.sent != 1 || human.asked != 1 {
		t.Fatalf("the answer was sent twice %d times, the human asked %d times; want 1 and 1", rs.sent, human.asked)
	}
	if len(runs) != 1 || h.emu.Stats().Applied[emulator.EndpointSubmitGamebook] != 1 {
		t.Fatalf("the emulator holds %d runs (%d submissions) after one confirmation sent twice, want 1",
			len(runs), h.emu.Stats().Applied[emulator.EndpointSubmitGamebook])
	}
	if !res.IsError || !strings.Contains(text(res), "already submitted: gamebook "+id) || !strings.Contains(text(res), "list_gamebooks") {
		t.Errorf("the re-sent answer's result (isError=%v): %s", res.IsError, text(res))
	}
	if n := len(h.emu.Comments(ref)); n != comments+1 {
		t.Errorf("%d comments recording the run, want 1", n-comments)
	}
	// The same answer for other arguments is no answer: the human is asked.
	for name, edit := range map[string]func(map[string]any){
		"other arguments": func(m map[string]any) {
			m["params"].(map[string]any)["arguments"].(map[string]any)["playbookIds"] = []any{gb.Playbooks[0].ID}
		},
		"no request state": func(m map[string]any) { delete(m["params"].(map[string]any), "requestState") },
	} {
		if out := rs.replay(t, edit); !strings.Contains(out, `"input_required"`) || strings.Contains(out, "already submitted") {
			t.Errorf("%s: the answer was taken, want the question asked again: %.300s", name, out)
		}
	}
	if n := len(h.emu.GamebookRuns(ref)); n != 1 {
		t.Errorf("%d runs after the answer was replayed for other arguments, want 1", n)
	}

	// A batch: one confirmation, one bulk update, one comment per incident.
	batch := []client.IncidentRef{h.openIn(emulator.WorkspaceOwnerID, client.SourceQRadar, 0), h.openIn(emulator.WorkspaceOwnerID, client.SourceSplunk, 0)}
	before := map[client.IncidentRef]int{}
	for _, r := range batch {
		before[r] = len(h.emu.Comments(r))
	}
	bulk := h.emu.Stats().Applied[emulator.EndpointBulkUpdate]
	res = call(ctx, t, c, "bulk_update", map[string]any{"incidents": []any{refArgs(batch[0]), refArgs(batch[1])},
		"status": "Active", "comment": "Reopened: the scan was not authorised."})
	if rs.sent != 2 || human.asked != 2 {
		t.Fatalf("the answer was sent twice %d times, the human asked %d times; want 2 and 2", rs.sent, human.asked)
	}
	if n := h.emu.Stats().Applied[emulator.EndpointBulkUpdate] - bulk; n != 1 {
		t.Errorf("%d bulk updates applied after one confirmation sent twice, want 1", n)
	}
	for _, r := range batch {
		if n := len(h.emu.Comments(r)) - before[r]; n != 1 {
			t.Errorf("%s: %d comments posted, want 1", r.IncidentID, n)
		}
		if st, _ := h.emu.Incident(r); st.Status != client.StatusActive {
			t.Errorf("%s is %s after the batch, want Active", r.IncidentID, st.Status)
		}
	}
	if !res.IsError || !strings.Contains(text(res), "already submitted: the batch of 2 incidents") {
		t.Errorf("the re-sent answer's result (isError=%v): %s", res.IsError, text(res))
	}

	// The audit shows one change each, and the re-sent calls as refused.
	_, recs := h.auditRecords(t)
	outcomes := map[string][]string{}
	for _, r := range recs {
		if r.Event == "tool_call" && (r.Tool == "run_gamebook" || r.Tool == "bulk_update") {
			outcomes[r.Tool] = append(outcomes[r.Tool], r.Outcome)
		}
	}
	for tool, want := range map[string]string{
		"run_gamebook": "confirmation_requested,ok,refused,confirmation_requested,confirmation_requested", // two replays asked again
		"bulk_update":  "confirmation_requested,ok,refused",
	} {
		if got := strings.Join(outcomes[tool], ","); got != want {
			t.Errorf("%s audited as %s, want %s", tool, got, want)
		}
	}
}

// TestConfirmationAfterAFailureAsksAgain: a confirmed submission that
// certainly did not reach ContraForce (answered 409) frees its
// confirmation: the same answer sent again asks the human anew rather than
// claiming a submission, and once the human confirms, the gamebook runs
// once.
func TestConfirmationAfterAFailureAsksAgain(t *testing.T) {
	h := startServe(t, responseTenants)
	h.grantGamebooks()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	human := &yes{}
	c, rs := connectResending(ctx, t, h, human)

	ref, args, gb := gamebookCall(ctx, t, h, c, 1)
	h.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointSubmitGamebook, Status: http.StatusConflict, Count: 1})
	res := call(ctx, t, c, "run_gamebook", args)
	// The first answer failed (409); its copy asked again; the human's
	// second answer, sent twice too, ran it once.
	if human.asked != 2 || rs.sent != 2 {
		t.Errorf("the human was asked %d times, answers sent twice %d times; want 2 and 2", human.asked, rs.sent)
	}
	if n := len(h.emu.GamebookRuns(ref)); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
	if !strings.Contains(text(res), "already submitted: gamebook "+gb.GamebookID) {
		t.Errorf("the last copy's result: %s", text(res))
	}
}
