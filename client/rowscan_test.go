package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// listAnswers are list answers that the fast reading must read as the
// decoder does, or leave to it.
var listAnswers = map[string]string{
	"documented": `{"data":{"incidents":[{"id":"a","workspaceId":"w1","source":"Sentinel","title":"t","entities":[{"id":"e","kind":"host"}]},` +
		`{"id":"b","workspaceId":"w2","source":"Splunk"}],"workspacePageTokens":[{"workspaceId":"w1","sourceTokens":{"Sentinel":"t1"}}],"hasMore":true},` +
		`"meta":{"requestId":"r1","timestamp":"2026-04-15T20:00:00Z"}}`,
	"bare array and pagination": `{"data":[{"id":"a","workspaceId":"w"} , null ,{"id":"c","workspaceId":"w"}],` +
		`"pagination":{"continuationToken":"ct","hasMore":true},"meta":{"requestId":"r2"}}`,
	"names in other cases":  `{"Data":{"Incidents":[{"ID":"a","Workspace_Id":"W","SOURCE":"Sentinel","source-display-name":"x"}]},"meta":{}}`,
	"repeated members":      `{"data":{"incidents":[{"id":"a","id":"b","workspaceId":"w","workspaceId":null,"source":"Sentinel","Source":"Splunk"}]}}`,
	"escaped names":         `{"data":{"incidents":[{"\u0069d":"a","workspaceId":"w","id\u0000":"x"}]}}`,
	"a non-ASCII name":      `{"data":{"incidents":[{"id":"a","ſource":"Sentinel","workspaceId":"w"}]}}`,
	"escaped values":        `{"data":{"incidents":[{"id":"a\"b","workspaceId":"w\\","source":"Sent\u0069nel","title":"}]{[\\\""}]}}`,
	"non-ASCII values":      `{"data":{"incidents":[{"id":"é","workspaceId":"w","sourceDisplayName":"Microsoft Sentinel ✓"}]}}`,
	"older rows":            `{"data":{"incidents":[{"id":"a","displayId":"7","sourceDisplayName":"CrowdStrike Falcon","workspaceId":"w"},{"id":"b","sourceDisplayName":null}]}}`,
	"blanks everywhere":     " {\n\t\"data\" :\r\n{ \"incidents\" : [ { \"id\" : \"a\" , \"workspaceId\" : \"w\" } ] } , \"meta\" : { } }\n",
	"numbers and literals":  `{"data":{"incidents":[{"id":"a","number":-1.5e3,"isAssigned":true,"user":null,"alertsCount":0,"workspaceId":"w"}],"hasMore":false}}`,
	"a key of a wrong type": `{"data":{"incidents":[{"id":7,"workspaceId":"w"}]}}`,
	"a row of a wrong type": `{"data":{"incidents":[{"id":"a"},"x"]}}`,
	"data repeated":         `{"data":{"incidents":[{"id":"a"}]},"data":{"incidents":[{"id":"b"}]}}`,
	"data escaped":          `{"d\u0061ta":{"incidents":[{"id":"b"}]}}`,
	"incidents repeated":    `{"data":{"incidents":[{"id":"a"}],"incidents":[{"id":"b"}]}}`,
	"incidents null":        `{"data":{"incidents":null}}`,
	"data null":             `{"data":null}`,
	"data a string":         `{"data":"nope"}`,
	"an unshown row's member of the wrong type": `{"data":{"incidents":[{"id":"a","workspaceId":"w"},{"id":"b","number":"7"}]}}`,
	"trailing data":   `{"data":{"incidents":[]}} {}`,
	"not JSON":        `<html><body>{"data":[</body></html>`,
	"cut short":       `{"data":{"incidents":[{"id":"a","title":"b`,
	"unbalanced":      `{"data":{"incidents":[{"id":"a"]}}`,
	"empty":           ``,
	"a stray comma":   `{"data":{"incidents":[{"id":"a",}]}}`,
	"a missing colon": `{"data" {"incidents":[]}}`,
}

// slowReading reads an answer with the decoder throughout, as the client
// did before the fast reading.
func slowReading(body []byte) (Envelope[listData], error) {
	res := &result{status: http.StatusOK, header: http.Header{}, body: body}
	return decodeData[listData](opListIncidents, res)
}

// checkAgreement holds the fast reading of body to the decoder's: where
// both read the answer they find the same envelope and the same rows (keys
// and bytes); where the decoder refuses a valid answer, the fast reading
// gives up or a row it found fails to decode.
func checkAgreement(t *testing.T, body []byte) (fast bool) {
	t.Helper()
	env, rows, ok := scanList(body)
	if !ok {
		return false
	}
	res := &result{status: http.StatusOK, header: http.Header{}, body: body}
	fastRows := rows.rows(opListIncidents, res)
	slow, err := slowReading(body)
	if err != nil {
		if !json.Valid(body) {
			return true // the fast reading does not check rows' syntax
		}
		if _, derr := decodeRows(fastRows); derr == nil {
			t.Fatalf("the decoder refuses %q (%v), the fast reading reads every row", body, err)
		}
		return true
	}
	slowRows := slow.Data.Incidents.rows(opListIncidents, res)
	if len(fastRows) != len(slowRows) {
		t.Fatalf("%q: fast reading found %d rows, the decoder %d", body, len(fastRows), len(slowRows))
	}
	for i := range fastRows {
		f, err := fastRows[i].ident()
		s := slowRows[i].id
		if err != nil || f != s || !bytes.Equal(fastRows[i].raw, slowRows[i].raw) {
			t.Fatalf("%q: row %d: fast reading %+v (%v) %q, decoder %+v %q", body, i, f, err, fastRows[i].raw, s, slowRows[i].raw)
		}
	}
	slow.Data.Incidents, env.Data.Incidents = rowSpans{}, rowSpans{}
	if !reflect.DeepEqual(env, slow) {
		t.Fatalf("%q: fast reading's envelope %+v, decoder's %+v", body, env, slow)
	}
	fullFast, ferr := decodeRows(fastRows)
	var whole Envelope[ListIncidentsData]
	werr := unmarshal(body, &whole)
	if (ferr == nil) != (werr == nil) {
		t.Fatalf("%q: decoding the rows: %v; decoding the whole answer: %v", body, ferr, werr)
	}
	if werr == nil {
		for i := range whole.Data.Incidents {
			whole.Data.Incidents[i].inferSource()
		}
		if !reflect.DeepEqual(fullFast, whole.Data.Incidents) && len(fullFast)+len(whole.Data.Incidents) > 0 {
			t.Fatalf("%q: rows decoded one by one differ from the whole answer decoded", body)
		}
	}
	return true
}

func TestFastListReadingAgreesWithTheDecoder(t *testing.T) {
	mustBeFast := []string{"documented", "bare array and pagination", "names in other cases", "repeated members",
		"escaped names", "a non-ASCII name", "escaped values", "non-ASCII values", "older rows", "blanks everywhere",
		"numbers and literals", "an unshown row's member of the wrong type"}
	for name, body := range listAnswers {
		t.Run(name, func(t *testing.T) {
			fast := checkAgreement(t, []byte(body))
			for _, m := range mustBeFast {
				if m == name && !fast {
					t.Errorf("the fast reading gave up on %q", body)
				}
			}
		})
	}
	// The API's own pages, as recorded.
	for _, f := range []string{"testdata/current/list-incidents-response.json", "testdata/current/list-incidents-response-older.json"} {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !checkAgreement(t, body) {
			t.Errorf("the fast reading gave up on %s", f)
		}
	}
}

// An unshown row that does not decode does not stop the page; shown, it
// fails with the member's full path.
func TestListRowsAreDecodedWhenShown(t *testing.T) {
	for name, tc := range map[string]struct{ data, want string }{
		"object": {`{"incidents":[{"id":"a","workspaceId":"w"},{"id":"b","workspaceId":"w","number":"7"}]}`,
			`member "data.incidents.1.number" is a JSON string where int was expected`},
		"bare array": {`[{"id":"a","workspaceId":"w"},{"id":"b","workspaceId":"w","number":"7"}]`,
			`member "data.1.number" is a JSON string where int was expected`},
	} {
		t.Run(name, func(t *testing.T) {
			c, _, _ := newTestClient(t, &capture{answers: []string{okEnvelope(tc.data), okEnvelope(tc.data)}})
			p, err := c.ListIncidentRange(context.Background(), IncidentFilter{}, PageToken{}, 0, 1)
			if err != nil || p.Rows != 2 || len(p.Incidents) != 1 || p.Incidents[0].ID != "a" {
				t.Fatalf("ListIncidentRange(0, 1) = %+v, %v", p, err)
			}
			_, err = c.ListIncidentRange(context.Background(), IncidentFilter{}, PageToken{}, 1, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("row 1: err = %v; want it to say %q", err, tc.want)
			}
		})
	}
}

// The workspace allowlist filters rows by the workspace the page's reading
// found; a shown row must decode to that same workspace.
func TestAllowlistHoldsForRowsReadFast(t *testing.T) {
	answer := okEnvelope(`{"incidents":[{"id":"a","workspaceId":"W1"},{"id":"b","workspace_id":"w2"},{"id":"c","workspaceId":"w2","WorkspaceId":"w1"}]}`)
	c, _, _ := newTestClient(t, &capture{answers: []string{answer}}, func(cfg *Config) { cfg.Workspaces = []string{"w1"} })
	p, err := c.ListIncidents(context.Background(), IncidentFilter{}, PageToken{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Incidents {
		got = append(got, r.ID+"@"+r.WorkspaceID)
	}
	if want := []string{"a@W1", "c@w1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rows shown = %v, want %v", got, want)
	}
	// A row whose key does not match its decoding is refused.
	r := pageRow{id: rowID{ID: "a", WorkspaceID: "w1"}, known: true, raw: []byte(`{"id":"a","workspaceId":"w2"}`),
		ans: &listAnswer{op: opListIncidents, res: &result{status: http.StatusOK}}}
	if _, err := r.decode(); err == nil || !strings.Contains(err.Error(), "two different incidents") {
		t.Errorf("a row read two ways: err = %v", err)
	}
}

// FuzzListReading: whatever a list answer holds, the fast reading never
// panics, and it reads as the decoder does (checkAgreement).
func FuzzListReading(f *testing.F) {
	for _, body := range listAnswers {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAgreement(t, body)
	})
}

// A list page is read in a pooled buffer that the next answer reuses:
// nothing a call returns (rows, entities, page tokens, errors) may still
// point into it. Pages of two tenants are listed concurrently; every
// result, read again after all the calls, must be its own page.
func TestListResultsOutliveThePooledBody(t *testing.T) {
	page := func(tag string) string {
		var rows []string
		for i := range 30 {
			rows = append(rows, fmt.Sprintf(`{"id":"%s-%d","workspaceId":"ws-%s","title":"%s title %d","description":"%s",`+
				`"entities":[{"id":"e-%s-%d","kind":"host","hostName":"%s-host"}]}`, tag, i, tag, tag, i, strings.Repeat(tag, 200), tag, i, tag))
		}
		return okEnvelope(`{"incidents":[` + strings.Join(rows, ",") + `],"workspacePageTokens":[{"workspaceId":"ws-` + tag +
			`","sourceTokens":{"Sentinel":"tok-` + tag + `"}}]}`)
	}
	bad := okEnvelope(`{"incidents":[{"id":"x","workspaceId":"w","number":"` + strings.Repeat("z", 100) + `"}]}`)
	serve := func(answer string) *Client {
		c, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, answer)
		}))
		return c
	}
	a, b, broken := serve(page("a")), serve(page("b")), serve(bad)
	ctx := context.Background()
	type got struct {
		tag string
		p   *IncidentPage
	}
	var (
		mu      sync.Mutex
		results []got
		errs    []string
		errVals []error
		wg      sync.WaitGroup
	)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				c, tag := a, "a"
				if (w+i)%2 == 1 {
					c, tag = b, "b"
				}
				p, err := c.ListIncidentRange(ctx, IncidentFilter{}, PageToken{}, i%5, 10)
				if err != nil {
					t.Error(err)
					return
				}
				_, err = broken.ListIncidents(ctx, IncidentFilter{}, PageToken{})
				mu.Lock()
				results = append(results, got{tag, p})
				errs, errVals = append(errs, err.Error()), append(errVals, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.p.Rows != 30 || len(r.p.Incidents) != 10 || r.p.Next.WorkspacePageTokens[0].SourceTokens[SourceSentinel] != "tok-"+r.tag {
			t.Fatalf("page %s: %d of %d rows, next %+v", r.tag, len(r.p.Incidents), r.p.Rows, r.p.Next)
		}
		for _, inc := range r.p.Incidents {
			es, err := inc.Entities.List()
			if !strings.HasPrefix(inc.ID, r.tag+"-") || inc.Description != strings.Repeat(r.tag, 200) || err != nil ||
				len(es) != 1 || es[0].Properties["hostName"] != r.tag+"-host" {
				t.Fatalf("page %s holds a row of another answer: %+v %+v %v", r.tag, inc, es, err)
			}
		}
	}
	for i, e := range errVals {
		if e.Error() != errs[i] || !strings.Contains(errs[i], `member "data.incidents.0.number" is a JSON string`) {
			t.Fatalf("an error changed after its answer's buffer was reused: %q, then %q", errs[i], e.Error())
		}
	}
}

// A GET answer is read into a pooled buffer too: what GetIncident returns
// (raw members included) must not change when the buffer is reused.
func TestGetResultsOutliveThePooledBody(t *testing.T) {
	detail := func(tag string) string {
		return okEnvelope(`{"source":"Sentinel","incident":{"id":"` + tag + `","title":"` + strings.Repeat(tag, 300) + `","workspaceId":"w"},` +
			`"investigationDetails":{"entities":[{"id":"e","kind":"host","hostName":"` + tag + `-host"}],"alerts":[]},` +
			`"evidence":{"columns":[{"name":"c"}],"rows":[["` + tag + `-cell"]]},"gamebookCatalog":{"k":"` + tag + `-catalog"}}`)
	}
	serve := func(answer string) *Client {
		c, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, answer)
		}))
		return c
	}
	a, b := serve(detail("a")), serve(detail("b"))
	ref := IncidentRef{WorkspaceID: "w", Source: SourceSentinel, IncidentID: "x"}
	var kept []*IncidentDetail
	for i := range 40 {
		c := a
		if i%2 == 1 {
			c = b
		}
		d, err := c.GetIncident(context.Background(), ref, true)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, d)
	}
	for i, d := range kept {
		tag := "a"
		if i%2 == 1 {
			tag = "b"
		}
		if d.Incident.Title != strings.Repeat(tag, 300) || string(d.GamebookCatalog) != `{"k":"`+tag+`-catalog"}` ||
			d.Evidence.Rows[0][0] != tag+"-cell" || d.InvestigationDetails.Entities[0].Properties["hostName"] != tag+"-host" {
			t.Fatalf("detail %d (%s) changed after its buffer was reused: %+v %s", i, tag, d.Incident, d.GamebookCatalog)
		}
	}
}
