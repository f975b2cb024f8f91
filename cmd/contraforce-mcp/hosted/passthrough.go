package hosted

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

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

// newPassthrough checks the API configuration at start, with a stand-in
// credential, so that no caller is ever told that the server's own
// configuration (base URL, timeouts) is their credential's fault.
func newPassthrough(api APIConfig) (*passthrough, error) {
	if _, err := client.New(client.Config{BaseURL: api.BaseURL, ClientID: "check", ClientSecret: "check", Timeout: api.Timeout}); err != nil {
		return nil, fmt.Errorf("--credential-passthrough: %w", err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &passthrough{api: api, key: key}, nil
}

// errNoPassCredential says what a pass-through caller must send.
var errNoPassCredential = errors.New("this server runs in credential pass-through mode: send your ContraForce service-account credential in the " +
	HeaderClientID + " and " + HeaderClientSecret + " headers on every request, with the bearer token")

// session reads the request's credential and returns a session around it
// for the tenant, and the credential's fingerprint. The headers are removed
// from the request, so nothing downstream (mcp-go hands request headers to
// handlers) ever sees the secret. A missing or malformed credential is the
// caller's to fix, and its error says so in terms of the headers; a client
// that cannot be built for a well-formed one is the operator's
// (errPassConfig).
func (p *passthrough) session(t *Tenant, r *http.Request) (*tools.Session, [32]byte, error) {
	var fp [32]byte
	id := strings.TrimSpace(r.Header.Get(HeaderClientID))
	secret := client.Secret(strings.TrimSpace(r.Header.Get(HeaderClientSecret)))
	r.Header.Del(HeaderClientID)
	r.Header.Del(HeaderClientSecret)
	if id == "" || secret == "" {
		return nil, fp, errNoPassCredential
	}
	if strings.ContainsFunc(id, func(r rune) bool { return r == ':' || unicode.IsControl(r) }) ||
		strings.ContainsFunc(secret.Reveal(), unicode.IsControl) {
		return nil, fp, errors.New("the credential in " + HeaderClientID + " and " + HeaderClientSecret +
			" is malformed (the client id must not contain ':', and neither may contain control characters); fix it in this MCP client's configuration")
	}
	api, err := t.newClient(p.api, id, secret, false)
	if err != nil {
		// The credential was checked above: what is left is the server's.
		return nil, fp, &errPassConfig{err}
	}
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte(id))
	mac.Write([]byte{0})
	mac.Write([]byte(secret.Reveal()))
	copy(fp[:], mac.Sum(nil))
	sess := t.sessionWith(api)
	sess.CallerCredential = true // a rejected credential is the caller's to fix
	return sess, fp, nil
}

// errPassConfig is a pass-through session that cannot be built for a
// well-formed credential: the server's configuration is at fault, not the
// caller (newPassthrough checks it at start, so this is a safety net). The
// caller is told it is the operator's; the detail stays in the chain.
type errPassConfig struct{ err error }

func (e *errPassConfig) Error() string {
	return "this server cannot reach ContraForce with any credential (its API configuration is invalid); the server's operator must fix it"
}

func (e *errPassConfig) Unwrap() error { return e.err }
