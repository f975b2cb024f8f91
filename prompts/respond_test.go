package prompts_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// TestRespondToIncidentShowsProposalsAndAsks: the prompt embeds the live
// incident and the gamebooks ContraForce proposes for it, each action with
// the entity it acts on and its id, inside the untrusted fence; it directs
// a dry run with the exact arguments, the user's agreement, then the run;
// and reading it changes nothing.
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
	body := text(t, res.Messages[0])
	var data struct {
		Incident struct {
			Incident struct{ Title string }
		}
		Proposals []struct {
			GamebookID string
			Actions    []string
		} `json:"proposedGamebooks"`
	}
	if err := json.Unmarshal([]byte(fenced(t, body)), &data); err != nil {
		t.Fatalf("the fenced data is not JSON: %v", err)
	}
	if data.Incident.Incident.Title != detail.Incident.Title {
		t.Errorf("the fenced incident is %q, want %q", data.Incident.Incident.Title, detail.Incident.Title)
	}
	proposed := 0
	for _, gb := range gbs {
		if gb.Status != "Pending" {
			continue
		}
		proposed++
		found := false
		for _, p := range data.Proposals {
			if p.GamebookID == gb.ID {
				found = true
				joined := strings.Join(p.Actions, "\n")
				for _, pb := range gb.Playbooks {
					for _, want := range []string{pb.Name, pb.AffectedEntity, pb.ID} {
						if !strings.Contains(joined, want) {
							t.Errorf("gamebook %s: the actions lack %q", gb.ID, want)
						}
					}
				}
			}
		}
		if !found {
			t.Errorf("the proposed gamebook %s is not in the prompt", gb.ID)
		}
	}
	if proposed == 0 || len(data.Proposals) != proposed {
		t.Errorf("%d proposals in the prompt, %d proposed by the API", len(data.Proposals), proposed)
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
	if len(res.Messages) != 2 {
		t.Errorf("%d messages, want the instructions and the embedded incident", len(res.Messages))
	}
}

// TestRespondToIncidentFencesHostileEntities: an entity name written by an
// attacker reaches the prompt only inside the fence, as JSON.
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
	if !strings.Contains(data, "Quarantine file") {
		t.Errorf("the file's proposed action is missing from the data:\n%s", data)
	}
}
