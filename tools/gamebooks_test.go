package tools_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// human answers the server's confirmations as a person would.
type human struct {
	action  mcp.ElicitationResponseAction
	tick    bool
	asked   atomic.Int32
	message atomic.Value
}

func (h *human) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	h.asked.Add(1)
	h.message.Store(req.Params.Message)
	res := &mcp.ElicitationResult{}
	res.Action = h.action
	if h.action == mcp.ElicitationResponseActionAccept {
		res.Content = map[string]any{"confirm": h.tick}
	}
	return res, nil
}

func (h *human) question() string { s, _ := h.message.Load().(string); return s }

// connectHuman connects a client that can ask h (nil: a client that
// cannot elicit) to a server of the tools with deps.
func connectHuman(t *testing.T, deps tools.Deps, h *human) *conn {
	t.Helper()
	srv := newServer(deps)
	var opts []mcpclient.ClientOption
	if h != nil {
		opts = append(opts, mcpclient.WithElicitationHandler(h))
	}
	c, err := mcpclient.NewInProcessClientWithOptions(srv, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "claude-ai", Version: "1"}
	if h != nil {
		init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	}
	if _, err := c.Initialize(context.Background(), init); err != nil {
		t.Fatal(err)
	}
	return &conn{t: t, c: c, srv: srv}
}

// responder is a session that may run gamebooks.
func (e *env) responder(adjust ...func(*client.Config)) *tools.Session {
	s := e.session(demoCred, adjust...)
	s.Scopes = append(s.Scopes, client.ScopeGamebooksRead, client.ScopeGamebooksRun)
	s.ResponseActions = true
	return s
}

func depsOf(s *tools.Session) tools.Deps {
	return tools.Deps{Session: func(context.Context) (*tools.Session, error) { return s, nil }}
}

// proposedIn returns an open incident of a workspace with a proposed
// gamebook holding a high-impact action, and that gamebook.
func (e *env) proposedIn(t *testing.T, c *conn, ws string) (client.IncidentRef, tools.GamebookView) {
	t.Helper()
	for _, ref := range e.emu.Refs() {
		st, _ := e.emu.Incident(ref)
		if ref.WorkspaceID != ws || st.Status == client.StatusClosed || strings.ContainsAny(ref.IncidentID, "/ %") {
			continue
		}
		var out tools.ListGamebooksOutput
		c.ok("list_gamebooks", refArgs(ref, nil), &out)
		for _, g := range out.Gamebooks {
			if g.State == "proposed" && len(g.Playbooks) >= 2 && slices.ContainsFunc(g.Playbooks, func(p tools.PlaybookView) bool { return p.Approval }) {
				return ref, g
			}
		}
	}
	t.Fatal("no open incident with a proposed gamebook holding a high-impact action")
	return client.IncidentRef{}, tools.GamebookView{}
}

// TestListGamebooks: the proposals, each action with its entity, the
// incident's runs, and with history the workspace's.
func TestListGamebooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.responder(), "claude-ai")
	ref, gb := e.proposedIn(t, c, emulator.WorkspaceOwnerID)
	for _, p := range gb.Playbooks {
		if p.ID == "" || p.Action == "" || p.Entity == "" || p.Status != "" {
			t.Errorf("proposed action %+v", p)
		}
	}
	// A closed true positive has a run; the workspace's history lists runs.
	closed := e.findRef(func(r client.IncidentRef, st emulator.IncidentState) bool {
		return r.WorkspaceID == emulator.WorkspaceOwnerID && len(e.emu.GamebookRuns(r)) > 0
	})
	var out tools.ListGamebooksOutput
	text := c.ok("list_gamebooks", refArgs(closed, map[string]any{"history": true}), &out)
	var states []string
	for _, g := range out.Gamebooks {
		states = append(states, g.State)
		if g.State == "ran" && (g.Status != "Success" || g.When == "" || g.Playbooks[0].Status != "Success") {
			t.Errorf("ran gamebook %+v", g)
		}
		if g.State == "history" && g.IncidentID == "" {
			t.Errorf("history row without incident: %+v", g)
		}
	}
	if !slices.Contains(states, "ran") || !slices.Contains(states, "history") {
		t.Errorf("states %v, want ran and history", states)
	}
	wantAll(t, text, "gamebookId=", "[ran Success]", "[history Success]")

	// Without response actions, the listing says who can run them.
	offSess := e.session(demoCred)
	offSess.Scopes = append(offSess.Scopes, client.ScopeGamebooksRead)
	off := connect(t, offSess, "claude-ai")
	var o tools.ListGamebooksOutput
	off.ok("list_gamebooks", refArgs(ref, nil), &o)
	wantAll(t, o.Note, "does not run gamebooks", "ContraForce portal")
	wantAll(t, connect(t, e.session(readerCred), "claude-ai").fail("list_gamebooks", refArgs(ref, nil)), "INSUFFICIENT_SCOPE", "gamebooks:read")
}

// TestRunGamebook: the dry run shows exactly what would run and runs
// nothing; the run needs the user's confirmation, submits exactly the
// chosen actions once, and records them in an attributed comment.
func TestRunGamebook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sess := e.responder()
	yes := &human{action: mcp.ElicitationResponseActionAccept, tick: true}
	c := connectHuman(t, depsOf(sess), yes)
	ref, gb := e.proposedIn(t, c, emulator.WorkspaceOwnerID)
	args := refArgs(ref, map[string]any{"gamebookId": gb.GamebookID, "dryRun": true})
	comments := len(e.emu.Comments(ref))

	var dry tools.RunGamebookOutput
	text := c.ok("run_gamebook", args, &dry)
	var recommended []tools.PlaybookView
	for _, p := range gb.Playbooks {
		if p.Recommended {
			recommended = append(recommended, p)
		}
	}
	if !dry.DryRun || len(dry.Plan) != len(recommended) || dry.RunID != "" {
		t.Fatalf("dry run %+v, want the %d recommended actions", dry, len(recommended))
	}
	for i, p := range recommended {
		if dry.Plan[i].Action != p.Action || dry.Plan[i].Entity != p.Entity {
			t.Errorf("plan[%d] = %+v, want %s on %s", i, dry.Plan[i], p.Action, p.Entity)
		}
	}
	wantAll(t, text, "Dry run, nothing was run")
	if yes.asked.Load() != 0 || len(e.emu.GamebookRuns(ref)) != 0 || len(e.emu.Comments(ref)) != comments {
		t.Fatal("the dry run asked, ran or commented")
	}

	// Every action, chosen by id: the user is asked, and exactly they run.
	var ids []any
	for _, p := range gb.Playbooks {
		ids = append(ids, p.ID)
	}
	args = refArgs(ref, map[string]any{"gamebookId": gb.GamebookID, "playbookIds": ids})
	var out tools.RunGamebookOutput
	text = c.ok("run_gamebook", args, &out)
	if yes.asked.Load() != 1 {
		t.Fatalf("the user was asked %d times", yes.asked.Load())
	}
	q := yes.question()
	for _, p := range gb.Playbooks {
		wantAll(t, q, p.Action+" on "+p.Entity)
	}
	wantAll(t, q, "production systems", "Run response actions")
	runs := e.emu.GamebookRuns(ref)
	if len(runs) != 1 || runs[0].ID != out.RunID || out.Status != "Success" || len(runs[0].Playbooks) != len(gb.Playbooks) {
		t.Fatalf("runs %+v, output %+v", runs, out)
	}
	for i, p := range runs[0].Playbooks {
		if p.Name != gb.Playbooks[i].Action || !strings.HasSuffix(gb.Playbooks[i].Entity, p.AffectedEntity) {
			t.Errorf("ran %s on %s, want %s on %s", p.Name, p.AffectedEntity, gb.Playbooks[i].Action, gb.Playbooks[i].Entity)
		}
	}
	cms := e.emu.Comments(ref)
	last := cms[len(cms)-1]
	if len(cms) != comments+1 || !last.IsAgentComment || !strings.HasPrefix(last.Message, "[AI agent: Claude via contraforce-mcp]") {
		t.Fatalf("the run's comment: %d comments, last %+v", len(cms)-comments, last)
	}
	wantAll(t, last.Message, out.RunID, gb.Playbooks[0].Action, "user's confirmation")
	wantAll(t, text, "submitted", out.RunID)

	// The same again: the dry run says it already ran.
	var again tools.RunGamebookOutput
	c.ok("run_gamebook", refArgs(ref, map[string]any{"gamebookId": gb.GamebookID, "playbookIds": ids, "dryRun": true}), &again)
	wantAll(t, strings.Join(again.Notes, "\n"), "already ran", out.RunID)

	// A ran gamebook's id is not a proposal.
	wantAll(t, c.fail("run_gamebook", refArgs(ref, map[string]any{"gamebookId": out.RunID})), "not a proposed gamebook", "list_gamebooks")
	wantAll(t, c.fail("run_gamebook", refArgs(ref, map[string]any{"gamebookId": gb.GamebookID, "playbookIds": []any{"nope"}})),
		"not an action", "list_gamebooks")
}

// TestRunGamebookNeedsTheUser: declined, or a client that cannot ask, or
// response actions off: nothing runs and the agent is told why.
func TestRunGamebookNeedsTheUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sess := e.responder()
	lister := connect(t, sess, "claude-ai")
	ref, gb := e.proposedIn(t, lister, emulator.WorkspaceOwnerID)
	args := refArgs(ref, map[string]any{"gamebookId": gb.GamebookID})
	comments := len(e.emu.Comments(ref))

	no := &human{action: mcp.ElicitationResponseActionDecline}
	wantAll(t, connectHuman(t, depsOf(sess), no).fail("run_gamebook", args), "Not run", "declined")
	unticked := &human{action: mcp.ElicitationResponseActionAccept}
	wantAll(t, connectHuman(t, depsOf(sess), unticked).fail("run_gamebook", args), "Not run", "declined")
	wantAll(t, connectHuman(t, depsOf(sess), nil).fail("run_gamebook", args), "Not run", "cannot ask", "ContraForce portal")
	off := e.session(demoCred)
	off.Scopes = sess.Scopes
	wantAll(t, connectHuman(t, depsOf(off), &human{action: mcp.ElicitationResponseActionAccept, tick: true}).fail("run_gamebook", args),
		"Not run", "not enabled")
	if no.asked.Load() != 1 || unticked.asked.Load() != 1 {
		t.Errorf("asked %d and %d times", no.asked.Load(), unticked.asked.Load())
	}
	if len(e.emu.GamebookRuns(ref)) != 0 || len(e.emu.Comments(ref)) != comments || e.emu.Stats().Requests[emulator.EndpointSubmitGamebook] != 0 {
		t.Error("a gamebook ran, or a comment was posted, without the user's confirmation")
	}
}

// TestRunGamebookAwaitingApproval: an IncidentResponder's high-impact
// actions wait for a workspace Owner; the plan and the result say so.
func TestRunGamebookAwaitingApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connectHuman(t, depsOf(e.responder()), &human{action: mcp.ElicitationResponseActionAccept, tick: true})
	ref, gb := e.proposedIn(t, c, emulator.WorkspaceResponderID)
	var ids []any
	for _, p := range gb.Playbooks {
		ids = append(ids, p.ID)
	}
	var out tools.RunGamebookOutput
	c.ok("run_gamebook", refArgs(ref, map[string]any{"gamebookId": gb.GamebookID, "playbookIds": ids}), &out)
	if out.Status != "PendingApproval" || !slices.ContainsFunc(out.Plan, func(p tools.PlannedAction) bool { return p.Approval }) {
		t.Errorf("output %+v, want PendingApproval with an action awaiting approval", out)
	}
	if runs := e.emu.GamebookRuns(ref); len(runs) != 1 || runs[0].Status != "PendingApproval" {
		t.Errorf("runs %+v", runs)
	}
}
