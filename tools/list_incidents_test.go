package tools_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// key identifies an incident in comparisons.
type key struct{ ws, src, id string }

func keyOf(r client.IncidentRef) key { return key{r.WorkspaceID, string(r.Source), r.IncidentID} }

// demoVisible are the workspaces the demo credential has a role on.
var demoVisible = []string{emulator.WorkspaceOwnerID, emulator.WorkspaceResponderID, emulator.WorkspaceReaderID}

// expect returns the emulator's own answer: the incidents of workspaces ws
// that satisfy pred.
func (e *env) expect(ws []string, pred func(client.IncidentRef, emulator.IncidentState) bool) map[key]bool {
	out := map[key]bool{}
	for _, ref := range e.emu.Refs() {
		inc, _ := e.emu.Incident(ref)
		if slices.Contains(ws, ref.WorkspaceID) && pred(ref, inc) {
			out[keyOf(ref)] = true
		}
	}
	return out
}

// listAll pages list_incidents from args until hasMore is false and fails
// on a row seen twice.
func (c *conn) listAll(args map[string]any) (map[key]tools.IncidentRow, int) {
	c.t.Helper()
	rows := map[key]tools.IncidentRow{}
	for pages := 1; pages <= 100; pages++ {
		var out tools.ListIncidentsOutput
		c.ok("list_incidents", args, &out)
		for _, r := range out.Incidents {
			k := key{r.WorkspaceID, r.Source, r.IncidentID}
			if _, dup := rows[k]; dup {
				c.t.Fatalf("page %d repeats incident %v", pages, k)
			}
			rows[k] = r
		}
		if !out.HasMore {
			if out.NextCursor != "" {
				c.t.Fatalf("hasMore false with a nextCursor")
			}
			return rows, pages
		}
		if out.NextCursor == "" {
			c.t.Fatalf("hasMore true without a nextCursor")
		}
		// The cursor carries the filters; the limit is per call.
		next := map[string]any{"cursor": out.NextCursor}
		if l, ok := args["limit"]; ok {
			next["limit"] = l
		}
		args = next
	}
	c.t.Fatal("more than 100 pages")
	return nil, 0
}

func sameKeys(t *testing.T, what string, got map[key]tools.IncidentRow, want map[key]bool) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the emulator has no such incident; the test proves nothing", what)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("%s: missing %v", what, k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s: unexpected %v", what, k)
		}
	}
	if t.Failed() {
		t.Fatalf("%s: got %d incidents, want %d", what, len(got), len(want))
	}
}

func created(inc emulator.IncidentState) time.Time {
	ts, _ := time.Parse(time.RFC3339Nano, inc.CreatedAt)
	return ts
}

// TestListIncidentsPagesVisitEveryIncidentOnce walks every page with a page
// size that does not divide the API's, so that the cursor has to point
// inside API pages, and compares with the emulator's own count.
func TestListIncidentsPagesVisitEveryIncidentOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	want := e.expect(demoVisible, func(client.IncidentRef, emulator.IncidentState) bool { return true })

	var first tools.ListIncidentsOutput
	text := c.ok("list_incidents", map[string]any{"limit": 7}, &first)
	if len(first.Incidents) != 7 || !first.HasMore || first.NextCursor == "" {
		t.Fatalf("first page: %d rows, hasMore %t, cursor %q; want 7, true, a cursor", len(first.Incidents), first.HasMore, first.NextCursor)
	}
	wantAll(t, text, "7 incidents", "cursor "+first.NextCursor, "workspaceId="+first.Incidents[0].WorkspaceID,
		"incidentId="+first.Incidents[0].IncidentID)

	rows := map[key]tools.IncidentRow{}
	args := map[string]any{"limit": 13}
	pages := 0
	for ; pages < 200; pages++ {
		var out tools.ListIncidentsOutput
		c.ok("list_incidents", args, &out)
		if len(out.Incidents) > 13 {
			t.Fatalf("page of %d rows, limit 13", len(out.Incidents))
		}
		for _, r := range out.Incidents {
			k := key{r.WorkspaceID, r.Source, r.IncidentID}
			if _, dup := rows[k]; dup {
				t.Fatalf("incident %v shown twice (page %d)", k, pages+1)
			}
			rows[k] = r
		}
		if !out.HasMore {
			break
		}
		args = map[string]any{"cursor": out.NextCursor, "limit": 13}
	}
	sameKeys(t, "every page", rows, want)
	if pages < 2 {
		t.Fatalf("only %d pages; the test needs several", pages+1)
	}
	// Rows carry what the per-incident tools need, and the emulator's values.
	for k, r := range rows {
		inc, _ := e.emu.Incident(client.IncidentRef{WorkspaceID: k.ws, Source: client.Source(k.src), IncidentID: k.id})
		if r.Number != inc.Number || r.Severity != string(inc.Severity) || r.Status != string(inc.Status) || r.Alerts != inc.AlertsCount {
			t.Fatalf("row %+v does not match the emulator's incident %+v", r, inc)
		}
	}
}

// TestListIncidentsFilters compares each filter's complete result with
// the emulator's own selection.
func TestListIncidentsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")

	// An assignee to filter on, taken from the data.
	var email string
	e.findRef(func(ref client.IncidentRef, inc emulator.IncidentState) bool {
		if slices.Contains(demoVisible, ref.WorkspaceID) && inc.Assignee != nil && inc.Assignee.Email != "" {
			email = inc.Assignee.Email
			return true
		}
		return false
	})
	assignedTo := func(inc emulator.IncidentState) bool {
		return inc.Assignee != nil && strings.EqualFold(inc.Assignee.Email, email)
	}
	// A Sentinel incident's id is a GUID found in no other text.
	guid := e.findRef(func(ref client.IncidentRef, _ emulator.IncidentState) bool {
		return ref.WorkspaceID == emulator.WorkspaceResponderID && ref.Source == client.SourceSentinel
	})
	from, to := fixedNow.Add(-10*24*time.Hour), fixedNow.Add(-5*24*time.Hour)

	tests := []struct {
		name string
		args map[string]any
		want func(client.IncidentRef, emulator.IncidentState) bool
	}{
		{"severities", map[string]any{"severities": []string{"High", "Informational"}},
			func(_ client.IncidentRef, i emulator.IncidentState) bool {
				return i.Severity == client.SeverityHigh || i.Severity == client.SeverityInformational
			}},
		{"statuses", map[string]any{"statuses": []string{"New"}},
			func(_ client.IncidentRef, i emulator.IncidentState) bool { return i.Status == client.StatusNew }},
		{"sources", map[string]any{"sources": []string{"QRadar", "Splunk"}},
			func(r client.IncidentRef, _ emulator.IncidentState) bool {
				return r.Source == client.SourceQRadar || r.Source == client.SourceSplunk
			}},
		{"combined", map[string]any{"severities": []string{"Medium"}, "statuses": []string{"Active", "Closed"}, "sources": []string{"Sentinel"}},
			func(r client.IncidentRef, i emulator.IncidentState) bool {
				return r.Source == client.SourceSentinel && i.Severity == client.SeverityMedium && i.Status != client.StatusNew
			}},
		{"relative window", map[string]any{"timeFilterSelection": map[string]any{"type": "TwentyFourHours"}},
			func(_ client.IncidentRef, i emulator.IncidentState) bool {
				return !created(i).Before(fixedNow.Add(-24 * time.Hour))
			}},
		{"custom window", map[string]any{"timeFilterSelection": map[string]any{"type": "Custom",
			"customStartUtc": from.Format(time.RFC3339), "customEndUtc": to.Format(time.RFC3339)}},
			func(_ client.IncidentRef, i emulator.IncidentState) bool {
				ts := created(i)
				return !ts.Before(from) && !ts.After(to)
			}},
		{"custom window with an offset", map[string]any{"timeFilterSelection": map[string]any{"type": "Custom",
			"customStartUtc": from.In(time.FixedZone("", 2*3600)).Format(time.RFC3339),
			"customEndUtc":   to.In(time.FixedZone("", -5*3600)).Format(time.RFC3339)}},
			func(_ client.IncidentRef, i emulator.IncidentState) bool {
				ts := created(i)
				return !ts.Before(from) && !ts.After(to)
			}},
		{"query", map[string]any{"query": "  " + strings.ToUpper(guid.IncidentID) + " "},
			func(r client.IncidentRef, _ emulator.IncidentState) bool { return r == guid }},
		{"assigneeEmails", map[string]any{"assigneeEmails": []string{strings.ToUpper(email)}},
			func(_ client.IncidentRef, i emulator.IncidentState) bool { return assignedTo(i) }},
		{"includeUnassigned alone", map[string]any{"includeUnassigned": true},
			func(_ client.IncidentRef, i emulator.IncidentState) bool { return i.Assignee == nil }},
		{"assigneeEmails and includeUnassigned", map[string]any{"assigneeEmails": []string{email}, "includeUnassigned": true},
			func(_ client.IncidentRef, i emulator.IncidentState) bool { return i.Assignee == nil || assignedTo(i) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &conn{t: t, c: c.c, srv: c.srv}
			args := maps.Clone(tt.args)
			args["limit"] = 100
			got, _ := c.listAll(args)
			sameKeys(t, tt.name, got, e.expect(demoVisible, tt.want))
		})
	}
}

// TestListIncidentsCursorCarriesFilters: follow-up pages given only the
// cursor keep the first page's filters.
func TestListIncidentsCursorCarriesFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	got, pages := c.listAll(map[string]any{"statuses": []string{"Active"}, "severities": []string{"Medium", "High"}, "limit": 5})
	if pages < 3 {
		t.Fatalf("%d pages; the test needs several", pages)
	}
	sameKeys(t, "Active Medium/High", got, e.expect(demoVisible, func(_ client.IncidentRef, i emulator.IncidentState) bool {
		return i.Status == client.StatusActive && (i.Severity == client.SeverityMedium || i.Severity == client.SeverityHigh)
	}))
}

// TestListIncidentsAllowlist: a session whose client is limited to some
// workspaces lists only those, completely.
func TestListIncidentsAllowlist(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sess := e.session(demoCred, func(cfg *client.Config) { cfg.Workspaces = []string{strings.ToUpper(emulator.WorkspaceResponderID)} })
	c := connect(t, sess, "claude-ai")
	got, _ := c.listAll(map[string]any{"limit": 100})
	sameKeys(t, "allowlisted workspace", got, e.expect([]string{emulator.WorkspaceResponderID},
		func(client.IncidentRef, emulator.IncidentState) bool { return true }))
}

// TestListIncidentsEmptyResult: a filter nothing matches is a success with
// no rows, not an error.
func TestListIncidentsEmptyResult(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	var out tools.ListIncidentsOutput
	text := c.ok("list_incidents", map[string]any{"query": "no incident says this 7c1f0e"}, &out)
	if len(out.Incidents) != 0 || out.HasMore || out.NextCursor != "" {
		t.Fatalf("got %+v, want no rows and no more", out)
	}
	wantAll(t, text, "0 incidents")
}

// TestListIncidentsCursorsStaySmall: at every depth of a listing, the
// cursor is a short id (the API's page tokens, 3.6 KB after one page of
// the demo, stay on the server), shown once in the text.
func TestListIncidentsCursorsStaySmall(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	args := map[string]any{"limit": 40}
	pages := 0
	for ; pages < 50; pages++ {
		var out tools.ListIncidentsOutput
		text := c.ok("list_incidents", args, &out)
		if !out.HasMore {
			break
		}
		if n := len(out.NextCursor); n == 0 || n >= 512 {
			t.Fatalf("page %d: cursor of %d bytes, want 1..511", pages+1, n)
		}
		if n := strings.Count(text, out.NextCursor); n != 1 {
			t.Fatalf("page %d: the text shows the cursor %d times, want once:\n%s", pages+1, n, text)
		}
		args = map[string]any{"cursor": out.NextCursor, "limit": 40}
	}
	if pages < 3 {
		t.Fatalf("%d pages; the test needs several API pages", pages+1)
	}
}

// TestListIncidentsCursorScopeAndExpiry: a cursor continues only the
// listing of the credential it was issued to, and only for its lifetime;
// otherwise the agent is told to list again.
func TestListIncidentsCursorScopeAndExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var mu sync.Mutex
	now := fixedNow
	store := tools.NewCursors(tools.CursorOptions{TTL: time.Hour, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	demo, reader := e.session(demoCred), e.session(readerCred)
	deps := func(s *tools.Session) tools.Deps {
		return tools.Deps{Session: func(context.Context) (*tools.Session, error) { return s, nil }, Cursors: store}
	}
	cd, cr := connectDeps(t, deps(demo), "claude-ai"), connectDeps(t, deps(reader), "claude-ai")

	var first tools.ListIncidentsOutput
	cd.ok("list_incidents", map[string]any{"limit": 5}, &first)
	if first.NextCursor == "" {
		t.Fatal("no cursor")
	}
	res := cr.call("list_incidents", map[string]any{"cursor": first.NextCursor})
	if text := textOf(t, res); !res.IsError || !strings.Contains(text, "list again without a cursor") {
		t.Fatalf("another credential redeemed the cursor: isError %t, %s", res.IsError, text)
	}
	var again tools.ListIncidentsOutput
	cd.ok("list_incidents", map[string]any{"cursor": first.NextCursor}, &again) // still valid, and reusable
	cd.ok("list_incidents", map[string]any{"cursor": first.NextCursor}, &again)

	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	res = cd.call("list_incidents", map[string]any{"cursor": first.NextCursor})
	if text := textOf(t, res); !res.IsError || !strings.Contains(text, "expired") || !strings.Contains(text, "list again without a cursor") {
		t.Fatalf("an expired cursor: isError %t, %s", res.IsError, text)
	}
}

// TestListIncidentsTextClaimsOnlyWhatHolds: the tool's description says
// what includeUnassigned does (alone it lists only unassigned incidents,
// as TestListIncidentsFilters checks) and claims no order across pages.
func TestListIncidentsTextClaimsOnlyWhatHolds(t *testing.T) {
	t.Parallel()
	def := tools.ListIncidents(noDeps()).Def
	in := string(def.RawInputSchema)
	wantAll(t, in, "alone, list only unassigned ones")
	if strings.Contains(strings.ToLower(def.Description+in), "newest first") {
		t.Errorf("list_incidents claims an order the API does not guarantee across pages: %s", def.Description)
	}
	wantAll(t, def.Description, "in the API's order (not sorted across pages)")
}

// TestShownTimesAreAcceptedAsInput: the times list_incidents shows are
// RFC 3339 to the second, and the very string shown bounds a window.
func TestShownTimesAreAcceptedAsInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	var out tools.ListIncidentsOutput
	text := c.ok("list_incidents", map[string]any{"limit": 3}, &out)
	shown := out.Incidents[2].Created
	if _, err := time.Parse(time.RFC3339, shown); err != nil || !strings.HasSuffix(shown, "Z") || len(shown) != len("2006-01-02T15:04:05Z") {
		t.Fatalf("created %q is not RFC 3339 UTC with seconds", shown)
	}
	wantAll(t, text, "created "+shown)
	var window tools.ListIncidentsOutput
	c.ok("list_incidents", map[string]any{"timeFilterSelection": map[string]any{"type": "Custom",
		"customStartUtc": shown, "customEndUtc": out.Incidents[0].Created}, "limit": 100}, &window)
	found := false
	for _, r := range window.Incidents {
		found = found || r.IncidentID == out.Incidents[2].IncidentID
	}
	if !found {
		t.Fatalf("the window starting at the shown time %s misses the incident created then", shown)
	}
}
