package hosted

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Bounds of what the server fetches from an authorization server. Only the
// configured issuers' metadata and the jwks_uri their metadata names are
// ever fetched; nothing a token says (iss of an untrusted issuer, jku, x5u,
// kid) chooses a URL.
const (
	// maxFetchBytes bounds a metadata document or a key set.
	maxFetchBytes = 256 << 10
	// maxKeys bounds the keys kept from one key set.
	maxKeys = 64
	// DefaultOAuthFetchTimeout bounds one refresh (discovery and key set).
	DefaultOAuthFetchTimeout = 5 * time.Second
	// DefaultOAuthKeyRefresh is the least time between two refreshes of one
	// issuer's keys: a token naming an unknown kid triggers at most one
	// fetch per interval, however many such tokens arrive.
	DefaultOAuthKeyRefresh = 30 * time.Second
	// DefaultOAuthKeyMaxAge is when known keys are refetched in the
	// background, so that a key the issuer withdrew stops being accepted.
	DefaultOAuthKeyMaxAge = time.Hour
)

// Errors of key lookup; the verifier turns them into 401 descriptions.
var (
	errUnknownKey      = errors.New("the token's signing key (kid) is not in the issuer's key set")
	errKeysUnavailable = errors.New("the issuer's signing keys could not be fetched")
)

// issuer is one trusted authorization server: its metadata, discovered on
// first use, and its signing keys, cached and refreshed when a token names
// an unknown kid (at most once per minRefresh) or when they are older than
// maxAge. One issuer's refresh never holds up another's requests.
type issuer struct {
	id         string // the issuer identifier, exactly as tokens' iss must read
	client     *http.Client
	timeout    time.Duration
	minRefresh time.Duration
	maxAge     time.Duration
	now        func() time.Time
	log        *slog.Logger

	mu       sync.Mutex
	jwksURI  string
	keys     []jose.JSONWebKey
	loadedAt time.Time     // when keys were last fetched successfully
	tried    time.Time     // when the last refresh started
	running  chan struct{} // closed when the running refresh ends; nil when none
	lastErr  error
}

// oauthHTTPClient is the client of discovery and key fetches: a timeout, no
// redirects (a redirect would be a URL nobody configured), bounded headers.
func oauthHTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxResponseHeaderBytes = 64 << 10
	return &http.Client{
		Timeout:   timeout,
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkFetchURL allows https, and plain http only to a loopback host (a
// test or a sidecar identity provider on the same machine).
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute URL", clip(raw, 200))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("%q: use https (plain http only on loopback)", clip(raw, 200))
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// keysFor returns the keys that may have signed a token naming kid. An
// unknown kid starts a refresh unless one ran within minRefresh; the caller
// waits for it within ctx.
func (is *issuer) keysFor(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	is.mu.Lock()
	now := is.now()
	found := is.match(kid)
	if len(found) > 0 {
		if now.Sub(is.loadedAt) > is.maxAge {
			is.startRefresh(now) // in the background: the known key still serves
		}
		is.mu.Unlock()
		return found, nil
	}
	if is.running == nil && now.Sub(is.tried) < is.minRefresh {
		err := is.failure()
		is.mu.Unlock()
		return nil, err
	}
	is.startRefresh(now)
	done := is.running
	is.mu.Unlock()

	select {
	case <-done:
	case <-ctx.Done():
		return nil, errKeysUnavailable
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	if found = is.match(kid); len(found) > 0 {
		return found, nil
	}
	return nil, is.failure()
}

// failure is the error of a kid the keys do not hold: unknown, or the keys
// could not be had. is.mu is held.
func (is *issuer) failure() error {
	if is.loadedAt.IsZero() || is.lastErr != nil {
		return errKeysUnavailable
	}
	return errUnknownKey
}

// match returns the usable keys with the kid; a token without kid may be
// checked against every key. is.mu is held.
func (is *issuer) match(kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range is.keys {
		if kid == "" || k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

// startRefresh starts a refresh unless one runs. is.mu is held.
func (is *issuer) startRefresh(now time.Time) {
	if is.running != nil {
		return
	}
	is.tried = now
	done := make(chan struct{})
	is.running = done
	go func() {
		// Its own deadline, not a request's: a caller that gives up must
		// not cancel the fetch the next caller will wait for.
		ctx, cancel := context.WithTimeout(context.Background(), is.timeout)
		defer cancel()
		keys, jwksURI, err := is.fetch(ctx)
		is.mu.Lock()
		is.jwksURI, is.lastErr = jwksURI, err
		if err == nil {
			is.keys, is.loadedAt = keys, is.now()
		}
		is.running = nil
		is.mu.Unlock()
		close(done)
		if err != nil {
			is.log.Warn("OAuth issuer's signing keys could not be fetched; tokens it signed with keys not cached are refused",
				"issuer", is.id, "err", err, "retry_after", is.minRefresh)
		} else {
			is.log.Debug("OAuth issuer's signing keys fetched", "issuer", is.id, "keys", len(keys))
		}
	}()
}

// prefetch discovers the issuer and loads its keys in the background, so
// that the first token does not wait.
func (is *issuer) prefetch() {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.startRefresh(is.now())
}

// fetch discovers the metadata (once; again after a failed key fetch) and
// fetches the key set.
func (is *issuer) fetch(ctx context.Context) ([]jose.JSONWebKey, string, error) {
	is.mu.Lock()
	jwksURI := is.jwksURI
	is.mu.Unlock()
	if jwksURI == "" {
		var err error
		if jwksURI, err = is.discover(ctx); err != nil {
			return nil, "", err
		}
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := getJSON(ctx, is.client, jwksURI, &set); err != nil {
		return nil, "", fmt.Errorf("key set: %w", err)
	}
	keys := usableKeys(set.Keys, is.log, is.id)
	if len(keys) == 0 {
		return nil, "", fmt.Errorf("key set %s holds no usable signing key", jwksURI)
	}
	return keys, jwksURI, nil
}

// discover finds the issuer's metadata where RFC 8414 and OpenID Connect
// Discovery put it, in the order the MCP authorization specification has
// clients try: OAuth metadata with the path inserted, OpenID configuration
// with the path inserted, OpenID configuration appended to the path.
func (is *issuer) discover(ctx context.Context) (string, error) {
	var errs []error
	for _, u := range discoveryURLs(is.id) {
		var md struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		err := getJSON(ctx, is.client, u, &md)
		var st *statusError
		if errors.As(err, &st) && st.code == http.StatusNotFound {
			errs = append(errs, err)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("metadata: %w", err)
		}
		// RFC 8414 §3.3, OpenID Discovery §4.3: the document must name the
		// issuer it was fetched for, or it may be another's.
		if md.Issuer != is.id {
			return "", fmt.Errorf("metadata at %s names the issuer %q, not %q", u, clip(md.Issuer, 200), is.id)
		}
		if err := checkFetchURL(md.JWKSURI); err != nil {
			return "", fmt.Errorf("metadata at %s: jwks_uri %w", u, err)
		}
		return md.JWKSURI, nil
	}
	return "", fmt.Errorf("no authorization server metadata found: %w", errors.Join(errs...))
}

// discoveryURLs are the metadata locations of an issuer identifier.
func discoveryURLs(id string) []string {
	u, err := url.Parse(id)
	if err != nil {
		return nil
	}
	p := strings.TrimSuffix(u.Path, "/")
	at := func(path string) string {
		c := *u
		c.Path, c.RawPath, c.RawQuery = path, "", ""
		return c.String()
	}
	if p == "" {
		return []string{at("/.well-known/oauth-authorization-server"), at("/.well-known/openid-configuration")}
	}
	return []string{
		at("/.well-known/oauth-authorization-server" + p),
		at("/.well-known/openid-configuration" + p),
		at(p + "/.well-known/openid-configuration"),
	}
}

// statusError is a fetch answered with another status than 200.
type statusError struct {
	url  string
	code int
}

func (e *statusError) Error() string { return fmt.Sprintf("GET %s: HTTP %d", e.url, e.code) }

// getJSON fetches a JSON document of at most maxFetchBytes.
func getJSON(ctx context.Context, c *http.Client, u string, v any) error {
	if err := checkFetchURL(u); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &statusError{url: u, code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > maxFetchBytes {
		return fmt.Errorf("GET %s: the document is larger than %d bytes", u, maxFetchBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// usableKeys keeps the public signature keys of a key set. Each key is read
// on its own, so that one key of a type this server does not know (an
// encryption key, a new algorithm) does not cost the others; symmetric and
// private keys are never used to verify.
func usableKeys(raw []json.RawMessage, log *slog.Logger, issuer string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, r := range raw {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil {
			log.Debug("OAuth key set: a key is skipped", "issuer", issuer, "err", err)
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			continue // a symmetric or private key has no place in a public key set
		}
		if len(out) == maxKeys {
			log.Warn("OAuth key set holds more keys than this server keeps", "issuer", issuer, "kept", maxKeys)
			break
		}
		out = append(out, k)
	}
	return out
}
