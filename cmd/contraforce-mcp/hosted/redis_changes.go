package hosted

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/contraforce/contraforce-mcp/client"
)

// wireMessage is what a replica publishes on a tenant's channel: a change
// to an incident (its ids, nothing of its content), or a request to end an
// idle session of the tenant (the tenant is at its session limit). The
// tenant is the channel's, never a field: a message cannot speak for
// another tenant than the channel it came on.
type wireMessage struct {
	tenant string // the channel's; not sent

	Kind   string `json:"kind"`   // "changed" or "evict"
	Origin string `json:"origin"` // the publishing replica
	// changed
	WorkspaceID string        `json:"workspaceId,omitempty"`
	Source      client.Source `json:"source,omitempty"`
	IncidentID  string        `json:"incidentId,omitempty"`
	// evict: the claim that one replica only acts on
	Nonce string `json:"nonce,omitempty"`
}

const (
	kindChanged = "changed"
	kindEvict   = "evict"
)

// changed queues a change made through this replica for the others. It
// never blocks: with the queue full, or Redis away, the change is not
// passed on (counted as dropped).
func (r *redisShare) changed(tenant string, ref client.IncidentRef) {
	if r == nil || !r.tenants[tenant] {
		return
	}
	m := wireMessage{tenant: tenant, Kind: kindChanged, Origin: r.replica,
		WorkspaceID: ref.WorkspaceID, Source: ref.Source, IncidentID: ref.IncidentID}
	select {
	case r.queue <- m:
	default:
		r.metrics.redisChanges.add(1, "dropped")
		r.log.Warn("change not passed to the other replicas: the queue to Redis is full", "tenant", tenant)
	}
}

// publish sends the queued messages in order until stop.
func (r *redisShare) publish(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case m := <-r.queue:
			if !r.active() {
				r.metrics.redisChanges.add(1, "dropped")
				continue
			}
			payload, _ := json.Marshal(m)
			ctx, cancel := r.ctx()
			err := r.rdb.Publish(ctx, tenantChannel(m.tenant), payload).Err()
			cancel()
			if err != nil {
				r.failed("publish", err)
				r.metrics.redisChanges.add(1, "dropped")
				continue
			}
			r.metrics.redisChanges.add(1, "published")
		}
	}
}

// publishNow sends one message at once (an eviction request, which its
// sender waits on); false when it could not.
func (r *redisShare) publishNow(m wireMessage) bool {
	payload, _ := json.Marshal(m)
	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.rdb.Publish(ctx, tenantChannel(m.tenant), payload).Err(); err != nil {
		r.failed("publish", err)
		return false
	}
	return true
}

// receive listens on the channels of this replica's tenants until stop.
// go-redis's channel reconnects and subscribes again by itself; what was
// published meanwhile is not heard (notifications are best effort).
func (r *redisShare) receive(stop <-chan struct{}) {
	channels := make([]string, 0, len(r.tenants))
	for t := range r.tenants {
		channels = append(channels, tenantChannel(t))
	}
	slices.Sort(channels)
	ps := r.rdb.Subscribe(context.Background(), channels...)
	defer ps.Close()
	ch := ps.Channel(redis.WithChannelHealthCheckInterval(5 * redisPingEvery))
	for {
		select {
		case <-stop:
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			r.handle(msg.Channel, msg.Payload)
		}
	}
}

// handle acts on one message: a change is delivered to this replica's
// subscribers of the channel's tenant; an eviction request is claimed and
// served if this replica holds an idle session of the tenant.
func (r *redisShare) handle(channel, payload string) {
	tenant, ok := strings.CutPrefix(channel, redisPrefix+"tenant:")
	if !ok || !r.tenants[tenant] {
		return
	}
	var m wireMessage
	if err := json.Unmarshal([]byte(payload), &m); err != nil || m.Origin == r.replica {
		return
	}
	switch m.Kind {
	case kindChanged:
		if m.WorkspaceID == "" || m.Source == "" || m.IncidentID == "" || r.onChange == nil {
			return
		}
		r.metrics.redisChanges.add(1, "received")
		r.onChange(tenant, client.IncidentRef{WorkspaceID: m.WorkspaceID, Source: m.Source, IncidentID: m.IncidentID})
	case kindEvict:
		if m.Nonce != "" {
			r.serveEviction(tenant, m.Nonce)
		}
	}
}
