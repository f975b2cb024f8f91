package resources_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/resources"
)

// complete asks for completions of one argument of the incident template.
func complete(t *testing.T, s *session, uri, arg, value string, ctxArgs map[string]string) *mcp.Completion {
	t.Helper()
	res, err := s.Complete(t.Context(), mcp.CompleteRequest{Params: mcp.CompleteParams{
		Ref:      mcp.ResourceReference{Type: "ref/resource", URI: uri},
		Argument: mcp.CompleteArgument{Name: arg, Value: value},
		Context:  mcp.CompleteContext{Arguments: ctxArgs},
	}})
	if err != nil {
		t.Fatalf("complete %s=%q: %v", arg, value, err)
	}
	return &res.Completion
}

func TestCompleteEnumerations(t *testing.T) {
	e := newEnv(t)
	s := e.connect(t, true)
	tests := []struct {
		arg, value string
		want       []string
	}{
		{"source", "", client.EnumStrings[client.Source]()},
		{"source", "s", []string{"Sentinel", "Splunk", "SentinelOne"}},
		{"source", "SENTINEL", []string{"Sentinel", "SentinelOne"}},
		{"source", "x", []string{}},
		{"status", "c", []string{"Closed"}},
		{"classification", "false", []string{"FalsePositive"}},
		{"classificationReason", "su", []string{"SuspiciousActivity", "SuspiciousButExpected"}},
	}
	for _, tt := range tests {
		got := complete(t, s, resources.IncidentTemplate, tt.arg, tt.value, nil)
		if !slices.Equal(got.Values, tt.want) || got.HasMore {
			t.Errorf("complete %s=%q = %v (hasMore %v), want %v", tt.arg, tt.value, got.Values, got.HasMore, tt.want)
		}
	}
	// Another server's URI gets nothing.
	if got := complete(t, s, "file:///{path}", "source", "", nil); len(got.Values) != 0 {
		t.Errorf("foreign template completed: %v", got.Values)
	}
}

func TestCompleteWorkspaces(t *testing.T) {
	e := newEnv(t)
	s := e.connect(t, true)
	got := complete(t, s, resources.CommentsTemplate, "workspaceId", "", nil)
	want := []string{emulator.WorkspaceOwnerID, emulator.WorkspaceResponderID, emulator.WorkspaceReaderID}
	slices.Sort(want)
	if !slices.Equal(got.Values, want) {
		t.Fatalf("workspaces = %v, want the demo credential's %v", got.Values, want)
	}
	// By an id's prefix, ignoring case, and by the workspace's name.
	got = complete(t, s, resources.IncidentTemplate, "workspaceId", strings.ToUpper(emulator.WorkspaceReaderID[:4]), nil)
	if !slices.Equal(got.Values, []string{emulator.WorkspaceReaderID}) {
		t.Errorf("by id prefix: %v", got.Values)
	}
	var name string
	for _, w := range e.emu.Workspaces() {
		if w.ID == emulator.WorkspaceResponderID {
			name = w.Name
		}
	}
	got = complete(t, s, resources.IncidentTemplate, "workspaceId", strings.ToLower(name[:5]), nil)
	if !slices.Contains(got.Values, emulator.WorkspaceResponderID) {
		t.Errorf("by name prefix %q: %v", name[:5], got.Values)
	}
}

func TestCompleteIncidentIDs(t *testing.T) {
	e := newEnv(t)
	s := e.connect(t, true)

	// Narrowed by the workspace and source already chosen.
	ws, src := emulator.WorkspaceResponderID, client.SourceSentinelOne
	got := complete(t, s, resources.IncidentTemplate, "incidentId", "",
		map[string]string{"workspaceId": ws, "source": string(src)})
	if len(got.Values) == 0 {
		t.Fatal("no incident ids")
	}
	for _, id := range got.Values {
		if _, ok := e.emu.Incident(client.IncidentRef{WorkspaceID: ws, Source: src, IncidentID: id}); !ok {
			t.Errorf("%s is not a %s incident of workspace %s", id, src, ws)
		}
	}
	// A prefix narrows further.
	prefix := got.Values[0][:len(got.Values[0])-1]
	narrowed := complete(t, s, resources.IncidentTemplate, "incidentId", prefix,
		map[string]string{"workspaceId": ws, "source": string(src)})
	if !slices.Contains(narrowed.Values, got.Values[0]) {
		t.Errorf("prefix %q: %v lacks %s", prefix, narrowed.Values, got.Values[0])
	}
	for _, id := range narrowed.Values {
		if !strings.HasPrefix(id, prefix) {
			t.Errorf("prefix %q completed to %s", prefix, id)
		}
	}

	// Unnarrowed, the first page has more than 100 incidents: 100 values and hasMore.
	all := complete(t, s, resources.IncidentTemplate, "incidentId", "", nil)
	if len(all.Values) != 100 || !all.HasMore || all.Total <= 100 {
		t.Errorf("unnarrowed: %d values, hasMore %v, total %d; want 100, true, >100", len(all.Values), all.HasMore, all.Total)
	}
}

func TestCompleteCachesListCalls(t *testing.T) {
	e := newEnv(t)
	s := e.connect(t, true)
	before := e.emu.Stats().Requests[emulator.EndpointListIncidents]
	parallel(8, func(int) {
		_, err := s.Complete(t.Context(), mcp.CompleteRequest{Params: mcp.CompleteParams{
			Ref:      mcp.ResourceReference{Type: "ref/resource", URI: resources.IncidentTemplate},
			Argument: mcp.CompleteArgument{Name: "workspaceId"},
		}})
		if err != nil {
			t.Error(err) // not Fatal: this is not the test's goroutine
		}
	})
	complete(t, s, resources.IncidentTemplate, "incidentId", "", map[string]string{"workspaceId": emulator.WorkspaceOwnerID})
	if n := e.emu.Stats().Requests[emulator.EndpointListIncidents] - before; n != 1 {
		t.Errorf("%d list calls for nine completions within the cache's lifetime, want 1", n)
	}
}
