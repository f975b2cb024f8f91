package resources_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/resources"
)

func TestListsTemplatesAndStaticResources(t *testing.T) {
	e := newEnv(t)
	s := e.connect(t, true)

	tl, err := s.ListResourceTemplates(t.Context(), mcp.ListResourceTemplatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		resources.IncidentTemplate: "incident",
		resources.CommentsTemplate: "incident-comments",
		resources.EvidenceTemplate: "incident-evidence",
	}
	if len(tl.ResourceTemplates) != len(want) {
		t.Fatalf("got %d templates, want %d", len(tl.ResourceTemplates), len(want))
	}
	for _, rt := range tl.ResourceTemplates {
		uri := rt.URITemplate.Raw()
		if want[uri] != rt.Name {
			t.Errorf("template %s named %q, want %q", uri, rt.Name, want[uri])
		}
		if rt.MIMEType != "application/json" || rt.Title == "" || rt.Description == "" {
			t.Errorf("template %s: mimeType %q, title %q, description %q", uri, rt.MIMEType, rt.Title, rt.Description)
		}
	}

	rl, err := s.ListResources(t.Context(), mcp.ListResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.Resources) != 1 || rl.Resources[0].URI != resources.ClosurePolicyURI || rl.Resources[0].MIMEType != "text/markdown" {
		t.Fatalf("static resources = %+v, want only the closure policy (text/markdown)", rl.Resources)
	}
}

// readText reads a resource and returns its single text content.
func readText(t *testing.T, s *session, uri string) (mcp.TextResourceContents, error) {
	t.Helper()
	res, err := s.ReadResource(t.Context(), mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: uri}})
	if err != nil {
		return mcp.TextResourceContents{}, err
	}
	if len(res.Contents) != 1 {
		t.Fatalf("%s: %d contents, want 1", uri, len(res.Contents))
	}
	tc, ok := mcp.AsTextResourceContents(res.Contents[0])
	if !ok {
		t.Fatalf("%s: contents are %T, want text", uri, res.Contents[0])
	}
	return *tc, nil
}

func TestReadIncidentResources(t *testing.T) {
	e := newEnv(t)
	s := e.connect(t, true)
	ref := e.pick(t, client.SourceSentinel)
	detail, err := e.api.GetIncident(t.Context(), ref, true)
	if err != nil {
		t.Fatal(err)
	}
	comments := e.emu.Comments(ref)

	t.Run("incident", func(t *testing.T) {
		tc, err := readText(t, s, resources.IncidentURI(ref))
		if err != nil {
			t.Fatal(err)
		}
		var doc resources.IncidentDocument
		if err := json.Unmarshal([]byte(tc.Text), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, tc.Text)
		}
		if tc.MIMEType != "application/json" || tc.URI != resources.IncidentURI(ref) {
			t.Errorf("mimeType %q uri %q", tc.MIMEType, tc.URI)
		}
		inc := doc.Incident
		if inc.Title != detail.Incident.Title || inc.IncidentID != ref.IncidentID || inc.Source != string(ref.Source) ||
			inc.WorkspaceID != ref.WorkspaceID || inc.Status != string(detail.Incident.Status) {
			t.Errorf("incident view %+v does not match the API's %+v", inc, detail.Incident)
		}
		if len(doc.Alerts) == 0 || doc.Alerts[0].Title != detail.InvestigationDetails.Alerts[0].Title {
			t.Errorf("alerts %+v, want the first titled %q", doc.Alerts, detail.InvestigationDetails.Alerts[0].Title)
		}
		if len(doc.Entities) == 0 {
			t.Error("no entities")
		}
		if doc.Related.Comments != resources.CommentsURI(ref) || doc.Related.Evidence != resources.EvidenceURI(ref) {
			t.Errorf("related = %+v", doc.Related)
		}
	})
	t.Run("comments", func(t *testing.T) {
		tc, err := readText(t, s, resources.CommentsURI(ref))
		if err != nil {
			t.Fatal(err)
		}
		var doc resources.CommentsDocument
		if err := json.Unmarshal([]byte(tc.Text), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Total != len(comments) || len(doc.Comments) != min(len(comments), 20) {
			t.Fatalf("total %d, shown %d; the incident has %d comments", doc.Total, len(doc.Comments), len(comments))
		}
		last := comments[len(comments)-1]
		if got := doc.Comments[len(doc.Comments)-1]; !strings.HasPrefix(last.Message, strings.TrimSuffix(got.Text, "…")) {
			t.Errorf("last comment %q, want %q", got.Text, last.Message)
		}
	})
	t.Run("evidence", func(t *testing.T) {
		ev, err := e.api.GetEvidence(t.Context(), ref)
		if err != nil {
			t.Fatal(err)
		}
		tc, err := readText(t, s, resources.EvidenceURI(ref))
		if err != nil {
			t.Fatal(err)
		}
		var doc resources.EvidenceDocument
		if err := json.Unmarshal([]byte(tc.Text), &doc); err != nil {
			t.Fatal(err)
		}
		if len(ev.Rows) == 0 {
			if doc.Evidence != nil {
				t.Fatalf("evidence %+v for an empty table", doc.Evidence)
			}
			return
		}
		if doc.Evidence == nil || doc.Evidence.RowCount != len(ev.Rows) || len(doc.Evidence.Columns) != len(ev.Columns) {
			t.Fatalf("evidence %+v, want %d rows of %d columns", doc.Evidence, len(ev.Rows), len(ev.Columns))
		}
	})
}

func TestReadSanitizesAndEncodesIDs(t *testing.T) {
	e := newEnv(t)
	s := e.connect(t, true)

	// An id with "/", "%", "@" and a space: only the encoded URI addresses it.
	ref := tricky(t, emulator.TrickyPathUnsafeID)
	uri := resources.IncidentURI(ref)
	if strings.Contains(strings.TrimPrefix(uri, "contraforce://"), ref.IncidentID) {
		t.Fatalf("URI %s holds the raw id %q", uri, ref.IncidentID)
	}
	tc, err := readText(t, s, uri)
	if err != nil {
		t.Fatalf("read %s: %v", uri, err)
	}
	if !strings.Contains(tc.Text, `"incidentId":"`+ref.IncidentID+`"`) {
		t.Errorf("document does not name incident %q:\n%s", ref.IncidentID, tc.Text)
	}

	// Bidi overrides become visible markers; invisible characters go.
	for _, name := range []string{emulator.TrickyBidiOverride, emulator.TrickyControlChars} {
		ref := tricky(t, name)
		for _, uri := range []string{resources.IncidentURI(ref), resources.CommentsURI(ref), resources.EvidenceURI(ref)} {
			tc, err := readText(t, s, uri)
			if err != nil {
				t.Fatal(err)
			}
			if i := strings.IndexFunc(tc.Text, func(r rune) bool { return r == '\u202e' || r == '\u200b' || r == '\x1b' }); i >= 0 {
				t.Errorf("%s: control character at %d: %q", uri, i, tc.Text[max(0, i-20):min(len(tc.Text), i+20)])
			}
		}
	}
	tc, err = readText(t, s, resources.IncidentURI(tricky(t, emulator.TrickyBidiOverride)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tc.Text, "[U+202E]") {
		t.Errorf("the right-to-left override is not marked:\n%s", tc.Text)
	}
}

func TestReadErrors(t *testing.T) {
	e := newEnv(t)
	s := e.connect(t, true)
	visible := e.pick(t, client.SourceDefenderXDR)
	missing := visible
	missing.IncidentID = "no-such-incident"
	noRole := visible
	noRole.WorkspaceID = emulator.WorkspaceNoRoleID

	tests := []struct {
		name string
		uri  string
		want []string
	}{
		{"not found", resources.IncidentURI(missing), []string{"resource not found", client.CodeNotFound, "request", "list_incidents"}},
		{"comments not found", resources.CommentsURI(missing), []string{client.CodeNotFound}},
		{"no role on workspace", resources.EvidenceURI(noRole), []string{client.CodeInsufficientWorkspaceRole, "administrator"}},
		{"unknown source", "contraforce://workspaces/" + visible.WorkspaceID + "/incidents/Nope/1", []string{"not an incident resource URI", "Sentinel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readText(t, s, tt.uri)
			if err == nil {
				t.Fatalf("read %s succeeded", tt.uri)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), emulator.DemoClientSecret) {
				t.Error("the error reveals the client secret")
			}
		})
	}
}

func TestClosurePolicy(t *testing.T) {
	e := newEnv(t)
	s := e.connect(t, true)
	tc, err := readText(t, s, resources.ClosurePolicyURI)
	if err != nil {
		t.Fatal(err)
	}
	if tc.MIMEType != "text/markdown" {
		t.Errorf("mimeType %q", tc.MIMEType)
	}
	var want []string
	want = append(want, client.EnumStrings[client.Source]()...)
	want = append(want, client.EnumStrings[client.Status]()...)
	want = append(want, client.EnumStrings[client.Severity]()...)
	want = append(want, client.EnumStrings[client.Classification]()...)
	want = append(want, client.EnumStrings[client.ClassificationReason]()...)
	for _, v := range want {
		if !strings.Contains(tc.Text, "`"+v+"`") {
			t.Errorf("the policy does not list %q", v)
		}
	}
	flat := strings.Join(strings.Fields(tc.Text), " ")
	for _, rule := range []string{"needs a comment", "requires both `classification` and `classificationReason`",
		"requires `ticketId`",
		"`QRadar`, `Splunk`, `CrowdStrike`, `SentinelOne` do **not** record them: a verdict sent for those is not kept, so write the verdict and its reason in the closing comment"} {
		if !strings.Contains(flat, rule) {
			t.Errorf("the policy does not state %q", rule)
		}
	}
}

func TestParseURIRoundTrip(t *testing.T) {
	refs := []client.IncidentRef{
		{WorkspaceID: emulator.WorkspaceOwnerID, Source: client.SourceCrowdStrike, IncidentID: "inc:abc:123"},
		{WorkspaceID: emulator.WorkspaceOwnerID, Source: client.SourceSplunk, IncidentID: "a/b c%d@e"},
		{WorkspaceID: emulator.WorkspaceOwnerID, Source: client.SourceSentinelOne, IncidentID: "1234567890"},
	}
	for _, ref := range refs {
		for _, k := range []resources.Kind{resources.KindIncident, resources.KindComments, resources.KindEvidence} {
			got, kind, ok := resources.ParseURI(resources.URI(k, ref))
			if !ok || got != ref || kind != k {
				t.Errorf("ParseURI(URI(%v, %+v)) = %+v, %v, %v", k, ref, got, kind, ok)
			}
		}
	}
	// The source matches without case, and comes back canonical.
	got, _, ok := resources.ParseURI("contraforce://workspaces/w/incidents/sentinelone/1/comments")
	if !ok || got.Source != client.SourceSentinelOne {
		t.Errorf("lower-case source: %+v, %v", got, ok)
	}
	for _, bad := range []string{
		"contraforce://workspaces/w/incidents/Sentinel/",
		"contraforce://workspaces/w/incidents/Unknown/1",
		"contraforce://workspaces/w/incidents/Sentinel/1/other",
		resources.ClosurePolicyURI,
	} {
		if _, _, ok := resources.ParseURI(bad); ok {
			t.Errorf("ParseURI(%q) accepted", bad)
		}
	}
}

// TestReadCommentsPages: every comment of an incident with more than a
// page of them is reachable, in order, by following each page's older
// URI from the newest page; a bad page number is refused.
func TestReadCommentsPages(t *testing.T) {
	e := newEnv(t)
	s := e.connect(t, true)
	ref := e.pick(t, client.SourceDefenderXDR)
	for i := range 45 {
		msg := fmt.Sprintf("Note %02d.", i)
		if _, _, err := e.api.AddComment(t.Context(), ref, client.AddCommentRequest{Content: msg}); err != nil {
			t.Fatal(err)
		}
	}
	want := e.emu.Comments(ref)
	var got []string
	uri, pages := resources.CommentsURI(ref), 0
	for ; uri != "" && pages < 10; pages++ {
		tc, err := readText(t, s, uri)
		if err != nil {
			t.Fatal(err)
		}
		var doc resources.CommentsDocument
		if err := json.Unmarshal([]byte(tc.Text), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.URI != uri || doc.Total != len(want) || len(doc.Comments) > 20 || doc.First != doc.Total-len(got)-len(doc.Comments)+1 {
			t.Fatalf("page %d (%s): uri %s, total %d, first %d, %d comments", pages+1, uri, doc.URI, doc.Total, doc.First, len(doc.Comments))
		}
		page := make([]string, len(doc.Comments))
		for i, c := range doc.Comments {
			page[i] = c.Text
		}
		got = append(page, got...)
		uri = doc.Older
	}
	if pages != 3 || len(got) != len(want) {
		t.Fatalf("%d pages, %d comments; the incident has %d", pages, len(got), len(want))
	}
	for i, c := range want {
		if !strings.HasPrefix(c.Message, strings.TrimSuffix(got[i], "…")) {
			t.Fatalf("comment %d is %q, want %q", i+1, got[i], c.Message)
		}
	}
	for _, bad := range []string{"0", "-1", "x", "", "07"} {
		if _, err := readText(t, s, resources.CommentsURI(ref)+"?before="+bad); err == nil || !strings.Contains(err.Error(), "before must be") {
			t.Errorf("before=%q: %v", bad, err)
		}
	}
}
