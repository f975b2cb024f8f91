package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// listPage100 builds a realistic list answer: 100 incidents with entities,
// tactics and assignees, and next-page tokens for three workspaces.
func listPage100(tb testing.TB) []byte {
	tb.Helper()
	cls := ClassificationTruePositive
	data := ListIncidentsData{HasMore: new(bool)}
	*data.HasMore = true
	for i := range 100 {
		ws := fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", i%3)
		data.Incidents = append(data.Incidents, IncidentSummary{
			ID: fmt.Sprintf("%08x-1c2d-4e5f-8a9b-0c1d2e3f4a5b", i), Title: "Suspicious sign-in from anonymous IP address",
			Description: "A user signed in from an anonymous proxy after several failed attempts.",
			Number:      1000 + i, Source: SourceSentinel, Severity: SeverityHigh, Status: StatusActive, Classification: Some(&cls),
			CreationTime: "2026-04-15T10:30:00Z", LastModificationTime: "2026-04-15T14:22:00Z", LastActivityTime: "2026-04-15T14:22:00Z",
			Tactics: []string{"InitialAccess", "CredentialAccess"}, AlertsCount: 3, IsAssigned: new(true),
			User: Some(&UserRef{ID: "61eec97d-57b2-5b00-686e-8544a1b2c3d4", DisplayName: "Jane Doe", Email: "jane.doe@contoso.com"}),
			Entities: EntitiesOf([]Entity{
				{ID: "e1", Type: "User", Kind: "account", DisplayName: "jdoe", Properties: map[string]any{"upn": "jdoe@contoso.com", "sid": "S-1-5-21"}},
				{ID: "e2", Type: "Ip", Kind: "ip", DisplayName: "203.0.113.7", Properties: map[string]any{"address": "203.0.113.7"}},
			}),
			WorkspaceID: ws, WorkspaceName: "Contoso Prod",
		})
	}
	for w := range 3 {
		data.WorkspacePageTokens = append(data.WorkspacePageTokens, WorkspacePageToken{
			WorkspaceID:  fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", w),
			SourceTokens: map[Source]string{SourceSentinel: "eyJza2lwIjoxMDB9", SourceDefenderXDR: "eyJza2lwIjo1MH0"},
		})
	}
	b, err := json.Marshal(Envelope[ListIncidentsData]{Data: data, Meta: Meta{RequestID: "0HN8Q3V0001", Timestamp: "2026-04-15T20:00:00Z"}})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkDecodeListPage measures a list call after the network: reading
// a 100-incident page as listRows does (readList, by its structure) and
// building its page of rows (allowlist filtering and next-page position).
// No row is decoded in full; BenchmarkListIncidents140 measures that.
func BenchmarkDecodeListPage(b *testing.B) {
	body := listPage100(b)
	c, err := New(Config{ClientID: testID, ClientSecret: testSecret, Workspaces: []string{
		"00000000-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000001"}})
	if err != nil {
		b.Fatal(err)
	}
	res := &result{status: http.StatusOK, header: http.Header{}, body: body}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		env, err := readList(res)
		if err != nil {
			b.Fatal(err)
		}
		if p, err := c.rowPage(env, env.Data.Incidents.rows(opListIncidents, res)); err != nil || len(p.Rows) == 0 || !p.HasMore {
			b.Fatal("unexpected page", err)
		}
	}
}
