package client

import (
	"fmt"
	"log/slog"
	"strconv"
)

// redacted is what a non-empty Secret shows in place of its value.
const redacted = "[REDACTED]"

// Secret holds a credential secret (a service account's client secret). It
// redacts itself wherever it could be printed: in fmt with any verb (%v %s
// %+v %#v %q %x …), in slog (LogValuer), and in JSON and text marshalling.
// Only Reveal returns the value; the client's transport is its one caller.
//
// An empty Secret prints as "" so that a missing secret stays visible in
// diagnostics; any other value prints as "[REDACTED]", whatever its length.
type Secret string

// String returns "[REDACTED]" (or "" for an empty secret).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns the redacted form as a Go literal, for %#v.
func (s Secret) GoString() string { return "client.Secret(" + strconv.Quote(s.String()) + ")" }

// LogValue implements slog.LogValuer: loggers see the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes the redacted form, so that a Config marshalled for
// diagnostics never carries the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// MarshalText encodes the redacted form (encoding/xml, YAML and other
// text-based encoders).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Format implements fmt.Formatter so that every verb, including %x, %q and
// %d, prints the redacted form rather than the value's bytes.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprint(f, strconv.Quote(s.String()))
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, s.GoString())
			return
		}
		fmt.Fprint(f, s.String())
	default:
		fmt.Fprint(f, s.String())
	}
}

// Reveal returns the secret's value. Call it only to authenticate a request.
func (s Secret) Reveal() string { return string(s) }
