package hosted

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/contraforce/contraforce-mcp/tools"
)

// twoReplicas connects two replicas' shares to one Redis.
func twoReplicas(t *testing.T, mr *miniredis.Miniredis) (*redisShare, *redisShare) {
	t.Helper()
	var rs []*redisShare
	for range 2 {
		r, err := newRedisShare("redis://"+mr.Addr(), nil, NewMetrics(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.close)
		if !r.active() {
			t.Fatal("Redis does not answer")
		}
		rs = append(rs, r)
	}
	return rs[0], rs[1]
}

// total reads a cost counter (0 when absent).
func total(t *testing.T, mr *miniredis.Miniredis, key string) int {
	t.Helper()
	v, err := mr.Get(key)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(v)
	return n
}

// TestSharedCursorBudgets: a scope's cursors in Redis cannot use more than
// its budget nor push out another scope's; all of them together stay
// within the overall budget, the oldest going first; the counters match
// what is kept; expired entries leave the budgets.
func TestSharedCursorBudgets(t *testing.T) {
	mr := miniredis.RunT(t)
	a, b := twoReplicas(t, mr)
	entry := func(scope string, i int) tools.CursorEntry {
		return tools.CursorEntry{Scope: scope, ID: fmt.Sprintf("id%04d", i), Data: []byte(strings.Repeat("x", 872)), Size: 1000,
			TTL: time.Hour, MaxScopeBytes: 20_000, MaxBytes: 50_000}
	}
	if err := a.PutCursor(entry("quiet", 0)); err != nil {
		t.Fatal(err)
	}
	for i := range 100 { // through both replicas
		r := a
		if i%2 == 1 {
			r = b
		}
		if err := r.PutCursor(entry("noisy", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, found, err := b.GetCursor("quiet", "id0000"); !found || err != nil {
		t.Errorf("another scope's cursors pushed this one out: %v %v", found, err)
	}
	if _, found, _ := a.GetCursor("noisy", "id0000"); found {
		t.Error("the oldest cursor of a scope over its budget is still there")
	}
	if data, found, _ := a.GetCursor("noisy", "id0099"); !found || len(data) != 872 {
		t.Errorf("the newest cursor: found %v, %d bytes", found, len(data))
	}
	if _, found, _ := a.GetCursor("quiet", "id0099"); found {
		t.Error("a cursor read under another scope")
	}
	if n := total(t, mr, "contraforce-mcp:cursors:noisy:cost"); n != 20_000 {
		t.Errorf("noisy scope holds %d bytes, want its budget 20000", n)
	}
	members, _ := mr.ZMembers("contraforce-mcp:cursors:noisy")
	if len(members) != 20 {
		t.Errorf("noisy scope lists %d cursors, want 20", len(members))
	}

	// Many scopes: the overall budget holds, the oldest of all go first.
	for s := range 10 {
		for i := range 5 {
			if err := b.PutCursor(entry(fmt.Sprint("scope", s), i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := total(t, mr, "contraforce-mcp:cursors:cost"); n != 50_000 {
		t.Errorf("all scopes hold %d bytes, want the overall budget 50000", n)
	}
	all, _ := mr.ZMembers("contraforce-mcp:cursors")
	if len(all) != 50 {
		t.Errorf("%d cursors listed, want 50", len(all))
	}
	if _, found, _ := a.GetCursor("quiet", "id0000"); found {
		t.Error("the oldest cursor of all survived a full store")
	}
	if _, found, _ := a.GetCursor("scope9", "id0004"); !found {
		t.Error("the newest cursor of all is gone")
	}
}

// TestSharedCursorsExpire: an expired cursor can no longer be read, and
// leaves the budgets.
func TestSharedCursorsExpire(t *testing.T) {
	mr := miniredis.RunT(t)
	now := time.Now()
	mr.SetTime(now) // Redis's TIME, which the scripts read
	a, b := twoReplicas(t, mr)
	later := func(d time.Duration) {
		mr.FastForward(d) // the keys' TTLs
		now = now.Add(d)
		mr.SetTime(now)
	}
	put := func(r *redisShare, scope string, i int) {
		t.Helper()
		err := r.PutCursor(tools.CursorEntry{Scope: scope, ID: fmt.Sprint("id", i), Data: []byte("{}"), Size: 1000,
			TTL: time.Hour, MaxScopeBytes: 20_000, MaxBytes: 50_000})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		put(a, "early", i)
	}
	later(40 * time.Minute)
	put(b, "mid", 0)
	if n := total(t, mr, "contraforce-mcp:cursors:cost"); n != 11_000 {
		t.Fatalf("%d bytes kept, want 11000", n)
	}
	later(21 * time.Minute)
	if _, found, _ := b.GetCursor("early", "id9"); found {
		t.Error("a cursor is read after its hour")
	}
	if _, found, _ := a.GetCursor("mid", "id0"); !found {
		t.Error("a cursor of 21 minutes ago is gone")
	}
	put(a, "late", 0)
	if n := total(t, mr, "contraforce-mcp:cursors:cost"); n != 2000 {
		t.Errorf("after the first ten expired, %d bytes are counted, want 2000", n)
	}
	if all, _ := mr.ZMembers("contraforce-mcp:cursors"); len(all) != 2 {
		t.Errorf("after the first ten expired, %d cursors are listed, want 2", len(all))
	}
}

// TestSharedTicketRedeemedOnce: a ticket answered on many replicas at
// once is redeemed by exactly one call; another owner or another call
// cannot redeem it; an owner's tickets are bounded.
func TestSharedTicketRedeemedOnce(t *testing.T) {
	mr := miniredis.RunT(t)
	a, b := twoReplicas(t, mr)
	tk := tools.SharedTicket{Owner: "owner", ID: "T1", Call: "call", Change: "gamebook gb-1", TTL: time.Hour, MaxPerOwner: 5, MaxTickets: 100}
	if err := a.IssueTicket(tk); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ owner, call string }{{"other", "call"}, {"owner", "other call"}} {
		if st, _, err := b.RedeemTicket(c.owner, "T1", c.call); st != tools.TicketUnknown || err != nil {
			t.Errorf("redeemed as %q for %q: %v %v", c.owner, c.call, st, err)
		}
	}
	var mu sync.Mutex
	got := map[tools.TicketState]int{}
	var wg sync.WaitGroup
	for i := range 16 {
		r := a
		if i%2 == 1 {
			r = b
		}
		wg.Go(func() {
			st, change, err := r.RedeemTicket("owner", "T1", "call")
			if err != nil || change != "gamebook gb-1" {
				t.Errorf("redeem: %v %q", err, change)
			}
			mu.Lock()
			got[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if got[tools.TicketRedeemed] != 1 || got[tools.TicketUsed] != 15 {
		t.Errorf("16 concurrent answers on two replicas: %v, want one redeemed and 15 used", got)
	}

	for i := range 7 {
		tk.ID = fmt.Sprint("N", i)
		if err := b.IssueTicket(tk); err != nil {
			t.Fatal(err)
		}
	}
	if st, _, _ := a.RedeemTicket("owner", "N0", "call"); st != tools.TicketUnknown {
		t.Errorf("the oldest of an owner over its budget redeems: %v", st)
	}
	if st, _, _ := a.RedeemTicket("owner", "N6", "call"); st != tools.TicketRedeemed {
		t.Errorf("the newest ticket: %v", st)
	}
	if members, _ := mr.ZMembers("contraforce-mcp:tickets:owner"); len(members) != 5 {
		t.Errorf("the owner holds %d tickets, want 5", len(members))
	}

	// A ticket forgotten (its change did not reach ContraForce) is gone.
	a.ForgetTicket("owner", "N6")
	if st, _, _ := b.RedeemTicket("owner", "N6", "call"); st != tools.TicketUnknown {
		t.Errorf("a forgotten ticket: %v", st)
	}
}

// TestSharedTicketUncheckedIsVoid: a ticket that could not be checked
// (Redis away) is never taken afterwards, on any replica: the replica that
// could not check it deletes it from Redis before it shares again.
func TestSharedTicketUncheckedIsVoid(t *testing.T) {
	mr := miniredis.RunT(t)
	a, b := twoReplicas(t, mr)
	tk := tools.SharedTicket{Owner: "owner", ID: "T1", Call: "call", Change: "the batch", TTL: time.Hour, MaxPerOwner: 5, MaxTickets: 100}
	if err := a.IssueTicket(tk); err != nil {
		t.Fatal(err)
	}
	tk.ID = "T2"
	if err := a.IssueTicket(tk); err != nil {
		t.Fatal(err)
	}
	mr.Close()
	if _, _, err := b.RedeemTicket("owner", "T1", "call"); err == nil {
		t.Fatal("a ticket redeemed without Redis")
	}
	b.ForgetTicket("owner", "T2") // fails too: deleted on return
	if b.active() {
		t.Fatal("the replica still counts on Redis")
	}
	if err := mr.Restart(); err != nil {
		t.Skipf("cannot restart miniredis: %v", err)
	}
	b.markUp()
	if !b.active() {
		t.Fatal("Redis back, the replica does not share again")
	}
	for _, id := range []string{"T1", "T2"} {
		if st, _, err := a.RedeemTicket("owner", id, "call"); st != tools.TicketUnknown || err != nil {
			t.Errorf("%s, not checked or not forgotten while Redis was away, redeems on another replica: %v %v", id, st, err)
		}
	}
}
