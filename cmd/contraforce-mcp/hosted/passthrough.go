package hosted

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/tools"
)

// Pass-through headers: in --credential-passthrough mode every MCP request
// carries the caller's own service-account credential in these two headers,
// besides the bearer token that admits it to this server.
const (
	HeaderClientID     = "X-ContraForce-Client-Id"
	HeaderClientSecret = "X-ContraForce-Client-Secret"
)

// passthrough builds per-request sessions around the callers' credentials.
// A credential lives in the API client of the one request that presented it
// and is never stored, logged or echoed; a session remembers only an HMAC
// fingerprint (keyed per process) so that it cannot change hands.
type passthrough struct {
	api APIConfig
	key []byte
}

func newPassthrough(api APIConfig) *passthrough {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &passthrough{api: api, key: key}
}

// errNoPassCredential says what a pass-through caller must send.
var errNoPassCredential = errors.New("this server runs in credential pass-through mode: send your ContraForce service-account credential in the " +
	HeaderClientID + " and " + HeaderClientSecret + " headers on every request, with the bearer token")

// session reads the request's credential and returns a session around it
// for the tenant, and the credential's fingerprint. The headers are removed
// from the request, so nothing downstream (mcp-go hands request headers to
// handlers) ever sees the secret.
func (p *passthrough) session(t *Tenant, r *http.Request) (*tools.Session, [32]byte, error) {
	var fp [32]byte
	id := strings.TrimSpace(r.Header.Get(HeaderClientID))
	secret := client.Secret(strings.TrimSpace(r.Header.Get(HeaderClientSecret)))
	r.Header.Del(HeaderClientID)
	r.Header.Del(HeaderClientSecret)
	if id == "" || secret == "" {
		return nil, fp, errNoPassCredential
	}
	api, err := t.newClient(p.api, id, secret, false)
	if err != nil {
		// client.New's messages name the field, never the secret's value.
		return nil, fp, errors.New("the pass-through credential is malformed: " + err.Error())
	}
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte(id))
	mac.Write([]byte{0})
	mac.Write([]byte(secret.Reveal()))
	copy(fp[:], mac.Sum(nil))
	return t.sessionWith(api), fp, nil
}
