package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// valid is a complete, valid UpdateStatusInput argument object; cases
// modify a copy.
func valid() map[string]any {
	return map[string]any{
		"workspaceId": "3f2a", "source": "Sentinel", "incidentId": "42", "status": "Active",
	}
}

func with(kv ...any) map[string]any {
	m := valid()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
			continue
		}
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

const allowedArgs = "workspaceId, source, incidentId, status, comment, classification, classificationReason, updateTicket, ticketId, severities, limit, since"

// TestDecodeErrors asserts the exact sentence of every error class.
func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args any
		want string
	}{
		{"enum", with("status", "Resolved"),
			`argument "status": "Resolved" is not allowed; use one of: Active, New, Closed`},
		{"enum wrong case", with("status", "closed"),
			`argument "status": "closed" is not allowed (did you mean "Closed"?); use one of: Active, New, Closed`},
		{"enum in array", with("severities", []any{"High", "Critical"}),
			`argument "severities[1]": "Critical" is not allowed; use one of: Informational, Low, Medium, High`},
		{"unknown with typo", with("sevrity", "High"),
			`unknown argument "sevrity" (did you mean "severities"?); allowed arguments: ` + allowedArgs},
		{"unknown", with("color", "red"),
			`unknown argument "color"; allowed arguments: ` + allowedArgs},
		{"missing", with("incidentId", nil),
			`missing required argument "incidentId" (Incident id.)`},
		{"missing enum lists values", with("status", nil),
			`missing required argument "status" (New status.); use one of: Active, New, Closed`},
		{"empty required string", with("incidentId", ""),
			`missing required argument "incidentId" (Incident id.)`},
		{"null required", with("workspaceId", json.RawMessage("null")),
			`missing required argument "workspaceId" (Workspace GUID.)`},
		{"string for int", with("limit", "5"),
			`argument "limit": expected an integer, got string "5"; send the number without quotes`},
		{"non-integer", with("limit", 2.5),
			`argument "limit": expected an integer, got number 2.5`},
		{"integer with exponent", json.RawMessage(`{"workspaceId":"w","source":"Sentinel","incidentId":"1","status":"New","limit":1e2}`),
			`argument "limit": expected an integer, got number 1e2`},
		{"above maximum", with("limit", 500),
			`argument "limit": 500 is out of range; use a value from 1 to 100`},
		{"below minimum", with("limit", 0),
			`argument "limit": 0 is out of range; use a value from 1 to 100`},
		{"integer overflow", json.RawMessage(`{"workspaceId":"w","source":"Sentinel","incidentId":"1","status":"New","limit":99999999999999999999}`),
			`argument "limit": 99999999999999999999 is out of range`},
		{"number for string", with("comment", 7),
			`argument "comment": expected a string, got number 7`},
		{"string for bool", with("updateTicket", "true"),
			`argument "updateTicket": expected a boolean, got string "true"; send true or false without quotes`},
		{"object for array", with("severities", map[string]any{"a": 1}),
			`argument "severities": expected an array, got an object; use one of: Informational, Low, Medium, High`},
		{"scalar for array", with("severities", "High"),
			`argument "severities": expected an array, got string "High"; wrap a single value in [ ]; use one of: Informational, Low, Medium, High`},
		{"bad date-time", with("since", "yesterday"),
			`argument "since": "yesterday" is not an RFC 3339 date-time; use a value like 2025-01-31T09:00:00Z`},
		{"date without time", with("since", "2025-01-31"),
			`argument "since": "2025-01-31" is not an RFC 3339 date-time; use a value like 2025-01-31T09:00:00Z`},
		{"rule: Sentinel close", with("status", "Closed", "classification", "TruePositive"),
			`argument "classificationReason" is required when source is "Sentinel" and status is "Closed" (Sentinel requires a classification and reason to close); use one of: ` +
				strings.Join(client.EnumStrings[client.ClassificationReason](), ", ")},
		{"rule: empty string counts as missing", with("updateTicket", true, "ticketId", ""),
			`argument "ticketId" is required when updateTicket is true (the ticket to update must be named)`},
		{"too long", with("comment", strings.Repeat("x", MaxStringBytes+1)),
			`argument "comment": is 65537 bytes long; the limit is 65536 bytes`},
		{"not an object", json.RawMessage(`["a"]`),
			`arguments must be a JSON object of named arguments, got an array`},
		{"not JSON", json.RawMessage(`{"status":`),
			`arguments are not valid JSON: unexpected EOF`},
		{"trailing data", json.RawMessage(`{} {}`),
			`arguments are not valid JSON: unexpected data after the object`},
		{"too large", json.RawMessage(`{"comment":"` + strings.Repeat("x", MaxArgsBytes) + `"}`),
			`arguments are 1048590 bytes of JSON; the limit is 1048576`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode[UpdateStatusInput](tc.args)
			var errs ArgErrors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v (%T), want ArgErrors", err, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestDecodeAllProblems: every problem at once, one sentence per line, in
// schema order then unknown arguments then rules.
func TestDecodeAllProblems(t *testing.T) {
	args := map[string]any{"status": "Closed", "source": "Sentinel", "incidentId": "1", "limit": "5", "Comment": "x"}
	_, err := Decode[UpdateStatusInput](args)
	want := []string{
		`missing required argument "workspaceId" (Workspace GUID.)`,
		`argument "limit": expected an integer, got string "5"; send the number without quotes`,
		`unknown argument "Comment" (did you mean "comment"?); allowed arguments: ` + allowedArgs,
		`argument "classification" is required when source is "Sentinel" and status is "Closed"`,
		`argument "classificationReason" is required when source is "Sentinel" and status is "Closed"`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d sentences, want %d:\n%v", len(lines), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("sentence %d = %s\nwant prefix    %s", i, lines[i], want[i])
		}
	}
	var one *ArgError
	if !errors.As(err, &one) || one.Field != "workspaceId" || one.Kind != KindMissing {
		t.Errorf("errors.As first *ArgError = %+v", one)
	}
}

// TestDecodeCap: a flood of problems is cut to maxProblems sentences.
func TestDecodeCap(t *testing.T) {
	args := valid()
	for i := range 50 {
		args[strings.Repeat("z", i+1)] = 1
	}
	_, err := Decode[UpdateStatusInput](args)
	var errs ArgErrors
	if !errors.As(err, &errs) || len(errs) != maxProblems {
		t.Errorf("got %d problems, want %d", len(errs), maxProblems)
	}
}

// TestRuleValidation: the if/then rule holds exactly when its condition does.
func TestRuleValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		args map[string]any
		ok   bool
	}{
		{"Sentinel closed without verdict", with("status", "Closed"), false},
		{"Sentinel closed with verdict", with("status", "Closed", "classification", "TruePositive", "classificationReason", "Malware"), true},
		{"other source closed", with("status", "Closed", "source", "Splunk"), true},
		{"Sentinel active", with("status", "Active"), true},
		{"ticket without id", with("updateTicket", true), false},
		{"no ticket update", with("updateTicket", false), true},
		{"ticket with id", with("updateTicket", true, "ticketId", "T-1"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode[UpdateStatusInput](tc.args)
			if (err == nil) != tc.ok {
				t.Errorf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestDecodeSuccess: map and raw arguments decode to the same struct, and
// null or "" for optional arguments mean "not given".
func TestDecodeSuccess(t *testing.T) {
	since := "2025-01-31T09:00:00Z"
	raw := json.RawMessage(`{"workspaceId":"w","source":"Sentinel","incidentId":"42","status":"Closed",
		"classification":"TruePositive","classificationReason":"Malware","comment":null,
		"ticketId":null,"severities":["High","Low"],"limit":100,"since":"` + since + `"}`)
	var asMap map[string]any
	if err := json.Unmarshal(raw, &asMap); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string]any{"raw": raw, "map": asMap, "bytes": []byte(raw)} {
		got, err := Decode[UpdateStatusInput](args)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Status != client.StatusClosed || got.Classification != client.ClassificationTruePositive ||
			got.Limit != 100 || len(got.Severities) != 2 || got.Severities[0] != client.SeverityHigh ||
			got.Since == nil || got.Since.Format(time.RFC3339) != since || got.Comment != "" {
			t.Errorf("%s: decoded %+v", name, got)
		}
	}
	if _, err := Decode[UpdateStatusInput](with("classification", "")); err != nil {
		t.Errorf(`"" for an optional enum: %v`, err)
	}
	if _, err := Decode[ListInput](nil); err != nil {
		t.Errorf("nil arguments for a struct with no required fields: %v", err)
	}
	if _, err := Decode[UpdateStatusInput](nil); err == nil {
		t.Error("nil arguments: want the missing required arguments")
	}
}

// TestDecodeNested covers nested objects, rules inside them, arrays of
// objects, maps, floats, length limits, Check and depth.
func TestDecodeNested(t *testing.T) {
	deep := `1`
	for range MaxDepth + 2 {
		deep = `[` + deep + `]`
	}
	for _, tc := range []struct {
		name, args, want string
	}{
		{"ok", `{"filter":{"type":"Custom","start":"2025-01-01T00:00:00Z","end":"2025-01-02T00:00:00Z"},"tags":{"a":"b"},"items":[{"id":"1"}],"score":0.5,"extra":{"any":[1,"x",null]}}`, ""},
		{"nested unknown", `{"filter":{"type":"SixHours","typ":1}}`,
			`unknown argument "filter.typ" (did you mean "type"?); allowed arguments: type, start, end`},
		{"nested missing", `{"filter":{}}`,
			`missing required argument "filter.type" (Time window.); use one of: ThreeHours, SixHours, TwelveHours, TwentyFourHours, FourtyEightHours, Custom`},
		{"nested rule", `{"filter":{"type":"Custom","start":"2025-01-01T00:00:00Z"}}`,
			`argument "filter.end" is required when filter.type is "Custom" (a custom window needs both ends)`},
		{"array item missing", `{"items":[{"id":"1"},{}]}`,
			`missing required argument "items[1].id" (Item id.)`},
		{"too many items", `{"items":[{"id":"1"},{"id":"2"},{"id":"3"},{"id":"4"}]}`,
			`argument "items": has 4 items; the maximum is 3`},
		{"map value type", `{"tags":{"a":1}}`, `argument "tags.a": expected a string, got number 1`},
		{"float minimum", `{"score":0.1}`, `argument "score": 0.1 is below the minimum of 0.5`},
		{"too short", `{"query":"a"}`, `argument "query": is 1 characters long; the minimum is 2`},
		{"too long in runes", `{"query":"ééééééé"}`, `argument "query": is 7 characters long; the maximum is 5`},
		{"int8 overflow", `{"small":300}`, `argument "small": number 300 is out of range for this argument`},
		{"too deep", `{"extra":` + deep + `}`, `argument "extra` + strings.Repeat("[0]", MaxDepth) + `": is nested more than 32 levels deep`},
		{"long string in free-form value", `{"extra":{"s":"` + strings.Repeat("x", MaxStringBytes+1) + `"}}`,
			`argument "extra.s": is 65537 bytes long; the limit is 65536 bytes`},
		{"Check with field", `{"filter":{"type":"Custom","start":"2025-01-02T00:00:00Z","end":"2025-01-01T00:00:00Z"}}`,
			`argument "filter.end" must not be before filter.start`},
		{"Check plain error", `{"query":"boom"}`, `query boom is reserved`},
		{"duplicate keys: last wins, as validated", `{"small":"x","small":5}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode[ListInput](json.RawMessage(tc.args))
			got := ""
			if err != nil {
				got = err.Error()
				var errs ArgErrors
				if !errors.As(err, &errs) {
					t.Errorf("err is %T, want ArgErrors", err)
				}
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestDecodeBadType: a struct that cannot be reflected is a plain error,
// not an argument problem.
func TestDecodeBadType(t *testing.T) {
	_, err := Decode[Node](nil)
	var errs ArgErrors
	if err == nil || errors.As(err, &errs) {
		t.Errorf("err = %v, want a reflection error", err)
	}
}

// TestEmbedded: promoted fields are validated and decoded.
func TestEmbedded(t *testing.T) {
	got, err := Decode[Embedded](map[string]any{"id": "7", "note": "n"})
	if err != nil || got.ID != "7" || got.Note != "n" {
		t.Errorf("Decode = %+v, %v", got, err)
	}
	if _, err := Decode[Embedded](map[string]any{"note": "n"}); err == nil || err.Error() != `missing required argument "id" (The id.)` {
		t.Errorf("err = %v", err)
	}
}

// TestDuplicateKeys: what is decoded is what was validated. encoding/json
// would merge an earlier duplicate object or map into the later one.
func TestDuplicateKeys(t *testing.T) {
	got, err := Decode[ListInput](json.RawMessage(`{"tags":{"a":"1"},"tags":{"b":"2"},
		"filter":{"type":"Custom","start":"2025-01-01T00:00:00Z","end":"2025-01-02T00:00:00Z"},"filter":{"type":"SixHours"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tags) != 1 || got.Tags["b"] != "2" {
		t.Errorf("tags = %v, want only the validated {b:2}", got.Tags)
	}
	if got.Filter == nil || got.Filter.Type != client.TimeSixHours || got.Filter.Start != nil {
		t.Errorf("filter = %+v, want only the validated {type:SixHours}", got.Filter)
	}
}
