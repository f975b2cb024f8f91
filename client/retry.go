package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// callKind is what repeating a request would do; it decides the retry policy.
type callKind int

const (
	// readCall changes nothing (GET, and the list POST, which is a read).
	readCall callKind = iota
	// idempotentWrite has the same effect however often it is applied (the
	// status and assignee PUTs set a state).
	idempotentWrite
	// unsafeWrite adds something each time it is applied (a comment): it is
	// repeated only when the server certainly did not process it.
	unsafeWrite
)

// maxRetryAfter bounds a parsed Retry-After; the retry budget bounds it further.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value: delta seconds or an HTTP-date
// (RFC 9110 §10.2.3). A date in the past means "now".
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			var numErr *strconv.NumError
			if errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange) {
				return maxRetryAfter, true
			}
			return 0, false
		}
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return min(d, maxRetryAfter), true
}

// backoff is the full-jitter wait before attempt n+1: uniform in
// [0, min(maxDelay, base·2^(n-1))].
func backoff(n int, base, maxDelay time.Duration) time.Duration {
	ceil := maxDelay
	if n-1 < 32 {
		if d := base << (n - 1); d > 0 && d < maxDelay {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}

// traceState records how far an attempt got, to tell "certainly not sent"
// from "maybe processed" when it fails.
type traceState struct {
	gotConn      atomic.Bool
	wroteHeaders atomic.Bool
}

// certainlyNotSent reports whether the request of a failed attempt cannot
// have reached the server: dialling failed, or no connection was obtained,
// or not even the headers were written. Anything later is an unknown
// outcome for a write.
func (s *traceState) certainlyNotSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	return !s.gotConn.Load() || !s.wroteHeaders.Load()
}

// permanentTransportError reports errors that a retry cannot fix: the
// server's certificate is not trusted, or it does not speak TLS.
func permanentTransportError(err error) bool {
	var (
		certErr     *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
	)
	return errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) ||
		errors.As(err, &invalidErr) || errors.As(err, &recordErr)
}

// retryableStatus reports whether an answer with this status may be retried
// for a call of this kind. 429 and 503 say "not now"; 502 and 504 say a
// gateway gave up. Reads and idempotent writes repeat all four. A write that
// adds something repeats only what proves it was not processed (proof, see
// notProcessed): a 429, or the API's own 503.
func retryableStatus(status int, kind callKind, proof bool) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return kind != unsafeWrite || proof
	}
	return false
}
