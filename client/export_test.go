package client

import "time"

// FastRetries shortens the backoff between attempts so that retry tests of
// package client_test (which cannot set unexported fields) run quickly. A
// Retry-After from the server is still honoured as sent.
func FastRetries(cfg *Config) {
	cfg.retryBaseDelay = time.Millisecond
	cfg.retryMaxDelay = 5 * time.Millisecond
}
