package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
)

// cursor is the position of one (workspace, source) stream: the index, in
// the stream's newest-first order, of the next incident to consider.
type cursor struct {
	streamKey
	offset int
}

// pageToken is the content of an opaque page token: base64url of this JSON,
// authenticated with an HMAC so that a token cannot be forged or altered.
type pageToken struct {
	V int           `json:"v"`
	W string        `json:"w"` // workspace id
	S client.Source `json:"s"`
	O int           `json:"o"` // offset in the stream
	F string        `json:"f"` // fingerprint of the filter it was issued for
	M string        `json:"m,omitempty"`
}

func (e *Emulator) mac(t pageToken) string {
	t.M = ""
	b, _ := json.Marshal(t) // strings and ints only
	h := hmac.New(sha256.New, e.tokenKey)
	h.Write(b)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

func (e *Emulator) encodeToken(c cursor, f *listFilter) string {
	t := pageToken{V: 1, W: c.ws, S: c.source, O: c.offset, F: f.fingerprint}
	t.M = e.mac(t)
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken authenticates a token; ok is false if it is not one of ours
// or was altered.
func (e *Emulator) decodeToken(s string) (pageToken, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageToken{}, false
	}
	var t pageToken
	if json.Unmarshal(b, &t) != nil || t.V != 1 || t.O < 0 {
		return pageToken{}, false
	}
	return t, hmac.Equal([]byte(t.M), []byte(e.mac(t)))
}

// firstCursors starts every stream the credential may see and the filter selects.
func (e *Emulator) firstCursors(cred *Credential, f *listFilter) []cursor {
	var out []cursor
	for _, ws := range e.workspaces {
		if cred.role(ws.ID) == "" {
			continue
		}
		for _, src := range client.Source("").Values() {
			k := streamKey{ws.ID, src}
			if f.wantsSource(src) && len(e.streams[k]) > 0 {
				out = append(out, cursor{streamKey: k})
			}
		}
	}
	return out
}

// tokenErrorKey is the error key of every page-token problem.
const tokenErrorKey = "workspacePageTokens"

// cursorsFromTokens validates the tokens sent back with a next-page call.
// Streams of workspaces the credential no longer has a role on are dropped.
func (e *Emulator) cursorsFromTokens(cred *Credential, tokens []client.WorkspacePageToken, f *listFilter) ([]cursor, fieldErrors) {
	errs := fieldErrors{}
	var out []cursor
	seen := map[streamKey]bool{}
	n := 0
	for i, wt := range tokens {
		ws := strings.ToLower(wt.WorkspaceID)
		for _, src := range slices.Sorted(maps.Keys(wt.SourceTokens)) {
			n++
			path := fmt.Sprintf("workspacePageTokens[%d].sourceTokens.%s", i, src)
			t, ok := e.decodeToken(wt.SourceTokens[src])
			k := streamKey{ws, src}
			switch {
			case !ok:
				errs.add(tokenErrorKey, "%s: not a page token of this API, or altered; send the tokens back exactly as received.", path)
			case t.W != ws || t.S != src:
				errs.add(tokenErrorKey, "%s: the token belongs to another workspace or source than the one it is listed under.", path)
			case t.F != f.fingerprint:
				errs.add(tokenErrorKey, "%s: the token was issued for a different filter; send the same filter with every page, or start again with isFirstCall true.", path)
			case seen[k]:
				errs.add(tokenErrorKey, "%s: the same workspace and source appear twice.", path)
			default:
				seen[k] = true
				if cred.role(ws) != "" {
					out = append(out, cursor{streamKey: k, offset: t.O})
				}
			}
		}
	}
	if n == 0 {
		errs.add(tokenErrorKey, "isFirstCall is false but no page tokens were sent: send back the workspacePageTokens of the previous answer, or set isFirstCall to true for the first page.")
	}
	return out, errs
}

// pageResult is one page: the rows (encoded) and the cursors of the streams
// that have more.
type pageResult struct {
	rows []*record
	json [][]byte
	next []cursor
}

// page takes the next PageSize matching incidents of every stream, and
// looks ahead so that a stream is only continued if it has another match.
// e.mu must be held for reading.
func (e *Emulator) page(cursors []cursor, f *listFilter) pageResult {
	var res pageResult
	for _, c := range cursors {
		stream := e.streams[c.streamKey]
		i, taken := c.offset, 0
		for ; i < len(stream) && taken < e.pageSize; i++ {
			if f.match(stream[i]) {
				res.rows = append(res.rows, stream[i])
				taken++
			}
		}
		for ; i < len(stream); i++ {
			if f.match(stream[i]) {
				res.next = append(res.next, cursor{streamKey: c.streamKey, offset: i})
				break
			}
		}
	}
	slices.SortStableFunc(res.rows, newestFirst)
	res.json = make([][]byte, len(res.rows))
	for i, rec := range res.rows {
		res.json[i] = rec.summaryJSON
	}
	return res
}

// tokensOf groups next-page cursors by workspace, in workspace order.
func (e *Emulator) tokensOf(next []cursor, f *listFilter) []client.WorkspacePageToken {
	sources := client.Source("").Values()
	slices.SortFunc(next, func(a, b cursor) int {
		if d := e.wsIndex(a.ws) - e.wsIndex(b.ws); d != 0 {
			return d
		}
		return slices.Index(sources, a.source) - slices.Index(sources, b.source)
	})
	out := []client.WorkspacePageToken{}
	for _, c := range next {
		if len(out) == 0 || out[len(out)-1].WorkspaceID != c.ws {
			out = append(out, client.WorkspacePageToken{WorkspaceID: c.ws, SourceTokens: map[client.Source]string{}})
		}
		out[len(out)-1].SourceTokens[c.source] = e.encodeToken(c, f)
	}
	return out
}

// encodeContinuation wraps next-page tokens into one continuation token
// (PagingContinuation): base64url of their JSON. The tokens inside carry
// their own HMAC, so the wrapper needs none.
func encodeContinuation(ts []client.WorkspacePageToken) string {
	b, _ := json.Marshal(ts) // strings only
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeContinuation unwraps a continuation token; ok is false if it is not one.
func decodeContinuation(s string) ([]client.WorkspacePageToken, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	var ts []client.WorkspacePageToken
	if json.Unmarshal(b, &ts) != nil || len(ts) == 0 {
		return nil, false
	}
	return ts, true
}
