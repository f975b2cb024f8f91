package prompts_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/resources"
)

const (
	beginData = "<<<BEGIN UNTRUSTED INCIDENT DATA>>>"
	endData   = "<<<END UNTRUSTED INCIDENT DATA>>>"
)

// text returns a prompt message's text content.
func text(t *testing.T, m mcp.PromptMessage) string {
	t.Helper()
	tc, ok := mcp.AsTextContent(m.Content)
	if !ok {
		t.Fatalf("message content is %T, want text", m.Content)
	}
	return tc.Text
}

// fenced returns the JSON between a prompt's untrusted-data markers, and
// fails unless each marker appears exactly once.
func fenced(t *testing.T, s string) string {
	t.Helper()
	if strings.Count(s, beginData) != 1 || strings.Count(s, endData) != 1 {
		t.Fatalf("want one %s and one %s in:\n%s", beginData, endData, s)
	}
	block := s[strings.Index(s, beginData)+len(beginData) : strings.Index(s, endData)]
	block = strings.TrimSpace(block)
	if !strings.HasPrefix(block, "```json\n") || !strings.HasSuffix(block, "\n```") {
		t.Fatalf("the data is not a fenced JSON block:\n%s", block)
	}
	return strings.TrimSuffix(strings.TrimPrefix(block, "```json\n"), "\n```")
}

func TestListPrompts(t *testing.T) {
	e := newEnv(t)
	res, err := e.mcp.ListPrompts(t.Context(), mcp.ListPromptsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{ // argument name → "!" prefix when required
		"close_incident":      {"!workspaceId", "!source", "!incidentId"},
		"triage_incident":     {"!workspaceId", "!source", "!incidentId"},
		"shift_handoff":       {"workspaceId", "hours"},
		"respond_to_incident": {"!workspaceId", "!source", "!incidentId"},
	}
	if len(res.Prompts) != len(want) {
		t.Fatalf("%d prompts, want %d", len(res.Prompts), len(want))
	}
	for _, p := range res.Prompts {
		var got []string
		for _, a := range p.Arguments {
			name := a.Name
			if a.Required {
				name = "!" + name
			}
			got = append(got, name)
			if a.Description == "" {
				t.Errorf("%s.%s has no description", p.Name, a.Name)
			}
		}
		if !slices.Equal(got, want[p.Name]) || p.Title == "" || p.Description == "" {
			t.Errorf("prompt %s: arguments %v, title %q, description %q; want arguments %v", p.Name, got, p.Title, p.Description, want[p.Name])
		}
	}
}

func TestCloseIncidentEmbedsLiveData(t *testing.T) {
	e := newEnv(t)
	for _, src := range []client.Source{client.SourceSentinel, client.SourceDefenderXDR, client.SourceQRadar} {
		t.Run(string(src), func(t *testing.T) {
			ref, detail := e.pick(t, src)
			res, err := e.get(t, "close_incident", argsOf(ref))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Messages) != 2 {
				t.Fatalf("%d messages, want the instructions and the embedded incident", len(res.Messages))
			}
			body := text(t, res.Messages[0])
			data := fenced(t, body)
			comments := e.emu.Comments(ref)
			for _, live := range []string{detail.Incident.Title, detail.InvestigationDetails.Alerts[0].Title,
				prefix(comments[len(comments)-1].Message, 40)} {
				if !strings.Contains(data, jsonText(live)) {
					t.Errorf("the fenced data lacks %q", live)
				}
			}
			// The exact call, with the values of the enum types.
			for _, want := range []string{
				"`update_status`", `"workspaceId": "` + ref.WorkspaceID + `"`, `"source": "` + string(src) + `"`,
				`"incidentId": "` + ref.IncidentID + `"`, `"status": "Closed"`, `"comment":`, "Confirm with me",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("the instructions lack %s", want)
				}
			}
			// A source that keeps no verdict is told so, and its call sends none.
			sendsVerdict := strings.Contains(body, `"classification":`) && strings.Contains(body, `"classificationReason":`)
			notKept := strings.Contains(strings.Join(strings.Fields(body), " "),
				"does **not** record `classification` or `classificationReason`")
			if sendsVerdict != src.RecordsClassification() || notKept == src.RecordsClassification() {
				t.Errorf("%s: the call sends a verdict = %v, says it is not kept = %v", src, sendsVerdict, notKept)
			}
			for _, v := range append(client.EnumStrings[client.Classification](), client.EnumStrings[client.ClassificationReason]()...) {
				if !strings.Contains(body, "`"+v+"`") {
					t.Errorf("the instructions do not list %s", v)
				}
			}
			sentinelRule := strings.Contains(body, "Sentinel requires **both**")
			if sentinelRule != (src == client.SourceSentinel) {
				t.Errorf("%s: Sentinel's rule stated = %v", src, sentinelRule)
			}

			er, ok := res.Messages[1].Content.(mcp.EmbeddedResource)
			if !ok {
				t.Fatalf("second message is %T, want an embedded resource", res.Messages[1].Content)
			}
			rc, ok := mcp.AsTextResourceContents(er.Resource)
			if !ok || rc.URI != resources.IncidentURI(ref) || rc.MIMEType != "application/json" {
				t.Fatalf("embedded resource %+v, want %s as JSON", er.Resource, resources.IncidentURI(ref))
			}
			var doc resources.IncidentDocument
			if err := json.Unmarshal([]byte(rc.Text), &doc); err != nil || doc.Incident.Title != detail.Incident.Title {
				t.Errorf("embedded incident: %v, title %q", err, doc.Incident.Title)
			}
		})
	}
}

func TestTriageIncidentIsReadOnly(t *testing.T) {
	e := newEnv(t)
	ref, detail := e.pick(t, client.SourceSplunk)
	before := e.emu.Stats().Applied
	res, err := e.get(t, "triage_incident", argsOf(ref))
	if err != nil {
		t.Fatal(err)
	}
	body := text(t, res.Messages[0])
	if !strings.Contains(fenced(t, body), jsonText(detail.Incident.Title)) {
		t.Errorf("the fenced data lacks the title %q", detail.Incident.Title)
	}
	for _, want := range []string{"**read-only**", "Do not call `update_status`, `add_comment`, `assign`, `bulk_update` or `run_gamebook`",
		"`get_incident`", "`find_related_incidents`: call it once before you recommend a verdict"} {
		if !strings.Contains(body, want) {
			t.Errorf("the instructions lack %q", want)
		}
	}
	if !maps.Equal(before, e.emu.Stats().Applied) {
		t.Error("reading the prompt changed the emulator's state")
	}
}

func TestUntrustedTextStaysFenced(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{emulator.TrickyPromptInjection, emulator.TrickyBidiOverride, emulator.TrickyControlChars,
		emulator.TrickyLongDescription, emulator.TrickyPathUnsafeID} {
		t.Run(name, func(t *testing.T) {
			ref := tricky(t, name)
			for _, prompt := range []string{"close_incident", "triage_incident"} {
				res, err := e.get(t, prompt, argsOf(ref))
				if err != nil {
					t.Fatalf("%s: %v", prompt, err)
				}
				body := text(t, res.Messages[0])
				data := fenced(t, body)
				outside := strings.Replace(body, data, "", 1)
				if strings.Contains(outside, "IMPORTANT SYSTEM NOTICE") || strings.Contains(outside, "ignore all previous") {
					t.Errorf("%s: incident text outside the fence", prompt)
				}
				if name == emulator.TrickyPromptInjection && !strings.Contains(data, "IMPORTANT SYSTEM NOTICE") {
					t.Errorf("%s: the quoted e-mail is missing from the data", prompt)
				}
				all := body + text(t, mcp.PromptMessage{Content: mcp.NewTextContent(res.Messages[1].Content.(mcp.EmbeddedResource).Resource.(mcp.TextResourceContents).Text)})
				if i := strings.IndexFunc(all, func(r rune) bool { return r == '\u202e' || r == '\u200b' || r == '\x1b' }); i >= 0 {
					t.Errorf("%s: control character at %d", prompt, i)
				}
				if name == emulator.TrickyBidiOverride && !strings.Contains(data, "[U+202E]") {
					t.Errorf("%s: the right-to-left override is not marked", prompt)
				}
			}
		})
	}
}

func TestPromptArgumentErrors(t *testing.T) {
	e := newEnv(t)
	ref, _ := e.pick(t, client.SourceCrowdStrike)
	without := func(k string) map[string]string { a := argsOf(ref); delete(a, k); return a }
	with := func(k, v string) map[string]string { a := argsOf(ref); a[k] = v; return a }
	missing := ref
	missing.IncidentID = "inc:does-not-exist"

	tests := []struct {
		name, prompt string
		args         map[string]string
		want         []string
	}{
		{"missing workspaceId", "close_incident", without("workspaceId"), []string{`missing required argument "workspaceId"`}},
		{"missing source", "triage_incident", without("source"), []string{`missing required argument "source"`}},
		{"blank incidentId", "close_incident", with("incidentId", "  "), []string{`missing required argument "incidentId"`}},
		{"unknown source", "close_incident", with("source", "Elastic"), []string{`"source"`, "Sentinel, DefenderXDR, QRadar, Splunk, CrowdStrike, SentinelOne"}},
		{"not found", "triage_incident", argsOf(missing), []string{client.CodeNotFound, "request", "list_incidents"}},
		{"hours zero", "shift_handoff", map[string]string{"hours": "0"}, []string{`"hours"`, "1 to 720"}},
		{"hours text", "shift_handoff", map[string]string{"hours": "twelve"}, []string{`"hours"`}},
		{"hours too many", "shift_handoff", map[string]string{"hours": "721"}, []string{`"hours"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.get(t, tt.prompt, tt.args)
			if err == nil {
				t.Fatal("prompts/get succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
	// A source in another case is accepted.
	if _, err := e.get(t, "triage_incident", with("source", strings.ToLower(string(ref.Source)))); err != nil {
		t.Errorf("lower-case source: %v", err)
	}
}

// handoff is the fenced data of shift_handoff.
type handoff struct {
	WindowStart, WindowEnd time.Time
	Shown                  int
	More                   bool
	Incidents              []struct {
		WorkspaceID, Source, IncidentID, Title, Status, Created string
	}
}

func getHandoff(t *testing.T, e *env, args map[string]string) (handoff, string) {
	t.Helper()
	res, err := e.get(t, "shift_handoff", args)
	if err != nil {
		t.Fatal(err)
	}
	body := text(t, res.Messages[0])
	var h handoff
	if err := json.Unmarshal([]byte(fenced(t, body)), &h); err != nil {
		t.Fatal(err)
	}
	return h, body
}

func TestShiftHandoff(t *testing.T) {
	e := newEnv(t)
	injection := tricky(t, emulator.TrickyPromptInjection) // New, created 25 minutes ago

	t.Run("default window, every workspace", func(t *testing.T) {
		h, body := getHandoff(t, e, nil)
		if got := h.WindowEnd.Sub(h.WindowStart); got != 12*time.Hour {
			t.Errorf("window %s, want 12h", got)
		}
		if !strings.Contains(body, "last 12 hours") || !strings.Contains(body, "**read-only**") {
			t.Error("the instructions do not state the window and that nothing may change")
		}
		want := openSince(e, h.WindowStart, h.WindowEnd, "")
		var got []client.IncidentRef
		for i, r := range h.Incidents {
			got = append(got, client.IncidentRef{WorkspaceID: r.WorkspaceID, Source: client.Source(r.Source), IncidentID: r.IncidentID})
			if i > 0 && r.Created > h.Incidents[i-1].Created {
				t.Errorf("row %d is newer than row %d", i, i-1)
			}
			if r.Status != string(client.StatusNew) && r.Status != string(client.StatusActive) {
				t.Errorf("row %d has status %s", i, r.Status)
			}
		}
		if !sameSet(got, want) || h.Shown != len(h.Incidents) {
			t.Errorf("hand-off lists %v, want the open incidents %v", got, want)
		}
		if !slices.Contains(got, injection) {
			t.Errorf("the hand-off lacks the new incident %v", injection)
		}
	})
	t.Run("one workspace", func(t *testing.T) {
		h, _ := getHandoff(t, e, map[string]string{"workspaceId": emulator.WorkspaceResponderID, "hours": "48"})
		for _, r := range h.Incidents {
			if r.WorkspaceID != emulator.WorkspaceResponderID {
				t.Errorf("row of workspace %s", r.WorkspaceID)
			}
		}
		if want := openSince(e, h.WindowStart, h.WindowEnd, emulator.WorkspaceResponderID); len(h.Incidents) != min(len(want), 50) {
			t.Errorf("%d rows, want %d", len(h.Incidents), len(want))
		}
	})
	t.Run("capped", func(t *testing.T) {
		h, _ := getHandoff(t, e, map[string]string{"hours": "720"})
		want := openSince(e, h.WindowStart, h.WindowEnd, "")
		if len(want) <= 50 {
			t.Skipf("only %d open incidents in 30 days", len(want))
		}
		if len(h.Incidents) != 50 || !h.More {
			t.Errorf("%d rows, more %v; want 50 and more", len(h.Incidents), h.More)
		}
	})
}

func TestPromptCompletion(t *testing.T) {
	e := newEnv(t)
	complete := func(prompt, arg, value string) []string {
		res, err := e.mcp.Complete(t.Context(), mcp.CompleteRequest{Params: mcp.CompleteParams{
			Ref:      mcp.PromptReference{Type: "ref/prompt", Name: prompt},
			Argument: mcp.CompleteArgument{Name: arg, Value: value},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Completion.Values
	}
	if got := complete("close_incident", "source", "sen"); !slices.Equal(got, []string{"Sentinel", "SentinelOne"}) {
		t.Errorf("source: %v", got)
	}
	if got := complete("shift_handoff", "workspaceId", ""); len(got) != 3 {
		t.Errorf("workspaceId: %v, want the demo credential's three workspaces", got)
	}
}
