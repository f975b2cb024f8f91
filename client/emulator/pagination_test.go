package emulator_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// visibleRefs counts the incidents of the workspaces the demo credential has a role on.
func visibleRefs(h *harness) []string {
	var out []string
	for _, ref := range h.e.Refs() {
		if ref.WorkspaceID != emulator.WorkspaceNoRoleID {
			out = append(out, ref.WorkspaceID+"|"+string(ref.Source)+"|"+ref.IncidentID)
		}
	}
	slices.Sort(out)
	return out
}

func TestPaginationWalksEverything(t *testing.T) {
	for _, size := range []int{0, 3, 1000} {
		h := newHarness(t, emulator.Options{PageSize: size})
		perPage := size
		if perPage == 0 {
			perPage = emulator.DefaultPageSize
		}
		body := map[string]any{"isFirstCall": true}
		var all []client.IncidentSummary
		pages := 0
		for ; pages < 200; pages++ {
			d := data[client.ListIncidentsData](t, h.do(http.MethodPost, listPath, body).expect(t, http.StatusOK))
			all = append(all, d.Incidents...)
			perStream := map[string]int{}
			for i, r := range d.Incidents {
				perStream[r.WorkspaceID+"|"+string(r.Source)]++
				if i > 0 && r.CreationTime > d.Incidents[i-1].CreationTime {
					t.Fatalf("page %d is not newest first at row %d", pages, i)
				}
			}
			for k, n := range perStream {
				if n > perPage {
					t.Fatalf("page %d has %d rows of stream %s, page size %d", pages, n, k, perPage)
				}
			}
			for _, wt := range d.WorkspacePageTokens {
				if wt.WorkspaceID == emulator.WorkspaceNoRoleID || len(wt.SourceTokens) == 0 {
					t.Fatalf("token entry %+v", wt)
				}
			}
			if !*d.HasMore {
				if len(d.WorkspacePageTokens) != 0 {
					t.Fatal("last page carries tokens")
				}
				break
			}
			body = map[string]any{"isFirstCall": false, "workspacePageTokens": d.WorkspacePageTokens}
		}
		got := keysOf(all)
		if want := visibleRefs(h); !slices.Equal(got, want) {
			t.Errorf("page size %d: walked %d incidents (%d distinct), want %d", size, len(got), len(slices.Compact(slices.Clone(got))), len(want))
		}
		if size == 3 && pages < 5 || size == 1000 && pages != 0 {
			t.Errorf("page size %d took %d extra pages", size, pages)
		}
	}
}

// firstPage returns the first page's tokens for a filter.
func firstPage(t *testing.T, h *harness, filter map[string]any) []client.WorkspacePageToken {
	t.Helper()
	body := map[string]any{"isFirstCall": true}
	for k, v := range filter {
		body[k] = v
	}
	d := data[client.ListIncidentsData](t, h.do(http.MethodPost, listPath, body).expect(t, http.StatusOK))
	if !*d.HasMore || len(d.WorkspacePageTokens) == 0 {
		t.Fatal("first page has no next page")
	}
	return d.WorkspacePageTokens
}

func TestPageTokensAreBoundAndTamperProof(t *testing.T) {
	h := newHarness(t, emulator.Options{PageSize: 2})
	filter := map[string]any{"severities": []string{"High", "Medium"}}
	tokens := firstPage(t, h, filter)
	next := func(tokens any, filter map[string]any) *response {
		body := map[string]any{"isFirstCall": false, "workspacePageTokens": tokens}
		for k, v := range filter {
			body[k] = v
		}
		return h.do(http.MethodPost, listPath, body)
	}
	// Same filter, members in another order: still the same filter.
	next(tokens, map[string]any{"severities": []string{"Medium", "High"}}).expect(t, http.StatusOK)

	var src client.Source
	var tok string
	for s, v := range tokens[0].SourceTokens {
		src, tok = s, v
		break
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("token is not base64url: %v", err)
	}
	forged := base64.RawURLEncoding.EncodeToString(bytes.Replace(raw, []byte(`"o":`), []byte(`"o":1`), 1))
	otherSource := client.SourceQRadar
	if src == otherSource {
		otherSource = client.SourceSplunk
	}
	with := func(ws string, s client.Source, v string) []client.WorkspacePageToken {
		return []client.WorkspacePageToken{{WorkspaceID: ws, SourceTokens: map[client.Source]string{s: v}}}
	}
	cases := []struct {
		name   string
		tokens any
		filter map[string]any
	}{
		{"another filter", tokens, map[string]any{"severities": []string{"High"}}},
		{"no filter", tokens, nil},
		{"tampered offset", with(tokens[0].WorkspaceID, src, forged), filter},
		{"garbage", with(tokens[0].WorkspaceID, src, "not-a-token"), filter},
		{"listed under another source", with(tokens[0].WorkspaceID, otherSource, tok), filter},
		{"listed under another workspace", with(emulator.WorkspaceResponderID, src, tok), filter},
		{"isFirstCall false without tokens", nil, filter},
		{"isFirstCall false with empty entries", []client.WorkspacePageToken{{WorkspaceID: tokens[0].WorkspaceID}}, filter},
	}
	if tokens[0].WorkspaceID == emulator.WorkspaceResponderID {
		t.Fatal("test assumes the first token is not of the responder workspace")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := problemOf(t, next(tc.tokens, tc.filter), http.StatusBadRequest, client.CodeValidation)
			fieldError(t, p, "workspacePageTokens")
		})
	}
	p := problemOf(t, h.do(http.MethodPost, listPath, map[string]any{"continuationToken": "eyJjb250..."}), http.StatusBadRequest, client.CodeValidation)
	fieldError(t, p, "continuationToken")

	// isFirstCall absent but tokens present: a next-page call.
	d := data[client.ListIncidentsData](t, h.do(http.MethodPost, listPath, map[string]any{"workspacePageTokens": tokens, "severities": []string{"High", "Medium"}}).expect(t, http.StatusOK))
	first := data[client.ListIncidentsData](t, h.do(http.MethodPost, listPath, map[string]any{"severities": []string{"High", "Medium"}}).expect(t, http.StatusOK))
	if len(d.Incidents) == 0 || d.Incidents[0].ID == first.Incidents[0].ID {
		t.Error("tokens without isFirstCall did not give the next page")
	}
}

func TestListIsRepeatable(t *testing.T) {
	h := newHarness(t, emulator.Options{})
	get := func() []byte {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(h.do(http.MethodPost, listPath, map[string]any{"isFirstCall": true}).expect(t, http.StatusOK).body, &env); err != nil {
			t.Fatal(err)
		}
		return env.Data
	}
	if !bytes.Equal(get(), get()) {
		t.Error("the same list call answered different data")
	}
}
