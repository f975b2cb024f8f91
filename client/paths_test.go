package client

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// seenRequest is what the server observed of one request.
type seenRequest struct {
	method, escapedPath, rawPath, rawQuery string
}

// recorder answers every request with body and records what it saw.
type recorder struct {
	mu   sync.Mutex
	seen []seenRequest
	body string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.seen = append(rc.seen, seenRequest{r.Method, r.URL.EscapedPath(), r.URL.RawPath, r.URL.RawQuery})
	rc.mu.Unlock()
	if r.Method == http.MethodGet && (strings.HasSuffix(r.URL.EscapedPath(), "/comments") || strings.HasSuffix(r.URL.EscapedPath(), "/users")) {
		writeJSON(w, http.StatusOK, okEnvelope(`[]`))
		return
	}
	writeJSON(w, http.StatusOK, rc.body)
}

func (rc *recorder) take() []seenRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	s := rc.seen
	rc.seen = nil
	return s
}

// No id, however crafted, can change the path or the query the client
// sends: it is either refused locally or arrives as exactly one segment.
func TestPathParametersCannotChangeTheRequest(t *testing.T) {
	crafted := []struct {
		id      string
		refused bool
	}{
		{"", true}, {".", true}, {"..", true}, {"line\nbreak", true}, {"tab\tid", true}, {"nul\x00", true},
		{strings.Repeat("x", maxPathParamLen+1), true},
		{"../x", false}, {"../../users", false}, {"a/b", false}, {"/", false}, {"//", false},
		{"%2F", false}, {"%2e%2e", false}, {"..%2F..%2F", false}, {"?x=1", false}, {"a?withDetails=false", false},
		{"#frag", false}, {"a b", false}, {"a+b", false}, {"x;y,z", false}, {`\..\`, false},
		{"ünïcødé-事件", false}, {"\u202egnp.exe", false}, {"...", false}, {"inc:abc/def", false}, {"a%00b", false},
	}
	positions := []struct {
		name string
		ref  func(string) IncidentRef
	}{
		{"workspaceId", func(s string) IncidentRef { r := testRef; r.WorkspaceID = s; return r }},
		{"source", func(s string) IncidentRef { r := testRef; r.Source = Source(s); return r }},
		{"incidentId", func(s string) IncidentRef { r := testRef; r.IncidentID = s; return r }},
	}
	ops := []struct {
		name      string
		tail      []string
		wantQuery string
		call      func(*Client, IncidentRef) error
	}{
		{"get incident", nil, "withDetails=true", func(c *Client, r IncidentRef) error {
			_, err := c.GetIncident(context.Background(), r, true)
			return err
		}},
		{"list comments", []string{"comments"}, "", func(c *Client, r IncidentRef) error {
			_, err := c.ListComments(context.Background(), r)
			return err
		}},
		{"update status", []string{"status"}, "", func(c *Client, r IncidentRef) error {
			_, err := c.UpdateStatus(context.Background(), r, UpdateStatusRequest{Status: StatusActive})
			return err
		}},
	}
	rec := &recorder{body: okEnvelope(`{}`)}
	c, _, _ := newTestClient(t, rec)
	for _, op := range ops {
		for _, pos := range positions {
			for _, cr := range crafted {
				ref := pos.ref(cr.id)
				err := op.call(c, ref)
				seen := rec.take()
				name := op.name + "/" + pos.name + "/" + strconvQuote(cr.id)
				if cr.refused {
					e, ok := AsAPIError(err)
					if !ok || e.Code != CodeBadRequest || e.Status != 0 || e.Target != pos.name {
						t.Errorf("%s: error = %v, want a local BAD_REQUEST naming %s", name, err, pos.name)
					}
					if len(seen) != 0 {
						t.Errorf("%s: refused id was sent: %+v", name, seen)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if len(seen) != 1 {
					t.Fatalf("%s: server saw %d requests", name, len(seen))
				}
				want := append([]string{"", "api", "v2", "workspaces", ref.WorkspaceID, "incidents", string(ref.Source), ref.IncidentID}, op.tail...)
				segs := strings.Split(seen[0].escapedPath, "/")
				if len(segs) != len(want) {
					t.Errorf("%s: path %q has %d segments, want %d", name, seen[0].escapedPath, len(segs), len(want))
					continue
				}
				for i, s := range segs {
					dec, err := url.PathUnescape(s)
					if err != nil || dec != want[i] {
						t.Errorf("%s: segment %d = %q (decoded %q), want %q", name, i, s, dec, want[i])
					}
				}
				if seen[0].rawQuery != op.wantQuery {
					t.Errorf("%s: query = %q, want %q", name, seen[0].rawQuery, op.wantQuery)
				}
			}
		}
	}
}

func strconvQuote(s string) string {
	if len(s) > 20 {
		s = s[:20] + "…"
	}
	return url.PathEscape(s)
}

// Every operation uses its documented method and path.
func TestOperationPaths(t *testing.T) {
	rec := &recorder{body: okEnvelope(`{}`)}
	c, _, _ := newTestClient(t, rec)
	ctx := context.Background()
	ref := IncidentRef{WorkspaceID: testWS, Source: SourceCrowdStrike, IncidentID: "inc:42"}
	base := "/api/v2/workspaces/" + testWS + "/incidents/CrowdStrike/inc:42"
	tests := []struct {
		call  func() error
		want  seenRequest
		label string
	}{
		{func() error { _, err := c.GetIncident(ctx, ref, false); return err }, seenRequest{method: "GET", escapedPath: base, rawQuery: "withDetails=false"}, "get"},
		{func() error { _, err := c.ListComments(ctx, ref); return err }, seenRequest{method: "GET", escapedPath: base + "/comments"}, "comments"},
		{func() error { _, _, err := c.AddComment(ctx, ref, AddCommentRequest{Content: "x"}); return err }, seenRequest{method: "POST", escapedPath: base + "/comments"}, "add comment"},
		{func() error {
			_, err := c.UpdateStatus(ctx, ref, UpdateStatusRequest{Status: StatusActive})
			return err
		}, seenRequest{method: "PUT", escapedPath: base + "/status"}, "status"},
		{func() error { _, err := c.Assign(ctx, ref, AssignRequest{Email: "a@b.c"}); return err }, seenRequest{method: "PUT", escapedPath: base + "/assignee"}, "assign"},
		{func() error { _, err := c.GetEvidence(ctx, ref); return err }, seenRequest{method: "GET", escapedPath: base + "/evidence"}, "evidence"},
		{func() error { _, err := c.ListUsers(ctx); return err }, seenRequest{method: "GET", escapedPath: "/api/v2/users"}, "users"},
		{func() error { _, err := c.ListIncidents(ctx, IncidentFilter{}, PageToken{}); return err }, seenRequest{method: "POST", escapedPath: "/api/v2/incidents/across-workspaces"}, "list"},
	}
	for _, tt := range tests {
		if err := tt.call(); err != nil {
			t.Errorf("%s: %v", tt.label, err)
			continue
		}
		seen := rec.take()
		if len(seen) != 1 {
			t.Fatalf("%s: %d requests", tt.label, len(seen))
		}
		seen[0].rawPath = ""
		if seen[0] != tt.want {
			t.Errorf("%s: sent %+v, want %+v", tt.label, seen[0], tt.want)
		}
	}
}
