package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Version is the release version of contraforce-mcp; the release build sets
// it with -ldflags "-X github.com/contraforce/contraforce-mcp/client.Version=…".
var Version = "0.1.0"

// DefaultBaseURL is the ContraForce v2 API of the production portal.
const DefaultBaseURL = "https://portal.contraforce.com/api/v2"

// Defaults of Config.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxAttempts  = 4
	DefaultMaxRetryTime = 60 * time.Second
)

// Backoff defaults: full jitter over base·2^(attempt-1), capped.
const (
	defaultRetryBaseDelay = 500 * time.Millisecond
	defaultRetryMaxDelay  = 8 * time.Second
)

// Config configures a Client. Only ClientID and ClientSecret are required.
type Config struct {
	// BaseURL is the API root, e.g. "https://<env>.platform.contraforce.com/api/v2".
	// Default DefaultBaseURL.
	BaseURL string
	// ClientID is the service account credential's client id (a GUID).
	ClientID string
	// ClientSecret is the credential's secret ("cf_sa_…"); it never appears
	// in logs, errors or output.
	ClientSecret Secret
	// UserAgent is sent on every request. Default "contraforce-mcp/"+Version.
	UserAgent string
	// Timeout bounds one attempt (connect, send, answer and body). Default 30s.
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one call; 1 means no retries. Default 4.
	MaxAttempts int
	// MaxRetryTime bounds one call across all attempts and the waits
	// between them. Default 60s.
	MaxRetryTime time.Duration
	// Workspaces, when non-empty, is an allowlist: a per-incident call naming
	// another workspace fails with CodeWorkspaceNotAllowed before any request,
	// and list results from other workspaces are dropped. Workspace ids are
	// compared case-insensitively (they are GUIDs).
	Workspaces []string
	// HTTPClient, when set, carries every request (tests, or sharing one
	// pool). Its Timeout, if any, applies on top of Timeout. Default: one
	// client with a tuned keep-alive Transport that does not follow redirects.
	HTTPClient *http.Client
	// Logger receives debug logs of requests (operation, method, path,
	// status, attempt, request id, duration). It never receives the secret
	// or the Authorization header. Default: no logging.
	Logger *slog.Logger

	// Unexported knobs, set by tests only (export_test.go): backoff delays,
	// the wait between attempts, and the clock.
	retryBaseDelay time.Duration
	retryMaxDelay  time.Duration
	wait           func(ctx context.Context, d time.Duration) error
	now            func() time.Time
}

// withDefaults returns a copy of c with every unset field defaulted and
// validated.
func (c Config) withDefaults() (Config, error) {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if _, err := parseBaseURL(c.BaseURL); err != nil {
		return c, err
	}
	if strings.TrimSpace(c.ClientID) == "" {
		return c, errors.New("contraforce client: ClientID is required (the service account credential's client id)")
	}
	// RFC 7617: the user-id of Basic authentication cannot contain a colon.
	if strings.ContainsAny(c.ClientID, ":\r\n") {
		return c, errors.New("contraforce client: ClientID must not contain ':' or line breaks")
	}
	if c.ClientSecret == "" {
		return c, errors.New("contraforce client: ClientSecret is required (the credential's cf_sa_… secret)")
	}
	if c.UserAgent == "" {
		c.UserAgent = "contraforce-mcp/" + Version
	}
	switch {
	case c.Timeout < 0, c.MaxAttempts < 0, c.MaxRetryTime < 0:
		return c, errors.New("contraforce client: Timeout, MaxAttempts and MaxRetryTime must not be negative")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxRetryTime == 0 {
		c.MaxRetryTime = DefaultMaxRetryTime
	}
	ws := make([]string, 0, len(c.Workspaces))
	for _, w := range c.Workspaces {
		if w = strings.TrimSpace(w); w != "" {
			ws = append(ws, w)
		}
	}
	c.Workspaces = ws
	if c.retryBaseDelay <= 0 {
		c.retryBaseDelay = defaultRetryBaseDelay
	}
	if c.retryMaxDelay <= 0 {
		c.retryMaxDelay = defaultRetryMaxDelay
	}
	if c.wait == nil {
		c.wait = sleepContext
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// parseBaseURL accepts an absolute http(s) URL without credentials, query or
// fragment: anything else would either leak into errors or change requests.
func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("contraforce client: BaseURL %q is not a URL: %w", s, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("contraforce client: BaseURL %q must be an absolute http(s) URL such as %s", s, DefaultBaseURL)
	}
	if u.User != nil {
		return nil, errors.New("contraforce client: BaseURL must not contain credentials; set ClientID and ClientSecret")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, fmt.Errorf("contraforce client: BaseURL %q must not have a query or fragment", s)
	}
	return u, nil
}

// DefaultIdleConns is how many idle keep-alive connections to the API the
// default HTTP client keeps (NewHTTPClient).
const DefaultIdleConns = 256

// NewHTTPClient returns the HTTP client a Client uses by default: one pool
// of keep-alive connections shared by every call, keeping up to idle of
// them open between calls, and no redirects, which would turn a POST into a
// GET or send credentials to a page the operator did not configure. The API
// is one host, so the per-host idle limit is what matters: it must not be
// below the calls in flight at once (a get_incident makes two), or every
// burst closes connections it reopens at once (a TLS handshake each). The
// pool holds only connections some burst needed, so a high limit costs a
// quiet client nothing. A server that shares one client across tenants
// passes its own limit.
func NewHTTPClient(idle int) *http.Client {
	if idle <= 0 {
		idle = DefaultIdleConns
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = idle
	t.MaxIdleConnsPerHost = idle
	t.MaxConnsPerHost = 0
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ExpectContinueTimeout = time.Second
	t.ForceAttemptHTTP2 = true
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// sleepContext waits d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
