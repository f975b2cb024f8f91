package tools_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// TestGetIncidentMatchesEmulator reads an incident with comments, alerts,
// entities and evidence and checks every number against the emulator.
func TestGetIncidentMatchesEmulator(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sess := e.session(demoCred)
	c := connect(t, sess, "claude-ai")
	ref := e.findRef(func(ref client.IncidentRef, inc emulator.IncidentState) bool {
		return ref.WorkspaceID == emulator.WorkspaceResponderID && inc.AlertsCount > 0 && len(e.emu.Comments(ref)) >= 2
	})
	// An agent's comment joins the incident's human ones.
	c.ok("add_comment", refArgs(ref, map[string]any{"content": "Triage started."}), nil)

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
	if len(out.Alerts) != min(inc.AlertsCount, 25) {
		t.Errorf("%d alerts shown, the emulator has %d", len(out.Alerts), inc.AlertsCount)
	}

	// Entities and evidence as the API itself serves them.
	detail, err := sess.Client.GetIncident(context.Background(), ref, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(detail.InvestigationDetails.Entities); n == 0 || len(out.Entities) != min(n, 30) {
		t.Errorf("%d entities shown, the API has %d", len(out.Entities), n)
	}
	for i, ent := range out.Entities {
		if ent.Kind != detail.InvestigationDetails.Entities[i].Kind || ent.Name == "" {
			t.Errorf("entity %d = %+v, API kind %q", i, ent, detail.InvestigationDetails.Entities[i].Kind)
		}
	}
	ev, err := sess.Client.GetEvidence(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if out.Evidence == nil || out.Evidence.RowCount != len(ev.Rows) || len(out.Evidence.Columns) != len(ev.Columns) ||
		len(out.Evidence.Rows) != min(len(ev.Rows), 10) {
		t.Errorf("evidence %+v, the API has %d columns and %d rows", out.Evidence, len(ev.Columns), len(ev.Rows))
	}

	// Comments: the most recent, oldest first, with the agent flag.
	comments := e.emu.Comments(ref)
	tail := comments[max(0, len(comments)-20):]
	if len(out.Comments) != len(tail) {
		t.Fatalf("%d comments shown, the emulator has %d", len(out.Comments), len(comments))
	}
	for i, cv := range out.Comments {
		if cv.Agent != tail[i].IsAgentComment || cv.Closing != tail[i].IsClosingComment {
			t.Errorf("comment %d flags agent=%t closing=%t, emulator %t %t", i, cv.Agent, cv.Closing,
				tail[i].IsAgentComment, tail[i].IsClosingComment)
		}
	}
	last := out.Comments[len(out.Comments)-1]
	if !last.Agent || last.AgentName != emulator.DemoName || !strings.Contains(last.Text, "Triage started.") {
		t.Errorf("the agent's comment is shown as %+v", last)
	}
	if out.Comments[0].Agent {
		t.Errorf("a seeded human comment is flagged as an agent's: %+v", out.Comments[0])
	}
	wantAll(t, text, inc.Title, "severity "+string(inc.Severity), "Comments (", "[AI agent]", "Alerts (", "Entities (", "Evidence: ")
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
				wantAll(t, string(res.RawStructuredContent), "[U+202E]")
			case emulator.TrickyLongDescription:
				if n := utf8.RuneCountInString(out.Incident.Description); n > 2000 || !strings.HasSuffix(out.Incident.Description, "…") {
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
