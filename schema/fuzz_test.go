package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzDecode: no input makes Decode panic, every failure is ArgErrors of
// one-line sentences, and whatever passes re-validates from its own
// encoding (validation and decoding agree).
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"workspaceId":"w","source":"Sentinel","incidentId":"1","status":"Closed","classification":"TruePositive","classificationReason":"Malware"}`,
		`{"workspaceId":"w","source":"Sentinel","incidentId":"1","status":"New","limit":100,"since":"2025-01-31T09:00:00Z","severities":["High"]}`,
		`{"status":"Resolved","sevrity":1,"limit":"5","since":"yesterday","severities":{"a":1}}`,
		`{"limit":1e400}`, `{"limit":-0}`, `{"limit":9223372036854775808}`, `{"limit":1.0}`,
		`{"updateTicket":true,"ticketId":null}`, `{"comment":"\ud800"}`, `{"a":{"b":[[[[[[]]]]]]}}`,
		`[]`, `null`, `""`, `1`, ``, `{`, `{"x":1} trailing`, `{"status":"Closed","status":1}`,
		`{"filter":{"type":"Custom","start":"2025-01-02T00:00:00Z","end":"2025-01-01T00:00:00Z"}}`,
		`{"items":[{"id":"1"},{}],"tags":{"a":null},"extra":[1,{"x":[true]}],"score":1e-9,"small":-129}`,
		strings.Repeat("[", 100) + strings.Repeat("]", 100),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(err error) {
			if err == nil {
				return
			}
			var errs ArgErrors
			if !errors.As(err, &errs) || len(errs) == 0 || len(errs) > maxProblems {
				t.Fatalf("err = %v (%T), want 1..%d ArgErrors", err, err, maxProblems)
			}
			for _, e := range errs {
				if s := e.Error(); s == "" || strings.Contains(s, "\n") {
					t.Fatalf("sentence %q is empty or spans lines", s)
				}
			}
		}
		in, err := Decode[UpdateStatusInput](json.RawMessage(data))
		check(err)
		if err == nil {
			b, _ := json.Marshal(in)
			if _, err := Decode[UpdateStatusInput](json.RawMessage(b)); err != nil {
				t.Fatalf("decoded %s but its encoding fails: %v", b, err)
			}
		}
		_, err = Decode[ListInput](json.RawMessage(data))
		check(err)
	})
}

// BenchmarkDecode measures the hot path: cached schema, validation, decode.
func BenchmarkDecode(b *testing.B) {
	raw := json.RawMessage(`{"workspaceId":"3f2a","source":"Sentinel","incidentId":"42","status":"Closed",
		"classification":"TruePositive","classificationReason":"Malware","comment":"done",
		"severities":["High","Low"],"limit":50,"since":"2025-01-31T09:00:00Z"}`)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode[UpdateStatusInput](raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode[UpdateStatusInput](m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
