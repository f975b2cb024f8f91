package schema

import "testing"

// TestSafeText: what reaches a model from an incident shows a bidi trick
// visibly and carries no invisible or control characters.
func TestSafeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text\twith tab\nand newline", "plain text\twith tab\nand newline"},
		{"invoice\u202Efdp.exe", "invoice[U+202E]fdp.exe"},
		{"a\u2066b\u2069c\u200Fd", "a[U+2066]b[U+2069]c[U+200F]d"},
		{"zero\u200Bwidth\u200D\uFEFFjoin\u00ADer", "zerowidthjoiner"},
		{"tag\U000E0049\U000E0047chars", "tagchars"},
		{"ansi \x1b[2Jclear\x07bell\x00nul", "ansi [2Jclearbellnul"},
		{"cr\roverwrite", "cr\noverwrite"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"Ünïcödé 日本 émoji 🙂", "Ünïcödé 日本 émoji 🙂"},
	}
	for _, tt := range tests {
		if got := SafeText(tt.in); got != tt.want {
			t.Errorf("SafeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
