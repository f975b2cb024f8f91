package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"time"
)

// Body size caps: an error body only needs its first few fields; a success
// body is bounded so that a broken server cannot exhaust memory.
const (
	maxErrorBody   = 64 << 10
	maxSuccessBody = 32 << 20
)

// requestIDHeader carries the API's request id on every answer, including
// 204 and errors.
const requestIDHeader = "X-Request-Id"

// Client calls the ContraForce v2 API with one service account credential.
// It is safe for concurrent use; create one and share it.
//
// The secret lives only in a closure: fmt and reflection can print every
// field of a Client (even unexported ones, with %s or %d) but never what a
// function value captured.
type Client struct {
	cfg    *Config // effective configuration without the secret, never modified after New
	secret func() Secret
	base   *url.URL
	http   *http.Client
	log    *slog.Logger
	allow  map[string]struct{} // lower-cased Config.Workspaces; empty = no allowlist
}

// New validates cfg, applies defaults and returns a Client. It fails when
// the base URL is not an absolute http(s) URL, or the client id or secret
// is empty.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	secret := cfg.ClientSecret
	cfg.ClientSecret = ""
	c := &Client{cfg: &cfg, secret: func() Secret { return secret }, base: base, http: cfg.HTTPClient, log: cfg.Logger}
	if c.http == nil {
		c.http = newHTTPClient()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.allow = make(map[string]struct{}, len(cfg.Workspaces))
	for _, w := range cfg.Workspaces {
		c.allow[strings.ToLower(w)] = struct{}{}
	}
	return c, nil
}

// Config returns a copy of the effective configuration (defaults applied).
// Its ClientSecret still redacts itself.
func (c *Client) Config() Config {
	cfg := *c.cfg
	cfg.ClientSecret = c.secret()
	cfg.Workspaces = append([]string(nil), c.cfg.Workspaces...)
	return cfg
}

// call describes one API operation.
type call struct {
	op     string // for errors and logs, e.g. "update status"
	method string
	url    *url.URL
	body   any // JSON-encoded when non-nil
	kind   callKind
}

// result is a 2xx answer: status, headers and the (capped) body.
type result struct {
	status int
	header http.Header
	body   []byte
}

// do runs a call with the retry policy of its kind and returns its 2xx
// answer, or an error: an *APIError for an API answer, a wrapped
// ErrOutcomeUnknown for a write that may have landed, a wrapped ctx.Err()
// when the caller gave up, or a wrapped connection error.
func (c *Client) do(ctx context.Context, cl call) (*result, error) {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return nil, fmt.Errorf("%s: encode request: %w", cl.op, err)
		}
	}
	deadline := c.cfg.now().Add(c.cfg.MaxRetryTime)
	var last error
	for n := 1; ; n++ {
		if n > 1 && !c.cfg.now().Before(deadline) {
			return nil, gaveUp(last, n-1) // the wait used up the budget
		}
		res, st, err := c.attempt(ctx, cl, payload, n, deadline)
		if err == nil && res.status >= 200 && res.status < 300 {
			return res, nil
		}
		v := c.judge(ctx, cl, res, st, err)
		if !v.retry {
			return nil, v.err
		}
		if n >= c.cfg.MaxAttempts {
			return nil, gaveUp(v.err, n)
		}
		last = v.err
		wait := v.retryAfter
		if !v.hasRetryAfter {
			wait = backoff(n, c.cfg.retryBaseDelay, c.cfg.retryMaxDelay)
		}
		// A wait that would overrun the budget or the caller's deadline is
		// not started: the last error is more useful than a late timeout.
		until := c.cfg.now().Add(wait)
		if d, ok := ctx.Deadline(); until.After(deadline) || ok && until.After(d) {
			return nil, gaveUp(v.err, n)
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "contraforce api retry",
			slog.String("op", cl.op), slog.Int("attempt", n), slog.Duration("wait", wait),
			slog.Bool("retry_after", v.hasRetryAfter), slog.String("reason", v.err.Error()))
		if werr := c.cfg.wait(ctx, wait); werr != nil {
			return nil, fmt.Errorf("%s: %w (while waiting to retry: %v)", cl.op, werr, v.err)
		}
	}
}

// verdict is what to do after an attempt that did not succeed.
type verdict struct {
	err           error // returned as is, or if the retries run out
	retry         bool
	retryAfter    time.Duration
	hasRetryAfter bool // the answer's Retry-After replaces the backoff
}

// judge classifies a failed attempt: res is its answer if a status line
// arrived, st how far the request got, err the transport or body error.
func (c *Client) judge(ctx context.Context, cl call, res *result, st *traceState, err error) verdict {
	landed := res != nil && res.status >= 200 && res.status < 300
	switch {
	case err != nil && landed && cl.kind == unsafeWrite:
		return verdict{err: fmt.Errorf("%s: the API answered HTTP %d, so it was applied, but the answer could not be read; do not send it again: %w (%w)", cl.op, res.status, err, ErrAcceptedUnreadable)}
	case err != nil && ctx.Err() != nil:
		// The caller gave up: return at once, and say so for a write that
		// may already have landed.
		cerr := fmt.Errorf("%s: %w", cl.op, ctx.Err())
		if cl.kind == unsafeWrite && !st.certainlyNotSent(err) {
			return verdict{err: &outcomeUnknownError{op: cl.op, cause: cerr}}
		}
		return verdict{err: cerr}
	case err != nil:
		err = fmt.Errorf("%s: %w", cl.op, err)
		if cl.kind == unsafeWrite && !st.certainlyNotSent(err) {
			return verdict{err: &outcomeUnknownError{op: cl.op, cause: err}}
		}
		return verdict{err: err, retry: !permanentTransportError(err) && !isPermanent(err)}
	}
	scrub := c.scrubber()
	apiErr := decodeAPIError(cl.op, res.status, res.header, scrub.bytes(res.body), c.cfg.now())
	// Scrub the decoded text too: JSON escapes and HTML entities can spell
	// the secret without its bytes appearing in the body.
	apiErr.scrub(scrub)
	v := verdict{err: apiErr, retry: retryableStatus(res.status, cl.kind)}
	switch res.status {
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		if cl.kind == unsafeWrite {
			// A gateway gave up waiting: the API may have applied it.
			v.err = &outcomeUnknownError{op: cl.op, cause: apiErr}
		}
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		v.retryAfter, v.hasRetryAfter = parseRetryAfter(res.header.Get("Retry-After"), c.cfg.now())
	}
	return v
}

// gaveUp marks the last error of a call that was tried more than once.
func gaveUp(err error, attempts int) error {
	if attempts <= 1 {
		return err
	}
	return fmt.Errorf("%w (gave up after %d attempts)", err, attempts)
}

// attempt sends the request once and reads its answer. res is non-nil when
// an answer's status line arrived (even if its body was then lost).
func (c *Client) attempt(ctx context.Context, cl call, payload []byte, n int, deadline time.Time) (*result, *traceState, error) {
	st := &traceState{}
	start := c.cfg.now()
	// An attempt never outlives the call's budget (do checks that some is left).
	actx, cancel := context.WithTimeout(ctx, min(c.cfg.Timeout, deadline.Sub(start)))
	defer cancel()
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		GotConn:      func(httptrace.GotConnInfo) { st.gotConn.Store(true) },
		WroteHeaders: func() { st.wroteHeaders.Store(true) },
	})
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload) // sets GetBody: see the package doc on replays
	}
	req, err := http.NewRequestWithContext(actx, cl.method, cl.url.String(), body)
	if err != nil {
		return nil, st, err
	}
	u := *cl.url
	req.URL = &u // keep the exact escaping buildURL chose
	req.Header.Set("Accept", "application/json, application/problem+json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.SetBasicAuth(c.cfg.ClientID, c.secret().Reveal())

	resp, err := c.http.Do(req)
	if err != nil {
		c.logAttempt(ctx, cl, n, 0, "", start, err)
		return nil, st, err
	}
	defer resp.Body.Close()
	res := &result{status: resp.StatusCode, header: resp.Header}
	limit := int64(maxErrorBody)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		limit = maxSuccessBody
	}
	res.body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && int64(len(res.body)) > limit {
		if limit == maxSuccessBody {
			err = fmt.Errorf("the answer is larger than %d MiB", maxSuccessBody>>20)
			err = &permanentError{err}
		} else {
			res.body = res.body[:limit] // an error body is only read for its first fields
		}
	}
	c.logAttempt(ctx, cl, n, resp.StatusCode, resp.Header.Get(requestIDHeader), start, err)
	if err != nil {
		return res, st, fmt.Errorf("read the answer of %s %s: %w", cl.method, cl.url.EscapedPath(), err)
	}
	return res, st, nil
}

// scrubber removes this client's credential from text the server sent.
func (c *Client) scrubber() scrubber { return newScrubber(c.cfg.ClientID, c.secret()) }

// permanentError marks a failure that no retry can fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// logAttempt logs one attempt at debug level: never headers or bodies.
func (c *Client) logAttempt(ctx context.Context, cl call, n, status int, requestID string, start time.Time, err error) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", cl.op), slog.String("method", cl.method),
		slog.String("path", cl.url.EscapedPath()), slog.Int("attempt", n),
		slog.Duration("duration", c.cfg.now().Sub(start)),
	}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	scrub := c.scrubber()
	if requestID != "" {
		attrs = append(attrs, slog.String("request_id", scrub.string(requestID)))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", scrub.string(err.Error())))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "contraforce api request", attrs...)
}

// decodeData decodes a 2xx JSON envelope and fills its Meta.RequestID from
// the X-Request-Id header when the body has none.
func decodeData[T any](op string, res *result) (Envelope[T], error) {
	var env Envelope[T]
	if err := json.Unmarshal(res.body, &env); err != nil {
		return env, decodeError(op, res, err)
	}
	env.Meta.RequestID = firstNonEmpty(env.Meta.RequestID, res.header.Get(requestIDHeader))
	return env, nil
}

// decodeError explains a 2xx answer that is not the expected JSON (often a
// proxy's or login page's HTML: the BaseURL is wrong).
func decodeError(op string, res *result, err error) error {
	ct := res.header.Get("Content-Type")
	if !json.Valid(res.body) {
		return fmt.Errorf("%s: the API answered HTTP %d with a body that is not JSON (%s): %q; check BaseURL",
			op, res.status, firstNonEmpty(ct, "no content type"), snippet(res.body, ct))
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Errorf("%s: the API answered HTTP %d with JSON of an unexpected shape: member %q is a JSON %s where %s was expected: %w",
			op, res.status, typeErr.Field, typeErr.Value, typeErr.Type, err)
	}
	return fmt.Errorf("%s: the API answered HTTP %d with JSON of an unexpected shape: %w", op, res.status, err)
}

// metaOf returns the Meta of a write's answer: the body's envelope when
// there is one, else the X-Request-Id header (204 No Content).
func metaOf(res *result) Meta {
	var env Envelope[json.RawMessage]
	if len(bytes.TrimSpace(res.body)) > 0 {
		_ = json.Unmarshal(res.body, &env) // a 2xx body is optional here; the header suffices
	}
	m := env.Meta
	m.RequestID = firstNonEmpty(m.RequestID, res.header.Get(requestIDHeader))
	if m.Timestamp == "" {
		if t, err := http.ParseTime(res.header.Get("Date")); err == nil {
			m.Timestamp = t.UTC().Format(time.RFC3339)
		}
	}
	return m
}

// isPermanent reports whether err is marked permanent by this package.
func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
