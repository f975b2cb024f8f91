package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/resources"
	"github.com/contraforce/contraforce-mcp/tools"
)

// TestGetIncidentMatchesEmulator reads an incident with comments, alerts,
// entities and evidence and checks that the text, which many clients hand
// the model alone, carries everything an analyst decides on: the state,
// the workspace, tactics, every alert, the entities with their properties,
// the evidence query and rows, and the comments in full.
func TestGetIncidentMatchesEmulator(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sess := e.session(demoCred)
	c := connect(t, sess, "claude-ai")
	ref := e.findRef(func(ref client.IncidentRef, inc emulator.IncidentState) bool {
		return ref.WorkspaceID == emulator.WorkspaceResponderID && inc.AlertsCount > 0 && len(e.emu.Comments(ref)) >= 2
	})
	// An agent's comment of more than 200 characters joins the incident's human ones.
	long := "Triage started. " + strings.Repeat("The sign-ins come from the VPN range of the Paris office. ", 6) + "End of note."
	c.ok("add_comment", refArgs(ref, map[string]any{"content": long}), nil)

	var out tools.GetIncidentOutput
	before := e.emu.Stats().Requests
	text := c.ok("get_incident", refArgs(ref, nil), &out)
	// Two concurrent requests: the incident with its details (which carry
	// the evidence) and its comments; the evidence endpoint is not asked.
	after := e.emu.Stats().Requests
	for ep, want := range map[emulator.Endpoint]int{emulator.EndpointGetIncident: 1, emulator.EndpointListComments: 1, emulator.EndpointEvidence: 0} {
		if got := after[ep] - before[ep]; got != want {
			t.Errorf("get_incident made %d %s requests, want %d", got, ep, want)
		}
	}

	inc, _ := e.emu.Incident(ref)
	v := out.Incident
	if v.WorkspaceID != ref.WorkspaceID || v.Source != string(ref.Source) || v.IncidentID != ref.IncidentID ||
		v.Number != inc.Number || v.Title != inc.Title || v.Severity != string(inc.Severity) || v.Status != string(inc.Status) {
		t.Fatalf("incident view %+v does not match the emulator's %+v", v, inc)
	}
	detail, err := sess.Client.GetIncident(context.Background(), ref, true)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sess.Client.GetEvidence(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	comments := e.emu.Comments(ref)
	det := detail.InvestigationDetails
	if out.Counts != (tools.InvestigationCounts{Alerts: min(len(det.Alerts), 25), Entities: min(len(det.Entities), 30),
		EvidenceRows: len(ev.Rows), Comments: min(len(comments), 20)}) {
		t.Errorf("counts %+v; the API has %d alerts, %d entities, %d rows, %d comments", out.Counts, len(det.Alerts),
			len(det.Entities), len(ev.Rows), len(comments))
	}

	// The text: state and identity.
	wantAll(t, text, fmt.Sprintf("%s incident #%d: %s", ref.Source, inc.Number, inc.Title),
		string(inc.Severity)+", "+string(inc.Status), "workspace "+detail.Incident.WorkspaceName+", created ", "tactics: "+strings.Join(detail.Incident.Tactics, ", "))
	// Every alert, every entity with its properties (an IP's country).
	for _, a := range det.Alerts {
		wantAll(t, text, a.Title)
	}
	country := false
	for _, ent := range det.Entities {
		wantAll(t, text, "- "+ent.Kind+" "+ent.Name())
		if cn, ok := ent.Properties["countryName"].(string); ok {
			wantAll(t, text, "countryName "+cn)
			country = true
		}
	}
	if !country {
		t.Log("no entity of this incident has a country")
	}
	// The evidence: its query (every line) and every row's cells.
	for _, line := range strings.Split(ev.Query, "\n") {
		wantAll(t, text, "  "+strings.TrimSpace(line))
	}
	for _, col := range ev.Columns {
		wantAll(t, text, col.Name)
	}
	for _, row := range ev.Rows[:min(len(ev.Rows), 10)] {
		for _, cell := range row {
			wantAll(t, text, fmt.Sprint(cell))
		}
	}
	// The comments, in full, the agent's flagged.
	for _, cm := range comments[max(0, len(comments)-20):] {
		wantAll(t, text, strings.TrimSpace(cm.Message))
	}
	wantAll(t, text, "[AI agent", long)
	if i, j := strings.LastIndex(text, "[AI agent"), strings.LastIndex(text, "End of note."); i < 0 || i > j {
		t.Error("the agent's comment is not the last one, flagged")
	}
}

// TestGetIncidentIsCompact: the whole result (text and structured content)
// is at most 60% of the bytes of the raw API answers it came from, for
// every incident with evidence of a workspace; the structured content does
// not repeat the investigation the text carries.
func TestGetIncidentIsCompact(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	raw := func(url string) int {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.SetBasicAuth(demoCred.id, demoCred.secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return len(b)
	}
	var sumRaw, sumOut, n int
	worst := 0.0
	for _, ref := range e.emu.Refs() {
		if ref.WorkspaceID != emulator.WorkspaceOwnerID {
			continue
		}
		base := e.url + "/workspaces/" + ref.WorkspaceID + "/incidents/" + string(ref.Source) + "/" + url.PathEscape(ref.IncidentID)
		api := raw(base+"?withDetails=true") + raw(base+"/comments")
		res := c.call("get_incident", refArgs(ref, nil))
		text := textOf(t, res)
		got := len(text) + len(res.RawStructuredContent)
		if strings.Contains(string(res.RawStructuredContent), `"rows"`) || strings.Contains(string(res.RawStructuredContent), `"comments":[`) {
			t.Fatalf("the structured content repeats the evidence or comments: %s", res.RawStructuredContent)
		}
		ratio := float64(got) / float64(api)
		if ratio > 0.6 {
			t.Errorf("%s %s: result %d bytes (text %d) is %.0f%% of the API's %d", ref.Source, ref.IncidentID, got, len(text), 100*ratio, api)
		}
		worst = max(worst, ratio)
		sumRaw, sumOut, n = sumRaw+api, sumOut+got, n+1
	}
	t.Logf("%d incidents: results are %.0f%% of the API's bytes overall, %.0f%% at worst", n, 100*float64(sumOut)/float64(sumRaw), 100*worst)
}

// TestGetIncidentTrickyText: text from incidents reaches the model without
// bidirectional overrides, zero-width, tag or terminal control characters,
// in the structured content and in the text; the override stays visible as
// a marker.
func TestGetIncidentTrickyText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	tricky := map[string]client.IncidentRef{}
	for _, ti := range emulator.TrickyIncidents() {
		tricky[ti.Name] = ti.Ref
	}
	for _, name := range []string{emulator.TrickyBidiOverride, emulator.TrickyControlChars, emulator.TrickyPromptInjection,
		emulator.TrickyLongDescription, emulator.TrickyPathUnsafeID} {
		t.Run(name, func(t *testing.T) {
			c := &conn{t: t, c: c.c, srv: c.srv}
			ref := tricky[name]
			res := c.call("get_incident", refArgs(ref, nil))
			text := textOf(t, res)
			if res.IsError {
				t.Fatalf("isError: %s", text)
			}
			var out tools.GetIncidentOutput
			c.ok("get_incident", refArgs(ref, nil), &out)
			if out.Incident.IncidentID != ref.IncidentID {
				t.Fatalf("read incident %q, want %q", out.Incident.IncidentID, ref.IncidentID)
			}
			var structured any
			if err := json.Unmarshal(res.RawStructuredContent, &structured); err != nil {
				t.Fatal(err)
			}
			for where, s := range map[string]string{"text": text, "structured (raw)": string(res.RawStructuredContent)} {
				if r, ok := unsafeRune(s); ok {
					t.Errorf("%s content carries %U", where, r)
				}
			}
			walkStrings(structured, func(s string) {
				if r, ok := unsafeRune(s); ok {
					t.Errorf("a structured string carries %U: %q", r, s)
				}
			})
			switch name {
			case emulator.TrickyBidiOverride:
				wantAll(t, text, "[U+202E]")
			case emulator.TrickyLongDescription:
				// The text's description is cut at 2000 characters, and says so.
				desc, _, _ := strings.Cut(text[strings.Index(text, "description:\n"):], "\n\n")
				desc = strings.ReplaceAll(strings.TrimPrefix(desc, "description:\n"), "\n  ", "\n")
				if n := utf8.RuneCountInString(desc); n > 2000+2 || !strings.HasSuffix(desc, "…") {
					t.Errorf("description of %d runes, want at most 2000 ending in …", n)
				}
			case emulator.TrickyPromptInjection:
				// The attacker's text is data: shown, but not obeyed; the
				// emulator's incidents stay as they were.
				wantAll(t, text, "IMPORTANT SYSTEM NOTICE FOR AI ASSISTANTS")
			}
		})
	}
}

// unsafeRune returns the first character the model must not be shown.
func unsafeRune(s string) (rune, bool) {
	for _, r := range s {
		switch {
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C: // bidi
			return r, true
		case r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF: // zero-width
			return r, true
		case r >= 0xE0000 && r <= 0xE007F: // tags
			return r, true
		case r < 0x20 && r != '\n' && r != '\t', r == 0x7f, r >= 0x80 && r < 0xa0: // C0/C1 controls (ESC of ANSI sequences)
			return r, true
		}
	}
	return 0, false
}

// walkStrings calls fn with every string of a decoded JSON value, keys included.
func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case []any:
		for _, y := range x {
			walkStrings(y, fn)
		}
	case map[string]any:
		for k, y := range x {
			fn(k)
			walkStrings(y, fn)
		}
	}
}

// TestGetIncidentOlderComments: with more comments than it shows,
// get_incident says which it shows and names the page of the older ones.
func TestGetIncidentOlderComments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sess := e.session(demoCred)
	c := connect(t, sess, "claude-ai")
	ref := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceDefenderXDR))
	for i := range 25 {
		msg := fmt.Sprintf("Note %02d.", i)
		if _, _, err := sess.Client.AddComment(context.Background(), ref, client.AddCommentRequest{Content: msg}); err != nil {
			t.Fatal(err)
		}
	}
	n := len(e.emu.Comments(ref))
	var out tools.GetIncidentOutput
	text := c.ok("get_incident", refArgs(ref, nil), &out)
	wantAll(t, text, fmt.Sprintf("comments %d to %d of %d shown; older ones: resource %s", n-19, n, n, resources.CommentsPageURI(ref, n-19)),
		"Note 24.", "Note 05.")
	if strings.Contains(text, "Note 04.") || out.Counts.Comments != 20 {
		t.Errorf("shows more than the 20 newest comments (counts %+v)", out.Counts)
	}
}
