package client

import (
	"encoding/base64"
	"html"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// scrubber removes this client's credential from text a server sent back: a
// misconfigured proxy's page may echo the request's headers, and nothing an
// error, a log or a tool result carries may hold the secret. It is the one
// mechanism every error path of the client uses (see Client.do, decodeData
// and attempt): response bodies and headers are scrubbed as they are read,
// before anything cuts them, and every error text leaving the client is
// scrubbed once more.
//
// It finds the secret in clear; base64 of the secret alone (standard and
// URL alphabets, padded or not, at any byte alignment inside a longer
// base64 text); base64 of "id:secret" (the Basic header); and any of these
// behind up to two layers of percent-encoding, JSON escapes (\u0073, \/)
// and HTML character references (&#115; &amp;), mixed freely. Invisible
// format characters and invalid UTF-8, which the error text's cleaning
// drops, are skipped while matching, so that removing them later cannot
// join the pieces of a secret.
type scrubber struct {
	needles []string // decoded forms to find, longest first
}

// minDerivedNeedle is the shortest derived form (a base64 fragment) worth
// looking for: a shorter one would redact ordinary words.
const minDerivedNeedle = 6

// maxEncodedExpansion bounds how many source bytes one byte of a needle can
// take once encoded (two layers, e.g. "&#x25;73" or "%5Cu0073"): a body is
// scrubbed this far past any cut, so a cut never leaves half a secret.
const maxEncodedExpansion = 16

// newScrubber covers the secret and the Basic credentials it is sent in.
func newScrubber(id string, secret Secret) scrubber {
	v := secret.Reveal()
	if normalizeNeedle(v) == "" {
		return scrubber{}
	}
	set := map[string]bool{normalizeNeedle(v): true}
	add := func(s string) {
		if s = normalizeNeedle(s); len(s) >= minDerivedNeedle {
			set[s] = true
		}
	}
	if strings.Contains(v, " ") {
		add(strings.ReplaceAll(v, " ", "+")) // form encoding
	}
	// A secret that itself holds an escape ("%41", "&amp;", "\n") reads
	// differently in the decoded layers, where it sits among other text
	// decoded alike: look for it as those layers show it too.
	one, _, _ := decodeLayer(v)
	two, _, _ := decodeLayer(one)
	add(one)
	add(two)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		add(enc.EncodeToString([]byte(id + ":" + v)))
		add(enc.EncodeToString([]byte(v)))
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for align := range 3 {
			add(base64Core(enc, v, align))
		}
	}
	s := scrubber{needles: make([]string, 0, len(set))}
	for n := range set {
		s.needles = append(s.needles, n)
	}
	slices.SortFunc(s.needles, func(a, b string) int { return len(b) - len(a) })
	return s
}

// base64Core is the part of the base64 encoding of v that stays the same
// wherever v sits in a longer encoded text, v starting align bytes after a
// 3-byte group boundary: the characters whose six bits all come from v.
func base64Core(enc *base64.Encoding, v string, align int) string {
	buf := make([]byte, align+len(v))
	copy(buf[align:], v)
	out := enc.EncodeToString(buf)
	first := (8*align + 5) / 6         // first character with only v's bits
	last := (8 * (align + len(v))) / 6 // end of the last whole character
	if first >= last || last > len(out) {
		return ""
	}
	return out[first:last]
}

// normalizeNeedle drops what the matching view skips (invisible format
// characters, invalid UTF-8), so that a needle and its view compare alike.
func normalizeNeedle(s string) string {
	if !strings.ContainsFunc(s, skipped) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "") {
		if !skipped(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// skipped reports a rune the view ignores: an invisible format character
// (none is below U+00AD, the soft hyphen).
func skipped(r rune) bool { return r >= 0xAD && unicode.Is(unicode.Cf, r) }

// margin is how far past a cut a body must be scrubbed (see maxEncodedExpansion).
func (s scrubber) margin() int {
	if len(s.needles) == 0 {
		return 0
	}
	return maxEncodedExpansion*len(s.needles[0]) + 16
}

// string returns v with every form of the credential replaced by [REDACTED].
func (s scrubber) string(v string) string {
	if len(s.needles) == 0 || v == "" {
		return v
	}
	spans := s.find(v)
	if len(spans) == 0 {
		return v
	}
	var b strings.Builder
	at := 0
	for _, sp := range spans {
		b.WriteString(v[at:sp.start])
		b.WriteString(redacted)
		at = sp.end
	}
	b.WriteString(v[at:])
	return b.String()
}

// bytes is string for a body.
func (s scrubber) bytes(b []byte) []byte {
	if len(s.needles) == 0 || len(b) == 0 {
		return b
	}
	if out := s.string(string(b)); len(out) != len(b) || out != string(b) {
		return []byte(out)
	}
	return b
}

// header returns h itself when no value holds the credential, else a copy
// with the values scrubbed (names too: a header's name is text as well).
func (s scrubber) header(h http.Header) http.Header {
	if len(s.needles) == 0 {
		return h
	}
	dirty := false
	for k, vs := range h {
		if s.string(k) != k {
			dirty = true
		}
		for _, v := range vs {
			dirty = dirty || s.string(v) != v
		}
	}
	if !dirty {
		return h
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		clean := make([]string, len(vs))
		for i, v := range vs {
			clean[i] = s.string(v)
		}
		out[s.string(k)] = clean
	}
	return out
}

// err returns err unchanged when its text holds no credential, else an
// error with the scrubbed text that still matches err (errors.Is and As).
func (s scrubber) err(err error) error {
	if err == nil || len(s.needles) == 0 {
		return err
	}
	msg := err.Error()
	if clean := s.string(msg); clean != msg {
		return &scrubbedError{msg: clean, err: err}
	}
	return err
}

// scrubbedError is an error whose text had the credential removed.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// span is a byte range of the source text to redact.
type span struct{ start, end int }

// find returns the merged, ordered source ranges that hold a needle in the
// text itself or in one of its two decoded layers.
func (s scrubber) find(v string) []span {
	var spans []span
	match := func(text string, start, end []int32) {
		for _, n := range s.needles {
			for off := 0; ; {
				i := strings.Index(text[off:], n)
				if i < 0 {
					break
				}
				i += off
				if start == nil {
					spans = append(spans, span{i, i + len(n)})
				} else {
					spans = append(spans, span{int(start[i]), int(end[i+len(n)-1])})
				}
				off = i + 1
			}
		}
	}
	match(v, nil, nil)
	if plain(v) {
		return mergeSpans(spans)
	}
	one, start1, end1 := decodeLayer(v)
	match(one, start1, end1)
	if one != v && !plain(one) {
		two, start2, end2 := decodeLayer(one)
		if two != one {
			// Map the second layer's ranges through the first.
			for i := range start2 {
				start2[i], end2[i] = start1[start2[i]], end1[end2[i]-1]
			}
			match(two, start2, end2)
		}
	}
	return mergeSpans(spans)
}

// plain reports text that no decoding changes: ASCII without escapes.
func plain(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= utf8.RuneSelf, c == '%', c == '&', c == '\\':
			return false
		}
	}
	return true
}

// mergeSpans sorts spans and merges those that overlap or touch.
func mergeSpans(spans []span) []span {
	if len(spans) < 2 {
		return spans
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	out := spans[:1]
	for _, sp := range spans[1:] {
		last := &out[len(out)-1]
		if sp.start <= last.end {
			last.end = max(last.end, sp.end)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// decodeLayer undoes one layer of percent-encoding, JSON escapes and HTML
// character references, and drops invisible format characters and invalid
// UTF-8. For each output byte, start and end give the source range
// (end exclusive) of the unit it came from.
func decodeLayer(src string) (string, []int32, []int32) {
	out := make([]byte, 0, len(src))
	start := make([]int32, 0, len(src))
	end := make([]int32, 0, len(src))
	emit := func(b []byte, from, to int) {
		for _, c := range b {
			out = append(out, c)
			start = append(start, int32(from))
			end = append(end, int32(to))
		}
	}
	var rb [utf8.UTFMax]byte
	for i := 0; i < len(src); {
		if b, n, ok := unescapeAt(src, i); ok {
			emit(b, i, i+n)
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(src[i:])
		if !(r == utf8.RuneError && n == 1) && !skipped(r) {
			emit(rb[:utf8.EncodeRune(rb[:], r)], i, i+n)
		}
		i += n
	}
	return string(out), start, end
}

// unescapeAt decodes the escape starting at src[i], if there is one: %XX,
// a JSON escape (\uXXXX, \/, \n…), or an HTML character reference.
func unescapeAt(src string, i int) ([]byte, int, bool) {
	switch src[i] {
	case '%':
		if i+2 < len(src) && ishex(src[i+1]) && ishex(src[i+2]) {
			return []byte{unhex(src[i+1])<<4 | unhex(src[i+2])}, 3, true
		}
	case '\\':
		if i+1 >= len(src) {
			return nil, 0, false
		}
		switch c := src[i+1]; c {
		case '"', '\\', '/':
			return []byte{c}, 2, true
		case 'b', 'f', 'n', 'r', 't':
			return []byte{' '}, 2, true // a control: the cleaning makes it a space
		case 'u':
			if i+5 < len(src) && ishex(src[i+2]) && ishex(src[i+3]) && ishex(src[i+4]) && ishex(src[i+5]) {
				r := rune(unhex(src[i+2]))<<12 | rune(unhex(src[i+3]))<<8 | rune(unhex(src[i+4]))<<4 | rune(unhex(src[i+5]))
				if utf8.ValidRune(r) && !skipped(r) {
					return utf8.AppendRune(nil, r), 6, true
				}
				return nil, 6, true // a lone surrogate or a format character: nothing
			}
		}
	case '&':
		// The longest reference is a named one of about 30 bytes.
		j := strings.IndexByte(src[i:min(len(src), i+40)], ';')
		if j > 1 {
			ref := src[i : i+j+1]
			if u := html.UnescapeString(ref); u != ref {
				return []byte(normalizeNeedle(u)), j + 1, true
			}
		}
	}
	return nil, 0, false
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// scrub removes credential material from every text field of e.
func (e *APIError) scrub(s scrubber) {
	if len(s.needles) == 0 {
		return
	}
	for _, p := range []*string{&e.Code, &e.Title, &e.Detail, &e.Type, &e.Instance, &e.Target, &e.RequestID, &e.Timestamp} {
		*p = s.string(*p)
	}
	if len(e.Errors) > 0 {
		clean := make(map[string][]string, len(e.Errors))
		for k, msgs := range e.Errors {
			out := make([]string, len(msgs))
			for i, m := range msgs {
				out[i] = s.string(m)
			}
			clean[s.string(k)] = out
		}
		e.Errors = clean
	}
}
