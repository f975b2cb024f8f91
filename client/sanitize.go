package client

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// snippetLen bounds the snippet of a non-JSON error body kept in an error.
const snippetLen = 120

// snippet returns a short, single-line, tag-free excerpt of a non-JSON body:
// an HTML page's <title> when it has one, else its text without tags. body
// is already scrubbed; the text is scrubbed again once its character
// references are decoded, before it is cut.
func snippet(body []byte, mediaType string, scrub scrubber) string {
	if len(body) > 4096 {
		body = body[:4096]
	}
	s := strings.ToValidUTF8(string(body), "")
	lower := strings.ToLower(s)
	isHTML := strings.Contains(mediaType, "html") || strings.Contains(lower, "<html") ||
		strings.Contains(lower, "<!doctype") || strings.HasPrefix(strings.TrimSpace(lower), "<")
	if isHTML {
		if t := htmlTitle(s, lower); strings.TrimSpace(t) != "" {
			s = t
		} else {
			s = stripTags(s, lower)
		}
		s = html.UnescapeString(s)
	}
	return clean(scrub.string(s), snippetLen)
}

// htmlTitle returns the text of the first <title> element, or "".
func htmlTitle(s, lower string) string {
	i := strings.Index(lower, "<title")
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(lower[i:], '>')
	if j < 0 {
		return ""
	}
	start := i + j + 1
	end := strings.Index(lower[start:], "</title")
	if end < 0 {
		return ""
	}
	return s[start : start+end]
}

// stripTags drops markup, and the content of <script> and <style>
// elements, keeping text.
func stripTags(s, lower string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '<' {
			b.WriteByte(s[i])
			i++
			continue
		}
		for _, el := range []string{"script", "style"} {
			if strings.HasPrefix(lower[i:], "<"+el) {
				if end := strings.Index(lower[i:], "</"+el); end >= 0 {
					i += end
				}
			}
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		i += j + 1
		b.WriteByte(' ')
	}
	return b.String()
}

// clean flattens s to one line of printable text (control characters and
// runs of white space become one space; invisible and bidirectional format
// characters, which could reorder or hide text where an error is shown,
// are dropped) and shortens it to max runes.
func clean(s string, max int) string {
	if s == "" {
		return ""
	}
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			space = true
			continue
		}
		if unicode.Is(unicode.Cf, r) {
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		if n >= max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
