package schema

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind classifies an ArgError.
type Kind uint8

// The kinds of argument problems.
const (
	// KindInvalid is a value of the wrong type, outside its enum, range,
	// format or length, or arguments that are not a JSON object at all.
	KindInvalid Kind = iota
	// KindUnknown is an argument the tool does not have.
	KindUnknown
	// KindMissing is a required argument that is absent, null or "".
	KindMissing
	// KindRule is a broken cross-field rule (RequiredWhen or Check).
	KindRule
)

// ArgError is one problem with a tool's arguments. Its Error is a single
// sentence an agent can act on: it names the argument and what is allowed.
type ArgError struct {
	// Field is the JSON path of the argument, e.g. "severities[1]" or
	// "timeFilterSelection.type"; "" for the arguments as a whole.
	Field string
	Kind  Kind
	// Problem says what is wrong: `"Resolved" is not allowed` (KindInvalid),
	// the argument's description (KindMissing), a predicate such as
	// `is required when status is "Closed" (…)` or `must not be before
	// start` (KindRule; the whole sentence when Field is ""), or ""
	// (KindUnknown).
	Problem string
	// Allowed lists the accepted values (an enum) or, for KindUnknown, the
	// argument names accepted at that level.
	Allowed []string
	// Suggest is the likely intended name or value of a typo, or "".
	Suggest string
}

// Error renders the one-sentence form, for example
//
//	argument "status": "Resolved" is not allowed; use one of: New, Active, Closed
//	unknown argument "sevrity" (did you mean "severities"?); allowed arguments: workspaceId, …
//	missing required argument "incidentId" (Incident id.)
//	argument "ticketId" is required when updateTicket is true (the ticket to update must be named)
func (e *ArgError) Error() string {
	var b strings.Builder
	switch {
	case e.Kind == KindUnknown:
		b.WriteString("unknown argument " + strconv.Quote(e.Field))
		e.writeSuggest(&b)
		if len(e.Allowed) > 0 {
			b.WriteString("; allowed arguments: " + strings.Join(e.Allowed, ", "))
		}
		return b.String()
	case e.Kind == KindMissing:
		b.WriteString("missing required argument " + strconv.Quote(e.Field))
		if e.Problem != "" {
			b.WriteString(" (" + e.Problem + ")")
		}
	case e.Field == "":
		b.WriteString(e.Problem)
	case e.Kind == KindRule:
		b.WriteString("argument " + strconv.Quote(e.Field) + " " + e.Problem)
	default:
		b.WriteString("argument " + strconv.Quote(e.Field) + ": " + e.Problem)
		e.writeSuggest(&b)
	}
	if len(e.Allowed) > 0 {
		b.WriteString("; use one of: " + strings.Join(e.Allowed, ", "))
	}
	return b.String()
}

func (e *ArgError) writeSuggest(b *strings.Builder) {
	if e.Suggest != "" {
		b.WriteString(" (did you mean " + strconv.Quote(e.Suggest) + "?)")
	}
}

// ArgErrors is every problem Decode found, in schema order (at most
// maxProblems): an agent fixes them all in one retry. errors.As finds each
// *ArgError in it.
type ArgErrors []*ArgError

// Error joins the sentences, one per line.
func (e ArgErrors) Error() string {
	s := make([]string, len(e))
	for i, a := range e {
		s[i] = a.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap exposes each *ArgError to errors.Is and errors.As.
func (e ArgErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, a := range e {
		out[i] = a
	}
	return out
}

// asArgErrors turns a Check error into ArgErrors, keeping the field of an
// *ArgError the method returned.
func asArgErrors(err error) ArgErrors {
	var many ArgErrors
	if errors.As(err, &many) && len(many) > 0 {
		return many
	}
	var one *ArgError
	if errors.As(err, &one) {
		return ArgErrors{one}
	}
	return ArgErrors{{Kind: KindRule, Problem: err.Error()}}
}

// clip shortens s for quoting in a sentence: arguments can be 64 KiB long.
func clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// closest returns the option s most likely is a typo of, or "".
func closest(s string, options []string) string {
	if s == "" || len(s) > 64 {
		return ""
	}
	ls := strings.ToLower(s)
	best, bestD := "", -1
	for _, o := range options {
		lo := strings.ToLower(o)
		if ls == lo {
			return o
		}
		d := levenshtein(ls, lo)
		if d <= max(2, len(lo)*2/5) && (bestD < 0 || d < bestD) {
			best, bestD = o, d
		}
	}
	return best
}

// levenshtein is the edit distance between a and b, in bytes.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
