package tools

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/contraforce/contraforce-mcp/client"
)

func cursorClient(t *testing.T, id string, workspaces ...string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{BaseURL: "http://127.0.0.1:1/api/v2", ClientID: id, ClientSecret: "s", Workspaces: workspaces})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCursorStoreBounds: a credential's cursors cannot use more than its
// share, nor push out another credential's; the store as a whole stays
// within its budget, dropping the oldest first.
func TestCursorStoreBounds(t *testing.T) {
	t.Parallel()
	pos := cursor{Page: client.PageToken{ContinuationToken: strings.Repeat("t", 900)}} // ~1 KB an entry
	store := NewCursors(CursorOptions{MaxBytes: 40 << 10, MaxScopeBytes: 20 << 10})
	quiet, noisy := cursorClient(t, "quiet"), cursorClient(t, "noisy")
	kept, err := store.issue(quiet, pos)
	if err != nil {
		t.Fatal(err)
	}
	var noisyIDs []string
	for range 200 {
		id, err := store.issue(noisy, pos)
		if err != nil {
			t.Fatal(err)
		}
		noisyIDs = append(noisyIDs, id)
	}
	if _, err := store.take(quiet, kept); err != nil {
		t.Errorf("another credential's cursors pushed this one out: %v", err)
	}
	if _, err := store.take(noisy, noisyIDs[0]); err == nil {
		t.Error("the oldest cursor of a credential over its share is still there")
	}
	if _, err := store.take(noisy, noisyIDs[len(noisyIDs)-1]); err != nil {
		t.Errorf("the newest cursor is gone: %v", err)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.bytes > 40<<10 || store.sizes[scopeOf(noisy)] > 20<<10 || len(store.byID) != store.fifo.Len() {
		t.Errorf("store holds %d bytes (noisy %d) in %d/%d entries", store.bytes, store.sizes[scopeOf(noisy)], len(store.byID), store.fifo.Len())
	}
}

// TestCursorScope: the allowlist is part of the credential a cursor is
// bound to, in any order and case; the client id is too.
func TestCursorScope(t *testing.T) {
	t.Parallel()
	store := NewCursors(CursorOptions{})
	id, err := store.issue(cursorClient(t, "a", "W1", "w2"), cursor{Skip: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.take(cursorClient(t, "a", "w2", "w1"), id); err != nil {
		t.Errorf("same credential and allowlist refused: %v", err)
	}
	for _, other := range []*client.Client{cursorClient(t, "a"), cursorClient(t, "a", "w1"), cursorClient(t, "b", "w1", "w2")} {
		if _, err := store.take(other, id); err == nil {
			t.Errorf("a cursor redeemed by %v", other.Config().Workspaces)
		}
	}
}

// TestCursorStoreConcurrent issues and redeems from many goroutines (-race).
func TestCursorStoreConcurrent(t *testing.T) {
	t.Parallel()
	store := NewCursors(CursorOptions{MaxBytes: 64 << 10, MaxScopeBytes: 16 << 10})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			api := cursorClient(t, fmt.Sprint("c", g%3))
			for i := range 200 {
				id, err := store.issue(api, cursor{Skip: i + 1})
				if err != nil {
					t.Error(err)
					return
				}
				if c, err := store.take(api, id); err == nil && c.Skip != i+1 {
					t.Errorf("redeemed skip %d, issued %d", c.Skip, i+1)
				}
			}
		}()
	}
	wg.Wait()
}

// mapShare is a CursorShare and TicketShare in maps; down makes every
// operation fail, as a Redis that does not answer.
type mapShare struct {
	mu      sync.Mutex
	down    bool
	cursors map[string][]byte
	tickets map[string]*SharedTicket
	used    map[string]bool
}

func newMapShare() *mapShare {
	return &mapShare{cursors: map[string][]byte{}, tickets: map[string]*SharedTicket{}, used: map[string]bool{}}
}

var errDown = fmt.Errorf("share down")

func (m *mapShare) PutCursor(e CursorEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	m.cursors[e.Scope+"/"+e.ID] = e.Data
	return nil
}

func (m *mapShare) GetCursor(scope, id string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, false, errDown
	}
	d, ok := m.cursors[scope+"/"+id]
	return d, ok, nil
}

func (m *mapShare) IssueTicket(t SharedTicket) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	m.tickets[t.Owner+"/"+t.ID] = &t
	return nil
}

func (m *mapShare) RedeemTicket(owner, id, call string) (TicketState, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return TicketUnknown, "", errDown
	}
	t, ok := m.tickets[owner+"/"+id]
	switch {
	case !ok || t.Call != call:
		return TicketUnknown, "", nil
	case m.used[owner+"/"+id]:
		return TicketUsed, t.Change, nil
	}
	m.used[owner+"/"+id] = true
	return TicketRedeemed, t.Change, nil
}

func (m *mapShare) ForgetTicket(owner, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tickets, owner+"/"+id)
}

// TestCursorsWithShare: with a share, cursors live there, bound to their
// credential; while it does not answer, new cursors are kept in memory
// and work, and those in the share are refused with a reason.
func TestCursorsWithShare(t *testing.T) {
	t.Parallel()
	share := newMapShare()
	store := NewCursors(CursorOptions{Share: share})
	api, other := cursorClient(t, "a", "w1"), cursorClient(t, "b", "w1")
	pos := cursor{Filter: client.IncidentFilter{Query: "powershell"}, Page: client.PageToken{ContinuationToken: "t"}, Skip: 2}
	shared, err := store.issue(api, pos)
	if err != nil || len(share.cursors) != 1 || len(store.byID) != 0 {
		t.Fatalf("issued %v: %d in the share, %d in memory; want the share", err, len(share.cursors), len(store.byID))
	}
	// Another process with the same share.
	if got, err := NewCursors(CursorOptions{Share: share}).take(api, shared); err != nil || got.Skip != 2 || got.Filter.Query != "powershell" {
		t.Errorf("taken elsewhere: %+v %v", got, err)
	}
	if _, err := store.take(other, shared); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("another credential took the cursor: %v", err)
	}

	share.down = true
	local, err := store.issue(api, pos)
	if err != nil || len(store.byID) != 1 {
		t.Fatalf("issued with the share down: %v, %d in memory", err, len(store.byID))
	}
	if _, err := store.take(api, local); err != nil {
		t.Errorf("a cursor kept in memory: %v", err)
	}
	if _, err := store.take(api, shared); err == nil || !strings.Contains(err.Error(), "could not be checked") {
		t.Errorf("a cursor in a share that does not answer: %v", err)
	}
}

// TestConfirmationsWithShare: with a share, tickets live there and are
// redeemed once; one issued while it is down is kept in memory; one in
// the share that cannot be checked is not consent; a forgotten one is gone.
func TestConfirmationsWithShare(t *testing.T) {
	t.Parallel()
	share := newMapShare()
	c := NewConfirmations(ConfirmationOptions{Share: share})
	id := c.issue("owner", "call", "the batch")
	if len(share.tickets) != 1 || len(c.byID) != 0 {
		t.Fatalf("%d tickets in the share, %d in memory; want the share", len(share.tickets), len(c.byID))
	}
	elsewhere := NewConfirmations(ConfirmationOptions{Share: share})
	for i, want := range []TicketState{TicketRedeemed, TicketUsed} {
		if st, change, shared, err := elsewhere.redeem(id, "owner", "call"); st != want || change != "the batch" || !shared || err != nil {
			t.Errorf("redemption %d: %v %q %v %v", i, st, change, shared, err)
		}
	}
	if st, _, _, _ := c.redeem(id, "another owner", "call"); st != TicketUnknown {
		t.Errorf("another owner: %v", st)
	}

	id2 := c.issue("owner", "call", "the batch")
	share.down = true
	if st, _, _, err := c.redeem(id2, "owner", "call"); st != TicketUnknown || err != errTicketUnchecked {
		t.Errorf("a ticket in a share that does not answer: %v %v", st, err)
	}
	local := c.issue("owner", "call", "the batch")
	if st, _, shared, err := c.redeem(local, "owner", "call"); st != TicketRedeemed || shared || err != nil {
		t.Errorf("a ticket issued while the share is down: %v %v %v", st, shared, err)
	}
	share.down = false
	c.forget(id2, "owner", true)
	if st, _, _, _ := c.redeem(id2, "owner", "call"); st != TicketUnknown {
		t.Errorf("a forgotten ticket: %v", st)
	}
}
