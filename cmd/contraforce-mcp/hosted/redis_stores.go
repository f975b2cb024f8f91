package hosted

import (
	"errors"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/contraforce/contraforce-mcp/tools"
)

// list_incidents' cursors and the confirmations' one-time tickets, shared
// by the replicas (tools.CursorShare and tools.TicketShare). Each entry is
// a hash that Redis expires by itself, under its group: a cursor under its
// credential's scope, a ticket under its owner (hex digests, never a
// credential or a name). Every group keeps a sorted set of its entries by
// expiry and what they cost (bytes for cursors, one per ticket), and so do
// all the entries of a kind together, so that the oldest go first when a
// group, or everything, is at its budget: no tenant can fill Redis, nor
// push out another tenant's entries before its own.
//
// Keys of a kind K (cursor or ticket), group G, entry id I:
//
//	contraforce-mcp:K:G:I     the entry (hash)
//	contraforce-mcp:Ks:G      the group's entries (sorted set "I:cost", by expiry)
//	contraforce-mcp:Ks:G:cost the group's total cost
//	contraforce-mcp:Ks        every entry of the kind ("G:I:cost", by expiry)
//	contraforce-mcp:Ks:cost   their total cost
//
// The scripts name keys of other groups than their KEYS (the oldest entry
// may be anyone's): this needs one Redis, not a Redis Cluster, as the rest
// of --redis does.

// storeKeys are the keys of one kind of entry.
type storeKeys struct{ kind string }

var (
	cursorKeys = storeKeys{"cursor"}
	ticketKeys = storeKeys{"ticket"}
)

func (k storeKeys) entryPrefix() string           { return redisPrefix + k.kind + ":" }
func (k storeKeys) groupPrefix() string           { return redisPrefix + k.kind + "s:" }
func (k storeKeys) entry(group, id string) string { return k.entryPrefix() + group + ":" + id }

// put are the five keys of putScript for an entry of group.
func (k storeKeys) put(group, id string) []string {
	all := redisPrefix + k.kind + "s"
	return []string{k.entry(group, id), k.groupPrefix() + group, k.groupPrefix() + group + ":cost", all, all + ":cost"}
}

// putScript adds an entry within its budgets, in one step.
// KEYS: the entry, its group's set and cost, the kind's set and cost.
// ARGV: entry prefix, group prefix, group, id, cost, ttl (ms), the group's
// budget, the kind's budget, then the entry's fields and values.
var putScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local group, id, cost, ttl = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local maxGroup, maxAll = tonumber(ARGV[7]), tonumber(ARGV[8])
local function total(key) return tonumber(redis.call('GET', key) or '0') end
-- drop removes an entry, named by its member in the kind's set.
local function drop(member)
  redis.call('ZREM', KEYS[4], member)
  local g, i, c = string.match(member, '^(.+):([^:]+):(%d+)$')
  if not g then return end
  redis.call('DECRBY', KEYS[5], c)
  local gset = ARGV[2] .. g
  if redis.call('ZREM', gset, i .. ':' .. c) == 1 then
    redis.call('DECRBY', gset .. ':cost', c)
  end
  redis.call('DEL', ARGV[1] .. g .. ':' .. i)
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 200)) do drop(m) end
while total(KEYS[3]) + cost > maxGroup do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not oldest then redis.call('DEL', KEYS[3]) break end
  drop(group .. ':' .. oldest)
end
while total(KEYS[5]) + cost > maxAll do
  local oldest = redis.call('ZRANGE', KEYS[4], 0, 0)[1]
  if not oldest then redis.call('DEL', KEYS[5]) break end
  drop(oldest)
end
redis.call('HSET', KEYS[1], unpack(ARGV, 9))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, id .. ':' .. cost)
redis.call('INCRBY', KEYS[3], cost)
redis.call('ZADD', KEYS[4], now + ttl, group .. ':' .. id .. ':' .. cost)
redis.call('INCRBY', KEYS[5], cost)
for i = 2, 5 do redis.call('PEXPIRE', KEYS[i], ttl) end
return 1
`)

// redeemScript uses a ticket (KEYS[1]) for a call (ARGV[1]): {1, change}
// the first time, {2, change} after, {0, ""} for no such ticket or
// another call's.
var redeemScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'call', 'change', 'used')
if not v[1] or v[1] ~= ARGV[1] then return {0, ''} end
if v[3] == '1' then return {2, v[2]} end
redis.call('HSET', KEYS[1], 'used', '1')
return {1, v[2]}
`)

// errRedisAway is a store operation not tried: Redis does not answer.
var errRedisAway = errors.New("redis does not answer")

// put runs putScript for one entry.
func (r *redisShare) put(op string, k storeKeys, group, id string, cost int, ttlMS int64, maxGroup, maxAll int, fields ...any) error {
	if !r.active() {
		return errRedisAway
	}
	args := append([]any{k.entryPrefix(), k.groupPrefix(), group, id, cost, ttlMS, maxGroup, maxAll}, fields...)
	ctx, cancel := r.ctx()
	defer cancel()
	if err := putScript.Run(ctx, r.rdb, k.put(group, id), args...).Err(); err != nil {
		r.failed(op, err)
		return err
	}
	return nil
}

// PutCursor keeps a list_incidents cursor for every replica (tools.CursorShare).
func (r *redisShare) PutCursor(e tools.CursorEntry) error {
	return r.put("cursor_put", cursorKeys, e.Scope, e.ID, e.Size, e.TTL.Milliseconds(), e.MaxScopeBytes, e.MaxBytes, "data", e.Data)
}

// GetCursor reads a cursor of the scope (tools.CursorShare).
func (r *redisShare) GetCursor(scope, id string) ([]byte, bool, error) {
	if !r.active() {
		return nil, false, errRedisAway
	}
	ctx, cancel := r.ctx()
	defer cancel()
	data, err := r.rdb.HGet(ctx, cursorKeys.entry(scope, id), "data").Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case err != nil:
		r.failed("cursor_get", err)
		return nil, false, err
	}
	return data, true, nil
}

// IssueTicket keeps a confirmation's ticket for every replica (tools.TicketShare).
func (r *redisShare) IssueTicket(t tools.SharedTicket) error {
	return r.put("ticket_issue", ticketKeys, t.Owner, t.ID, 1, t.TTL.Milliseconds(), t.MaxPerOwner, t.MaxTickets,
		"call", t.Call, "change", t.Change, "used", "0")
}

// RedeemTicket uses a ticket once across the replicas (tools.TicketShare).
// A ticket that could not be checked is void: this replica never takes it
// again, and deletes it from Redis before it shares anything again.
func (r *redisShare) RedeemTicket(owner, id, call string) (tools.TicketState, string, error) {
	key := ticketKeys.entry(owner, id)
	if !r.active() || r.voids.has(key) {
		r.voids.add(key)
		return tools.TicketUnknown, "", errRedisAway
	}
	ctx, cancel := r.ctx()
	defer cancel()
	res, err := redeemScript.Run(ctx, r.rdb, []string{key}, call).Slice()
	if err != nil {
		// The script may have run and its answer been lost: void.
		r.voids.add(key)
		r.failed("ticket_redeem", err)
		return tools.TicketUnknown, "", err
	}
	state, _ := res[0].(int64)
	change, _ := res[1].(string)
	switch state {
	case 1:
		return tools.TicketRedeemed, change, nil
	case 2:
		return tools.TicketUsed, change, nil
	}
	return tools.TicketUnknown, "", nil
}

// ForgetTicket deletes a ticket whose change did not reach ContraForce
// (tools.TicketShare); without Redis, as soon as it answers.
func (r *redisShare) ForgetTicket(owner, id string) {
	key := ticketKeys.entry(owner, id)
	if !r.active() {
		r.voids.add(key)
		return
	}
	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.rdb.Del(ctx, key).Err(); err != nil {
		r.voids.add(key)
		r.failed("ticket_forget", err)
	}
}

// maxVoids bounds the tickets a replica remembers to delete; beyond it
// the oldest is forgotten (it still expires within the hour).
const maxVoids = 10000

// voidSet is the tickets to delete from Redis when it answers again: those
// that could not be checked (their answer was refused, so they must never
// be taken later) and those whose forgetting failed.
type voidSet struct {
	mu    sync.Mutex
	keys  map[string]bool
	order []string
}

func (v *voidSet) add(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys == nil {
		v.keys = map[string]bool{}
	}
	if v.keys[key] {
		return
	}
	if len(v.order) >= maxVoids {
		delete(v.keys, v.order[0])
		v.order = v.order[1:]
	}
	v.keys[key] = true
	v.order = append(v.order, key)
}

func (v *voidSet) has(key string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.keys[key]
}

// flushVoids deletes the void tickets from Redis; false if Redis failed
// (they stay, for the next try). With none, it asks Redis nothing.
func (r *redisShare) flushVoids() bool {
	v := &r.voids
	v.mu.Lock()
	keys := slices.Clone(v.order)
	v.mu.Unlock()
	for batch := range slices.Chunk(keys, 500) {
		ctx, cancel := r.ctx()
		err := r.rdb.Del(ctx, batch...).Err()
		cancel()
		if err != nil {
			r.metrics.redisFailures.add(1, "ticket_void")
			return false
		}
		v.mu.Lock()
		for _, k := range batch {
			delete(v.keys, k)
		}
		v.order = slices.DeleteFunc(v.order, func(k string) bool { return !v.keys[k] })
		v.mu.Unlock()
	}
	return true
}
