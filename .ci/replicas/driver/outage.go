package main

import (
	"context"
	"fmt"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/resources"
)

// pair is a writer and a subscriber of tenant acme on the given replicas,
// on an incident of its own.
func pair(ctx context.Context, c config, tokens []string, writerOn, subscriberOn string, ref client.IncidentRef) (w, s *agent, err error) {
	for _, t := range tokens {
		u, err := upstreamOf(ctx, c.nginx, t)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case u == writerOn && w == nil:
			w = &agent{name: "acme-writer-on-" + u, tenant: "acme", token: t, kind: kindHTTP, base: c.nginx, replica: u, ref: ref, heard: map[string]int{}}
		case u == subscriberOn && s == nil:
			s = &agent{name: "acme-subscriber-on-" + u, tenant: "acme", token: t, kind: kindSSE, base: c.nginx, replica: u,
				uris: []string{resources.IncidentURI(ref)}, heard: map[string]int{}}
		}
	}
	if w == nil || s == nil {
		return nil, nil, fmt.Errorf("no token of acme hashes to %s and %s", writerOn, subscriberOn)
	}
	return w, s, nil
}

// redisSettled is the opening of degraded and restored: the live replicas
// (sorted; at least need of them), once every one reports redis_up equal to
// up within the given time, with the tenants' tokens and 12 incidents.
func redisSettled(ctx context.Context, c config, need int, up float64, within time.Duration, what string) (live []string, tokens map[string][]string, refs []client.IncidentRef, err error) {
	live = liveReplicas(ctx, c)
	if len(live) < need {
		if len(live) == 0 {
			return nil, nil, nil, fmt.Errorf("no replica answers")
		}
		return nil, nil, nil, fmt.Errorf("%d replicas answer; need %d", len(live), need)
	}
	if err := waitFor(ctx, within, what, func() bool {
		for _, r := range live {
			if metric(ctx, c.metrics[r], "contraforce_mcp_redis_up") != up {
				return false
			}
		}
		return true
	}); err != nil {
		return nil, nil, nil, err
	}
	if tokens, err = readTokens(c.dir); err != nil {
		return nil, nil, nil, err
	}
	if refs, err = incidents(ctx, c.api, 12); err != nil {
		return nil, nil, nil, err
	}
	return live, tokens, refs, nil
}

// degraded runs with Redis stopped: every live replica reports redis_up 0,
// and still serves its tenants (sessions, writes, its own subscribers).
func degraded(ctx context.Context, c config) error {
	live, tokens, refs, err := redisSettled(ctx, c, 1, 0, 15*time.Second, "every replica to report Redis down")
	if err != nil {
		return err
	}
	var written []string
	heard := 0
	for i, r := range live {
		ref := refs[8+i]
		w, s, err := pair(ctx, c, tokens["acme"], r, r, ref)
		if err != nil {
			return err
		}
		if err := s.connect(ctx, true); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		defer s.close()
		for n := range 3 {
			id := fmt.Sprintf("cfw-degraded-%x-%s-%03d", time.Now().UnixNano()&0xffffff, r, n)
			if err := w.write(ctx, id); err != nil {
				return err
			}
			if w.acked.Load() != int64(n+1) {
				return fmt.Errorf("write %s through %s not acknowledged while Redis is down", id, r)
			}
			written = append(written, id)
		}
		w.close()
		if err := waitFor(ctx, 10*time.Second, "the subscriber on the writer's replica to hear its writes", func() bool { return s.heardTotal() == 3 }); err != nil {
			return err
		}
		heard += s.heardTotal()
	}
	failures := 0.0
	for _, r := range live {
		for _, op := range []string{"ping", "publish", "session_acquire", "session_release", "rate_limit"} {
			if v := metric(ctx, c.metrics[r], fmt.Sprintf(`contraforce_mcp_redis_failures_total{op=%q}`, op)); v > 0 {
				failures += v
			}
		}
	}
	fmt.Printf("replicas test, Redis stopped: %d live replicas report contraforce_mcp_redis_up 0 (%.0f failed Redis operations counted); "+
		"%d writes acknowledged, %d/%d notifications on the writers' own replicas\n", len(live), failures, len(written), heard, len(written))
	return nil
}

// restored runs with Redis back: every live replica reports redis_up 1,
// and a write through one replica reaches a subscriber on another again.
func restored(ctx context.Context, c config) error {
	live, tokens, refs, err := redisSettled(ctx, c, 2, 1, 20*time.Second, "every replica to report Redis back")
	if err != nil {
		return err
	}
	w, s, err := pair(ctx, c, tokens["acme"], live[0], live[1], refs[11])
	if err != nil {
		return err
	}
	if err := s.connect(ctx, true); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	defer s.close()
	defer w.close()
	nonce := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
	// go-redis subscribes again by itself, shortly after Redis is back;
	// a change published before that is not heard. Write until one is.
	first := -1
	for i := range 20 {
		if err := w.write(ctx, fmt.Sprintf("cfw-restored-%s-probe-%03d", nonce, i)); err != nil {
			return err
		}
		if waitFor(ctx, 500*time.Millisecond, "", func() bool { return s.heardTotal() > 0 }) == nil {
			first = i
			break
		}
	}
	if first < 0 {
		return fmt.Errorf("no write through %s reached the subscriber on %s after Redis came back", live[0], live[1])
	}
	s.resetHeard()
	const n = 5
	for i := range n {
		if err := w.write(ctx, fmt.Sprintf("cfw-restored-%s-%03d", nonce, i)); err != nil {
			return err
		}
	}
	if err := waitFor(ctx, 10*time.Second, "the subscriber on the other replica to hear every write", func() bool { return s.heardTotal() >= n }); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	if got := s.heardTotal(); got != n {
		return fmt.Errorf("the subscriber on %s heard %d notifications of %d writes through %s", live[1], got, n, live[0])
	}
	fmt.Printf("replicas test, Redis back: %d live replicas report contraforce_mcp_redis_up 1; cross-replica notifications resumed "+
		"after %d probe writes; then %d/%d heard (%s → %s)\n", len(live), first+1, n, n, live[0], live[1])
	return nil
}
