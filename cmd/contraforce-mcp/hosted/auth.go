package hosted

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/contraforce/contraforce-mcp/tools"
)

// TokenPrefix starts every token this server generates, so that secret
// scanners and people recognise one.
const TokenPrefix = "cfmcp_"

// NewToken returns a new random bearer token (256 bits) and the hex SHA-256
// to put in the tenants file. Only the hash is ever stored.
func NewToken() (token, sha string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of a bearer token, as the tenants file
// and --token-sha256 hold it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// realm is the WWW-Authenticate realm of this server.
const realm = `Bearer realm="contraforce-mcp"`

// Reasons of the OAuth refusals (beside reasonUnauthorized).
const (
	reasonNoTenant          = "no_tenant"
	reasonInsufficientScope = "insufficient_scope"
)

// authError is why a request was not admitted: its status, the RFC 6750
// error code of the challenge ("" for a request without a token), a short
// description for the challenge, and the message of the body.
type authError struct {
	status int
	reason string
	code   string // invalid_token, insufficient_scope
	desc   string
	msg    string
	// scope is the scope a 403 insufficient_scope asks for.
	scope string
}

// errNoToken is a request without a bearer token.
var errNoToken = &authError{status: http.StatusUnauthorized, reason: reasonUnauthorized,
	msg: "this MCP endpoint needs an Authorization: Bearer <token> header; ask the server's operator for a token"}

// errBadToken is a token that is no tenant's and no valid access token.
var errBadToken = invalidToken("the bearer token is not valid for this server")

// invalidToken is a 401 invalid_token with a description.
func invalidToken(desc string) *authError {
	return &authError{status: http.StatusUnauthorized, reason: reasonUnauthorized, code: "invalid_token", desc: desc,
		msg: desc + "; check the token, or get a new one (from the authorization server, or the server's operator)"}
}

// authenticator maps a bearer token to its tenant: a static token by its
// hash, an OAuth access token by its issuer, signature and claims.
type authenticator struct {
	tenants []*Tenant
	// open, when set, is the tenant of every request (--insecure-no-auth).
	open *Tenant
	// oauth verifies access tokens; nil when OAuth is off.
	oauth *oauthVerifier
}

// authenticate returns the tenant whose token the request presents, and
// the token's identity when it is an OAuth access token. A static token is
// hashed and compared with every stored hash of every tenant in constant
// time, without stopping at a match, so that timing says nothing about
// which tenant (if any) a guess came close to.
func (a *authenticator) authenticate(r *http.Request) (*Tenant, *oauthIdentity, *authError) {
	if a.open != nil {
		return a.open, nil, nil
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return nil, nil, errNoToken
	}
	sum := sha256.Sum256([]byte(token))
	var found *Tenant
	for _, t := range a.tenants {
		for _, h := range t.hashes {
			if subtle.ConstantTimeCompare(sum[:], h[:]) == 1 {
				found = t
			}
		}
	}
	switch {
	case found != nil:
		return found, nil, nil
	case a.oauth == nil || !looksLikeJWT(token):
		return nil, nil, errBadToken
	}
	id, fail := a.oauth.verify(r.Context(), token)
	if fail != nil {
		return nil, nil, fail
	}
	t, fail := a.oauth.tenantOf(id)
	if fail != nil {
		return nil, nil, fail
	}
	return t, id, nil
}

// bearer extracts the token of an "Authorization: Bearer <token>" header
// (the scheme is case-insensitive, RFC 7235).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// refuse answers a request that was not admitted, with the challenge RFC
// 6750 asks for. With OAuth on, every challenge names the protected
// resource metadata (RFC 9728), so that a client can start the
// authorization flow by itself, and a 401 names the scopes the server knows.
func (a *authenticator) refuse(w http.ResponseWriter, env envelope, e *authError) {
	challenge := realm
	if a.oauth != nil {
		challenge += `, resource_metadata="` + a.oauth.metadataURL + `"`
		switch {
		case e.scope != "":
			challenge += `, scope="` + e.scope + `"`
		case e.status == http.StatusUnauthorized:
			challenge += `, scope="` + strings.Join(a.oauth.challengeScopes(), " ") + `"`
		}
	}
	if e.code != "" {
		challenge += `, error="` + e.code + `"`
		if e.desc != "" {
			challenge += `, error_description="` + quotable(e.desc) + `"`
		}
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeError(w, env, e.status, e.reason, e.msg, 0)
}

// quotable keeps a description inside its quoted-string: no quotes,
// backslashes or control characters (RFC 6750 §3 allows only %x20-21,
// %x23-5B and %x5D-7E in error_description).
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '\''
		}
		return r
	}, s)
}

// userFingerprint binds a session to an OAuth user besides the credential
// fingerprint (zero unless pass-through).
func userFingerprint(fp [32]byte, u tools.User) [32]byte {
	h := sha256.New()
	h.Write(fp[:])
	h.Write([]byte(u.Issuer))
	h.Write([]byte{0})
	h.Write([]byte(u.Subject))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
