package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/schema"
)

// FuzzCursor: redeeming any string as a cursor never panics, and what it
// refuses comes back as a short sentence that never echoes the input; no
// string but an issued id redeems, and an issued id redeems to the very
// position it was issued for.
func FuzzCursor(f *testing.F) {
	api, err := client.New(client.Config{BaseURL: "http://127.0.0.1:1/api/v2", ClientID: "fuzz", ClientSecret: "s"})
	if err != nil {
		f.Fatal(err)
	}
	store := NewCursors(CursorOptions{})
	issued := cursor{Filter: client.IncidentFilter{Query: "powershell"}, Page: client.PageToken{ContinuationToken: "t"}, Skip: 3}
	id, err := store.issue(api, issued)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "=", "!!!", id, id[:len(id)-1], id + "A", strings.ToUpper(id), strings.Repeat("A", cursorIDLen),
		"eyJmIjp7fSwicCI6eyJjb250aW51YXRpb25Ub2tlbiI6IngifX0", "\xff\xfe" + id[2:], strings.Repeat("A", 20000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := store.take(api, s)
		if err != nil {
			msg := err.Error()
			if len(msg) > 200 || (len(s) >= 8 && strings.Contains(msg, s)) {
				t.Fatalf("the error is long or echoes the cursor: %q", msg)
			}
			return
		}
		if s != id {
			t.Fatalf("FORGED CURSOR ACCEPTED: %q redeems to %+v", s, c)
		}
		a, _ := json.Marshal(c)
		b, _ := json.Marshal(issued)
		if !bytes.Equal(a, b) {
			t.Fatalf("the cursor redeems to %s, issued for %s", a, b)
		}
	})
}

// fuzzInputs are the tools' input types with their tool names; each
// decodes arbitrary JSON through schema.Decode as the adapter does and
// checks what its handler relies on.
var fuzzInputs = []struct {
	tool  string
	check func(json.RawMessage) (broken string, err error)
}{
	{"list_incidents", fuzzDecode(func(in ListIncidentsInput) string {
		switch {
		case in.Limit < 0 || in.Limit > 100:
			return "limit out of 0..100"
		case len([]rune(in.Query)) > 500:
			return "query longer than 500 characters"
		case in.Cursor != "" && in.hasFilters():
			return "both a cursor and filters"
		}
		if w := in.TimeFilterSelection; w != nil && w.Type == client.TimeCustom &&
			(w.CustomStartUTC == nil || w.CustomEndUTC == nil || !w.CustomStartUTC.Before(*w.CustomEndUTC)) {
			return "a custom window without ordered bounds"
		}
		return fuzzEnums(in.Severities, in.Statuses, in.Sources)
	})},
	{"get_incident", fuzzDecode(func(in GetIncidentInput) string { return fuzzEnums(nil, nil, []client.Source{in.Source}) })},
	{"update_status", fuzzDecode(func(in UpdateStatusInput) string {
		closing := in.Status == client.StatusClosed
		switch {
		case !in.Status.Valid() || !in.Source.Valid():
			return "an invalid status or source"
		case in.Classification != "" && !in.Classification.Valid(), in.ClassificationReason != "" && !in.ClassificationReason.Valid():
			return "an invalid classification or reason"
		case closing && in.Comment == "":
			return "a closure without a comment"
		case closing && in.Source == client.SourceSentinel && (in.Classification == "" || in.ClassificationReason == ""):
			return "a Sentinel closure without classification and reason"
		case in.UpdateTicket && in.TicketID == "":
			return "updateTicket without ticketId"
		case len([]rune(in.Comment)) > 30000:
			return "a comment longer than 30000 characters"
		}
		return ""
	})},
	{"add_comment", fuzzDecode(func(in AddCommentInput) string {
		if strings.TrimSpace(in.Content) == "" || !in.Source.Valid() {
			return "a blank comment or an invalid source"
		}
		return ""
	})},
	{"assign", fuzzDecode(func(in AssignInput) string {
		if (in.UserID == "" && in.Email == "") || !in.Source.Valid() {
			return "neither userId nor email, or an invalid source"
		}
		return ""
	})},
	{"whoami", fuzzDecode(func(WhoamiInput) string { return "" })},
	{"list_users", fuzzDecode(func(in ListUsersInput) string {
		if in.Role != "" && !in.Role.Valid() {
			return "an invalid role"
		}
		return ""
	})},
	{"find_related_incidents", fuzzDecode(func(in FindRelatedInput) string {
		switch {
		case !in.Source.Valid() || in.Window != "" && !in.Window.Valid():
			return "an invalid source or window"
		case in.Entity != "" && in.EntityKind == "":
			return "an entity without its kind"
		case in.Window == client.TimeCustom && in.Since == nil:
			return "a custom window without its start"
		}
		return ""
	})},
	{"run_gamebook", fuzzDecode(func(in RunGamebookInput) string {
		if in.GamebookID == "" || !in.Source.Valid() || len(in.PlaybookIDs) > 50 {
			return "no gamebook, an invalid source or too many actions"
		}
		return ""
	})},
	{"bulk_update", fuzzDecode(func(in BulkUpdateInput) string {
		switch {
		case len(in.Incidents) == 0 || len(in.Incidents) > 50:
			return "a batch of none or more than 50"
		case in.Status == client.StatusClosed && in.Comment == "":
			return "a closure without a comment"
		case (in.UserID != "" || in.Email != "") && in.RemoveAssignee:
			return "an assignee and unassigning"
		case in.Status == "" && in.UserID == "" && in.Email == "" && !in.RemoveAssignee && in.Comment == "":
			return "no change"
		}
		for _, a := range in.Incidents {
			if !a.Source.Valid() || a.WorkspaceID == "" || a.IncidentID == "" {
				return "an incident without its source or ids"
			}
		}
		return ""
	})},
}

// fuzzDecode decodes raw into In; when it passes, broken names the rule
// the value breaks ("" for none) and the value must survive a round trip
// through its own encoding.
func fuzzDecode[In any](broken func(In) string) func(json.RawMessage) (string, error) {
	return func(raw json.RawMessage) (string, error) {
		in, err := schema.Decode[In](raw)
		if err != nil {
			return "", err
		}
		if why := broken(in); why != "" {
			return "accepted " + why, nil
		}
		enc, _ := json.Marshal(in)
		again, err := schema.Decode[In](json.RawMessage(enc))
		if err != nil {
			return "accepted, but its own encoding is refused: " + err.Error(), nil
		}
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc, enc2) {
			return "changed on a round trip: " + string(enc) + " → " + string(enc2), nil
		}
		return "", nil
	}
}

// fuzzEnums names the first invalid enum value, or "".
func fuzzEnums(sevs []client.Severity, sts []client.Status, srcs []client.Source) string {
	for _, v := range sevs {
		if !v.Valid() {
			return "an invalid severity"
		}
	}
	for _, v := range sts {
		if !v.Valid() {
			return "an invalid status"
		}
	}
	for _, v := range srcs {
		if !v.Valid() {
			return "an invalid source"
		}
	}
	return ""
}

// FuzzToolArguments: arbitrary JSON as any tool's arguments never panics;
// what is refused comes back as 1 to 20 one-line sentences, rendered as a
// tool error that is bounded and clean of control and bidirectional
// characters (arguments are echoed in it); what is accepted satisfies
// every rule the handler relies on.
func FuzzToolArguments(f *testing.F) {
	for _, seed := range []string{
		`{"workspaceId":"3f2b8c1e-7a4d-4e6b-9c2f-1a0b3c4d5e6f","source":"Sentinel","incidentId":"1","status":"Closed",` +
			`"comment":"done","classification":"TruePositive","classificationReason":"Malware"}`,
		`{"workspaceId":"w","source":"Sentinel","incidentId":"1","status":"Closed"}`,
		`{"workspaceId":"w","source":"CrowdStrike","incidentId":"inc:1","content":"  "}`,
		`{"workspaceId":"w","source":"Splunk","incidentId":"a/b","userId":"u","email":"e@x"}`,
		`{"severities":["High","Critical"],"statuses":["Resolved"],"limit":101,"cursor":"x","query":"q"}`,
		`{"timeFilterSelection":{"type":"Custom","customStartUtc":"2025-01-02T00:00:00Z","customEndUtc":"2025-01-01T00:00:00Z"}}`,
		`{"timeFilterSelection":{"type":"TwentyFourHours","customStartUtc":"2025-01-02T00:00:00Z"}}`,
		`{"limit":1e400}`, `{"limit":-0}`, `{"limit":25.0}`, `{"limit":9223372036854775808}`,
		`{"updateTicket":true,"ticketId":null,"status":"New","source":"QRadar","workspaceId":"w","incidentId":"1"}`,
		`{"source":"sentinel","status":"closed"}`, `{"source":"Sentinel\u202e"}`, `{"comment":"\ud800\u001b[2J"}`,
		`{"workspaceId":"\u0000","source":"Sentinel","incidentId":"\u2066x\u2069","content":"\u200b"}`,
		`{"a":1,"a":2}`, `{"status":"Closed","status":"New"}`, `[]`, `null`, `""`, `1`, ``, `{`, `{"x":1} trailing`,
		strings.Repeat(`{"a":`, 60) + `1` + strings.Repeat(`}`, 60), strings.Repeat("[", 200) + strings.Repeat("]", 200),
		`{"incidents":[{"workspaceId":"w","source":"QRadar","incidentId":"1"}],"status":"Closed","comment":"x","removeAssignee":true,"email":"e"}`,
		`{"workspaceId":"w","source":"Sentinel","incidentId":"1","entity":"x","window":"Custom"}`,
		`{"workspaceId":"w","source":"Sentinel","incidentId":"1","gamebookId":"g","playbookIds":["a","a"]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range fuzzInputs {
			broken, err := in.check(json.RawMessage(data))
			if broken != "" {
				t.Fatalf("%s: %s: %q", in.tool, broken, data)
			}
			if err == nil {
				continue
			}
			var errs schema.ArgErrors
			if !errors.As(err, &errs) || len(errs) == 0 || len(errs) > 20 {
				t.Fatalf("%s: %v (%T), want 1..20 ArgErrors", in.tool, err, err)
			}
			for _, e := range errs {
				if s := e.Error(); strings.TrimSpace(s) == "" || strings.Contains(s, "\n") {
					t.Fatalf("%s: sentence %q is empty or spans lines", in.tool, s)
				}
			}
			res := errorResult(in.tool, err)
			text := res.Content[0].(mcp.TextContent).Text
			if !res.IsError || len(text) > 32<<10 {
				t.Fatalf("%s: tool error isError=%v, %d bytes", in.tool, res.IsError, len(text))
			}
			for _, r := range text {
				if (unicode.IsControl(r) && r != '\n' && r != '\t') || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) ||
					r == 0x200B || (r >= 0xE0000 && r <= 0xE007F) {
					t.Fatalf("%s: the tool error carries %U from the arguments: %q", in.tool, r, text)
				}
			}
		}
	})
}
