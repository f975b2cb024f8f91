package hosted

import (
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// A tenant's sessions across the replicas are a sorted set of leases
// (member: "<replica>:<random>", score: when it expires, in Redis's clock).
// A replica takes a lease for each reservation before the session exists
// (fail closed: a session exists only if reserved, here as in the
// registry), renews its leases every leaseRenew, and removes a lease when
// its session ends. The per-tenant limit is the set's size.

// acquireScript adds a lease if the tenant has fewer than ARGV[2] live
// ones (ARGV[1]: the lease, ARGV[3]: its time to live in ms); 1 if taken.
var acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[3]))
return 1
`)

// renewScript renews one replica's leases of a tenant: ARGV[1] is the
// replica's member prefix, ARGV[2] the time to live in ms, ARGV[3] how
// many leases follow to renew (re-adding them if Redis lost them), and
// the rest are further leases the replica holds but has not counted yet
// (a reservation being taken). Any other lease of the replica is removed:
// its session ended while Redis was away.
var renewScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local held = {}
for i = 4, #ARGV do held[ARGV[i]] = true end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(m, 1, #ARGV[1]) == ARGV[1] and not held[m] then
    redis.call('ZREM', KEYS[1], m)
  end
end
for i = 4, 3 + n do
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[i])
end
if redis.call('ZCARD', KEYS[1]) > 0 then
  redis.call('PEXPIRE', KEYS[1], 2 * ttl)
end
return redis.call('ZCARD', KEYS[1])
`)

// newLease returns a lease id of this replica.
func (r *redisShare) newLease() string {
	if r == nil {
		return ""
	}
	return r.replica + ":" + rand.Text()
}

// acquire takes a lease for the tenant within max; ok is false when Redis
// did not answer (the caller counts the session locally only).
func (r *redisShare) acquire(tenant, lease string, max int) (taken, ok bool) {
	if !r.active() {
		return false, false
	}
	ctx, cancel := r.ctx()
	defer cancel()
	n, err := acquireScript.Run(ctx, r.rdb, []string{sessionsKey(tenant)}, lease, max, leaseTTL.Milliseconds()).Int()
	if err != nil {
		r.failed("session_acquire", err)
		return false, false
	}
	return n == 1, true
}

// release removes a lease (its session ended). Without Redis the lease
// expires by itself, or is removed at the next renewal.
func (r *redisShare) release(tenant, lease string) {
	if !r.active() || lease == "" {
		return
	}
	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.rdb.ZRem(ctx, sessionsKey(tenant), lease).Err(); err != nil {
		r.failed("session_release", err)
	}
}

// renewLeases renews every lease of this replica, tenant by tenant.
func (r *redisShare) renewLeases() {
	if !r.active() || r.leases == nil {
		return
	}
	counted, pending := r.leases()
	for tenant := range r.tenants {
		args := []any{r.replica + ":", leaseTTL.Milliseconds(), len(counted[tenant])}
		for _, l := range counted[tenant] {
			args = append(args, l)
		}
		for _, l := range pending[tenant] {
			args = append(args, l)
		}
		ctx, cancel := r.ctx()
		err := renewScript.Run(ctx, r.rdb, []string{sessionsKey(tenant)}, args...).Err()
		cancel()
		if err != nil {
			r.failed("session_renew", err)
			return
		}
	}
	// A lease given up while the renewal ran may have been re-added: remove it.
	after, _ := r.leases()
	for tenant, ls := range counted {
		for _, l := range ls {
			if !slices.Contains(after[tenant], l) {
				r.release(tenant, l)
			}
		}
	}
}

// requestEviction asks the other replicas to end one idle session of the
// tenant; the first to claim the request's nonce does.
func (r *redisShare) requestEviction(tenant string) {
	r.publishNow(wireMessage{tenant: tenant, Kind: kindEvict, Origin: r.replica, Nonce: rand.Text()})
}

// claim takes an eviction request for this replica; only one replica wins.
func (r *redisShare) claim(nonce string) bool {
	ctx, cancel := r.ctx()
	defer cancel()
	ok, err := r.rdb.SetNX(ctx, evictClaimKey(nonce), r.replica, 10*time.Second).Result()
	if err != nil {
		r.failed("evict_claim", err)
		return false
	}
	return ok
}

// serveEviction answers another replica's eviction request for tenant.
func (r *redisShare) serveEviction(tenant, nonce string) {
	if r.onEvict != nil {
		r.onEvict(tenant, func() bool { return r.claim(nonce) })
	}
}

// sharedLimitError is the refusal when the tenant's sessions across the
// replicas are at the limit and none could be ended.
func sharedLimitError(tenant string, max int) error {
	return &limitError{reasonTenantSessions, fmt.Sprintf(
		"tenant %q has %d open MCP sessions across this deployment's replicas, its limit, and none is idle to end (each has a request running or a stream open); close one and retry", tenant, max)}
}

// evictWait bounds how long a reservation waits for another replica to end
// an idle session of its tenant.
const evictWait = time.Second

// share takes a reservation's place in its tenant's count across the
// replicas (a no-op without --redis). At the limit it ends the tenant's
// oldest idle session on this replica; with none here, it asks the other
// replicas to end one of theirs and waits up to evictWait for the slot.
// Without an answer from Redis the reservation stands on this replica's
// count alone (it is added to the shared count when Redis returns).
func (g *registry) share(res *reservation) error {
	r := g.shared
	if r == nil || res.lease == "" {
		return nil
	}
	tenant := res.p.tenant
	if g.maxPerTenant <= 0 {
		g.commit(res)
		return nil
	}
	deadline := time.Now().Add(evictWait)
	asked := false
	for {
		taken, answered := r.acquire(tenant.Name, res.lease, g.maxPerTenant)
		if taken || !answered {
			g.commit(res)
			return nil
		}
		if s := g.takeOldestIdle(tenant.Name, nil); s != nil {
			g.onEvict(s)
			continue
		}
		if !asked {
			// One reservation per tenant waits on the others at a time: a
			// tenant flooding initialize at its limit holds no more.
			if !g.wait(tenant.Name) {
				return sharedLimitError(tenant.Name, g.maxPerTenant)
			}
			defer g.unwait(tenant.Name)
			r.requestEviction(tenant.Name)
			asked = true
		}
		if time.Now().After(deadline) {
			return sharedLimitError(tenant.Name, g.maxPerTenant)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wait marks the tenant as waiting for another replica's eviction; false
// if a reservation of the tenant already is.
func (g *registry) wait(tenant string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.waiting == nil {
		g.waiting = map[string]bool{}
	}
	if g.waiting[tenant] {
		return false
	}
	g.waiting[tenant] = true
	return true
}

func (g *registry) unwait(tenant string) {
	g.mu.Lock()
	delete(g.waiting, tenant)
	g.mu.Unlock()
}

// commit marks a reservation's lease as counted: renewals keep it.
func (g *registry) commit(res *reservation) {
	g.mu.Lock()
	if l := g.leases[res.lease]; l != nil {
		l.counted = true
	}
	g.mu.Unlock()
}

// takeOldestIdle removes the tenant's oldest idle session from the
// registry and returns it for the caller to end, or nil. With claim set,
// the session is taken only if claim (asked outside the lock) agrees.
func (g *registry) takeOldestIdle(tenant string, claim func() bool) *session {
	g.mu.Lock()
	s := g.oldestIdle(tenant)
	g.mu.Unlock()
	if s == nil || (claim != nil && !claim()) {
		return nil
	}
	g.mu.Lock()
	ok := g.byID[s.id] == s && s.idle()
	if ok {
		delete(g.byID, s.id)
		g.free(s.tenant.Name, s.transport, s.lease)
	}
	g.mu.Unlock()
	if !ok {
		return nil
	}
	g.shared.release(s.tenant.Name, s.lease)
	return s
}

// evictFor serves another replica's request: it ends this replica's oldest
// idle session of the tenant, if it holds one and wins the claim.
func (g *registry) evictFor(tenant string, claim func() bool) {
	if s := g.takeOldestIdle(tenant, claim); s != nil {
		g.onEvict(s)
	}
}

// leaseSnapshot lists this replica's leases by tenant: those counted, and
// those of reservations still being taken.
func (g *registry) leaseSnapshot() (counted, pending map[string][]string) {
	counted, pending = map[string][]string{}, map[string][]string{}
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, l := range g.leases {
		if l.counted {
			counted[l.tenant] = append(counted[l.tenant], id)
		} else {
			pending[l.tenant] = append(pending[l.tenant], id)
		}
	}
	return counted, pending
}
