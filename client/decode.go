package client

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Answers are decoded with github.com/go-json-experiment/json (the module of
// encoding/json/v2; with GOEXPERIMENT=jsonv2 or from Go 1.27 it is the
// standard library's). A list page is the hot path of every session: the
// API sends a page of 140 rows with their entities to show 25. The page is
// not decoded whole: its rows are located (scanList, or listData when the
// decoder has to read the page; see rows.go), what identifies a row is read
// when paging needs it, and only the rows shown are decoded, their entities
// kept raw until asked for (RowEntities). What is decoded is read from the
// stream: Entity and Opt read their members from the decoder
// (UnmarshalJSONFrom) instead of re-parsing bytes handed to them, as they
// did with encoding/json.
//
// The options keep encoding/json's leniency, so that what the client
// accepted before it still accepts: member names match case-insensitively
// (an exact match wins), a repeated member takes its last value, and invalid
// UTF-8 becomes U+FFFD rather than an error.
var decodeOptions = jsonv2.JoinOptions(
	jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
)

// unmarshal decodes one whole JSON answer into v.
func unmarshal(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v, decodeOptions)
}

// typeMismatch describes a member of the wrong JSON type ("member
// \"data.incidents.0.number\" is a JSON string where int was expected"),
// or "" when err is not that.
func typeMismatch(err error, scrub scrubber) string {
	var se *jsonv2.SemanticError
	if !errors.As(err, &se) || se.GoType == nil || se.JSONKind == 0 {
		return ""
	}
	field := strings.ReplaceAll(strings.TrimPrefix(string(se.JSONPointer), "/"), "/", ".")
	return fmt.Sprintf("member %q is a JSON %s where %s was expected", scrub.string(field), kindName(se.JSONKind), se.GoType)
}

// kindName names a JSON kind as encoding/json's errors did.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return k.String()
}

// UnmarshalJSONFrom records that the member was sent and decodes it from
// the stream (see UnmarshalJSON).
func (o *Opt[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	o.Set = true
	var zero T
	o.Value = zero
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		return err
	}
	return jsonv2.UnmarshalDecode(dec, &o.Value)
}

// listIncidentsRows is ListIncidentsData without its methods, for the
// default decoding of the object shape.
type listIncidentsRows ListIncidentsData

// UnmarshalJSONFrom reads the documented object {incidents,
// workspacePageTokens, hasMore} or, as the data-models page's paginated
// envelope shows, the bare array of rows: one pass for either shape.
func (d *ListIncidentsData) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch k := dec.PeekKind(); k {
	case '[':
		*d = ListIncidentsData{}
		return jsonv2.UnmarshalDecode(dec, &d.Incidents)
	case '{', 'n':
		return jsonv2.UnmarshalDecode(dec, (*listIncidentsRows)(d))
	default:
		// Named as the type a reader of the error knows; the value is not
		// echoed.
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return &jsonv2.SemanticError{JSONKind: k, GoType: reflect.TypeFor[ListIncidentsData]()}
	}
}
