package tools_test

import (
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// requestID is the prefix of the emulator's request ids.
const requestID = "(request id 0HNCF"

// TestAPIFailures: an API failure comes back as a tool error that carries
// the API's code and request id and says what to do next.
func TestAPIFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	demo := connect(t, e.session(demoCred), "claude-ai")
	reader := connect(t, e.session(readerCred), "claude-ai")
	noComment := connect(t, e.session(noCommentCred), "claude-ai")
	allowlisted := connect(t, e.session(demoCred, func(cfg *client.Config) {
		cfg.Workspaces = []string{emulator.WorkspaceOwnerID}
	}), "claude-ai")

	owned := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceSentinel))
	readOnly := e.findRef(open(emulator.WorkspaceReaderID, client.SourceSentinel))
	noRole := e.findRef(func(r client.IncidentRef, _ emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceNoRoleID
	})
	responder := e.findRef(open(emulator.WorkspaceResponderID, client.SourceSentinel))
	unknown := owned
	unknown.IncidentID = "00000000-0000-4000-8000-000000000000"
	wrongSource := owned
	wrongSource.Source = client.SourceDefenderXDR
	closeArgs := map[string]any{"status": "Closed", "comment": "done", "classification": "FalsePositive", "classificationReason": "InaccurateData"}
	// (An assignee no user has is refused before the API: assign_test.go.)

	tests := []struct {
		name string
		c    *conn
		tool string
		args map[string]any
		want []string
	}{
		{"unknown incident", demo, "get_incident", refArgs(unknown, nil),
			[]string{"NOT_FOUND", requestID, "Check workspaceId, source and incidentId"}},
		{"right id, wrong source", demo, "get_incident", refArgs(wrongSource, nil),
			[]string{"NOT_FOUND", requestID, "the source must be the incident's own"}},
		{"unknown incident on a write", demo, "add_comment", refArgs(unknown, map[string]any{"content": "x"}),
			[]string{"NOT_FOUND", requestID}},
		{"reader credential changing a status", reader, "update_status", refArgs(owned, closeArgs),
			[]string{"INSUFFICIENT_SCOPE", "incidents:write", requestID, "an administrator must grant it", "Do not retry"}},
		{"credential without the comment scope", noComment, "add_comment", refArgs(owned, map[string]any{"content": "x"}),
			[]string{"INSUFFICIENT_SCOPE", "incidents:comments", requestID}},
		{"write in a WorkspaceReader workspace", demo, "update_status", refArgs(readOnly, map[string]any{"status": "Active"}),
			[]string{"INSUFFICIENT_WORKSPACE_ROLE", "WorkspaceReader", requestID, "read-only role"}},
		{"assign in a WorkspaceReader workspace", demo, "assign", refArgs(readOnly, map[string]any{"email": "analyst@contoso.com"}),
			[]string{"INSUFFICIENT_WORKSPACE_ROLE", requestID}},
		{"read in a workspace without a role", demo, "get_incident", refArgs(noRole, nil),
			[]string{"INSUFFICIENT_WORKSPACE_ROLE", requestID, "has no role"}},
		{"workspace outside the allowlist", allowlisted, "get_incident", refArgs(responder, nil),
			[]string{"WORKSPACE_NOT_ALLOWED", emulator.WorkspaceResponderID, "use an incident from one of them"}},
		{"write outside the allowlist", allowlisted, "add_comment", refArgs(responder, map[string]any{"content": "x"}),
			[]string{"WORKSPACE_NOT_ALLOWED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := client.IncidentRef{WorkspaceID: tt.args["workspaceId"].(string), Source: client.Source(tt.args["source"].(string)),
				IncidentID: tt.args["incidentId"].(string)}
			inc, _ := e.emu.Incident(ref)
			comments := e.emu.Comments(ref)

			c := &conn{t: t, c: tt.c.c, srv: tt.c.srv}
			text := c.fail(tt.tool, tt.args)
			wantAll(t, text, tt.want...)
			if !strings.HasPrefix(text, tt.tool) {
				t.Errorf("the sentence does not name the tool: %s", text)
			}
			for _, secret := range []string{emulator.DemoClientSecret, emulator.ReaderClientSecret, emulator.ResponderNoCommentClientSecret} {
				if strings.Contains(text, secret) {
					t.Fatal("a client secret reached the tool result")
				}
			}
			after, _ := e.emu.Incident(ref)
			if !reflect.DeepEqual(after, inc) || !reflect.DeepEqual(e.emu.Comments(ref), comments) {
				t.Error("a refused call changed the incident")
			}
		})
	}
	if n := e.emu.Stats().Requests[emulator.EndpointGetIncident]; n == 0 {
		t.Fatal("no call reached the emulator")
	}
}

// TestAllowlistRefusesBeforeAnyRequest: a workspace outside the allowlist
// is refused by the client itself.
func TestAllowlistRefusesBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred, func(cfg *client.Config) { cfg.Workspaces = []string{emulator.WorkspaceOwnerID} }), "claude-ai")
	ref := e.findRef(open(emulator.WorkspaceResponderID, client.SourceSentinel))
	wantAll(t, c.fail("update_status", refArgs(ref, map[string]any{"status": "Active"})), "WORKSPACE_NOT_ALLOWED")
	if got := e.emu.Stats().Requests; len(got) != 0 {
		t.Errorf("requests reached the API: %v", got)
	}
}

// TestServiceUnavailableBeyondRetryBudget: a burst of 503s longer than the
// client's attempts ends in a tool error that says to try again, after
// exactly the attempts of the budget.
func TestServiceUnavailableBeyondRetryBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred, func(cfg *client.Config) { cfg.MaxAttempts = 3 }), "claude-ai")
	ref := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceSentinel))
	e.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointGetIncident, Status: 503, RetryAfter: "0", Count: 10})

	text := c.fail("get_incident", refArgs(ref, nil))
	wantAll(t, text, "SERVICE_UNAVAILABLE", requestID, "try again")
	if n := e.emu.Stats().Requests[emulator.EndpointGetIncident]; n != 3 {
		t.Errorf("%d attempts, want the budget's 3", n)
	}

	// Once the burst is over, the same call succeeds.
	e.emu.ClearFaults()
	c.ok("get_incident", refArgs(ref, nil), nil)
}

// TestRateLimitedWithLongRetryAfter: a Retry-After beyond the retry time
// budget is not waited for; the agent is told how long to wait.
func TestRateLimitedWithLongRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai") // MaxRetryTime 10s
	e.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointListIncidents, Status: 429, RetryAfter: "120", Count: 5})

	text := c.fail("list_incidents", map[string]any{"statuses": []string{"New"}})
	wantAll(t, text, "RATE_LIMITED", requestID, "wait 2m0s and try again")
	if n := e.emu.Stats().Requests[emulator.EndpointListIncidents]; n != 1 {
		t.Errorf("%d attempts, want 1: the wait would overrun the budget", n)
	}
}

// TestCommentOutcomeUnknown: the connection drops after the API applied a
// comment. The comment is not sent again (it would be posted twice), and
// the agent is told to look before repeating it.
func TestCommentOutcomeUnknown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	ref := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceDefenderXDR))
	n := len(e.emu.Comments(ref))
	e.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointAddComment, DropAfterApply: true, Count: 1})

	text := c.fail("add_comment", refArgs(ref, map[string]any{"content": "Isolated the host."}))
	wantAll(t, text, "add_comment", "may or may not have been applied", "Do not repeat it blindly", "call get_incident")

	comments := e.emu.Comments(ref)
	if len(comments) != n+1 || !strings.HasSuffix(comments[n].Message, "Isolated the host.") {
		t.Fatalf("%d comments (want exactly %d, the one applied)", len(comments), n+1)
	}
	if got := e.emu.Stats().Requests[emulator.EndpointAddComment]; got != 1 {
		t.Errorf("the comment was sent %d times, want once", got)
	}

	// get_incident, as the sentence advises, shows it.
	text = c.ok("get_incident", refArgs(ref, nil), nil)
	if i, j := strings.LastIndex(text, "[AI agent"), strings.LastIndex(text, "Isolated the host."); i < 0 || j < i {
		t.Errorf("get_incident does not show the agent's comment last:\n%s", text)
	}
}

// TestStatusChangeDroppedAfterApply: a status change that carries a
// comment is not repeated after a dropped connection (the comment would be
// posted twice) and the agent is told to look first; one without a comment
// sets a state, so it is retried and succeeds.
func TestStatusChangeDroppedAfterApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	withComment := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceQRadar))
	plain := e.findRef(func(r client.IncidentRef, i emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceOwnerID && r.Source == client.SourceDefenderXDR && i.Status == client.StatusNew
	})
	n := len(e.emu.Comments(withComment))

	e.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, DropAfterApply: true, Count: 1})
	text := c.fail("update_status", refArgs(withComment, map[string]any{"status": "Closed", "comment": "Duplicate of 3101."}))
	wantAll(t, text, "may or may not have been applied", "call get_incident")
	if inc, _ := e.emu.Incident(withComment); inc.Status != client.StatusClosed {
		t.Errorf("status %s; the change was applied before the drop", inc.Status)
	}
	if got := len(e.emu.Comments(withComment)); got != n+1 {
		t.Errorf("%d comments, want exactly %d: the closing comment once", got, n+1)
	}

	e.emu.InjectFault(emulator.Fault{Endpoint: emulator.EndpointUpdateStatus, DropAfterApply: true, Count: 1})
	var out tools.UpdateStatusOutput
	c.ok("update_status", refArgs(plain, map[string]any{"status": "Active"}), &out)
	if inc, _ := e.emu.Incident(plain); out.After.Status != "Active" || inc.Status != client.StatusActive {
		t.Errorf("after %+v, emulator status %s", out.After, inc.Status)
	}
}

// TestUnreachableAPI: when ContraForce cannot be reached at all, the agent
// is told so and what to do, and the operation is named once.
func TestUnreachableAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/api/v2"
	ln.Close() // nothing listens there any more: connections are refused
	sess := e.session(demoCred, func(cfg *client.Config) { cfg.BaseURL, cfg.MaxAttempts = closed, 1 })
	c := connect(t, sess, "claude-ai")
	msg := c.fail("list_incidents", map[string]any{})
	wantAll(t, msg, "list_incidents failed", "connection refused", "could not be reached", "base URL")
	if strings.Count(msg, "list incidents:") != 1 {
		t.Errorf("the operation is named more than once: %q", msg)
	}
}
