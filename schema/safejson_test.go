package schema

import (
	"encoding/json"
	"testing"
)

// TestSafeJSONDropsControlEscapes: escaped C0 controls leave the encoded JSON, and
// everything else (a literal backslash, other escapes) stays as it was.
func TestSafeJSONDropsControlEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"\x1b[2J\x1b[31mOK\x1b[0m", "[2J[31mOK[0m"},
		{"tab\tnew\nline", "tab\tnew\nline"},
		{"cr\r\nlf", "cr\n\nlf"},
		{"bell\a back\b form\f nul\x00", "bell back form nul"},
		{`literal \u001b and \\`, `literal \u001b and \\`},
		{"<html> & \u2028 \ufffd é", "<html> & \u2028 \ufffd é"},
	}
	for _, tt := range tests {
		raw, err := json.Marshal(map[string]string{"s": tt.in})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		if err := json.Unmarshal(SafeJSON(raw), &got); err != nil {
			t.Fatalf("%q: the result is not JSON any more: %v (%s)", tt.in, err, SafeJSON(raw))
		}
		if got["s"] != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, got["s"], tt.want)
		}
	}
}
