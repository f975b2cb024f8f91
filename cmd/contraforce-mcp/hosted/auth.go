package hosted

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
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

// authenticator maps a bearer token to its tenant.
type authenticator struct {
	tenants []*Tenant
	// open, when set, is the tenant of every request (--insecure-no-auth).
	open *Tenant
}

// authenticate returns the tenant whose token the request presents. The
// presented token is hashed and compared with every stored hash of every
// tenant in constant time, without stopping at a match, so that timing says
// nothing about which tenant (if any) a guess came close to.
func (a *authenticator) authenticate(r *http.Request) (*Tenant, bool) {
	if a.open != nil {
		return a.open, true
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return nil, false
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
	return found, found != nil
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

// unauthorized answers 401 with the challenge RFC 6750 asks for.
func unauthorized(w http.ResponseWriter, r *http.Request, env envelope, presented bool) {
	challenge := realm
	if presented {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	msg := "this MCP endpoint needs an Authorization: Bearer <token> header; ask the server's operator for a token"
	if presented {
		msg = "the bearer token is not valid for this server; check the token, or ask the server's operator for a new one"
	}
	writeError(w, env, http.StatusUnauthorized, reasonUnauthorized, msg, 0)
}
