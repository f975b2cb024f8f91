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
// row into an IncidentSummary was most of a list call's CPU, so
// ListIncidentRows reads the page in one pass that decodes only what paging
// needs of each row (its id, workspace and source: the allowlist, the page
// digests and the repeat guard) and notes where the row lies in the body;
// PageRow.Decode reads the rest of a row when it is shown. Both readings use
// the same decoder and options, so a row means the same either way.

// PageRow is one row of a list answer: the members that identify it, read
// with the page, and the row as the API sent it, decoded by Decode.
type PageRow struct {
	ID          string
	WorkspaceID string
	// Source is the row's source, inferred from sourceDisplayName when the
	// row has none (an older crawl's row).
	Source Source

	raw jsontext.Value
	at  int         // the row's index in the answer
	ans *listAnswer // what the row's errors name
}

// listAnswer is what the rows of one answer share: the answer, for errors,
// and where the rows sit in it.
type listAnswer struct {
	op    string
	res   *result
	array jsontext.Pointer // the JSON Pointer of the rows' array
}

// Decode reads the whole row. A member of the wrong type fails as it would
// have failed reading the whole page ("member \"data.incidents.3.number\"
// is a JSON string where int was expected").
//
// The decoded row must be the row the page was filtered by (its id,
// workspace and source as the page's reading found them): a row read two
// ways is refused rather than shown.
func (r PageRow) Decode() (IncidentSummary, error) {
	var inc IncidentSummary
	if err := unmarshal(r.raw, &inc); err != nil {
		var se *jsonv2.SemanticError
		if errors.As(err, &se) {
			se.JSONPointer = r.ans.array + jsontext.Pointer("/"+strconv.Itoa(r.at)) + se.JSONPointer
		}
		return IncidentSummary{}, r.ans.res.scrub.err(decodeError(r.ans.op, r.ans.res, err))
	}
	inc.inferSource()
	if inc.ID != r.ID || inc.WorkspaceID != r.WorkspaceID || inc.Source != r.Source {
		return IncidentSummary{}, r.ans.res.scrub.err(fmt.Errorf("%s: the API answered HTTP %d with a row that reads as two "+
			"different incidents (row %d of the page); it is not shown", r.ans.op, r.ans.res.status, r.at))
	}
	return inc, nil
}

// RowPage is one page of list rows as ListIncidentRows returns it; see
// IncidentPage for HasMore, Next and Halted.
type RowPage struct {
	Rows    []PageRow
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

// rowKey is what the page's reading decodes of each row.
type rowKey struct {
	ID                string  `json:"id"`
	WorkspaceID       string  `json:"workspaceId"`
	Source            Source  `json:"source"`
	SourceDisplayName *string `json:"sourceDisplayName"`
}

// listData is the "data" of a list answer as ListIncidentRows reads it:
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

// rowSpans are the rows of an answer: each one's key and its byte span in
// the body (the body itself is attached after decoding, see rows).
type rowSpans struct {
	keys  []rowKey
	spans [][2]int64
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

// rows turns the spans into PageRows of body.
func (r *rowSpans) rows(op string, res *result) []PageRow {
	ans := &listAnswer{op: op, res: res, array: r.array}
	out := make([]PageRow, len(r.keys))
	for i, k := range r.keys {
		s := r.spans[i]
		// A span starts after the previous token: it may hold the comma
		// and blanks before the row.
		raw := bytes.TrimLeft(res.body[s[0]:s[1]], ", \t\r\n")
		src := k.Source
		if src == "" && k.SourceDisplayName != nil {
			src = SourceFromDisplayName(*k.SourceDisplayName)
		}
		out[i] = PageRow{ID: k.ID, WorkspaceID: k.WorkspaceID, Source: src, raw: raw, at: i, ans: ans}
	}
	return out
}

// decodeRows decodes every row (ListIncidents).
func decodeRows(rows []PageRow) ([]IncidentSummary, error) {
	out := make([]IncidentSummary, len(rows))
	for i, r := range rows {
		inc, err := r.Decode()
		if err != nil {
			return nil, err
		}
		out[i] = inc
	}
	return out, nil
}
