package tools

import (
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
)

// cursor is list_incidents' position: the filters of the first page, the
// API's page token, and how many rows of that API page were already shown
// (the tool's pages need not match the API's).
type cursor struct {
	Filter client.IncidentFilter `json:"f"`
	Page   client.PageToken      `json:"p"`
	Skip   int                   `json:"s,omitempty"`
}

// Cursor store limits. The API's page tokens are opaque and grow with the
// workspaces and sources listed (3.6 KB after one page of the demo), so a
// position stays on the server and the agent holds a short random id. An
// entry costs its encoded size plus entryOverhead; the oldest entries go
// first when a budget is full, and a credential's entries cannot push out
// more than their own share.
const (
	defaultCursorTTL      = time.Hour
	defaultCursorBytes    = 32 << 20
	defaultScopeBytes     = 4 << 20
	maxCursorEntry        = 256 << 10
	entryOverhead         = 128
	cursorIDLen           = 22 // 16 random bytes, base64url
	errCursorUnknownOrOld = "is unknown or has expired (a cursor lasts an hour, on the server that issued it); list again without a cursor"
	errSharedUnknownOrOld = "is unknown or has expired (a cursor lasts an hour); list again without a cursor"
	errCursorUnchecked    = "could not be checked: the store this server shares with its other replicas does not answer; list again without a cursor"
)

// CursorOptions configure a Cursors store; the zero value is usable.
type CursorOptions struct {
	// TTL is how long a cursor can be used after it was issued (default 1h).
	TTL time.Duration
	// MaxBytes bounds the whole store (default 32 MiB); MaxScopeBytes one
	// credential's share of it (default 4 MiB).
	MaxBytes, MaxScopeBytes int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Share, when set, keeps the cursors where every replica of a
	// deployment finds them (the hosted server's Redis). While it does not
	// answer, cursors are kept in this store's memory.
	Share CursorShare
}

// CursorShare keeps cursors for several processes (the replicas of a
// hosted deployment), with the guarantees of the in-memory store: bound to
// a credential, expiring, and within budgets per credential and overall.
type CursorShare interface {
	// PutCursor keeps e for e.TTL. When e's scope, or the whole share,
	// would exceed its budget, its oldest entries go first. An error means
	// the share did not answer: e is not kept there.
	PutCursor(e CursorEntry) error
	// GetCursor returns the data of the scope's cursor id; found is false
	// when the share holds none (never issued for this scope, expired or
	// pushed out). An error means the share did not answer.
	GetCursor(scope, id string) (data []byte, found bool, err error)
}

// CursorEntry is one listing position for a CursorShare. It holds no
// secret: the filters (which may include the free-text query and assignee
// emails), the API's opaque page tokens, digests of rows, and a count.
type CursorEntry struct {
	// Scope names the credential (hex of a SHA-256 of its base URL, client
	// id and workspace allowlist); ID is the cursor's random id.
	Scope, ID string
	// Data is the position (JSON); Size what it counts against the budgets.
	Data []byte
	Size int
	// TTL is how long it can be used; MaxScopeBytes and MaxBytes are the
	// budgets of its scope and of the whole share.
	TTL                     time.Duration
	MaxScopeBytes, MaxBytes int
}

// Cursors keeps the listing positions behind list_incidents' cursors (and
// the shift hand-off's), bounded and expiring: in memory, or in a
// CursorShare when one is set (and in memory while it does not answer). A
// cursor is redeemable only with a client of the same credential that it
// was issued for (API base URL, client id and workspace allowlist), so one
// tenant cannot continue another's listing even with its id. In memory, a
// cursor lives only in the process that issued it: behind several replicas
// without a share it needs requests routed to one replica (affinity on the
// bearer token does that); elsewhere the agent is told to list again. Safe
// for concurrent use.
type Cursors struct {
	o      CursorOptions
	mu     sync.Mutex
	byID   map[string]*storedCursor
	fifo   *list.List            // every entry, oldest first
	scopes map[string]*list.List // each credential's entries, oldest first
	bytes  int
	sizes  map[string]int // bytes per scope
}

type storedCursor struct {
	id, scope      string
	pos            cursor
	size           int
	expires        time.Time
	inAll, inScope *list.Element
}

// NewCursors returns an empty store.
func NewCursors(o CursorOptions) *Cursors {
	if o.TTL <= 0 {
		o.TTL = defaultCursorTTL
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultCursorBytes
	}
	if o.MaxScopeBytes <= 0 {
		o.MaxScopeBytes = defaultScopeBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Cursors{o: o, byID: map[string]*storedCursor{}, fifo: list.New(), scopes: map[string]*list.List{}, sizes: map[string]int{}}
}

// ListCursor issues a list_incidents cursor for api's credential: the
// listing filtered by f, from the API page at page (the zero PageToken:
// the first), skipping its first skip rows. The shift hand-off hands one to
// the agent to continue a listing it cut.
func (s *Cursors) ListCursor(api *client.Client, f client.IncidentFilter, page client.PageToken, skip int) (string, error) {
	return s.issue(api, cursor{Filter: f, Page: page, Skip: skip})
}

// issue stores pos and returns its id.
func (s *Cursors) issue(api *client.Client, pos cursor) (string, error) {
	raw, err := json.Marshal(pos)
	if err != nil {
		return "", errors.New("internal error: the listing position could not be kept")
	}
	size := len(raw) + entryOverhead
	if size > maxCursorEntry || size > s.o.MaxScopeBytes {
		return "", errors.New("the API's next-page position is too large to keep; narrow the filters to list the rest")
	}
	e := &storedCursor{id: randomID(), scope: scopeOf(api), pos: pos, size: size}
	if s.o.Share != nil {
		err := s.o.Share.PutCursor(CursorEntry{Scope: hex.EncodeToString([]byte(e.scope)), ID: e.id, Data: raw, Size: size,
			TTL: s.o.TTL, MaxScopeBytes: s.o.MaxScopeBytes, MaxBytes: s.o.MaxBytes})
		if err == nil {
			return e.id, nil
		}
		// Kept here instead: it pages on this replica only.
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	e.expires = now.Add(s.o.TTL)
	// Entries expire in the order they were issued: drop the expired ones,
	// then the oldest of this credential, then the oldest of all, until
	// the new one fits.
	for f := s.fifo.Front(); f != nil && !now.Before(f.Value.(*storedCursor).expires); f = s.fifo.Front() {
		s.drop(f.Value.(*storedCursor))
	}
	for sl := s.scopes[e.scope]; sl != nil && sl.Len() > 0 && s.sizes[e.scope]+size > s.o.MaxScopeBytes; {
		s.drop(sl.Front().Value.(*storedCursor))
	}
	for s.fifo.Len() > 0 && s.bytes+size > s.o.MaxBytes {
		s.drop(s.fifo.Front().Value.(*storedCursor))
	}
	sl := s.scopes[e.scope]
	if sl == nil {
		sl = list.New()
		s.scopes[e.scope] = sl
	}
	e.inAll, e.inScope = s.fifo.PushBack(e), sl.PushBack(e)
	s.byID[e.id] = e
	s.bytes += size
	s.sizes[e.scope] += size
	return e.id, nil
}

// drop removes an entry; the caller holds mu.
func (s *Cursors) drop(e *storedCursor) {
	s.fifo.Remove(e.inAll)
	if sl := s.scopes[e.scope]; sl != nil {
		sl.Remove(e.inScope)
		if sl.Len() == 0 {
			delete(s.scopes, e.scope)
		}
	}
	delete(s.byID, e.id)
	s.bytes -= e.size
	if s.sizes[e.scope] -= e.size; s.sizes[e.scope] <= 0 {
		delete(s.sizes, e.scope)
	}
}

// take returns the position behind id for api's credential. A cursor can
// be used more than once (an agent may retry a page) until it expires;
// the error says what to do without echoing the input.
func (s *Cursors) take(api *client.Client, id string) (cursor, error) {
	if len(id) != cursorIDLen || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return cursor{}, errors.New("is not one this server issued; list again without a cursor")
	}
	scope := scopeOf(api)
	if pos, ok := s.takeLocal(scope, id); ok {
		return pos, nil
	}
	if s.o.Share == nil {
		return cursor{}, errors.New(errCursorUnknownOrOld)
	}
	// Not issued here (or issued while the share did not answer, and gone).
	data, found, err := s.o.Share.GetCursor(hex.EncodeToString([]byte(scope)), id)
	if err != nil {
		return cursor{}, errors.New(errCursorUnchecked)
	}
	var pos cursor
	if !found || json.Unmarshal(data, &pos) != nil {
		return cursor{}, errors.New(errSharedUnknownOrOld)
	}
	return pos, nil
}

// takeLocal returns the position of a cursor this store keeps in memory.
func (s *Cursors) takeLocal(scope, id string) (cursor, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	if !ok || !s.o.Now().Before(e.expires) || e.scope != scope {
		return cursor{}, false
	}
	// The position is shared with later redemptions: hand out a copy the
	// caller may change.
	pos := e.pos
	pos.Page.WorkspacePageTokens = slices.Clone(pos.Page.WorkspacePageTokens)
	pos.Page.Seen = slices.Clone(pos.Page.Seen)
	return pos, true
}

// randomID is a cursor's or a ticket's id: 16 random bytes, base64url.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// scopeOf names the credential a client calls with: what a cursor is
// bound to. Clients of one credential (the hosted server's pass-through
// mode makes one per request) share a scope.
func scopeOf(api *client.Client) string {
	cfg := api.Config()
	ws := make([]string, len(cfg.Workspaces))
	for i, w := range cfg.Workspaces {
		ws[i] = strings.ToLower(w)
	}
	slices.Sort(ws)
	h := sha256.New()
	for _, part := range append([]string{cfg.BaseURL, cfg.ClientID}, ws...) {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return string(h.Sum(nil))
}
