package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strings"
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
		f, s := fastRows[i], slowRows[i]
		if f.ID != s.ID || f.WorkspaceID != s.WorkspaceID || f.Source != s.Source || !bytes.Equal(f.raw, s.raw) {
			t.Fatalf("%q: row %d: fast reading %+v %q, decoder %+v %q", body, i, f, f.raw, s, s.raw)
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
			c, _, _ := newTestClient(t, &capture{answers: []string{okEnvelope(tc.data)}})
			p, err := c.ListIncidentRows(context.Background(), IncidentFilter{}, PageToken{})
			if err != nil || len(p.Rows) != 2 {
				t.Fatalf("ListIncidentRows = %+v, %v", p, err)
			}
			if r, err := p.Rows[0].Decode(); err != nil || r.ID != "a" {
				t.Errorf("row 0 = %+v, %v", r, err)
			}
			if _, err := p.Rows[1].Decode(); err == nil || !strings.Contains(err.Error(), tc.want) {
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
	r := PageRow{ID: "a", WorkspaceID: "w1", raw: []byte(`{"id":"a","workspaceId":"w2"}`),
		ans: &listAnswer{op: opListIncidents, res: &result{status: http.StatusOK}}}
	if _, err := r.Decode(); err == nil || !strings.Contains(err.Error(), "two different incidents") {
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
