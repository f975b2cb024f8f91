package client

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Operation names, used in errors ("get incident: HTTP 404 …") and logs.
const (
	opListIncidents = "list incidents"
	opGetIncident   = "get incident"
	opListComments  = "list comments"
	opAddComment    = "add comment"
	opUpdateStatus  = "update status"
	opAssign        = "assign incident"
	opGetEvidence   = "get evidence"
	opListUsers     = "list users"
	opFindIncident  = "find incident row"
)

// ListIncidents returns one page of incidents across every workspace the
// credential can see, filtered by f. Pass the zero PageToken for the first
// page and the previous page's Next for the following ones (with the same
// filter); stop when HasMore is false. With a workspace allowlist, rows and
// page tokens of other workspaces are dropped.
//
// A server that ignores page tokens would hand back a page already seen,
// and a caller would loop for ever. So the answer to a next-page request is
// checked against the page that issued the position (digests of its first
// and last rows, carried in PageToken.Seen) and against the position itself:
// if it repeats either, the listing ends with Halted saying why, no rows and
// HasMore false.
func (c *Client) ListIncidents(ctx context.Context, f IncidentFilter, page PageToken) (*IncidentPage, error) {
	return c.ListIncidentRange(ctx, f, page, 0, -1)
}

// ListIncidentRange is ListIncidents decoding only the rows [from, from+n)
// of the page (n < 0: to its end), counted after the allowlist: a caller
// that shows some of the API's rows pays for those. IncidentPage.Rows is
// how many rows the page holds, Incidents those of the range.
func (c *Client) ListIncidentRange(ctx context.Context, f IncidentFilter, page PageToken, from, n int) (*IncidentPage, error) {
	rp, res, err := c.listRows(ctx, f, page)
	if err != nil {
		return nil, err
	}
	defer res.release()
	from = min(max(from, 0), len(rp.Rows))
	to := len(rp.Rows)
	if n >= 0 {
		to = min(from+n, to)
	}
	incs, err := decodeRows(rp.Rows[from:to])
	if err != nil {
		return nil, err
	}
	return &IncidentPage{Incidents: incs, Rows: len(rp.Rows), HasMore: rp.HasMore, Next: rp.Next, Halted: rp.Halted, Meta: rp.Meta}, nil
}

// listRows makes the list call and reads its rows (pageRow). The rows lie
// in the answer's pooled body: the caller decodes what it needs, then
// calls res.release, after which no row may be used. res is nil with an
// error.
func (c *Client) listRows(ctx context.Context, f IncidentFilter, page PageToken) (*rowPage, *result, error) {
	u, err := c.buildURL(opListIncidents, nil, lit("incidents"), lit("across-workspaces"))
	if err != nil {
		return nil, nil, err
	}
	if allowed := c.allowedTokens(page.WorkspacePageTokens); len(allowed) != len(page.WorkspacePageTokens) {
		if len(allowed) == 0 && page.ContinuationToken == "" {
			// Only other workspaces had more pages: nothing left to list
			// (sending the now-empty position would restart at page one).
			return &rowPage{Rows: []pageRow{}}, &result{}, nil
		}
		page.WorkspacePageTokens = allowed
	}
	body := ListIncidentsRequest{IncidentFilter: f, IsFirstCall: page.IsZero(),
		WorkspacePageTokens: page.WorkspacePageTokens, ContinuationToken: page.ContinuationToken}
	res, err := c.do(ctx, call{op: opListIncidents, method: http.MethodPost, url: u, body: body, kind: readCall, pooled: true})
	if err != nil {
		return nil, nil, err
	}
	env, err := readList(res)
	if err != nil {
		res.release()
		return nil, nil, err
	}
	rows := env.Data.Incidents.rows(opListIncidents, res)
	p, err := c.rowPage(env, rows)
	if err == nil && !page.IsZero() {
		var why string
		if why, err = repeated(page, rows, p.Next); why != "" {
			return &rowPage{Rows: []pageRow{}, Halted: why, Meta: p.Meta}, res, nil
		}
	}
	if err != nil {
		res.release()
		return nil, nil, err
	}
	return p, res, nil
}

// rowPage turns a list answer into a rowPage: it applies the allowlist,
// takes the next-page position from wherever the API put it, and notes the
// answer's rows in that position (Seen).
func (c *Client) rowPage(env Envelope[listData], rows []pageRow) (*rowPage, error) {
	p := &rowPage{Rows: rows, Meta: env.Meta}
	if len(c.allow) > 0 {
		// A new slice: the caller still reads every row for Seen and repeats.
		p.Rows = make([]pageRow, 0, len(rows))
		for i := range rows {
			id, err := rows[i].ident()
			if err != nil {
				return nil, err
			}
			if c.workspaceAllowed(id.WorkspaceID) {
				p.Rows = append(p.Rows, rows[i])
			}
		}
	}
	p.Next.WorkspacePageTokens = c.allowedTokens(env.Data.WorkspacePageTokens)
	hasMore := len(env.Data.WorkspacePageTokens) > 0
	if env.Pagination != nil {
		p.Next.ContinuationToken = env.Pagination.ContinuationToken
		hasMore = env.Pagination.HasMore || hasMore
	}
	if env.Data.HasMore != nil {
		hasMore = *env.Data.HasMore
	}
	// Without a position there is no next page to ask for: reporting
	// HasMore then would make a caller's loop fetch the first page again.
	p.HasMore = hasMore && !p.Next.IsZero()
	if !p.HasMore {
		p.Next = PageToken{}
		return p, nil
	}
	var err error
	p.Next.Seen, err = sample(rows)
	return p, err
}

// sampleEnds is how many rows from each end of a page PageToken.Seen keeps.
const sampleEnds = 4

// sample digests the first and last rows of a page.
func sample(rows []pageRow) ([]string, error) {
	n := len(rows)
	out := make([]string, 0, 2*sampleEnds)
	for i := range rows {
		if i < sampleEnds || i >= n-sampleEnds {
			id, err := rows[i].ident()
			if err != nil {
				return nil, err
			}
			out = append(out, rowDigest(id))
		}
	}
	return out, nil
}

// rowDigest identifies a row by workspace, source and id (64 bits of FNV-1a,
// in hex): enough to recognise a row again, and short in a cursor.
func rowDigest(r rowID) string {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(r.WorkspaceID)))
	h.Write([]byte{0})
	h.Write([]byte(r.Source))
	h.Write([]byte{0})
	h.Write([]byte(r.ID))
	return strconv.FormatUint(h.Sum64(), 16)
}

// repeated says why the answer to a next-page request cannot be a new page
// ("" when it can): it repeats a row of the page that issued the position,
// or it hands back the position it was asked for.
func repeated(asked PageToken, rows []pageRow, next PageToken) (string, error) {
	for i := range rows {
		r, err := rows[i].ident()
		if err != nil {
			return "", err
		}
		if slices.Contains(asked.Seen, rowDigest(r)) {
			return fmt.Sprintf("the API answered the request for the next page with incidents it had already returned "+
				"(incident %s of %s, for one); it seems to ignore page tokens, so the listing stops here rather than loop. "+
				"Narrow the filters (a shorter time window, fewer sources or statuses) to reach the incidents not listed yet.",
				r.ID, firstNonEmpty(string(r.Source), "an unnamed source")), nil
		}
	}
	if !next.IsZero() && slices.EqualFunc(next.WorkspacePageTokens, asked.WorkspacePageTokens, sameToken) &&
		next.ContinuationToken == asked.ContinuationToken {
		return "the API answered the request for the next page with the very page position it was sent; it seems to ignore " +
			"page tokens, so the listing stops here rather than loop. Narrow the filters (a shorter time window, fewer " +
			"sources or statuses) to reach the incidents not listed yet.", nil
	}
	return "", nil
}

func sameToken(a, b WorkspacePageToken) bool {
	return a.WorkspaceID == b.WorkspaceID && maps.Equal(a.SourceTokens, b.SourceTokens)
}

// allowedTokens drops the page tokens of workspaces outside the allowlist.
func (c *Client) allowedTokens(ts []WorkspacePageToken) []WorkspacePageToken {
	if len(c.allow) == 0 || len(ts) == 0 {
		return ts
	}
	out := make([]WorkspacePageToken, 0, len(ts))
	for _, t := range ts {
		if c.workspaceAllowed(t.WorkspaceID) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// GetIncident returns one incident; withDetails adds its alerts, entities
// and evidence (?withDetails=true).
func (c *Client) GetIncident(ctx context.Context, ref IncidentRef, withDetails bool) (*IncidentDetail, error) {
	q := url.Values{}
	if withDetails {
		q.Set("withDetails", "true")
	} else {
		q.Set("withDetails", "false")
	}
	env, err := getJSON[IncidentDetail](ctx, c, opGetIncident, ref, q)
	if err != nil {
		return nil, err
	}
	return &env.Data, nil
}

// ListComments returns an incident's comments, oldest first as the API sends them.
func (c *Client) ListComments(ctx context.Context, ref IncidentRef) ([]Comment, error) {
	env, err := getJSON[[]Comment](ctx, c, opListComments, ref, nil, "comments")
	if err != nil {
		return nil, err
	}
	if env.Data == nil {
		env.Data = []Comment{}
	}
	return env.Data, nil
}

// GetEvidence returns an incident's evidence table.
func (c *Client) GetEvidence(ctx context.Context, ref IncidentRef) (*Evidence, error) {
	env, err := getJSON[Evidence](ctx, c, opGetEvidence, ref, nil, "evidence")
	if err != nil {
		return nil, err
	}
	return &env.Data, nil
}

// ListUsers returns the organisation's users, service accounts included.
// With a workspace allowlist, role assignments to other workspaces are
// dropped (the users themselves are the organisation's, and stay).
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	u, err := c.buildURL(opListUsers, nil, lit("users"))
	if err != nil {
		return nil, err
	}
	env, err := getData[[]User](ctx, c, opListUsers, u)
	if err != nil {
		return nil, err
	}
	if env.Data == nil {
		env.Data = []User{}
	}
	for i := range env.Data {
		c.keepAllowedRoles(&env.Data[i])
	}
	return env.Data, nil
}

// AddComment posts a comment (201 Created) and returns it. The API marks it
// as an agent's comment because a service account posts it. Set
// req.ExtensionID (GetIncidentState finds it) so that the API can route the
// comment back to the originating system. A comment is
// never sent twice: if the connection breaks after it was sent, the error
// matches ErrOutcomeUnknown and the caller must look before posting again.
func (c *Client) AddComment(ctx context.Context, ref IncidentRef, req AddCommentRequest) (*Comment, Meta, error) {
	u, err := c.incidentURL(opAddComment, ref, nil, "comments")
	if err != nil {
		return nil, Meta{}, err
	}
	res, err := c.do(ctx, call{op: opAddComment, method: http.MethodPost, url: u, body: req, kind: unsafeWrite})
	if err != nil {
		return nil, Meta{}, err
	}
	env, err := decodeData[Comment](opAddComment, res)
	if err != nil {
		// The comment exists (2xx); only its echo is unreadable.
		return nil, metaOf(res), err
	}
	return &env.Data, env.Meta, nil
}

// UpdateStatus changes an incident's status (204 No Content). Closing a
// Sentinel incident requires Classification and ClassificationReason;
// UpdateTicket requires TicketID. The API validates; the client sends every
// field as given.
//
// A status change that carries a comment also posts that comment (the
// portal records it as the incident's closing comment), so repeating it
// would post the comment twice: such a change follows the comment's retry
// policy (repeated only when certainly not processed; ErrOutcomeUnknown
// otherwise). Without a comment, the PUT sets a state and is idempotent.
func (c *Client) UpdateStatus(ctx context.Context, ref IncidentRef, req UpdateStatusRequest) (Meta, error) {
	kind := idempotentWrite
	if req.Comment != nil {
		kind = unsafeWrite
	}
	return c.put(ctx, opUpdateStatus, ref, "status", req, kind)
}

// Assign assigns an incident to a user by id, by email, or both (204 No
// Content). Which one wins when both are sent and name different users is
// not documented: the client sends what it is given.
func (c *Client) Assign(ctx context.Context, ref IncidentRef, req AssignRequest) (Meta, error) {
	return c.put(ctx, opAssign, ref, "assignee", req, idempotentWrite)
}

// put sends a write to …/{incidentId}/{tail} with the retry policy of kind.
func (c *Client) put(ctx context.Context, op string, ref IncidentRef, tail string, body any, kind callKind) (Meta, error) {
	u, err := c.incidentURL(op, ref, nil, tail)
	if err != nil {
		return Meta{}, err
	}
	res, err := c.do(ctx, call{op: op, method: http.MethodPut, url: u, body: body, kind: kind})
	if err != nil {
		return Meta{}, err
	}
	return metaOf(res), nil
}

// getJSON GETs …/{incidentId}[/tail] and decodes its envelope.
func getJSON[T any](ctx context.Context, c *Client, op string, ref IncidentRef, q url.Values, tail ...string) (Envelope[T], error) {
	u, err := c.incidentURL(op, ref, q, tail...)
	if err != nil {
		return Envelope[T]{}, err
	}
	return getData[T](ctx, c, op, u)
}

// getData GETs u and decodes its envelope.
func getData[T any](ctx context.Context, c *Client, op string, u *url.URL) (Envelope[T], error) {
	// Read into a pooled buffer: the answer is decoded (copied) and dropped here.
	res, err := c.do(ctx, call{op: op, method: http.MethodGet, url: u, kind: readCall, pooled: true})
	if err != nil {
		return Envelope[T]{}, err
	}
	defer res.release()
	return decodeData[T](op, res)
}
