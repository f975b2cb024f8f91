package resources

import (
	"context"
	"log/slog"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
)

// Notifier tells subscribed MCP sessions that an incident changed: a
// session subscribed to an incident's resource URI receives
// notifications/resources/updated with that URI when a tool in any session
// of the server changes the incident.
//
// mcp-go's transports do not record subscriptions themselves (none of its
// sessions implements server.SessionWithResourceSubscriptions), so the
// Notifier keeps them, fed by server hooks (AddHooks):
//   - resources/subscribe and resources/unsubscribe (protocol versions up
//     to 2025-11-25) add and remove a URI for the session, until the
//     session ends;
//   - subscriptions/listen (2026-07-28) holds its resourceSubscriptions for
//     as long as the listen request's stream is open.
//
// In a multi-tenant server a notification must not reveal one tenant's
// incident activity to another tenant's session, even one that subscribed
// to a guessed URI: with NotifierOptions.Tenant set, a change is delivered
// only to sessions whose subscribe request had the same tenant as the
// request that made the change.
//
// Several replicas of a hosted server share changes through
// NotifierOptions.Publish (a change made here, for the other replicas) and
// Deliver (a change made by another replica, for the sessions here).
type Notifier struct {
	tenant  func(ctx context.Context) string
	publish func(tenant string, ref client.IncidentRef)
	log     *slog.Logger

	mu     sync.Mutex
	legacy map[string]*subscriber                          // by session id
	listen map[*mcp.SubscriptionsListenRequest]*subscriber // by the open listen request
}

// NotifierOptions configure a Notifier.
type NotifierOptions struct {
	// Tenant returns the tenant of the request a context belongs to; a
	// change is delivered only to subscribers of the same tenant. Nil means
	// a single-tenant server (stdio, or one credential for everyone).
	Tenant func(ctx context.Context) string
	// Publish, when set, is told of every change after the local
	// deliveries, with the tenant of the request that made it: a hosted
	// server passes it on to its other replicas, which Deliver it. It must
	// not block.
	Publish func(tenant string, ref client.IncidentRef)
	// Logger receives debug logs of deliveries and dropped notifications,
	// and a warning when a session exceeds the subscription bound; nil
	// discards them.
	Logger *slog.Logger
}

// maxSubscriptions bounds the URIs tracked per session (or listen stream),
// so that a client cannot grow the server's memory without limit; mcp-go
// acknowledges a subscription before the hooks run, so the ones over the
// bound are acknowledged but never notified (and logged).
const maxSubscriptions = 1000

// subscriber is one session's subscriptions, with what delivering to it
// needs: its server, its session, and the tenant it subscribed as.
type subscriber struct {
	srv     *server.MCPServer
	session server.ClientSession
	tenant  string
	uris    map[string]target
}

// target is a subscribed URI resolved to its incident; a URI that is not
// an incident resource (the closure policy) resolves to ok=false and is
// never notified.
type target struct {
	ref  client.IncidentRef
	kind Kind
	ok   bool
}

// NewNotifier returns a Notifier; wire it with AddHooks and pass Changed to
// the tools as tools.Deps.Changed.
func NewNotifier(opts NotifierOptions) *Notifier {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{tenant: opts.Tenant, publish: opts.Publish, log: log,
		legacy: make(map[string]*subscriber), listen: make(map[*mcp.SubscriptionsListenRequest]*subscriber)}
}

// AddHooks registers the hooks through which the Notifier learns of
// subscriptions. The server must also offer subscriptions:
// server.WithResourceCapabilities(true, …).
func (n *Notifier) AddHooks(h *server.Hooks) {
	h.AddAfterSubscribe(func(ctx context.Context, _ any, req *mcp.SubscribeRequest, _ *mcp.EmptyResult) {
		n.subscribe(ctx, req.Params.URI)
	})
	h.AddAfterUnsubscribe(func(ctx context.Context, _ any, req *mcp.UnsubscribeRequest, _ *mcp.EmptyResult) {
		n.unsubscribe(ctx, req.Params.URI)
	})
	h.AddOnUnregisterSession(func(_ context.Context, s server.ClientSession) {
		n.mu.Lock()
		delete(n.legacy, s.SessionID())
		n.mu.Unlock()
	})
	// A listen request's subscriptions must be known while its stream is
	// open, which is between these two hooks (the handler blocks until the
	// client cancels); on failure only OnError runs.
	h.AddBeforeSubscriptionsListen(func(ctx context.Context, _ any, req *mcp.SubscriptionsListenRequest) {
		n.openListen(ctx, req)
	})
	h.AddAfterSubscriptionsListen(func(_ context.Context, _ any, req *mcp.SubscriptionsListenRequest, _ *mcp.SubscriptionsListenResult) {
		n.closeListen(req)
	})
	h.AddOnError(func(_ context.Context, _ any, method mcp.MCPMethod, message any, _ error) {
		if req, ok := message.(*mcp.SubscriptionsListenRequest); ok && method == mcp.MethodSubscriptionsListen {
			n.closeListen(req)
		}
	})
}

func (n *Notifier) tenantOf(ctx context.Context) string {
	if n.tenant == nil {
		return ""
	}
	return n.tenant(ctx)
}

func (n *Notifier) newSubscriber(ctx context.Context, s server.ClientSession) *subscriber {
	return &subscriber{srv: server.ServerFromContext(ctx), session: s, tenant: n.tenantOf(ctx), uris: make(map[string]target)}
}

func resolve(uri string) target {
	ref, kind, ok := ParseURI(uri)
	return target{ref: ref, kind: kind, ok: ok}
}

func (n *Notifier) subscribe(ctx context.Context, uri string) {
	s := server.ClientSessionFromContext(ctx)
	if s == nil || s.SessionID() == "" || uri == "" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	sub, ok := n.legacy[s.SessionID()]
	if !ok {
		sub = n.newSubscriber(ctx, s)
		n.legacy[s.SessionID()] = sub
	}
	if sub.tenant != n.tenantOf(ctx) {
		// A session belongs to one tenant: never let a request of another
		// tenant that presents its id add to what it is told.
		n.log.Warn("resource subscription ignored: the session belongs to another tenant", "session", s.SessionID())
		return
	}
	sub.add(n.log, uri)
}

// add tracks uri, within maxSubscriptions.
func (sub *subscriber) add(log *slog.Logger, uri string) {
	if _, ok := sub.uris[uri]; !ok && len(sub.uris) >= maxSubscriptions {
		log.Warn("resource subscription ignored: too many subscriptions", "session", sub.session.SessionID(),
			"limit", maxSubscriptions)
		return
	}
	sub.uris[uri] = resolve(uri)
}

func (n *Notifier) unsubscribe(ctx context.Context, uri string) {
	s := server.ClientSessionFromContext(ctx)
	if s == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if sub, ok := n.legacy[s.SessionID()]; ok {
		delete(sub.uris, uri)
		if len(sub.uris) == 0 {
			delete(n.legacy, s.SessionID())
		}
	}
}

func (n *Notifier) openListen(ctx context.Context, req *mcp.SubscriptionsListenRequest) {
	s := server.ClientSessionFromContext(ctx)
	if s == nil || len(req.Params.Notifications.ResourceSubscriptions) == 0 {
		return
	}
	sub := n.newSubscriber(ctx, s)
	for _, uri := range req.Params.Notifications.ResourceSubscriptions {
		sub.add(n.log, uri)
	}
	n.mu.Lock()
	n.listen[req] = sub
	n.mu.Unlock()
}

func (n *Notifier) closeListen(req *mcp.SubscriptionsListenRequest) {
	n.mu.Lock()
	delete(n.listen, req)
	n.mu.Unlock()
}

// delivery is one notification to send.
type delivery struct {
	sub *subscriber
	uri string
	// direct sends on the session's channel: a listen stream's session is
	// not registered with the server, so it cannot be reached by id.
	direct bool
}

// Changed notifies every session subscribed to the incident's resource or
// to its comments (a tool's change may add a comment: add_comment, a
// closing comment, an assignment's activity entry) and of the same tenant
// as ctx. The evidence resource is not notified: no tool changes evidence.
// It never blocks: a session whose notification queue is full misses the
// notification (logged at debug level). Publish, if set, is told last.
func (n *Notifier) Changed(ctx context.Context, ref client.IncidentRef) {
	tenant := n.tenantOf(ctx)
	n.Deliver(tenant, ref)
	if n.publish != nil {
		n.publish(tenant, ref)
	}
}

// Deliver notifies this server's sessions of tenant subscribed to the
// incident (as Changed does) of a change made elsewhere: through another
// replica of a hosted server. It never blocks.
func (n *Notifier) Deliver(tenant string, ref client.IncidentRef) {
	var out []delivery
	n.mu.Lock()
	collect := func(sub *subscriber, direct bool) {
		if sub.tenant != tenant {
			return
		}
		for uri, t := range sub.uris {
			if t.ok && t.kind != KindEvidence && sameIncident(t.ref, ref) {
				out = append(out, delivery{sub: sub, uri: uri, direct: direct})
			}
		}
	}
	for _, sub := range n.legacy {
		collect(sub, false)
	}
	for _, sub := range n.listen {
		collect(sub, true)
	}
	n.mu.Unlock()

	for _, d := range out {
		n.deliver(d)
	}
}

// deliver sends one notifications/resources/updated.
func (n *Notifier) deliver(d delivery) {
	params := map[string]any{"uri": d.uri}
	var err error
	if d.direct || d.sub.srv == nil {
		note := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{
			Method: mcp.MethodNotificationResourceUpdated, Params: mcp.NotificationParams{AdditionalFields: params}}}
		if up, ok := d.sub.session.(server.SessionWithStreamableHTTPConfig); ok {
			up.UpgradeToSSEWhenReceiveNotification()
		}
		select {
		case d.sub.session.NotificationChannel() <- note:
		default:
			err = server.ErrNotificationChannelBlocked
		}
	} else {
		err = d.sub.srv.SendNotificationToSpecificClient(d.sub.session.SessionID(), mcp.MethodNotificationResourceUpdated, params)
	}
	if err != nil {
		n.log.Debug("resource update not delivered", "session", d.sub.session.SessionID(), "uri", d.uri, "err", err)
		return
	}
	n.log.Debug("resource update delivered", "session", d.sub.session.SessionID(), "uri", d.uri)
}
