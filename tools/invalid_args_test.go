package tools_test

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// TestInvalidArguments: every bad input ends in a tool error (not a
// protocol error) whose sentence names the argument and what is allowed,
// and no request reaches the API.
func TestInvalidArguments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	sentinel := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceSentinel))
	defender := e.findRef(open(emulator.WorkspaceOwnerID, client.SourceDefenderXDR))
	at := func(ref client.IncidentRef, extra map[string]any) map[string]any { return refArgs(ref, extra) }
	without := func(m map[string]any, k string) map[string]any {
		m = maps.Clone(m)
		delete(m, k)
		return m
	}
	// A real cursor, to pair with filters.
	var page tools.ListIncidentsOutput
	c.ok("list_incidents", map[string]any{"limit": 1}, &page)
	start, end := fixedNow.Add(-48*time.Hour).Format(time.RFC3339), fixedNow.Add(-24*time.Hour).Format(time.RFC3339)

	tests := []struct {
		name string
		tool string
		args map[string]any
		want []string
	}{
		{"unknown argument with a likely typo", "list_incidents", map[string]any{"severity": []string{"High"}},
			[]string{`unknown argument "severity"`, `did you mean "severities"?`, "allowed arguments: severities, statuses"}},
		{"unknown argument on a per-incident tool", "get_incident", at(sentinel, map[string]any{"withDetails": true}),
			[]string{`unknown argument "withDetails"`, "workspaceId, source, incidentId"}},
		{"status outside its enum", "update_status", at(sentinel, map[string]any{"status": "Resolved"}),
			[]string{`"status"`, `"Resolved"`, "Active, New, Closed"}},
		{"severity outside its enum, in a list", "list_incidents", map[string]any{"severities": []string{"High", "Critical"}},
			[]string{`"severities[1]"`, `"Critical"`, "Informational, Low, Medium, High"}},
		{"source outside its enum", "get_incident", at(sentinel, map[string]any{"source": "Defender"}),
			[]string{`"source"`, `"Defender"`, `did you mean "DefenderXDR"?`, "Sentinel, DefenderXDR, QRadar, Splunk, CrowdStrike, SentinelOne"}},
		{"missing incidentId", "get_incident", without(at(sentinel, nil), "incidentId"),
			[]string{`missing required argument "incidentId"`}},
		{"empty incidentId", "add_comment", at(sentinel, map[string]any{"incidentId": "", "content": "x"}),
			[]string{`missing required argument "incidentId"`}},
		{"limit as a word", "list_incidents", map[string]any{"limit": "ten"},
			[]string{`"limit"`, "integer"}},
		{"limit out of range", "list_incidents", map[string]any{"limit": 500},
			[]string{`"limit"`, "100"}},
		{"severities as a string", "list_incidents", map[string]any{"severities": "High"},
			[]string{`"severities"`, "array"}},
		{"closing without a comment", "update_status", at(defender, map[string]any{"status": "Closed"}),
			[]string{`"comment"`, "Closed"}},
		{"closing Sentinel without a verdict", "update_status", at(sentinel, map[string]any{"status": "Closed", "comment": "done"}),
			[]string{`"classification"`, `"classificationReason"`, "Sentinel", "TruePositive, Undetermined", "SuspiciousActivity, SuspiciousButExpected"}},
		{"updateTicket without ticketId", "update_status", at(defender, map[string]any{"status": "Active", "updateTicket": true}),
			[]string{`"ticketId"`, "updateTicket"}},
		{"assign naming nobody", "assign", at(defender, nil),
			[]string{"give userId or email (or both)"}},
		{"cursor with filters", "list_incidents", map[string]any{"cursor": page.NextCursor, "statuses": []string{"New"}},
			[]string{"either cursor or filters, not both"}},
		{"garbage cursor", "list_incidents", map[string]any{"cursor": "not-a-cursor!"},
			[]string{`"cursor"`, "not one this server issued", "list again without a cursor"}},
		{"forged cursor", "list_incidents", map[string]any{"cursor": "eyJmIjp7fSwicCI6e30sInMiOi0xfQ"},
			[]string{`"cursor"`, "not one this server issued"}},
		{"custom window without bounds", "list_incidents", map[string]any{"timeFilterSelection": map[string]any{"type": "Custom"}},
			[]string{`"timeFilterSelection"`, "customStartUtc", "customEndUtc"}},
		{"custom window reversed", "list_incidents", map[string]any{"timeFilterSelection": map[string]any{
			"type": "Custom", "customStartUtc": end, "customEndUtc": start}},
			[]string{`"timeFilterSelection.customStartUtc"`, "before customEndUtc"}},
		{"custom bound not a date", "list_incidents", map[string]any{"timeFilterSelection": map[string]any{
			"type": "Custom", "customStartUtc": "yesterday", "customEndUtc": end}},
			[]string{`"timeFilterSelection.customStartUtc"`, "yesterday"}},
		{"bounds on a relative window", "list_incidents", map[string]any{"timeFilterSelection": map[string]any{
			"type": "TwentyFourHours", "customStartUtc": start}},
			[]string{`"timeFilterSelection"`, `"Custom"`}},
		{"whitespace-only comment", "add_comment", at(sentinel, map[string]any{"content": " \n\t "}),
			[]string{`"content"`, "blank"}},
		{"whoami takes nothing", "whoami", map[string]any{"workspaceId": emulator.WorkspaceOwnerID},
			[]string{`unknown argument "workspaceId"`}},
		{"role outside its enum", "list_users", map[string]any{"role": "Analyst"},
			[]string{`"role"`, "Owner, ContentAdmin, IncidentResponder, IncidentAnalyst, WorkspaceReader"}},
		{"entity kind outside its enum", "find_related_incidents", at(sentinel, map[string]any{"entityKind": "Planet"}),
			[]string{`"entityKind"`, "Account, Host, Ip, File, Url"}},
		{"an entity without its kind", "find_related_incidents", at(sentinel, map[string]any{"entity": "jane@contoso.com"}),
			[]string{`"entityKind"`, "required with entity"}},
		{"a window the API does not know", "find_related_incidents", at(sentinel, map[string]any{"window": "SevenDays"}),
			[]string{`"window"`, "ThreeHours", "FourtyEightHours"}},
		{"a custom window without its start", "find_related_incidents", at(sentinel, map[string]any{"window": "Custom"}),
			[]string{`"since"`, "Custom"}},
		{"run_gamebook without a gamebook", "run_gamebook", at(defender, nil),
			[]string{`missing required argument "gamebookId"`}},
		{"a repeated action", "run_gamebook", at(defender, map[string]any{"gamebookId": "g", "playbookIds": []string{"a", "a"}}),
			[]string{`"playbookIds[1]"`, "repeats"}},
		{"a batch of none", "bulk_update", map[string]any{"incidents": []any{}, "status": "Active"},
			[]string{`"incidents"`, "1"}},
		{"a batch of 51", "bulk_update", map[string]any{"incidents": slices.Repeat([]any{at(defender, nil)}, 51), "status": "Active"},
			[]string{`"incidents"`, "50"}},
		{"a batch item without its source", "bulk_update", map[string]any{"incidents": []any{without(at(defender, nil), "source")}, "status": "Active"},
			[]string{`"incidents[0].source"`}},
		{"closing a batch without a comment", "bulk_update", map[string]any{"incidents": []any{at(defender, nil)}, "status": "Closed"},
			[]string{`"comment"`, "Closed"}},
		{"an assignee and unassigning", "bulk_update", map[string]any{"incidents": []any{at(defender, nil)}, "email": "a@b.c", "removeAssignee": true},
			[]string{`"removeAssignee"`, "userId or email"}},
		{"a verdict without closing", "bulk_update", map[string]any{"incidents": []any{at(defender, nil)}, "status": "Active", "classification": "FalsePositive"},
			[]string{`"classification"`, "Closed"}},
	}
	before := e.emu.Stats().Requests
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &conn{t: t, c: c.c, srv: c.srv}
			text := c.fail(tt.tool, tt.args)
			if !strings.HasPrefix(text, "Invalid arguments for "+tt.tool+": ") {
				t.Errorf("sentence does not say the arguments are at fault: %s", text)
			}
			wantAll(t, text, tt.want...)
		})
	}
	if after := e.emu.Stats().Requests; !reflect.DeepEqual(after, before) {
		t.Errorf("invalid arguments reached the API: requests %v, before %v", after, before)
	}
}

// TestInvalidArgumentsAllAtOnce: several problems come back together so
// that an agent fixes them in one retry.
func TestInvalidArgumentsAllAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	text := c.fail("update_status", map[string]any{"source": "Sentinel", "status": "Resolved", "dryrun": true})
	wantAll(t, text, `"workspaceId"`, `"incidentId"`, `"Resolved"`, `"dryrun"`, `did you mean "dryRun"?`)
}
