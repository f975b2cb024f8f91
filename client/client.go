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
	// scrub removes the credential from what the server sends back; built
	// once, and kept in a closure like the secret (its needles are forms
	// of the secret).
	scrub func() scrubber
	base  *url.URL
	http  *http.Client
	log   *slog.Logger
	allow map[string]struct{} // lower-cased Config.Workspaces; empty = no allowlist
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
	scrub := newScrubber(cfg.ClientID, secret)
	c := &Client{cfg: &cfg, secret: func() Secret { return secret }, scrub: func() scrubber { return scrub },
		base: base, http: cfg.HTTPClient, log: cfg.Logger}
	if c.http == nil {
		c.http = NewHTTPClient(DefaultIdleConns)
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
	// pooled: a 2xx body is read into a pooled buffer, and the caller
	// gives it back (result.release) once nothing refers to it.
	pooled bool
}

// result is an answer: status, headers (scrubbed) and the capped body (an
// error body is scrubbed too; a success body is data, decoded as sent).
type result struct {
	status int
	header http.Header
	body   []byte
	scrub  scrubber      // for errors built later from this answer
	write  bool          // the answer of a write
	pool   *bytes.Buffer // holds body when the call was pooled, until release
	copied bool          // body is a copy of pool's (own)
}

// own gives the result a body of its own, a copy of the pooled buffer's,
// before an error, which may keep bytes of the body, is built from it. The
// buffer stays the result's until release.
func (r *result) own() {
	if r.pool != nil && !r.copied {
		r.body, r.copied = bytes.Clone(r.body), true
	}
}

// release gives the pooled buffer back: nothing may refer to its bytes
// afterwards (the body itself, if own copied it, stays).
func (r *result) release() {
	if r.pool != nil {
		putBuffer(r.pool)
		r.pool = nil
	}
}

// do runs a call with the retry policy of its kind and returns its 2xx
// answer, or an error: an *APIError for an API answer, a wrapped
// ErrOutcomeUnknown for a write that may have been applied, a wrapped
// ctx.Err() when the caller gave up, or a wrapped connection error. Every
// error's text is scrubbed of the credential.
func (c *Client) do(ctx context.Context, cl call) (*result, error) {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return nil, fmt.Errorf("%s: encode request: %w", cl.op, err)
		}
	}
	scrub := c.scrub()
	// maybe: an attempt of this write may have been applied, so a failure
	// after it is an unknown outcome rather than a plain error.
	maybe := false
	fail := func(err error, attempts int) (*result, error) {
		err = gaveUp(err, attempts)
		if maybe && !errors.Is(err, ErrOutcomeUnknown) {
			err = &outcomeUnknownError{op: cl.op, why: "an attempt of this write may have been applied before the call failed", cause: err}
		}
		return nil, scrub.err(err)
	}
	deadline := c.cfg.now().Add(c.cfg.MaxRetryTime)
	var last error
	for n := 1; ; n++ {
		if n > 1 && !c.cfg.now().Before(deadline) {
			return fail(last, n-1) // the wait used up the budget
		}
		res, st, err := c.attempt(ctx, cl, payload, n, deadline, scrub)
		if err == nil && res.status >= 200 && res.status < 300 {
			return res, nil
		}
		v := c.judge(ctx, cl, res, st, err, scrub)
		maybe = maybe || v.maybeApplied
		if !v.retry {
			return fail(v.err, n)
		}
		if n >= c.cfg.MaxAttempts {
			return fail(v.err, n)
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
			return fail(v.err, n)
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "contraforce api retry",
			slog.String("op", cl.op), slog.Int("attempt", n), slog.Duration("wait", wait),
			slog.Bool("retry_after", v.hasRetryAfter), slog.String("reason", scrub.string(v.err.Error())))
		if werr := c.cfg.wait(ctx, wait); werr != nil {
			return fail(fmt.Errorf("%s: %w (while waiting to retry: %w)", cl.op, werr, v.err), 1)
		}
	}
}

// verdict is what to do after an attempt that did not succeed.
type verdict struct {
	err           error // returned as is, or if the retries run out
	retry         bool
	retryAfter    time.Duration
	hasRetryAfter bool // the answer's Retry-After replaces the backoff
	// maybeApplied: the attempt was a write that may have been applied.
	maybeApplied bool
}

// judge classifies a failed attempt: res is its answer if a status line
// arrived, st how far the request got, err the transport or body error.
// A write is repeated only when repeating it is harmless: always for an
// idempotent one, and for an unsafe one only when the answer proves it was
// not processed (see notProcessed).
func (c *Client) judge(ctx context.Context, cl call, res *result, st *traceState, err error, scrub scrubber) verdict {
	write := cl.kind != readCall
	landed := res != nil && res.status >= 200 && res.status < 300
	switch {
	case err != nil && landed && write:
		v := verdict{maybeApplied: true, retry: cl.kind == idempotentWrite && !isPermanent(err)}
		v.err = fmt.Errorf("%s: %w", cl.op, err)
		if cl.kind == unsafeWrite {
			v.err = &outcomeUnknownError{op: cl.op, cause: err,
				why: fmt.Sprintf("the API answered HTTP %d, so it was probably applied, but the answer could not be read (do not send it again)", res.status)}
		}
		return v
	case err != nil && ctx.Err() != nil:
		// The caller gave up: return at once, and say so for a write that
		// may already have landed.
		cerr := fmt.Errorf("%s: %w", cl.op, ctx.Err())
		if write && !st.certainlyNotSent(err) {
			return verdict{err: &outcomeUnknownError{op: cl.op, why: "the request was sent and the call was given up before an answer came", cause: cerr}, maybeApplied: true}
		}
		return verdict{err: cerr}
	case err != nil:
		err = fmt.Errorf("%s: %w", cl.op, err)
		maybe := write && !st.certainlyNotSent(err)
		if maybe && cl.kind == unsafeWrite {
			return verdict{err: &outcomeUnknownError{op: cl.op, why: "the request was sent but no answer came back", cause: err}, maybeApplied: true}
		}
		return verdict{err: err, retry: !permanentTransportError(err) && !isPermanent(err), maybeApplied: maybe}
	}
	apiErr := decodeAPIError(cl.op, res.status, res.header, res.body, c.cfg.now(), scrub)
	proof := notProcessed(res.status, apiErr)
	v := verdict{err: apiErr, retry: retryableStatus(res.status, cl.kind, proof), maybeApplied: write && !proof}
	if v.maybeApplied && cl.kind == unsafeWrite {
		v.err = &outcomeUnknownError{op: cl.op, cause: apiErr, why: unprovenWhy(res.status)}
	}
	switch res.status {
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
func (c *Client) attempt(ctx context.Context, cl call, payload []byte, n int, deadline time.Time, scrub scrubber) (*result, *traceState, error) {
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
	// Headers are scrubbed as they arrive: a request id or a Location can
	// echo the credential into a result, an error or a log.
	res := &result{status: resp.StatusCode, header: scrub.header(resp.Header), scrub: scrub, write: cl.kind != readCall}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if cl.pooled {
			res.pool, err = readPooled(resp.Body, maxSuccessBody+1)
			res.body = res.pool.Bytes()
		} else {
			res.body, err = readAll(resp.Body, maxSuccessBody+1)
		}
		if err == nil && len(res.body) > maxSuccessBody {
			err = &permanentError{fmt.Errorf("the answer is larger than %d MiB", maxSuccessBody>>20)}
		}
		if err != nil && res.pool != nil {
			// Not an answer anyone reads (judge reads only its status):
			// the buffer goes back at once, and nothing is copied out.
			res.body = nil
			res.release()
		}
	} else {
		// An error body is only read for its first fields, and scrubbed
		// before it is cut: read past the cut as far as an encoded
		// secret can reach, so that the cut cannot leave half of one.
		res.body, err = io.ReadAll(io.LimitReader(resp.Body, int64(maxErrorBody+scrub.margin())))
		res.body = scrub.bytes(res.body)
		if len(res.body) > maxErrorBody {
			res.body = res.body[:maxErrorBody]
		}
	}
	c.logAttempt(ctx, cl, n, resp.StatusCode, res.header.Get(requestIDHeader), start, err)
	if err != nil {
		return res, st, fmt.Errorf("read the answer of %s %s: %w", cl.method, cl.url.EscapedPath(), err)
	}
	return res, st, nil
}

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
	scrub := c.scrub()
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
//
// A pooled body may be read here: decoding copies what it keeps, and an
// error is built from a copy of the body (own), never from the pool's.
func decodeData[T any](op string, res *result) (Envelope[T], error) {
	var env Envelope[T]
	if err := unmarshal(res.body, &env); err != nil {
		if res.pool != nil && !res.copied {
			res.own()
			env = Envelope[T]{}
			err = unmarshal(res.body, &env)
		}
		return env, res.scrub.err(decodeError(op, res, err))
	}
	env.Meta.RequestID = firstNonEmpty(env.Meta.RequestID, res.header.Get(requestIDHeader))
	return env, nil
}

// decodeError explains a 2xx answer that is not the expected JSON (often a
// proxy's or login page's HTML: the BaseURL is wrong). For a write it is an
// unknown outcome: a 2xx from the API means applied, one from a proxy means
// nothing reached the API, and the client cannot tell which.
func decodeError(op string, res *result, err error) error {
	ct := res.header.Get("Content-Type")
	var out error
	switch mismatch := typeMismatch(err, res.scrub); {
	case !json.Valid(res.body):
		// Scrubbed whole before snippet cuts it.
		body := res.body[:min(len(res.body), maxErrorBody+res.scrub.margin())]
		out = fmt.Errorf("%s: the API answered HTTP %d with a body that is not JSON (%s): %q; check BaseURL",
			op, res.status, firstNonEmpty(ct, "no content type"), snippet(res.scrub.bytes(body), ct, res.scrub))
	case mismatch != "":
		out = fmt.Errorf("%s: the API answered HTTP %d with JSON of an unexpected shape: %s: %w", op, res.status, mismatch, err)
	default:
		out = fmt.Errorf("%s: the API answered HTTP %d with JSON of an unexpected shape: %w", op, res.status, err)
	}
	if res.write {
		return &outcomeUnknownError{op: op, cause: out,
			why: fmt.Sprintf("the answer (HTTP %d) is not the API's; if the API sent it, the change was applied", res.status)}
	}
	return out
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
