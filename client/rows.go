package client

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// A list answer holds a page of rows (140 for the demo credential, about
// 1.8 KB each with their entities) of which a tool shows 25. Decoding every
// row into an IncidentSummary was most of a list call's CPU, so the page is
// read in one pass that only finds where each row lies in the body
// (pageRow). What identifies a row (its id, workspace and source) is read
// when paging needs it (the allowlist, the page digests, the repeat guard),
// and a row is decoded in full only when asked for (ListIncidentRange).
// Every reading agrees with the decoder's, so a row means the same either
// way.

// rowID is what identifies a row: its id, workspace and source (inferred
// from sourceDisplayName when the row has none, as an older crawl's).
type rowID struct {
	ID, WorkspaceID string
	Source          Source
}

// pageRow is one row of a list answer, as the API sent it.
type pageRow struct {
	id    rowID
	known bool           // id has been read
	raw   jsontext.Value // in the answer's body, which may be a pooled buffer
	at    int            // the row's index in the answer
	ans   *listAnswer    // what the row's errors name
}

// ident returns what identifies the row, reading it the first time. A row
// whose id, workspace or source the decoder would refuse fails as the
// whole row would.
func (r *pageRow) ident() (rowID, error) {
	if !r.known {
		s := scanner{b: r.raw}
		k, ok := s.rowKey()
		if !ok {
			_, err := r.decode()
			if err == nil { // the readings disagree: a bug, refused all the same
				err = r.ans.res.scrub.err(fmt.Errorf("%s: row %d of the page could not be read", r.ans.op, r.at))
			}
			return rowID{}, err
		}
		r.id, r.known = k.ident(), true
	}
	return r.id, nil
}

// listAnswer is what the rows of one answer share: the answer, for errors,
// and where the rows sit in it.
type listAnswer struct {
	op    string
	res   *result
	array jsontext.Pointer // the JSON Pointer of the rows' array
}

// decode reads the whole row. A member of the wrong type fails as it would
// have failed reading the whole page ("member \"data.incidents.3.number\"
// is a JSON string where int was expected").
//
// The decoded row must be the row the page was filtered by (its id,
// workspace and source as the page's reading found them): a row read two
// ways is refused rather than shown.
func (r *pageRow) decode() (IncidentSummary, error) {
	var inc IncidentSummary
	if err := unmarshal(r.raw, &inc); err != nil {
		// The error may hold bytes of the row, and the row may lie in a
		// pooled buffer: the error is built from copies only.
		raw := bytes.Clone(r.raw)
		r.ans.res.own()
		err = unmarshal(raw, new(IncidentSummary))
		var se *jsonv2.SemanticError
		if errors.As(err, &se) {
			se.JSONPointer = r.ans.array + jsontext.Pointer("/"+strconv.Itoa(r.at)) + se.JSONPointer
		}
		return IncidentSummary{}, r.ans.res.scrub.err(decodeError(r.ans.op, r.ans.res, err))
	}
	inc.inferSource()
	id := rowID{ID: inc.ID, WorkspaceID: inc.WorkspaceID, Source: inc.Source}
	if r.known && id != r.id {
		return IncidentSummary{}, r.ans.res.scrub.err(fmt.Errorf("%s: the API answered HTTP %d with a row that reads as two "+
			"different incidents (row %d of the page); it is not shown", r.ans.op, r.ans.res.status, r.at))
	}
	r.id, r.known = id, true
	return inc, nil
}

// rowPage is one page of list rows; see IncidentPage for HasMore, Next and
// Halted.
type rowPage struct {
	Rows    []pageRow
	HasMore bool
	Next    PageToken
	Halted  string
	Meta    Meta
}

// readList reads a list answer: by its structure (scanList) when it can,
// else with the decoder throughout. listData also reads the bare array of
// rows the data-models page's paginated envelope shows.
func readList(res *result) (Envelope[listData], error) {
	if env, rows, ok := scanList(res.body); ok {
		env.Data.Incidents = rows
		env.Meta.RequestID = firstNonEmpty(env.Meta.RequestID, res.header.Get(requestIDHeader))
		return env, nil
	}
	return decodeData[listData](opListIncidents, res)
}

// rowKey is the members of a row that identify it.
type rowKey struct {
	ID                string  `json:"id"`
	WorkspaceID       string  `json:"workspaceId"`
	Source            Source  `json:"source"`
	SourceDisplayName *string `json:"sourceDisplayName"`
}

// ident is the row's identity, its source inferred when absent.
func (k rowKey) ident() rowID {
	return rowID{ID: k.ID, WorkspaceID: k.WorkspaceID, Source: inferredSource(k.Source, k.SourceDisplayName)}
}

// listData is the "data" of a list answer as listRows reads it:
// ListIncidentsData with its rows located rather than decoded.
type listData struct {
	Incidents           rowSpans             `json:"incidents"`
	WorkspacePageTokens []WorkspacePageToken `json:"workspacePageTokens,omitempty"`
	HasMore             *bool                `json:"hasMore,omitempty"`
}

// listDataFields is listData without its methods, for the default decoding
// of the object shape.
type listDataFields listData

// UnmarshalJSONFrom reads the documented object {incidents,
// workspacePageTokens, hasMore} or, as the data-models page's paginated
// envelope shows, the bare array of rows.
func (d *listData) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch k := dec.PeekKind(); k {
	case '[':
		*d = listData{}
		return d.Incidents.UnmarshalJSONFrom(dec)
	case '{', 'n':
		return jsonv2.UnmarshalDecode(dec, (*listDataFields)(d))
	default:
		// Named as the type a reader of the error knows; the value is not
		// echoed.
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return &jsonv2.SemanticError{JSONKind: k, GoType: reflect.TypeFor[ListIncidentsData]()}
	}
}

// rowSpans are the rows of an answer: each one's byte span in the body
// (the body itself is attached after decoding, see rows) and, when the
// decoder read them, their keys.
type rowSpans struct {
	spans [][2]int64
	keys  []rowKey // nil: not read yet
	array jsontext.Pointer
}

// UnmarshalJSONFrom reads an array of rows (or null), decoding each row's
// key and noting its span. A row that is neither an object nor null fails
// here, as it did when whole rows were decoded.
func (r *rowSpans) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*r = rowSpans{}
	switch k := dec.PeekKind(); k {
	case 'n':
		_, err := dec.ReadToken()
		return err
	case '[':
	default:
		return jsonv2.UnmarshalDecode(dec, new([]IncidentSummary)) // fails, naming the member and the kind
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	r.array = dec.StackPointer()
	for dec.PeekKind() != ']' {
		start := dec.InputOffset()
		var key rowKey
		switch dec.PeekKind() {
		case '{':
			if err := jsonv2.UnmarshalDecode(dec, &key); err != nil {
				return err
			}
		case 'n':
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
		default:
			return jsonv2.UnmarshalDecode(dec, new(IncidentSummary))
		}
		r.keys = append(r.keys, key)
		r.spans = append(r.spans, [2]int64{start, dec.InputOffset()})
	}
	_, err := dec.ReadToken()
	return err
}

// rows turns the spans into pageRows of the answer's body.
func (r *rowSpans) rows(op string, res *result) []pageRow {
	ans := &listAnswer{op: op, res: res, array: r.array}
	out := make([]pageRow, len(r.spans))
	for i, s := range r.spans {
		// A span the decoder found starts after the previous token: it may
		// hold the comma and blanks before the row.
		raw := bytes.TrimLeft(res.body[s[0]:s[1]], ", \t\r\n")
		out[i] = pageRow{raw: raw, at: i, ans: ans}
		if r.keys != nil {
			out[i].id, out[i].known = r.keys[i].ident(), true
		}
	}
	return out
}

// decodeRows decodes rows.
func decodeRows(rows []pageRow) ([]IncidentSummary, error) {
	out := make([]IncidentSummary, len(rows))
	for i := range rows {
		inc, err := rows[i].decode()
		if err != nil {
			return nil, err
		}
		out[i] = inc
	}
	return out, nil
}
