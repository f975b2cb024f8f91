package tools

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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
// consent, and the human is asked again. Tickets are bounded and expiring,
// kept in memory or in a TicketShare when one is set: behind several
// replicas without a share, an answer that reaches another replica asks
// again too. Safe for concurrent use.
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
	// Share, when set, keeps the tickets where every replica of a
	// deployment finds them (the hosted server's Redis). While it does not
	// answer, tickets are issued in this store's memory; a ticket the
	// share holds but cannot check is not consent.
	Share TicketShare
}

// TicketShare keeps confirmation tickets for several processes (the
// replicas of a hosted deployment), with the guarantees of the in-memory
// store: bound to their owner and call, expiring, bounded per owner and
// overall, and redeemed at most once across all of them.
type TicketShare interface {
	// IssueTicket keeps t for t.TTL. When t's owner, or the whole share,
	// holds as many tickets as its budget allows, its oldest go first. An
	// error means the share did not answer: t is not kept there.
	IssueTicket(t SharedTicket) error
	// RedeemTicket uses the owner's ticket id for call, atomically across
	// the processes: TicketRedeemed the first time, TicketUsed after, with
	// the change; TicketUnknown when the share holds no such ticket for
	// this owner and call. An error means the ticket could not be checked:
	// the share must never redeem it afterwards (the answer is not
	// consent, and the human is asked again).
	RedeemTicket(owner, id, call string) (TicketState, string, error)
	// ForgetTicket drops a redeemed ticket whose change certainly did not
	// reach ContraForce (now, or as soon as the share answers again).
	ForgetTicket(owner, id string)
}

// SharedTicket is one confirmation ticket for a TicketShare. It holds no
// secret: digests of its owner and call, and the change's description.
type SharedTicket struct {
	// Owner and Call are hex digests (see ticketOwner and callDigest); ID
	// is the ticket's random id.
	Owner, ID, Call string
	// Change names what the confirmed call sends.
	Change string
	// TTL is how long it can be answered and a used ticket remembered;
	// MaxPerOwner and MaxTickets are the budgets of its owner and of all.
	TTL                     time.Duration
	MaxPerOwner, MaxTickets int
}

// TicketState is the outcome of a redemption.
type TicketState int

// Redemption outcomes.
const (
	// TicketUnknown: no such ticket, expired, or another caller's or call's.
	TicketUnknown TicketState = iota
	// TicketRedeemed: this call redeemed it: go ahead, once.
	TicketRedeemed
	// TicketUsed: an earlier call redeemed it.
	TicketUsed
)

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
	t := &ticket{id: randomID(), owner: owner, call: call, change: change}
	if c.o.Share != nil {
		err := c.o.Share.IssueTicket(SharedTicket{Owner: hex.EncodeToString([]byte(owner)), ID: t.id, Call: hex.EncodeToString([]byte(call)),
			Change: change, TTL: c.o.TTL, MaxPerOwner: c.o.MaxPerCaller, MaxTickets: c.o.MaxTickets})
		if err == nil {
			return t.id
		}
		// Kept here instead: answered on this replica only.
	}
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

// errTicketUnchecked: the share holding the ticket did not answer.
var errTicketUnchecked = errors.New("the confirmation could not be checked")

// redeem uses the ticket id for owner's call. It returns TicketRedeemed
// once; later it returns TicketUsed with the change the first call sent.
// shared tells where the ticket was (for forget); errTicketUnchecked says
// the share did not answer, and the ticket is not consent.
func (c *Confirmations) redeem(id, owner, call string) (state TicketState, change string, shared bool, err error) {
	if state, change, ok := c.redeemLocal(id, owner, call); ok || c.o.Share == nil {
		return state, change, false, nil
	}
	state, change, err = c.o.Share.RedeemTicket(hex.EncodeToString([]byte(owner)), id, hex.EncodeToString([]byte(call)))
	if err != nil {
		return TicketUnknown, "", true, errTicketUnchecked
	}
	return state, change, true, nil
}

// redeemLocal redeems a ticket this store keeps in memory; ok is false
// when it keeps no such ticket.
func (c *Confirmations) redeemLocal(id, owner, call string) (state TicketState, change string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.byID[id]
	if !ok || !c.o.Now().Before(t.expires) || t.owner != owner || t.call != call {
		return TicketUnknown, "", false
	}
	if t.used {
		return TicketUsed, t.change, true
	}
	t.used = true
	return TicketRedeemed, t.change, true
}

// forget drops a redeemed ticket whose change certainly did not reach
// ContraForce: the answer sent again then asks the human anew, rather than
// claiming a submission that never happened.
func (c *Confirmations) forget(id, owner string, shared bool) {
	if shared {
		c.o.Share.ForgetTicket(hex.EncodeToString([]byte(owner)), id)
		return
	}
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
