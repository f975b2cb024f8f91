package emulator_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

func rowKey(r client.IncidentSummary) string {
	return r.WorkspaceID + "|" + string(r.Source) + "|" + r.ID
}

func keysOf(rows []client.IncidentSummary) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = rowKey(r)
	}
	slices.Sort(out)
	return out
}

func createdAfter(d time.Duration) func(client.IncidentSummary) bool {
	return func(r client.IncidentSummary) bool {
		c, _ := time.Parse(time.RFC3339, r.CreationTime)
		return !c.Before(fixedNow.Add(-d))
	}
}

func containsQuery(q string) func(client.IncidentSummary) bool {
	q = strings.ToLower(q)
	return func(r client.IncidentSummary) bool {
		fields := []string{r.Title, r.Description, r.ID, strconv.Itoa(r.Number)}
		for _, en := range entities(r) {
			fields = append(fields, en.Name())
		}
		for _, f := range fields {
			if strings.Contains(strings.ToLower(f), q) {
				return true
			}
		}
		return false
	}
}

// entities decodes a row's entities; the emulator's rows always decode.
func entities(r client.IncidentSummary) []client.Entity {
	es, err := r.Entities.List()
	if err != nil {
		panic(fmt.Sprintf("row %s: %v", r.ID, err))
	}
	return es
}

func TestListFilters(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	all, _ := h.listAll(nil)
	if len(all) < 200 {
		t.Fatalf("unfiltered listing has %d incidents", len(all))
	}
	var host string
	for _, r := range all {
		for _, en := range entities(r) {
			if en.Kind == "host" && host == "" {
				host = en.Name()
			}
		}
	}
	number := strconv.Itoa(all[len(all)/2].Number)
	start, end := fixedNow.Add(-10*24*time.Hour), fixedNow.Add(-5*24*time.Hour)
	cases := []struct {
		name   string
		filter map[string]any
		want   func(client.IncidentSummary) bool
	}{
		{"severities", map[string]any{"severities": []string{"High", "Medium"}},
			func(r client.IncidentSummary) bool { return r.Severity == "High" || r.Severity == "Medium" }},
		{"statuses", map[string]any{"statuses": []string{"Closed"}},
			func(r client.IncidentSummary) bool { return r.Status == client.StatusClosed }},
		{"sources", map[string]any{"sources": []string{"QRadar", "Splunk"}},
			func(r client.IncidentSummary) bool { return r.Source == "QRadar" || r.Source == "Splunk" }},
		{"three hours", map[string]any{"timeFilterSelection": map[string]any{"type": "ThreeHours"}}, createdAfter(3 * time.Hour)},
		{"six hours", map[string]any{"timeFilterSelection": map[string]any{"type": "SixHours"}}, createdAfter(6 * time.Hour)},
		{"twelve hours", map[string]any{"timeFilterSelection": map[string]any{"type": "TwelveHours"}}, createdAfter(12 * time.Hour)},
		{"24 hours", map[string]any{"timeFilterSelection": map[string]any{"type": "TwentyFourHours"}}, createdAfter(24 * time.Hour)},
		{"48 hours", map[string]any{"timeFilterSelection": map[string]any{"type": "FourtyEightHours"}}, createdAfter(48 * time.Hour)},
		{"custom", map[string]any{"timeFilterSelection": map[string]any{"type": "Custom",
			"customStartUtc": start.Format(time.RFC3339), "customEndUtc": end.Format(time.RFC3339)}},
			func(r client.IncidentSummary) bool {
				c, _ := time.Parse(time.RFC3339, r.CreationTime)
				return !c.Before(start) && !c.After(end)
			}},
		{"query in title, any case", map[string]any{"query": "MIMIKATZ"}, containsQuery("mimikatz")},
		{"query on an entity name", map[string]any{"query": host}, containsQuery(host)},
		{"query on a number", map[string]any{"query": number}, containsQuery(number)},
		{"assignee e-mail, any case", map[string]any{"assigneeEmails": []string{"ANALYST@contoso.com"}},
			func(r client.IncidentSummary) bool {
				return r.User.Value != nil && r.User.Value.Email == "analyst@contoso.com"
			}},
		{"assignee id", map[string]any{"assigneeIds": []string{emulator.UserJaneDoeID}},
			func(r client.IncidentSummary) bool {
				return r.User.Value != nil && r.User.Value.ID == emulator.UserJaneDoeID
			}},
		{"includeUnassigned alone: only unassigned", map[string]any{"includeUnassigned": true},
			func(r client.IncidentSummary) bool { return !*r.IsAssigned && r.User.Value == nil }},
		{"assignee plus unassigned", map[string]any{"assigneeIds": []string{emulator.UserJaneDoeID}, "includeUnassigned": true},
			func(r client.IncidentSummary) bool {
				return r.User.Value == nil || r.User.Value.ID == emulator.UserJaneDoeID
			}},
		{"combined", map[string]any{"statuses": []string{"New", "Active"}, "sources": []string{"Sentinel"}, "severities": []string{"High", "Medium"}},
			func(r client.IncidentSummary) bool {
				return r.Status != client.StatusClosed && r.Source == client.SourceSentinel && r.Severity != "Low" && r.Severity != "Informational"
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []client.IncidentSummary
			for _, r := range all {
				if tc.want(r) {
					want = append(want, r)
				}
			}
			if len(want) == 0 {
				t.Fatal("the case selects nothing in the dataset: it would prove nothing")
			}
			got, _ := h.listAll(tc.filter)
			if g, w := keysOf(got), keysOf(want); !slices.Equal(g, w) {
				t.Errorf("got %d incidents, want %d", len(g), len(w))
			}
		})
	}
}

func TestListValidation(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	cases := []struct {
		name string
		body any
		code string
		keys []string
	}{
		{"unknown severity", map[string]any{"severities": []string{"High", "Critical"}}, client.CodeValidation, []string{"severities[1]"}},
		{"unknown status", map[string]any{"statuses": []string{"Open"}}, client.CodeValidation, []string{"statuses[0]"}},
		{"unknown source", map[string]any{"sources": []string{"Sentinel", "Sentinel", "Defender"}}, client.CodeValidation, []string{"sources[2]"}},
		{"unknown time filter", map[string]any{"timeFilterSelection": map[string]any{"type": "LastWeek"}}, client.CodeValidation, []string{"timeFilterSelection.type"}},
		// Only the older data-models page listed these two windows.
		{"SevenDays", map[string]any{"timeFilterSelection": map[string]any{"type": "SevenDays"}}, client.CodeValidation, []string{"timeFilterSelection.type"}},
		{"ThirtyDays", map[string]any{"timeFilterSelection": map[string]any{"type": "ThirtyDays"}}, client.CodeValidation, []string{"timeFilterSelection.type"}},
		{"missing time filter type", map[string]any{"timeFilterSelection": map[string]any{}}, client.CodeValidation, []string{"timeFilterSelection.type"}},
		{"custom without bounds", map[string]any{"timeFilterSelection": map[string]any{"type": "Custom"}}, client.CodeValidation,
			[]string{"timeFilterSelection.customEndUtc", "timeFilterSelection.customStartUtc"}},
		{"custom without end", map[string]any{"timeFilterSelection": map[string]any{"type": "Custom", "customStartUtc": "2026-04-01T00:00:00Z"}},
			client.CodeValidation, []string{"timeFilterSelection.customEndUtc"}},
		{"custom start after end", map[string]any{"timeFilterSelection": map[string]any{"type": "Custom",
			"customStartUtc": "2026-04-10T00:00:00Z", "customEndUtc": "2026-04-01T00:00:00Z"}}, client.CodeValidation, []string{"timeFilterSelection"}},
		{"custom bad date", map[string]any{"timeFilterSelection": map[string]any{"type": "Custom",
			"customStartUtc": "yesterday", "customEndUtc": "2026-04-01T00:00:00Z"}}, client.CodeValidation, []string{"timeFilterSelection.customStartUtc"}},
		{"several errors at once", map[string]any{"severities": []string{"Severe"}, "statuses": []string{"Done"}}, client.CodeValidation,
			[]string{"severities[0]", "statuses[0]"}},
		{"wrong JSON type", rawBody(`{"severities": "High"}`), client.CodeValidation, []string{"severities"}},
		{"malformed JSON", rawBody(`{"severities": [`), client.CodeBadRequest, nil},
		{"not an object", rawBody(`[]`), client.CodeBadRequest, nil},
		{"empty body", rawBody(``), client.CodeBadRequest, nil},
		{"trailing garbage", rawBody(`{} {}`), client.CodeBadRequest, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := problemOf(t, h.do(http.MethodPost, listPath, tc.body), http.StatusBadRequest, tc.code)
			for _, k := range tc.keys {
				fieldError(t, p, k)
			}
			if len(p.Errors) != len(tc.keys) {
				t.Errorf("errors = %v, want exactly the keys %v", p.Errors, tc.keys)
			}
		})
	}
	// Unknown members are ignored, as the vendor's ASP.NET API does.
	h.do(http.MethodPost, listPath, rawBody(`{"isFirstCall": true, "pageSize": 5, "colour": "blue"}`)).expect(t, http.StatusOK)
}

// TestListAcceptsClientWireTypes checks the emulator reads the request as
// package client writes it.
func TestListAcceptsClientWireTypes(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	start, end := fixedNow.Add(-20*24*time.Hour), fixedNow
	f := client.IncidentFilter{
		Severities: []client.Severity{client.SeverityHigh, client.SeverityMedium}, Statuses: []client.Status{client.StatusClosed},
		Sources:             []client.Source{client.SourceSentinel, client.SourceDefenderXDR},
		TimeFilterSelection: &client.TimeFilter{Type: client.TimeCustom, CustomStartUTC: &start, CustomEndUTC: &end},
		AssigneeEmails:      []string{"jane.doe@contoso.com"}, IncludeUnassigned: true,
	}
	req := client.ListIncidentsRequest{IncidentFilter: f, IsFirstCall: true}
	var got []client.IncidentSummary
	for range 50 {
		d := data[client.ListIncidentsData](t, h.do(http.MethodPost, listPath, req).expect(t, http.StatusOK))
		got = append(got, d.Incidents...)
		if !*d.HasMore {
			break
		}
		req.IsFirstCall, req.WorkspacePageTokens = false, d.WorkspacePageTokens
	}
	want, _ := h.listAll(map[string]any{"severities": []string{"High", "Medium"}, "statuses": []string{"Closed"},
		"sources": []string{"Sentinel", "DefenderXDR"}, "assigneeEmails": []string{"jane.doe@contoso.com"}, "includeUnassigned": true,
		"timeFilterSelection": map[string]any{"type": "Custom", "customStartUtc": start.Format(time.RFC3339), "customEndUtc": end.Format(time.RFC3339)}})
	if len(want) == 0 || !slices.Equal(keysOf(got), keysOf(want)) {
		t.Errorf("client wire request: %d incidents, map request: %d", len(got), len(want))
	}
}
