package hosted

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/contraforce/contraforce-mcp/client"
)

// What the replicas of one deployment share through Redis (--redis):
//
//   - each tenant's tool-call rate limit: one GCRA bucket per tenant
//     (redis_rate), so the tenant's rate holds across the replicas together;
//   - each tenant's session count: a sorted set of leases, one per session
//     or reservation of every replica, each expiring unless its replica
//     renews it (a replica that dies stops renewing, and its sessions stop
//     counting within leaseTTL);
//   - incident changes: a tool's write publishes {workspaceId, source,
//     incidentId} on its tenant's channel; every other replica delivers it
//     to its own subscribed sessions of that tenant. A replica subscribes
//     only to its tenants' channels and delivers a message only to
//     subscribers of the tenant the channel names, so tenants never hear of
//     each other's changes. Messages carry ids only: no incident text, no
//     credential, no token;
//   - list_incidents' cursors and the confirmations' one-time tickets
//     (redis_stores.go): a cursor issued by one replica pages on any, and a
//     confirmation asked by one is answered on any, redeemed once across
//     all of them.
//
// Redis is never needed to serve. While it does not answer, every replica
// applies its own limits, delivers only its own changes and keeps the
// cursors and tickets it issues in its memory (a warning, and
// contraforce_mcp_redis_up 0); a ticket kept in Redis that cannot be
// checked is not consent (the human is asked again) and is deleted from
// Redis before the replica uses it again. The client reconnects by itself,
// and on its return the replica registers its sessions' leases again.

// Redis keys and channels, all under one prefix.
const (
	redisPrefix = "contraforce-mcp:"
	// leaseTTL is how long a session counts without its replica renewing
	// it; leaseRenew is how often a replica renews.
	leaseTTL   = 30 * time.Second
	leaseRenew = 10 * time.Second
	// redisTimeout bounds one Redis command: a slow Redis must not stall a
	// request for long before the replica falls back to its own state.
	redisTimeout = 500 * time.Millisecond
	// redisPingEvery is how often the replica checks that Redis answers.
	redisPingEvery = time.Second
)

func sessionsKey(tenant string) string   { return redisPrefix + "sessions:" + tenant }
func rateKey(tenant string) string       { return redisPrefix + "tool-calls:" + tenant }
func tenantChannel(tenant string) string { return redisPrefix + "tenant:" + tenant }
func evictClaimKey(nonce string) string  { return redisPrefix + "evict-claim:" + nonce }

// redisShare is one replica's connection to the shared state.
type redisShare struct {
	rdb     *redis.Client
	addr    string // host:port, for logs (the URL may hold a password)
	replica string // this process, in messages: its own are ignored
	tenants map[string]bool
	log     *slog.Logger
	metrics *Metrics
	rate    *redis_rate.Limiter

	up     atomic.Bool
	resync chan struct{}
	// voids are the tickets to delete from Redis when it answers again
	// (redis_stores.go).
	voids voidSet
	// queue holds changes to publish, in order, off the tool's path.
	queue chan wireMessage

	// Set by the server before run.
	onChange func(tenant string, ref client.IncidentRef)
	onEvict  func(tenant string, claim func() bool)
	leases   func() (counted, pending map[string][]string)
}

// newRedisShare connects to the Redis of url (redis:// or rediss://). A
// Redis that does not answer yet is not an error: the replica starts alone.
func newRedisShare(rawURL string, tenants []*Tenant, m *Metrics, log *slog.Logger) (*redisShare, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		// url.Error quotes the URL, password included: keep only its reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("--redis: %v (want redis://[:password@]host:port[/db] or rediss://…)", err)
	}
	opts.DialTimeout = time.Second
	opts.ReadTimeout, opts.WriteTimeout = redisTimeout, redisTimeout
	opts.PoolTimeout = 2 * redisTimeout
	// One attempt: a failure falls back at once to the replica's own state.
	opts.MaxRetries = -1
	opts.ClientName = "contraforce-mcp"
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	redisLogger.log.Store(log)
	r := &redisShare{
		rdb: redis.NewClient(opts), addr: opts.Addr, replica: "r-" + rand.Text()[:12],
		tenants: map[string]bool{}, log: log, metrics: m,
		resync: make(chan struct{}, 1), queue: make(chan wireMessage, 1024),
	}
	for _, t := range tenants {
		r.tenants[t.Name] = true
	}
	r.rate = redis_rate.NewLimiter(r.rdb)
	m.redisUp.set(0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.rdb.Ping(ctx).Err(); err != nil {
		r.metrics.redisFailures.add(1, "ping")
		log.Warn("Redis does not answer: starting alone (per-replica limits, this replica's changes only) until it does",
			"redis", r.addr, "err", err)
	} else {
		r.markUp()
	}
	return r, nil
}

// active reports whether Redis is in use now.
func (r *redisShare) active() bool { return r != nil && r.up.Load() }

// failed records a failed operation; an error of Redis or of the network
// (not the caller's cancellation) turns sharing off until Redis answers.
func (r *redisShare) failed(op string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	r.metrics.redisFailures.add(1, op)
	if r.up.CompareAndSwap(true, false) {
		r.metrics.redisUp.set(0)
		r.log.Warn("Redis unreachable: this replica now applies its own session and rate limits, hears only its own changes, "+
			"and keeps the cursors and confirmations it issues to itself (those in Redis cannot be checked), until Redis answers again",
			"redis", r.addr, "op", op, "err", err)
	}
}

// markUp turns sharing on, and has the leases registered again. The
// tickets that could not be checked while Redis was away are deleted
// first: no replica may take them once they are shared again (and any
// voided since, at every ping).
func (r *redisShare) markUp() {
	if !r.flushVoids() {
		return
	}
	if r.up.CompareAndSwap(false, true) {
		r.metrics.redisUp.set(1)
		r.log.Info("Redis reachable: sharing limits and changes with the other replicas", "redis", r.addr, "replica", r.replica)
		select {
		case r.resync <- struct{}{}:
		default:
		}
	}
}

// ctx is a context for one Redis command.
func (r *redisShare) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), redisTimeout)
}

// run keeps the replica's link to Redis until stop: it pings, renews the
// leases, publishes the queued changes and receives the others'. go-redis
// reconnects its pool and its subscription by itself.
func (r *redisShare) run(bg *sync.WaitGroup, stop <-chan struct{}) {
	bg.Go(func() { r.receive(stop) })
	bg.Go(func() { r.publish(stop) })
	bg.Go(func() {
		ping := time.NewTicker(redisPingEvery)
		defer ping.Stop()
		renew := time.NewTicker(leaseRenew)
		defer renew.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ping.C:
				ctx, cancel := r.ctx()
				err := r.rdb.Ping(ctx).Err()
				cancel()
				if err != nil {
					r.failed("ping", err)
				} else {
					r.markUp()
				}
			case <-renew.C:
				r.renewLeases()
			case <-r.resync:
				r.renewLeases()
			}
		}
	})
}

// close closes the client (after run's goroutines have stopped).
func (r *redisShare) close() { _ = r.rdb.Close() }

// allow takes one of the tenant's tool calls from the shared bucket. ok is
// false when Redis did not answer: the caller applies its own bucket.
func (r *redisShare) allow(tenant string, rate float64, burst int) (allowed bool, wait time.Duration, ok bool) {
	if !r.active() {
		return false, 0, false
	}
	// One call per emission interval, with the burst: the same bucket as
	// rateLimiter's, in GCRA form.
	limit := redis_rate.Limit{Rate: 1, Period: time.Duration(float64(time.Second) / rate), Burst: burst}
	ctx, cancel := r.ctx()
	defer cancel()
	res, err := r.rate.Allow(ctx, rateKey(tenant), limit)
	if err != nil {
		r.failed("rate_limit", err)
		return false, 0, false
	}
	return res.Allowed > 0, max(res.RetryAfter, 0), true
}

// redisLogger routes go-redis's own log lines (reconnection attempts) to
// the server's logger at debug level: the warning above says it once.
var redisLogger = &redisLogAdapter{}

type redisLogAdapter struct{ log atomic.Pointer[slog.Logger] }

func (a *redisLogAdapter) Printf(_ context.Context, format string, v ...any) {
	if l := a.log.Load(); l != nil {
		l.Debug("redis client: " + fmt.Sprintf(format, v...))
	}
}

func init() { redis.SetLogger(redisLogger) }
