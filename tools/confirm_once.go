package tools

import (
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// Confirmations keeps the one-time tickets of the confirmations asked in a
// tool result (protocol 2026-07-28). There the human's answer comes back in
// a second tools/call, with the ticket as its requestState, and a client
// may send that call again (a retry after a lost answer, a replay): the
// first call that carries an accepted answer redeems the ticket, so one
// confirmation sends a change at most once. A later call with the same
// ticket is told the change was already submitted, and sends nothing.
//
// A ticket is bound to the caller it was issued to (credential, tenant and
// OAuth user) and to the call (tool and arguments): an answer that comes
// with no ticket, an expired one, or another caller's or call's, is not
// consent, and the human is asked again. Tickets live in memory, bounded
// and expiring: behind several replicas an answer that reaches another
// replica asks again too. Safe for concurrent use.
type Confirmations struct {
	o      ConfirmationOptions
	mu     sync.Mutex
	byID   map[string]*ticket
	fifo   *list.List // every ticket, oldest first
	owners map[string]*list.List
}

// ConfirmationOptions configure a Confirmations store; the zero value is usable.
type ConfirmationOptions struct {
	// TTL is how long a question can be answered, and a used ticket
	// remembered, after it was asked (default 1h).
	TTL time.Duration
	// MaxTickets bounds the store (default 20000); MaxPerCaller one
	// caller's share of it (default 500), so that no caller pushes out
	// another's.
	MaxTickets, MaxPerCaller int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

type ticket struct {
	id, owner, call string
	change          string // what the confirmed call sends, for a later call
	used            bool
	expires         time.Time
	inAll, inOwner  *list.Element
}

// NewConfirmations returns an empty store.
func NewConfirmations(o ConfirmationOptions) *Confirmations {
	if o.TTL <= 0 {
		o.TTL = time.Hour
	}
	if o.MaxTickets <= 0 {
		o.MaxTickets = 20000
	}
	if o.MaxPerCaller <= 0 {
		o.MaxPerCaller = 500
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Confirmations{o: o, byID: map[string]*ticket{}, fifo: list.New(), owners: map[string]*list.List{}}
}

// issue keeps a ticket for a question about change, asked of owner in call,
// and returns its id (the input-required result's requestState).
func (c *Confirmations) issue(owner, call, change string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	t := &ticket{id: base64.RawURLEncoding.EncodeToString(b[:]), owner: owner, call: call, change: change}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.o.Now()
	t.expires = now.Add(c.o.TTL)
	for f := c.fifo.Front(); f != nil && !now.Before(f.Value.(*ticket).expires); f = c.fifo.Front() {
		c.drop(f.Value.(*ticket))
	}
	for ol := c.owners[owner]; ol != nil && ol.Len() >= c.o.MaxPerCaller; {
		c.drop(ol.Front().Value.(*ticket))
	}
	for c.fifo.Len() >= c.o.MaxTickets {
		c.drop(c.fifo.Front().Value.(*ticket))
	}
	ol := c.owners[owner]
	if ol == nil {
		ol = list.New()
		c.owners[owner] = ol
	}
	t.inAll, t.inOwner = c.fifo.PushBack(t), ol.PushBack(t)
	c.byID[t.id] = t
	return t.id
}

// drop removes a ticket; the caller holds mu.
func (c *Confirmations) drop(t *ticket) {
	c.fifo.Remove(t.inAll)
	if ol := c.owners[t.owner]; ol != nil {
		ol.Remove(t.inOwner)
		if ol.Len() == 0 {
			delete(c.owners, t.owner)
		}
	}
	delete(c.byID, t.id)
}

// Redemption results.
const (
	ticketUnknown  = iota // none, expired, or another caller's or call's
	ticketRedeemed        // this call redeemed it: go ahead, once
	ticketUsed            // an earlier call redeemed it
)

// redeem uses the ticket id for owner's call. It returns ticketRedeemed
// once; later it returns ticketUsed with the change the first call sent.
func (c *Confirmations) redeem(id, owner, call string) (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.byID[id]
	if !ok || !c.o.Now().Before(t.expires) || t.owner != owner || t.call != call {
		return ticketUnknown, ""
	}
	if t.used {
		return ticketUsed, t.change
	}
	t.used = true
	return ticketRedeemed, t.change
}

// forget drops a redeemed ticket whose change certainly did not reach
// ContraForce: the answer sent again then asks the human anew, rather than
// claiming a submission that never happened.
func (c *Confirmations) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.byID[id]; ok {
		c.drop(t)
	}
}

// ticketOwner names the caller a ticket is bound to: the credential (as a
// list cursor is), the hosted tenant and the OAuth user.
func ticketOwner(sess *Session) string {
	h := sha256.New()
	h.Write([]byte(scopeOf(sess.Client)))
	for _, part := range []string{sess.Tenant, userKey(sess.OnBehalfOf)} {
		h.Write([]byte{0})
		h.Write([]byte(part))
	}
	return string(h.Sum(nil))
}

func userKey(u *User) string {
	if u == nil {
		return ""
	}
	return u.Issuer + "\x00" + u.Subject
}

// callDigest names the call a ticket is bound to: the tool and its arguments
// (encoding/json writes a map's keys in order, so equal arguments give
// equal keys).
func callDigest(req *mcp.CallToolRequest) string {
	args, _ := json.Marshal(req.GetArguments())
	h := sha256.New()
	h.Write([]byte(req.Params.Name))
	h.Write([]byte{0})
	h.Write(args)
	return string(h.Sum(nil))
}
