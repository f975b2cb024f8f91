package client

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The JSON examples of the vendor's pages (data-models.txt and
// update-incident-status-v2.txt, copied into testdata) decode into the
// client's types and re-encode without loss. The envelopes' "{ ... }" and
// "[ ... ]" placeholders are written as empty values; the webhook and
// service-account examples have no client type and are not copied.
func TestVendorExamplesRoundTrip(t *testing.T) {
	tests := []struct {
		file string
		into func() any
	}{
		{"envelope-success.json", func() any { return new(Envelope[json.RawMessage]) }},
		{"envelope-paginated.json", func() any { return new(Envelope[[]IncidentSummary]) }},
		{"envelope-error-legacy.json", func() any { return new(legacyEnvelope) }},
		{"incident-object.json", func() any { return new(IncidentDetail) }},
		{"update-status-request.json", func() any { return new(UpdateStatusRequest) }},
		{"update-status-v2-request.json", func() any { return new(UpdateStatusRequest) }},
		{"problem-details-v2.json", func() any { return new(problemDetails) }},
		{"assign-request.json", func() any { return new(AssignRequest) }},
		{"comment.json", func() any { return new(Comment) }},
		{"add-comment-request.json", func() any { return new(AddCommentRequest) }},
		{"list-incidents-request.json", func() any { return new(ListIncidentsRequest) }},
		{"time-filter-custom.json", func() any { return new(IncidentFilter) }},
		{"user.json", func() any { return new(User) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			v := tt.into()
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields() // a field without a Go home would be lost
			if err := dec.Decode(v); err != nil {
				t.Fatalf("decode into %T: %v", v, err)
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("round trip through %T lost data:\n in: %v\nout: %v", v, want, got)
			}
		})
	}
}

// The legacy example also decodes into the typed error.
func TestVendorLegacyErrorExampleDecodes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "envelope-error-legacy.json"))
	if err != nil {
		t.Fatal(err)
	}
	e := &APIError{}
	if !decodeJSONError(e, raw) || e.Code != CodeNotFound || e.Target != "incidentId" || e.RequestID != "0HN8Q3V0002" ||
		e.Detail != "No incident exists with the given ID in this workspace" || e.Title != "Incident 'INC-999' not found" {
		t.Errorf("decoded %+v", e)
	}
}
