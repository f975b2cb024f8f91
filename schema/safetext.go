package schema

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SafeText prepares text that came from an incident (titles, descriptions,
// entity names, comments, evidence cells) for a model's context. The schema
// package owns what crosses the MCP boundary both ways: arguments in, text out.
//
//   - Bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
//     U+061C) are replaced by a visible marker such as "[U+202E]": an analyst
//     needs to know that a file name used the right-to-left override trick,
//     and the model must not be shown reordered text.
//   - Other invisible format characters (zero-width spaces and joiners, the
//     BOM, soft hyphens, tag characters U+E0000–U+E007F that can smuggle
//     hidden instructions) and C0/C1 controls other than tab and newline are
//     removed.
//   - Invalid UTF-8 becomes U+FFFD.
func SafeText(s string) string {
	if isPlain(s) {
		return s // fast path: the common case allocates nothing
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case isBidi(r):
			fmt.Fprintf(&b, "[U+%04X]", r)
		case r == '\t' || r == '\n':
			b.WriteRune(r)
		case r == '\r':
			// CR alone would let text overwrite itself on a terminal.
			b.WriteByte('\n')
		case unicode.IsControl(r), isInvisible(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SafeJSON applies SafeText's rules to encoded JSON: to the characters
// encoding/json writes as they are (bidirectional and invisible ones, never
// JSON syntax), and to the C0 controls it writes as escapes (\u001b, \b, \f,
// \r), which decode back to controls on the client (the ANSI sequences of an
// incident's command line). Each escaped control is removed except tab and
// newline, and \r becomes \n, as SafeText makes CR a newline.
func SafeJSON(raw []byte) []byte {
	raw = dropControlEscapes(raw)
	s := string(raw)
	if isPlain(s) {
		return raw
	}
	return []byte(SafeText(s))
}

// isPlain reports whether s is printable ASCII plus tab and newline.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f {
			return false
		}
	}
	return true
}

func isBidi(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	}
	return false
}

func isInvisible(r rune) bool {
	switch {
	case r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF, r == 0x00AD, r == 0x180E:
		return true
	case r >= 0xE0000 && r <= 0xE007F: // tag characters
		return true
	case r >= 0xFFF9 && r <= 0xFFFB: // interlinear annotation controls
		return true
	}
	return unicode.Is(unicode.Cf, r) && !isBidi(r)
}

// dropControlEscapes removes the escaped C0 controls of encoded JSON but
// tab and newline, and turns \r into \n; other escapes (a literal
// backslash among them) stay as they are.
func dropControlEscapes(raw []byte) []byte {
	if !bytes.Contains(raw, []byte{'\\'}) {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 == len(raw) {
			out = append(out, raw[i])
			continue
		}
		switch esc := raw[i+1]; {
		case esc == 'b' || esc == 'f':
			i++
			continue
		case esc == 'r':
			out = append(out, '\\', 'n')
			i++
			continue
		case esc == 'u' && i+5 < len(raw) && string(raw[i+2:i+4]) == "00" && (raw[i+4] == '0' || raw[i+4] == '1'):
			// \u0000 to \u001f: keep only tab and newline.
			if v := string(raw[i+4 : i+6]); v != "09" && v != "0a" && v != "0A" {
				i += 5
				continue
			}
		}
		out = append(out, raw[i], raw[i+1])
		i++
	}
	return out
}
