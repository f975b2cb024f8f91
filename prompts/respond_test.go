package prompts_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// TestRespondToIncidentShowsProposalsAndAsks: the prompt carries the live
// incident and the gamebooks ContraForce proposes for it, each action on
// its own line under its gamebook with the entity it acts on and its id,
// inside the untrusted fence; it directs a dry run with the exact
// arguments, the user's agreement, then the run; and reading it changes
// nothing.
func TestRespondToIncidentShowsProposalsAndAsks(t *testing.T) {
	e := newEnv(t)
	ref, detail := e.pick(t, client.SourceDefenderXDR)
	gbs, err := e.api.IncidentGamebooks(t.Context(), ref.WorkspaceID, ref.IncidentID)
	if err != nil || len(gbs) == 0 {
		t.Fatalf("the emulator proposes no gamebook for %s: %v", ref.IncidentID, err)
	}
	before := e.emu.Stats().Applied
	res, err := e.get(t, "respond_to_incident", argsOf(ref))
	if err != nil {
		t.Fatal(err)
	}
	// The incident is carried once: one message, no embedded copy.
	if len(res.Messages) != 1 {
		t.Fatalf("%d messages, want one", len(res.Messages))
	}
	body := text(t, res.Messages[0])
	data := fenced(t, body)
	if !strings.Contains(data, detail.Incident.Title) {
		t.Errorf("the fenced data lacks the title %q", detail.Incident.Title)
	}
	// The proposals: a "- gamebookId" line per gamebook, its actions on the
	// indented lines under it.
	proposals := map[string]string{} // gamebook id → its action lines
	_, tail, ok := strings.Cut(data, "\nProposed gamebooks (")
	if !ok {
		t.Fatalf("no proposals section in the data:\n%s", data)
	}
	tail, _, _ = strings.Cut(tail, "\n\nAlready ran")
	var cur string
	for _, l := range strings.Split(tail, "\n")[1:] {
		switch {
		case strings.HasPrefix(l, "- gamebookId "):
			cur, _, _ = strings.Cut(strings.TrimPrefix(l, "- gamebookId "), ":")
			proposals[cur] = ""
		case strings.HasPrefix(l, "  ") && cur != "":
			proposals[cur] += l + "\n"
		default:
			t.Errorf("a line of the proposals is neither a gamebook nor an indented action: %q", l)
		}
	}
	proposed := 0
	for _, gb := range gbs {
		if gb.Status != "Pending" {
			continue
		}
		proposed++
		actions, found := proposals[gb.ID]
		if !found {
			t.Errorf("the proposed gamebook %s is not in the prompt", gb.ID)
			continue
		}
		for _, pb := range gb.Playbooks {
			for _, want := range []string{pb.Name, pb.AffectedEntity, "playbookId " + pb.ID} {
				if !strings.Contains(actions, want) {
					t.Errorf("gamebook %s: the actions lack %q:\n%s", gb.ID, want, actions)
				}
			}
		}
	}
	if proposed == 0 || len(proposals) != proposed {
		t.Errorf("%d proposals in the prompt, %d proposed by the API", len(proposals), proposed)
	}
	for _, want := range []string{"`run_gamebook`", `"dryRun": true`, `"dryRun": false`, "Ask me", "Never run it twice",
		`"workspaceId": "` + ref.WorkspaceID + `"`, `"incidentId": "` + ref.IncidentID + `"`, "**untrusted data**"} {
		if !strings.Contains(body, want) {
			t.Errorf("the instructions lack %s", want)
		}
	}
	if !maps.Equal(before, e.emu.Stats().Applied) {
		t.Error("reading the prompt changed the emulator's state")
	}
}

// TestRespondToIncidentFencesHostileEntities: an entity name written by an
// attacker reaches the prompt only inside the fence, on an action's
// indented line, with its override marked.
func TestRespondToIncidentFencesHostileEntities(t *testing.T) {
	e := newEnv(t)
	ref := tricky(t, emulator.TrickyBidiOverride)
	res, err := e.get(t, "respond_to_incident", argsOf(ref))
	if err != nil {
		t.Fatal(err)
	}
	body := text(t, res.Messages[0])
	data := fenced(t, body)
	outside := strings.Replace(body, data, "", 1)
	if strings.Contains(outside, "invoice") || strings.ContainsRune(body, '\u202e') {
		t.Errorf("the hostile file name leaked outside the fence or kept its override:\n%s", outside)
	}
	found := false
	for _, l := range strings.Split(data, "\n") {
		if strings.Contains(l, "Quarantine file") && strings.Contains(l, "[U+202E]") {
			found = strings.HasPrefix(l, "  ")
		}
	}
	if !found {
		t.Errorf("the file's proposed action is missing from the data, or not on an indented line:\n%s", data)
	}
}
