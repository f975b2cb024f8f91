package hosted

import (
	"context"
	"errors"
	"net/http"

	"github.com/contraforce/contraforce-mcp/tools"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	sessionKey
	reservationKey
	recorderKey
)

// principal is who a request authenticated as: its tenant, and in
// pass-through mode the credential it presented (already inside the
// session's API client; only its fingerprint is kept).
type principal struct {
	tenant *Tenant
	// session is what the request's tool calls work under.
	session *tools.Session
	// fingerprint identifies a pass-through credential and an OAuth user
	// (zero otherwise).
	fingerprint [32]byte
	// user is whom an OAuth access token named (nil for a static token).
	user *tools.User
}

// errNoSession is what a tool sees when a request reached it without passing
// the gate: a wiring bug, never a caller's doing.
var errNoSession = errors.New("internal error: this request carries no authenticated tenant session; the server's operator should report this bug")

// SessionFrom returns the identity and policy the calling request works
// under, as the gate put it in the context: the tenant's shared session, or
// in pass-through mode one around the caller's own credential. It is the
// hosted server's serverDeps.Session.
func SessionFrom(ctx context.Context) (*tools.Session, error) {
	if s, ok := ctx.Value(sessionKey).(*tools.Session); ok && s != nil {
		return s, nil
	}
	return nil, errNoSession
}

// withPrincipal records the authenticated principal.
func withPrincipal(ctx context.Context, p *principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey).(*principal)
	return p
}

// attachSession is the transports' context function (SSE:
// WithSSEContextFunc; streamable HTTP: WithHTTPContextFunc): it puts the
// principal's session where SessionFrom finds it.
func attachSession(ctx context.Context, _ *http.Request) context.Context {
	if p := principalFrom(ctx); p != nil && p.session != nil {
		return context.WithValue(ctx, sessionKey, p.session)
	}
	return ctx
}

// WithSession returns ctx carrying s for SessionFrom: for servers that
// are not behind the gate (tests, or a single-session transport).
func WithSession(ctx context.Context, s *tools.Session) context.Context {
	return context.WithValue(ctx, sessionKey, s)
}
