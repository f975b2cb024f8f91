package client

import (
	"encoding/binary"
	"math/bits"

	"github.com/go-json-experiment/json/jsontext"
)

// scanList is the fast reading of a list answer. Reading a 255 KiB page with
// the JSON decoder, even only to skip what it does not keep, cost three
// times the rest of a list_incidents call: the decoder validates every byte
// of every row, and most rows are never shown. scanList finds the envelope's
// rows array and where each row starts and ends by their structure alone
// (strings and brackets), and leaves validation to the decoder: the
// envelope around the rows is decoded with them left out, a row's id,
// workspace and source are read when paging needs them (rowKey, through
// pageRow.ident), and a row is decoded in full when it is shown
// (pageRow.decode, which also checks that the decoded row is the one the
// page was filtered by).
//
// It agrees with the decoder on every valid answer: member names match as
// the decoder matches them (case-insensitively, ignoring '_' and '-', the
// last of repeated members winning), and an envelope it cannot read that
// way (an escaped or non-ASCII member name, a repeated "data" or
// "incidents", rows that are not an array, a row that is neither an object
// nor null) makes it give up (ok false): the answer is then read by the
// decoder alone. A row whose identifying members it cannot read that way
// has them decoded by the decoder. What it does not check is the syntax
// inside rows nobody shows: a page whose unshown rows are not valid JSON is
// still listed, and a shown row that is not fails when decoded.
func scanList(body []byte) (env Envelope[listData], rows rowSpans, ok bool) {
	s := scanner{b: body}
	var dataName, rowsName []byte // the members holding the rows, as sent
	start, end := -1, -1          // the rows array
	if !s.object(func(name []byte) bool {
		switch {
		case !plainName(name):
			return false // a name the decoder may read as "data"
		case !foldEqual(name, "data"):
			return s.skip()
		case dataName != nil:
			return false // repeated
		}
		dataName = name
		switch s.peek() {
		case '[':
			start = s.i
			if !s.rows(&rows) {
				return false
			}
			end = s.i
			return true
		case '{':
			return s.object(func(name []byte) bool {
				switch {
				case !plainName(name):
					return false
				case !foldEqual(name, "incidents"):
					return s.skip()
				case rowsName != nil || s.peek() != '[':
					return false // repeated, or null or not an array
				}
				rowsName, start = name, s.i
				if !s.rows(&rows) {
					return false
				}
				end = s.i
				return true
			})
		}
		return false // null or another kind: the decoder's reading says what it means
	}) || start < 0 || s.ws() != len(body) {
		return env, rows, false
	}
	// The envelope without its rows is small: decode it as the decoder
	// would the whole answer.
	head := make([]byte, 0, start+2+len(body)-end)
	head = append(append(append(head, body[:start]...), "[]"...), body[end:]...)
	if err := unmarshal(head, &env); err != nil {
		return env, rows, false
	}
	rows.array = jsontext.Pointer("/" + string(dataName))
	if rowsName != nil {
		rows.array += jsontext.Pointer("/" + string(rowsName))
	}
	return env, rows, true
}

// rows reads the array of rows at the position into r.
func (s *scanner) rows(r *rowSpans) bool {
	s.i++ // [
	n := 0
	for {
		switch s.peek() {
		case 0:
			return false
		case ']':
			s.i++
			return true
		}
		if n > 0 {
			if s.b[s.i] != ',' {
				return false
			}
			s.i++
			s.ws()
		}
		// A row is an object or null, found whole; what identifies it
		// is read when needed (pageRow.ident).
		from := s.i
		switch c := s.peek(); {
		case c == '{' && s.skip():
		case c == 'n' && s.skip() && string(s.b[from:s.i]) == "null":
		default:
			return false
		}
		r.spans = append(r.spans, [2]int64{int64(from), int64(s.i)})
		n++
	}
}

// rowKey reads one row and returns its key; a row it cannot read as the
// decoder would has its key decoded by the decoder (ok is false when that
// fails).
func (s *scanner) rowKey() (rowKey, bool) {
	var k rowKey
	from := s.i
	switch s.peek() {
	case 'n':
		return k, s.skip() && string(s.b[from:s.i]) == "null"
	case '{':
	default:
		return k, false
	}
	plain := true // every member read as the decoder reads it
	ok := s.object(func(name []byte) bool {
		var dst *string
		display := false
		switch {
		case !plainName(name):
			plain = false
		case foldEqual(name, "id"):
			dst = &k.ID
		case foldEqual(name, "workspaceid"):
			dst = &k.WorkspaceID
		case foldEqual(name, "source"):
			dst = (*string)(&k.Source)
		case foldEqual(name, "sourcedisplayname"):
			display = true
		}
		v := s.i
		if !s.skip() {
			return false
		}
		if dst == nil && !display {
			return true
		}
		// A repeated member: the last one counts. A null one clears.
		raw := s.b[v:s.i]
		switch {
		case string(raw) == "null" && display:
			k.SourceDisplayName = nil
		case string(raw) == "null":
			*dst = ""
		case !plainString(raw):
			plain = false
		case display:
			v := string(raw[1 : len(raw)-1])
			k.SourceDisplayName = &v
		default:
			*dst = string(raw[1 : len(raw)-1])
		}
		return true
	})
	if !ok {
		return k, false
	}
	if !plain {
		k = rowKey{}
		if err := unmarshal(s.b[from:s.i], &k); err != nil {
			return k, false
		}
	}
	return k, true
}

// scanner walks JSON by its structure: it finds where strings and values
// end, without checking what lies between.
type scanner struct {
	b []byte
	i int
}

// ws skips blanks and returns the new position.
func (s *scanner) ws() int {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return s.i
		}
	}
	return s.i
}

// peek returns the next byte after blanks (0 at the end).
func (s *scanner) peek() byte {
	if s.ws() < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// object reads an object, calling member for each member with the
// position at its value; member reads the value. Names are returned as
// sent, between their quotes.
func (s *scanner) object(member func(name []byte) bool) bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	for n := 0; ; n++ {
		c := s.peek()
		if c == '}' {
			s.i++
			return true
		}
		if n > 0 {
			if c != ',' {
				return false
			}
			s.i++
			c = s.peek()
		}
		if c != '"' {
			return false
		}
		from := s.i
		if !s.str() {
			return false
		}
		name := s.b[from+1 : s.i-1]
		if s.peek() != ':' {
			return false
		}
		s.i++
		s.ws()
		if !member(name) {
			return false
		}
	}
}

// str moves past the string that starts at the position. Most of a page is
// strings, so it looks for the closing quote or a backslash eight bytes at
// a time.
func (s *scanner) str() bool {
	b := s.b
	i := s.i + 1
	for {
		for ; i+8 <= len(b); i += 8 {
			w := binary.LittleEndian.Uint64(b[i:])
			if m := hasByte(w, '"') | hasByte(w, '\\'); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
		}
		for ; i < len(b) && b[i] != '"' && b[i] != '\\'; i++ {
		}
		switch {
		case i >= len(b):
			return false
		case b[i] == '"':
			s.i = i + 1
			return true
		}
		i += 2 // a backslash and the byte it escapes
	}
}

// hasByte marks the bytes of w equal to c with their high bit; the lowest
// mark is exact (a borrow only ever marks bytes above a true match).
func hasByte(w uint64, c byte) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	x := w ^ (ones * uint64(c))
	return (x - ones) &^ x & highs
}

// skip moves past the value that starts at the position: a string, an
// object or array (brackets counted, strings skipped), or a literal or
// number (up to the next delimiter).
func (s *scanner) skip() bool {
	switch s.peek() {
	case 0:
		return false
	case '"':
		return s.str()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if !s.str() {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	case '}', ']', ',', ':':
		return false
	}
	from := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return s.i > from
		case '"', '{', '[', ':':
			return false
		}
		s.i++
	}
	return s.i > from
}

// plainName reports whether a member name as sent is read as written: no
// escapes and ASCII only, so that foldEqual decides as the decoder does.
func plainName(name []byte) bool {
	for _, c := range name {
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// plainString reports whether a JSON string (quotes included) reads as its
// bytes: printable ASCII, no escapes.
func plainString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' {
		return false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// foldEqual reports whether an ASCII member name matches key (lower case,
// without '_' or '-') as the decoder matches names (MatchCaseInsensitiveNames:
// case-insensitively, ignoring '_' and '-').
func foldEqual(name []byte, key string) bool {
	j := 0
	for _, c := range name {
		if c == '_' || c == '-' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if j == len(key) || key[j] != c {
			return false
		}
		j++
	}
	return j == len(key)
}
