package hosted

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket per key (a tenant): rate tokens a second,
// up to burst. A zero or negative rate means no limit. With shared set
// (--redis) the bucket is the tenant's across the replicas, in Redis; this
// process's own buckets serve while Redis does not answer.
type rateLimiter struct {
	rate   float64
	burst  float64
	now    func() time.Time
	shared *redisShare

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int, now func() time.Time) *rateLimiter {
	if burst < 1 {
		burst = 1
	}
	return &rateLimiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for key, or says how long until one is available.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	if l == nil || l.rate <= 0 {
		return true, 0
	}
	if ok, wait, answered := l.shared.allow(key, l.rate, int(l.burst)); answered {
		return ok, wait
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}
