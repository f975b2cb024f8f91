package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// The fault suite drives the real MCP server (newMCPServer, in-process
// clients) against an emulator that injects latency, 429s, 503s, 502s and
// dropped connections before and after a write is applied, then compares
// what every agent was told with what the emulator holds.

// faultRetryBudget keeps every call short: a handful of attempts inside a
// one-and-a-half-second budget, each attempt bounded by faultTimeout.
const (
	faultTimeout     = 500 * time.Millisecond
	faultMaxAttempts = 3
	faultRetryBudget = 1500 * time.Millisecond
	// faultCallDeadline is far beyond any call's retry budget: reaching it
	// means the server hung, not that it was slow.
	faultCallDeadline = 20 * time.Second
)

// outcomeUnknownText is how the tools word a write that may have landed.
const outcomeUnknownText = "may or may not have been applied"

// told is what the agent was told about a write.
type told int

const (
	toldConfirmed told = iota // success
	toldFailed                // an error that does not say "may have been applied"
	toldUnknown               // "may or may not have been applied"
)

func (o told) String() string { return [...]string{"confirmed", "failed", "unknown"}[o] }

// writeRecord is one write tool call and what the agent was told.
type writeRecord struct {
	tool     string
	ref      client.IncidentRef
	token    string        // unique text carried in a comment ("" when none)
	status   client.Status // update_status
	class    client.Classification
	assignee string // assign: the user id it names (by id or e-mail)
	told     told
	text     string // the tool result's text
}

// faultRig is one emulator behind loopback HTTP and one MCP server on it.
type faultRig struct {
	emu  *emulator.Emulator
	srv  *httptest.Server
	deps serverDeps
}

// newFaultRig starts an emulator and builds the server with a client whose
// retry budget is small (and Retry-After "0" comes from the chaos).
func newFaultRig(t *testing.T, adjust func(*client.Config)) *faultRig {
	t.Helper()
	emu := emulator.New(emulator.Options{})
	api := httptest.NewServer(readBodyFirst(emu))
	t.Cleanup(api.Close)
	cfg := client.Config{
		BaseURL: api.URL + "/api/v2", ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret,
		Timeout: faultTimeout, MaxAttempts: faultMaxAttempts, MaxRetryTime: faultRetryBudget,
	}
	if adjust != nil {
		adjust(&cfg)
	}
	cc, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sess := &tools.Session{Client: cc, Scopes: defaultScopes}
	return &faultRig{emu: emu, srv: api, deps: serverDeps{
		Session:      func(context.Context) (*tools.Session, error) { return sess, nil },
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		ConfirmClose: tools.ConfirmNever,
	}}
}

// readBodyFirst reads a request's body before the emulator sees it. The
// emulator's latency fault promises that a request whose caller leaves
// during the wait is not applied, but net/http notices a closed connection
// (and cancels the request's context) only once the body has been read to
// its end: without this, a PUT or POST cut by the client's timeout would
// still be applied seconds later, after the suite has checked the state.
func readBodyFirst(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			return // the caller is gone
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}

// session connects one more MCP client (one more session) to a server
// built from the rig's dependencies.
func (r *faultRig) session(t *testing.T, name string) *mcpclient.Client {
	t.Helper()
	srv, _ := newMCPServer(r.deps)
	return connectAs(t, srv, name)
}

// faultCall calls a tool with a generous deadline. A protocol error or the
// deadline is a test failure: faults must come back as tool results.
func faultCall(t *testing.T, c *mcpclient.Client, tool string, args map[string]any) (*mcp.CallToolResult, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), faultCallDeadline)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		t.Errorf("%s: protocol error or hang (a fault must be a tool result): %v", tool, err)
		return nil, ""
	}
	var b strings.Builder
	for _, content := range res.Content {
		if tc, ok := content.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return res, b.String()
}

// toldOf classifies a write's result.
func toldOf(res *mcp.CallToolResult, text string) told {
	switch {
	case res == nil:
		return toldUnknown // the call itself broke; the test already failed
	case !res.IsError:
		return toldConfirmed
	case strings.Contains(text, outcomeUnknownText):
		return toldUnknown
	}
	return toldFailed
}

// incidentArgs are the three arguments naming ref, plus extra.
func incidentArgs(ref client.IncidentRef, extra map[string]any) map[string]any {
	args := map[string]any{"workspaceId": ref.WorkspaceID, "source": string(ref.Source), "incidentId": ref.IncidentID}
	maps.Copy(args, extra)
	return args
}

// writableRefs returns n incidents the demo credential may write, of
// varied sources, none of the tricky ones.
func writableRefs(t *testing.T, emu *emulator.Emulator, n int) []client.IncidentRef {
	t.Helper()
	tricky := map[client.IncidentRef]bool{}
	for _, ti := range emulator.TrickyIncidents() {
		tricky[ti.Ref] = true
	}
	var out []client.IncidentRef
	perSource := map[client.Source]int{}
	for _, ref := range emu.Refs() {
		if tricky[ref] || (ref.WorkspaceID != emulator.WorkspaceOwnerID && ref.WorkspaceID != emulator.WorkspaceResponderID) {
			continue
		}
		if perSource[ref.Source] >= (n+5)/6 {
			continue // spread the incidents over the sources
		}
		perSource[ref.Source]++
		out = append(out, ref)
		if len(out) == n {
			return out
		}
	}
	t.Fatalf("only %d writable incidents, want %d", len(out), n)
	return nil
}

// assignees are active people the suite assigns incidents to.
func assignees(t *testing.T, emu *emulator.Emulator) []client.User {
	t.Helper()
	var out []client.User
	for _, u := range emu.Users() {
		if u.Active() && !u.IsServiceAccount && !u.IsAgentUser && u.Email != "" {
			out = append(out, u)
		}
	}
	if len(out) < 2 {
		t.Fatalf("only %d assignable users", len(out))
	}
	return out[:min(len(out), 4)]
}

// closures are valid (classification, reason) pairs for closing.
var closures = []struct {
	class  client.Classification
	reason client.ClassificationReason
}{
	{client.ClassificationTruePositive, client.ReasonSuspiciousActivity},
	{client.ClassificationFalsePositive, client.ReasonInaccurateData},
	{client.ClassificationBenignPositive, client.ReasonSuspiciousButExpected},
}

// runSession runs one session's random sequence of calls on its own
// incidents (no other session writes them) and returns its writes in order.
func runSession(t *testing.T, c *mcpclient.Client, rng *rand.Rand, tag string, own []client.IncidentRef, users []client.User, calls int) []writeRecord {
	var writes []writeRecord
	for n := range calls {
		ref := own[rng.IntN(len(own))]
		token := fmt.Sprintf("[%s-n%d]", tag, n)
		switch p := rng.IntN(100); {
		case p < 10:
			faultCall(t, c, "list_incidents", map[string]any{"limit": 5, "statuses": []string{"New", "Active"}})
		case p < 30:
			faultCall(t, c, "get_incident", incidentArgs(ref, nil))
		case p < 55:
			w := writeRecord{tool: "add_comment", ref: ref, token: token}
			res, text := faultCall(t, c, w.tool, incidentArgs(ref, map[string]any{"content": "Fault suite note " + token + ": checked the sign-in logs."}))
			w.told, w.text = toldOf(res, text), text
			writes = append(writes, w)
		case p < 85:
			w := writeRecord{tool: "update_status", ref: ref, status: client.StatusActive}
			extra := map[string]any{"status": "Active"}
			if p < 70 {
				cl := closures[rng.IntN(len(closures))]
				w.status, w.class = client.StatusClosed, cl.class
				extra = map[string]any{"status": "Closed", "classification": string(cl.class), "classificationReason": string(cl.reason)}
			}
			if w.status == client.StatusClosed || rng.IntN(2) == 0 {
				// Closing needs a comment; half the reopenings carry one
				// too. Its unique token shows whether, and how often, the
				// write landed.
				w.token = token
				extra["comment"] = "Fault suite status change " + token + ": evidence reviewed."
			}
			res, text := faultCall(t, c, w.tool, incidentArgs(ref, extra))
			w.told, w.text = toldOf(res, text), text
			writes = append(writes, w)
		default:
			u := users[rng.IntN(len(users))]
			w := writeRecord{tool: "assign", ref: ref, assignee: u.ID}
			by := map[string]any{"userId": u.ID}
			if rng.IntN(2) == 0 {
				by = map[string]any{"email": u.Email}
			}
			res, text := faultCall(t, c, w.tool, incidentArgs(ref, by))
			w.told, w.text = toldOf(res, text), text
			writes = append(writes, w)
		}
	}
	return writes
}

// faultCounts are the suite's figures.
type faultCounts struct {
	calls, requests, faults                      int
	confirmed, failed, unknown, unknownLanded    int
	duplicates, lost, failedLanded, inconsistent int
	faultKinds                                   map[string]int
}

// TestFaultSuite runs randomized tool sequences from several concurrent
// sessions under injected faults (one fixed chaos seed per subtest), then
// checks the emulator's state against what each agent was told:
//   - a confirmed comment is there exactly once;
//   - a comment reported as failed is absent; one reported as unknown is
//     absent or there once;
//   - no comment the suite caused exists twice;
//   - each incident's final status and assignee are those of its last
//     confirmed write, or of a later write whose failure or unknown outcome
//     left it possibly applied.
func TestFaultSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault suite takes a few seconds")
	}
	const sessions, perSession, calls = 4, 3, 25
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rig := newFaultRig(t, nil)
			refs := writableRefs(t, rig.emu, sessions*perSession)
			users := assignees(t, rig.emu)
			before := map[client.IncidentRef]emulator.IncidentState{}
			seen := map[string]bool{} // comment ids before the run
			for _, ref := range refs {
				before[ref], _ = rig.emu.Incident(ref)
				for _, cm := range rig.emu.Comments(ref) {
					seen[cm.ID] = true
				}
			}
			clients := make([]*mcpclient.Client, sessions)
			for i := range clients {
				clients[i] = rig.session(t, fmt.Sprintf("fault-agent-%d", i))
			}
			// Calls that outlast the attempt timeout: a write cut by it
			// is not applied (the emulator sees the caller leave).
			for _, ep := range []emulator.Endpoint{emulator.EndpointAddComment, emulator.EndpointUpdateStatus, emulator.EndpointGetIncident} {
				rig.emu.InjectFault(emulator.Fault{Endpoint: ep, Latency: 3 * faultTimeout, Count: 2})
			}
			rig.emu.SetChaos(&emulator.Chaos{Seed: seed, MaxLatency: 20 * time.Millisecond,
				P429: 0.08, P503: 0.06, P502: 0.05, PDropAfterApply: 0.06, PDropBeforeApply: 0.05})

			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				writes = map[client.IncidentRef][]writeRecord{}
			)
			for i, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					own := refs[i*perSession : (i+1)*perSession]
					rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
					ws := runSession(t, c, rng, fmt.Sprintf("fs%d-s%d", seed, i), own, users, calls)
					mu.Lock()
					defer mu.Unlock()
					for _, w := range ws {
						writes[w.ref] = append(writes[w.ref], w)
					}
				}()
			}
			wg.Wait()
			rig.emu.SetChaos(nil)
			rig.emu.ClearFaults()

			stats := rig.emu.Stats()
			n := faultCounts{calls: sessions * calls, faultKinds: stats.Faults}
			for _, v := range stats.Requests {
				n.requests += v
			}
			for kind, v := range stats.Faults {
				if kind != emulator.FaultKindLatency { // every request gets some latency: counted apart
					n.faults += v
				}
			}
			for _, ref := range refs {
				checkIncident(t, rig.emu, ref, before[ref], seen, writes[ref], &n)
			}
			summary := fmt.Sprintf("fault suite (seed %d): %d tool calls, %d API requests, %d faults injected besides latency %v; "+
				"writes: %d confirmed, %d failed, %d unknown (%d of them landed); "+
				"duplicates found = %d, confirmed but lost = %d, reported failed but landed = %d, inconsistent final states = %d",
				seed, n.calls, n.requests, n.faults, n.faultKinds, n.confirmed, n.failed, n.unknown, n.unknownLanded,
				n.duplicates, n.lost, n.failedLanded, n.inconsistent)
			// Printed rather than logged: a passing test's log shows only
			// with -v, and .ci/run greps this line from a verbose run.
			fmt.Println(summary)
			if n.faults == 0 || n.confirmed == 0 {
				t.Errorf("the suite exercised nothing: %d faults, %d confirmed writes", n.faults, n.confirmed)
			}
		})
	}
}

// checkIncident compares one incident's final state with the writes made
// to it, in order, by the one session that owns it.
func checkIncident(t *testing.T, emu *emulator.Emulator, ref client.IncidentRef, before emulator.IncidentState,
	seen map[string]bool, writes []writeRecord, n *faultCounts) {
	t.Helper()
	var added []client.Comment
	for _, cm := range emu.Comments(ref) {
		if !seen[cm.ID] {
			added = append(added, cm)
		}
	}
	// No comment the suite caused may exist twice, whatever it was told.
	byText := map[string]int{}
	for _, cm := range added {
		byText[cm.Message]++
	}
	for text, k := range byText {
		if k > 1 {
			n.duplicates += k - 1
			t.Errorf("DUPLICATE COMMENT on %s: %d copies of %q", ref.IncidentID, k, text)
		}
	}
	for _, w := range writes {
		switch w.told {
		case toldConfirmed:
			n.confirmed++
		case toldFailed:
			n.failed++
		case toldUnknown:
			n.unknown++
		}
		if w.token == "" {
			continue
		}
		copies := 0
		for _, cm := range added {
			if strings.Contains(cm.Message, w.token) {
				copies++
			}
		}
		switch {
		case copies > 1 && w.tool == "update_status":
			t.Errorf("DUPLICATE CLOSING/STATUS COMMENT: update_status %s on %s (told %s) posted its comment %d times: "+
				"the client retried a status PUT carrying a comment after the connection dropped once the write had "+
				"been applied; a status change with a comment is not idempotent and must not be retried then (tool said %q)",
				w.status, ref.IncidentID, w.told, copies, w.text)
		case copies > 1:
			t.Errorf("DUPLICATE COMMENT: %s %s on %s (told %s) landed %d times (tool said %q)", w.tool, w.token, ref.IncidentID, w.told, copies, w.text)
		case w.told == toldConfirmed && copies == 0:
			n.lost++
			t.Errorf("LOST WRITE: %s %s on %s was confirmed but its comment is absent", w.tool, w.token, ref.IncidentID)
		case w.told == toldFailed && copies == 1:
			n.failedLanded++
			t.Errorf("REPORTED FAILED BUT LANDED: %s %s on %s: the agent was told it failed without being told it may "+
				"have been applied, so it would send it again (tool said %q). For update_status this is the retry of a "+
				"status PUT carrying a comment: an earlier attempt was applied and its answer lost, then the retries "+
				"failed and the last error was reported", w.tool, w.token, ref.IncidentID, w.text)
		case w.told == toldUnknown && copies == 1:
			n.unknownLanded++
		}
	}
	final, _ := emu.Incident(ref)
	checkField(t, ref, "status", statusOf(ref.Source, before), statusOf(ref.Source, final), writes, "update_status",
		func(w writeRecord) string { return statusOfWrite(ref.Source, w) }, n)
	checkField(t, ref, "assignee", assigneeOf(before), assigneeOf(final), writes, "assign",
		func(w writeRecord) string { return w.assignee }, n)
}

// checkField checks that a field's final value is that of the last
// confirmed write of the tool (or the initial value if none), or that of a
// later unconfirmed write, which may have landed.
func checkField(t *testing.T, ref client.IncidentRef, field, initial, final string, writes []writeRecord, tool string,
	value func(writeRecord) string, n *faultCounts) {
	t.Helper()
	allowed := []string{initial}
	for _, w := range writes {
		if w.tool != tool {
			continue
		}
		if w.told == toldConfirmed {
			allowed = allowed[:0]
		}
		allowed = append(allowed, value(w))
	}
	if !slices.Contains(allowed, final) {
		n.inconsistent++
		t.Errorf("INCONSISTENT %s of %s: final %q, but the last confirmed write and the unconfirmed ones after it allow only %q",
			field, ref.IncidentID, final, allowed)
	}
}

// statusOf is an incident's status, with the classification that Sentinel
// records on closing (the API requires one there).
func statusOf(src client.Source, inc emulator.IncidentState) string {
	s := string(inc.Status)
	if src == client.SourceSentinel && inc.Status == client.StatusClosed && inc.Classification != nil {
		s += "/" + string(*inc.Classification)
	}
	return s
}

func statusOfWrite(src client.Source, w writeRecord) string {
	s := string(w.status)
	if src == client.SourceSentinel && w.status == client.StatusClosed {
		s += "/" + string(w.class)
	}
	return s
}

func assigneeOf(inc emulator.IncidentState) string {
	if inc.Assignee == nil {
		return ""
	}
	return inc.Assignee.ID
}

// TestStatusCommentNotDuplicatedOnDrop: a status change carrying a comment
// creates that comment; when the connection drops after the API applied
// it, the client must not send it again (which would post the comment
// twice). The agent must be told it landed or that it may have.
func TestStatusCommentNotDuplicatedOnDrop(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status string
		extra  map[string]any
	}{
		{"closing", "Closed", map[string]any{"classification": "TruePositive", "classificationReason": "SuspiciousActivity"}},
		{"reopening with a comment", "Active", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rig := newFaultRig(t, func(c *client.Config) { c.MaxRetryTime = 10 * time.Second; c.Timeout = 5 * time.Second })
			c := rig.session(t, "drop-agent")
			ref, _ := openSentinel(t, rig.emu)
			token := "[drop-" + tt.status + "]"
			args := incidentArgs(ref, map[string]any{"status": tt.status, "comment": "Status change " + token + " after review."})
			maps.Copy(args, tt.extra)
			rig.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, DropAfterApply: true, Count: 1})

			res, text := faultCall(t, c, "update_status", args)
			if res == nil {
				return
			}
			copies := 0
			for _, cm := range rig.emu.Comments(ref) {
				if strings.Contains(cm.Message, token) {
					copies++
				}
			}
			applied := rig.emu.Stats().Applied[emulator.EndpointUpdateStatus]
			t.Logf("told isError=%v %q; status PUT applied %d times; comment copies %d", res.IsError, text, applied, copies)
			if copies != 1 {
				t.Errorf("DUPLICATE STATUS COMMENT: the comment of one update_status call exists %d times (the status PUT was "+
					"applied %d times): the client retried a PUT …/status carrying a comment after the connection dropped "+
					"once the API had applied it. A status PUT with a comment must be treated as a non-idempotent write "+
					"(not retried once sent; outcome unknown reported instead)", copies, applied)
			}
			if got, _ := rig.emu.Incident(ref); string(got.Status) != tt.status {
				t.Errorf("status %s, want %s (the PUT was applied)", got.Status, tt.status)
			}
			if res.IsError && !strings.Contains(text, outcomeUnknownText) {
				t.Errorf("the write landed but the agent was told it failed without saying it may have been applied: %q", text)
			}
		})
	}
}

// TestSlowAPINeverHangsTheServer: when the API answers far later than the
// client's timeout, a tool returns a clear error (isError, says it timed
// out and to try again) rather than hanging, and the same session then
// serves the next call.
func TestSlowAPINeverHangsTheServer(t *testing.T) {
	tests := []struct {
		tool     string
		endpoint emulator.Endpoint
		args     func(ref client.IncidentRef) map[string]any
		want     []string
	}{
		{"get_incident", emulator.EndpointGetIncident,
			func(ref client.IncidentRef) map[string]any { return incidentArgs(ref, nil) }, []string{"timed out", "try again"}},
		{"list_incidents", emulator.EndpointListIncidents,
			func(client.IncidentRef) map[string]any { return map[string]any{"limit": 3} }, []string{"timed out", "try again"}},
		{"assign", emulator.EndpointAssign,
			func(ref client.IncidentRef) map[string]any {
				return incidentArgs(ref, map[string]any{"userId": emulator.UserAnalystID})
			}, []string{"timed out", "try again"}},
		// A comment cut by the timeout may have reached the API: the agent
		// is told to look before posting again.
		{"add_comment", emulator.EndpointAddComment,
			func(ref client.IncidentRef) map[string]any {
				return incidentArgs(ref, map[string]any{"content": "slow API note"})
			}, []string{outcomeUnknownText, "get_incident"}},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			rig := newFaultRig(t, func(c *client.Config) {
				c.Timeout, c.MaxAttempts, c.MaxRetryTime = 200*time.Millisecond, 2, time.Second
			})
			c := rig.session(t, "slow-agent")
			ref, _ := openSentinel(t, rig.emu)
			// Every request to the endpoint hangs for 5 s: far beyond the
			// client's 200 ms timeout and its 1 s retry budget.
			rig.emu.InjectFault(emulator.Fault{Endpoint: tt.endpoint, Latency: 5 * time.Second})

			res, text := faultCall(t, c, tt.tool, tt.args(ref))
			if res == nil {
				return
			}
			if !res.IsError {
				t.Fatalf("a call on a hanging API succeeded: %q", text)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("error %q does not say %q", text, w)
				}
			}
			rig.emu.ClearFaults()
			res, text = faultCall(t, c, tt.tool, tt.args(ref))
			if res != nil && res.IsError {
				t.Errorf("the session is not usable after a timeout: %q", text)
			}
		})
	}
}
