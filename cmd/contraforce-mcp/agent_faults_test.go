package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// connectConfirming connects an in-process client whose user confirms
// every question.
func connectConfirming(t *testing.T, srv *server.MCPServer) *mcpclient.Client {
	t.Helper()
	c, err := mcpclient.NewInProcessClientWithOptions(srv, mcpclient.WithElicitationHandler(&yes{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "fault-responder", Version: "1"}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	if _, err := c.Initialize(context.Background(), init); err != nil {
		t.Fatal(err)
	}
	return c
}

// responseRig is a fault rig whose session may run gamebooks.
func responseRig(t *testing.T, adjust func(*client.Config)) (*faultRig, *mcpclient.Client) {
	t.Helper()
	rig := newFaultRig(t, adjust)
	sess, _ := rig.deps.Session(context.Background())
	sess.Scopes, sess.ResponseActions = gamebookScopes, true
	srv, _ := newMCPServer(rig.deps)
	return rig, connectConfirming(t, srv)
}

// gamebookCase returns the arguments that run an incident's first proposed
// gamebook (never dry), or nil when none is proposed.
func gamebookCase(t *testing.T, c *mcpclient.Client, ref client.IncidentRef) map[string]any {
	t.Helper()
	res, _ := faultCall(t, c, "list_gamebooks", incidentArgs(ref, nil))
	for _, gb := range structured[tools.ListGamebooksOutput](t, res).Gamebooks {
		if gb.State == "proposed" {
			return incidentArgs(ref, map[string]any{"gamebookId": gb.GamebookID})
		}
	}
	return nil
}

// TestGamebookNeverSubmittedTwice: under each fault, and under random
// chaos, a confirmed run_gamebook submits once at most: the agent is told
// it ran only when exactly one run exists, that it may have run when the
// answer was lost, and that it failed only when none exists.
func TestGamebookNeverSubmittedTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("the gamebook fault suite takes a few seconds")
	}
	for _, tc := range []struct {
		name   string
		faults []emulator.Fault
		want   told
	}{
		{"dropped after apply", []emulator.Fault{{DropAfterApply: true}}, toldUnknown},
		{"dropped before apply", []emulator.Fault{{DropBeforeApply: true}}, toldUnknown},
		{"502", []emulator.Fault{{Status: 502}}, toldUnknown},
		{"slower than the timeout", []emulator.Fault{{Latency: 3 * faultTimeout}}, toldUnknown},
		{"429 then 503, then served", []emulator.Fault{{Status: 429, RetryAfter: "0"}, {Status: 503, RetryAfter: "0"}}, toldConfirmed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig, c := responseRig(t, nil)
			ref := writableRefs(t, rig.emu, 6)[1] // a DefenderXDR incident
			args := gamebookCase(t, c, ref)
			if args == nil {
				t.Fatalf("no proposal for %s", ref.IncidentID)
			}
			for _, f := range tc.faults {
				f.Endpoint, f.Count = emulator.EndpointSubmitGamebook, 1
				rig.emu.InjectFault(f)
			}
			res, text := faultCall(t, c, "run_gamebook", args)
			got := toldOf(res, text)
			runs := len(rig.emu.GamebookRuns(ref))
			t.Logf("told %s, %d runs, %d submissions: %.160s", got, runs, rig.emu.Stats().Requests[emulator.EndpointSubmitGamebook], text)
			if got != tc.want {
				t.Errorf("told %s, want %s: %s", got, tc.want, text)
			}
			switch {
			case runs > 1:
				t.Errorf("DUPLICATE GAMEBOOK: %d runs of one confirmed call", runs)
			case got == toldConfirmed && runs != 1:
				t.Errorf("told it ran, but %d runs exist", runs)
			case got == toldFailed && runs != 0:
				t.Errorf("told it failed, but it ran")
			}
			if got == toldUnknown && !strings.Contains(text, "list_gamebooks") {
				t.Errorf("an unknown outcome does not say to look with list_gamebooks: %s", text)
			}
		})
	}

	t.Run("chaos", func(t *testing.T) {
		rig, c := responseRig(t, nil)
		refs := writableRefs(t, rig.emu, 12)
		var cases []map[string]any
		var own []client.IncidentRef
		for _, r := range refs {
			if args := gamebookCase(t, c, r); args != nil {
				own = append(own, r)
				cases = append(cases, args)
			}
		}
		if len(own) < 4 {
			t.Fatalf("only %d incidents with a proposal", len(own))
		}
		rig.emu.SetChaos(&emulator.Chaos{Seed: 7, MaxLatency: 10 * time.Millisecond, P429: 0.1, P503: 0.1, P502: 0.1,
			PDropAfterApply: 0.15, PDropBeforeApply: 0.1})
		counts := map[told]int{}
		for round := range 2 {
			for i, ref := range own {
				before := len(rig.emu.GamebookRuns(ref))
				res, text := faultCall(t, c, "run_gamebook", cases[i])
				got := toldOf(res, text)
				counts[got]++
				added := len(rig.emu.GamebookRuns(ref)) - before
				switch {
				case added > 1:
					t.Errorf("round %d, %s: DUPLICATE GAMEBOOK: %d runs from one call", round, ref.IncidentID, added)
				case got == toldConfirmed && added != 1:
					t.Errorf("round %d, %s: told it ran, %d runs added: %s", round, ref.IncidentID, added, text)
				case got == toldFailed && added != 0:
					t.Errorf("round %d, %s: told it failed, but it ran: %s", round, ref.IncidentID, text)
				}
			}
		}
		rig.emu.SetChaos(nil)
		fmt.Printf("gamebook fault suite: %d runs confirmed, %d failed, %d unknown; faults %v\n",
			counts[toldConfirmed], counts[toldFailed], counts[toldUnknown], rig.emu.Stats().Faults)
		if counts[toldConfirmed] == 0 || counts[toldUnknown]+counts[toldFailed] == 0 {
			t.Errorf("the chaos exercised nothing: %v", counts)
		}
	})
}

// TestBulkNeverHalfAppliedReportedDone: under random faults, a batch with a
// comment is reported done only when every incident changed and carries
// the comment once; a lost answer is reported as possibly applied; and no
// comment is ever posted twice.
func TestBulkNeverHalfAppliedReportedDone(t *testing.T) {
	if testing.Short() {
		t.Skip("the bulk fault suite takes a few seconds")
	}
	rig := newFaultRig(t, nil)
	c := rig.session(t, "bulk-agent")
	refs := writableRefs(t, rig.emu, 12)
	rig.emu.SetChaos(&emulator.Chaos{Seed: 11, MaxLatency: 10 * time.Millisecond, P429: 0.1, P503: 0.1, P502: 0.1,
		PDropAfterApply: 0.15, PDropBeforeApply: 0.1})
	counts := map[told]int{}
	for round := range 8 {
		batch := refs[(round%4)*3 : (round%4)*3+3]
		token := fmt.Sprintf("[bulk-%d]", round)
		status := []string{"Active", "New"}[round%2]
		var incs []any
		for _, r := range batch {
			incs = append(incs, incidentArgs(r, nil))
		}
		res, text := faultCall(t, c, "bulk_update", map[string]any{"incidents": incs, "status": status, "comment": "Batch " + token})
		got := toldOf(res, text)
		counts[got]++
		copies := make([]int, len(batch))
		for i, r := range batch {
			for _, cm := range rig.emu.Comments(r) {
				if strings.Contains(cm.Message, token) {
					copies[i]++
				}
			}
			if copies[i] > 1 {
				t.Errorf("round %d: DUPLICATE COMMENT on %s (%d copies)", round, r.IncidentID, copies[i])
			}
		}
		switch got {
		case toldConfirmed:
			for i, r := range batch {
				st, _ := rig.emu.Incident(r)
				if copies[i] != 1 || string(st.Status) != status {
					t.Errorf("round %d: REPORTED DONE BUT NOT APPLIED on %s: status %s, %d comments: %s", round, r.IncidentID, st.Status, copies[i], text)
				}
			}
			if !strings.Contains(text, "Updated all") {
				t.Errorf("round %d: a confirmed batch does not say so: %s", round, text)
			}
		case toldFailed:
			for i, r := range batch {
				if copies[i] != 0 {
					t.Errorf("round %d: REPORTED FAILED BUT LANDED on %s: %s", round, r.IncidentID, text)
				}
			}
		case toldUnknown:
			if !strings.Contains(text, fmt.Sprintf("call get_incident on each of the batch's %d incidents", len(batch))) {
				t.Errorf("round %d: an unknown outcome does not say to look at each incident: %s", round, text)
			}
		}
		if got != toldConfirmed && strings.Contains(text, "Updated all") {
			t.Errorf("round %d: a batch not confirmed says it was done: %s", round, text)
		}
	}
	rig.emu.SetChaos(nil)
	fmt.Printf("bulk fault suite: %d batches confirmed, %d failed, %d unknown; faults %v\n",
		counts[toldConfirmed], counts[toldFailed], counts[toldUnknown], rig.emu.Stats().Faults)
	if counts[toldConfirmed] == 0 || counts[toldUnknown]+counts[toldFailed] == 0 {
		t.Errorf("the chaos exercised nothing: %v", counts)
	}
}
