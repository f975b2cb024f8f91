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
