package hosted

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/tools"
)

// OAuthOptions turn on OAuth: besides the tenants' static tokens, the server
// accepts JWT access tokens (RFC 9068) signed by the issuers the tenants
// name, for this server's canonical URL. Opaque tokens are not accepted
// (there is no introspection endpoint to ask); an issuer must issue JWTs.
type OAuthOptions struct {
	// Resource is this server's canonical URL (RFC 8707, as the MCP
	// authorization specification uses it): the audience tokens must carry
	// and the resource of the protected resource metadata.
	Resource string
	// Audiences are further accepted "aud" values, for identity providers
	// that cannot put the resource URL in tokens (Entra ID uses the
	// Application ID URI or the application's client id).
	Audiences []string
	// ScopeNames maps each ContraForce scope to the OAuth scope a client
	// requests for it (default: the same name, "incidents:read"). A token's
	// scope matches a name, or the last path segment of a URI-shaped name
	// (Entra ID requests "api://app/incidents.read" and puts "incidents.read"
	// in scp).
	ScopeNames map[client.Scope]string
	// UserClaims name the user in comments and the audit log, first present
	// wins. Default: email, preferred_username, upn, sub.
	UserClaims []string
	// ClockSkew is the leeway on exp, nbf and iat. Default 60s.
	ClockSkew time.Duration
	// FetchTimeout bounds one discovery and key fetch; KeyRefresh is the
	// least time between two fetches of one issuer's keys; KeyMaxAge, how
	// long keys serve before a background refetch. Defaults: 5s, 30s, 1h.
	FetchTimeout, KeyRefresh, KeyMaxAge time.Duration
	// HTTPClient fetches metadata and keys (default: one without redirects,
	// with the FetchTimeout).
	HTTPClient *http.Client
}

// maxTokenBytes bounds an access token; larger ones are refused before any
// parsing (Entra ID tokens with many groups stay well under it).
const maxTokenBytes = 16 << 10

// signatureAlgorithms are the algorithms a token may be signed with. go-jose
// refuses every other one while parsing: "none", and the HMAC algorithms
// that would let a public key serve as a shared secret.
var signatureAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// knownScopes are the scopes a hosted session's tools may need, in the
// order the metadata lists them. The first three are what a request
// without a token is asked for: the gamebook scopes are asked for only
// when a gamebook tool needs them (step-up), so that an identity provider
// that does not define them still lets the incident tools in.
var knownScopes = []client.Scope{client.ScopeIncidentsRead, client.ScopeIncidentsWrite, client.ScopeIncidentsComments,
	client.ScopeGamebooksRead, client.ScopeGamebooksRun}

// challengeScopeCount is how many of knownScopes the first challenge names.
const challengeScopeCount = 3

// oauthIdentity is what a verified access token says.
type oauthIdentity struct {
	user   tools.User
	scopes []string // the token's scope values, as written
	claims map[string]any
}

// tenantBinding is one way a tenant's users come in by OAuth.
type tenantBinding struct {
	tenant *Tenant
	TenantOAuth
}

// oauthVerifier checks access tokens and maps them to tenants.
type oauthVerifier struct {
	o         OAuthOptions
	issuers   map[string]*issuer
	audiences []string
	bindings  []tenantBinding
	// metadataURL is the protected resource metadata's address.
	metadataURL string
	now         func() time.Time
	log         *slog.Logger
}

// newOAuthVerifier builds the verifier of the tenants' OAuth bindings.
func newOAuthVerifier(o OAuthOptions, tenants []*Tenant, log *slog.Logger) (*oauthVerifier, error) {
	if o.ClockSkew <= 0 {
		o.ClockSkew = time.Minute
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultOAuthFetchTimeout
	}
	if o.KeyRefresh <= 0 {
		o.KeyRefresh = DefaultOAuthKeyRefresh
	}
	if o.KeyMaxAge <= 0 {
		o.KeyMaxAge = DefaultOAuthKeyMaxAge
	}
	if len(o.UserClaims) == 0 {
		o.UserClaims = []string{"email", "preferred_username", "upn", "sub"}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = oauthHTTPClient(o.FetchTimeout)
	}
	names := map[client.Scope]string{}
	for _, s := range knownScopes {
		names[s] = string(s)
	}
	for s, n := range o.ScopeNames {
		if !slices.Contains(knownScopes, s) || strings.TrimSpace(n) == "" || strings.ContainsAny(n, " \"\\") {
			return nil, fmt.Errorf("OAuth scope name %q for %q: name one of %s, with a name without spaces or quotes", n, s, strings.Join(scopeStrings(knownScopes), ", "))
		}
		names[s] = n
	}
	o.ScopeNames = names
	res, err := url.Parse(o.Resource)
	if err != nil || !res.IsAbs() || res.Host == "" || res.RawQuery != "" || res.Fragment != "" {
		return nil, fmt.Errorf("--oauth-resource %q: give this server's canonical URL as clients reach it, such as https://mcp.example.com", o.Resource)
	}
	v := &oauthVerifier{
		o: o, issuers: map[string]*issuer{}, now: time.Now, log: log,
		audiences:   append([]string{o.Resource}, o.Audiences...),
		metadataURL: (&url.URL{Scheme: res.Scheme, Host: res.Host, Path: metadataPath(o.Resource)}).String(),
	}
	for _, t := range tenants {
		for _, b := range t.oauth {
			v.bindings = append(v.bindings, tenantBinding{tenant: t, TenantOAuth: b})
			if v.issuers[b.Issuer] == nil {
				v.issuers[b.Issuer] = &issuer{
					id: b.Issuer, client: o.HTTPClient, timeout: o.FetchTimeout,
					minRefresh: o.KeyRefresh, maxAge: o.KeyMaxAge, now: v.now, log: log,
				}
			}
		}
	}
	if len(v.issuers) == 0 {
		return nil, errors.New("OAuth is on, but no tenant names an issuer (--oauth-issuer, or \"oauth\" in the tenants file)")
	}
	return v, nil
}

// start fetches every issuer's keys in the background.
func (v *oauthVerifier) start() {
	for _, is := range v.issuers {
		is.prefetch()
	}
}

// issuerIDs lists the issuers, sorted.
func (v *oauthVerifier) issuerIDs() []string {
	ids := make([]string, 0, len(v.issuers))
	for id := range v.issuers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// scopesSupported are the OAuth scope names of the known scopes.
func (v *oauthVerifier) scopesSupported() []string {
	out := make([]string, 0, len(knownScopes))
	for _, s := range knownScopes {
		out = append(out, v.o.ScopeNames[s])
	}
	return out
}

// challengeScopes are the OAuth scope names a request without a token is
// asked for: the incident scopes.
func (v *oauthVerifier) challengeScopes() []string { return v.scopesSupported()[:challengeScopeCount] }

// looksLikeJWT reports whether a bearer token has the shape of a JWS in
// compact serialization (three base64url parts); a static token never does.
func looksLikeJWT(token string) bool {
	return strings.Count(token, ".") == 2 && strings.HasPrefix(token, "eyJ")
}

// verify checks an access token: size, algorithm, a trusted issuer, the
// signature with that issuer's keys, then the audience and times. Only the
// issuer named by the unverified token is looked up, and only if it is one
// of the configured ones: a token never makes the server fetch a URL of its
// choosing.
func (v *oauthVerifier) verify(ctx context.Context, raw string) (*oauthIdentity, *authError) {
	if len(raw) > maxTokenBytes {
		return nil, invalidToken("the access token is larger than this server accepts")
	}
	tok, err := jwt.ParseSigned(raw, signatureAlgorithms)
	if err != nil {
		return nil, invalidToken("the access token is not a JWT signed with an accepted algorithm (RS*, PS*, ES*, EdDSA)")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, invalidToken("the access token's claims are malformed")
	}
	is := v.issuers[unverified.Issuer]
	if is == nil {
		return nil, invalidToken("the access token's issuer is not trusted by this server")
	}
	hdr := tok.Headers[0]
	keys, err := is.keysFor(ctx, hdr.KeyID)
	if err != nil {
		if errors.Is(err, errKeysUnavailable) {
			v.log.Warn("OAuth token refused: its issuer's keys are not available", "issuer", is.id)
		}
		return nil, invalidToken(err.Error())
	}
	var std jwt.Claims
	var all map[string]any
	verified := false
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != hdr.Algorithm {
			continue // a key bound to one algorithm serves no other
		}
		if tok.Claims(k.Key, &std, &all) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, invalidToken("the access token's signature does not verify with the issuer's keys")
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: is.id, AnyAudience: v.audiences, Time: v.now()}, v.o.ClockSkew)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return nil, invalidToken("the access token has expired")
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, invalidToken("the access token is not valid yet")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, invalidToken("the access token is for another resource; request one with resource=" + v.o.Resource)
	case err != nil:
		return nil, invalidToken("the access token's claims do not check")
	case std.Expiry == nil:
		return nil, invalidToken("the access token has no expiry (exp)")
	case std.Subject == "":
		return nil, invalidToken("the access token names no subject (sub)")
	}
	id := &oauthIdentity{
		user:   tools.User{Issuer: is.id, Subject: std.Subject, Name: v.userName(all)},
		scopes: tokenScopes(all),
		claims: all,
	}
	return id, nil
}

// userName is the first user claim the token has, as text.
func (v *oauthVerifier) userName(claims map[string]any) string {
	for _, c := range v.o.UserClaims {
		if s, ok := claims[c].(string); ok && strings.TrimSpace(s) != "" {
			return clip(strings.TrimSpace(s), 200)
		}
	}
	return ""
}

// tokenScopes reads "scope" (RFC 9068: space-separated) or Entra ID's
// "scp" (space-separated, or a list).
func tokenScopes(claims map[string]any) []string {
	var out []string
	for _, c := range []string{"scope", "scp"} {
		switch v := claims[c].(type) {
		case string:
			out = append(out, strings.Fields(v)...)
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// grants returns the known scopes the token's scope values grant.
func (v *oauthVerifier) grants(values []string) []client.Scope {
	var out []client.Scope
	for _, s := range knownScopes {
		name := v.o.ScopeNames[s]
		for _, got := range values {
			if got == name || (strings.Contains(name, "/") && strings.HasSuffix(name, "/"+got)) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// tenantOf maps a verified token to the one tenant whose binding it
// matches. No match, or several, is refused: a token must never pick a
// tenant by accident.
func (v *oauthVerifier) tenantOf(id *oauthIdentity) (*Tenant, *authError) {
	var found []*Tenant
	for _, b := range v.bindings {
		if b.Issuer == id.user.Issuer && b.matches(id.claims) && !slices.Contains(found, b.tenant) {
			found = append(found, b.tenant)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, &authError{status: http.StatusForbidden, reason: reasonNoTenant,
			msg: "the access token is valid, but its organisation is not a tenant of this server; ask the server's operator to add it"}
	}
	v.log.Error("OAuth token matches several tenants: refused; make the tenants' oauth claims exclusive",
		"issuer", id.user.Issuer, "tenants", []string{found[0].Name, found[1].Name})
	return nil, &authError{status: http.StatusForbidden, reason: reasonNoTenant,
		msg: "the access token matches more than one tenant of this server; ask the server's operator to fix the tenants' oauth claims"}
}

// matches reports whether the claims hold one of the binding's values in
// its claim (a string, or a list such as groups); a binding without a claim
// takes every token of its issuer.
func (b TenantOAuth) matches(claims map[string]any) bool {
	if b.Claim == "" {
		return true
	}
	v, ok := claims[b.Claim]
	if !ok {
		v, ok = claimPath(claims, b.Claim)
	}
	if !ok {
		return false
	}
	switch v := v.(type) {
	case string:
		return slices.Contains(b.Values, v)
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && slices.Contains(b.Values, s) {
				return true
			}
		}
	}
	return false
}

// claimPath reads a nested claim by a dotted path ("realm_access.roles").
func claimPath(claims map[string]any, path string) (any, bool) {
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// actFor narrows the principal's session to what the token allows: the
// tenant's scopes that the token's scopes also grant (never more than the
// tenant's credential has), on behalf of the token's user. The session is
// bound to the user too: another user of the same tenant cannot use it.
func (p *principal) actFor(v *oauthVerifier, id *oauthIdentity) {
	granted := v.grants(id.scopes)
	narrowed := *p.session
	narrowed.Scopes = slices.DeleteFunc(slices.Clone(p.session.Scopes), func(s client.Scope) bool { return !slices.Contains(granted, s) })
	user := id.user
	narrowed.OnBehalfOf = &user
	p.session, p.user = &narrowed, &user
	p.fingerprint = userFingerprint(p.fingerprint, user)
}

// scopeStrings renders scopes.
func scopeStrings(ss []client.Scope) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}
