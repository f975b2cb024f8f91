package client

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// script answers the n-th request (1-based) with steps[n-1], and the last
// step for every request after; it counts requests.
type script struct {
	n     atomic.Int32
	steps []func(w http.ResponseWriter, r *http.Request)
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(s.n.Add(1)) - 1
	if i >= len(s.steps) {
		i = len(s.steps) - 1
	}
	s.steps[i](w, r)
}

func (s *script) count() int { return int(s.n.Load()) }

// status answers code with the API's own problem document.
func status(code int, retryAfter string) func(http.ResponseWriter, *http.Request) {
	return answer(code, retryAfter, "application/problem+json",
		`{"type":"https://docs.contraforce.com/api-reference/errors","title":"`+http.StatusText(code)+`","status":`+strconv.Itoa(code)+
			`,"code":"`+codeForStatus(code)+`","requestId":"0HN:1"}`)
}

// answer answers code with a body of any content type.
func answer(code int, retryAfter, contentType, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

// ok answers a success suited to the request: 204 for PUT, 201 with a
// comment for POST …/comments, 200 with an envelope otherwise.
func ok(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", "rid-ok")
	switch {
	case r.Method == http.MethodPut:
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/comments"):
		writeJSON(w, http.StatusCreated, okEnvelope(`{"id":"c1","message":"hello","isAgentComment":true}`))
	case strings.HasSuffix(r.URL.Path, "/comments"), strings.HasSuffix(r.URL.Path, "/users"):
		writeJSON(w, http.StatusOK, okEnvelope(`[]`))
	default:
		writeJSON(w, http.StatusOK, okEnvelope(`{"incidents":[]}`))
	}
}

// drop reads the request and closes the connection without answering.
func drop(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// truncated sends the status line and half a body, then closes the connection.
func truncated(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"data\":{\"incid")
	_ = buf.Flush()
	_ = conn.Close()
}

// operations calls each kind of operation once.
var operations = map[string]func(*Client) error{
	"GET": func(c *Client) error { _, err := c.ListComments(context.Background(), testRef); return err },
	"list POST": func(c *Client) error {
		_, err := c.ListIncidents(context.Background(), IncidentFilter{}, PageToken{})
		return err
	},
	"PUT": func(c *Client) error {
		_, err := c.UpdateStatus(context.Background(), testRef, UpdateStatusRequest{Status: StatusActive})
		return err
	},
	"comment": func(c *Client) error {
		_, _, err := c.AddComment(context.Background(), testRef, AddCommentRequest{Content: "hello"})
		return err
	},
}

// opVerb is each operation's name in errors.
var opVerb = map[string]string{"GET": "list comments", "list POST": "list incidents", "PUT": "update status", "comment": "add comment"}

// merge returns a copy of a with b's entries added.
func merge[K comparable, V any](a, b map[K]V) map[K]V {
	out := make(map[K]V, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// Each failure is retried or not according to what repeating the request would do.
func TestRetryPolicyPerOperation(t *testing.T) {
	type outcome int
	const (
		succeeds outcome = iota // retried, then succeeds (2 requests)
		fails                   // not retried: 1 request, an API error
		unknown                 // not retried: 1 request, ErrOutcomeUnknown
	)
	failures := map[string]func(http.ResponseWriter, *http.Request){
		"429": status(429, "0"), "503": status(503, ""), "502": status(502, ""), "504": status(504, ""),
		"500": status(500, ""), "400": status(400, ""), "401": status(401, ""), "404": status(404, ""), "409": status(409, ""),
		"dropped": drop, "truncated": truncated,
		// A 503 that is not the API's own problem document is a gateway's:
		// the API behind it may have applied the request.
		"503 bare": answer(503, "", "", ""), "503 html": answer(503, "", "text/html", "<html><title>503 Service Unavailable</title></html>"),
		"503 foreign problem": answer(503, "", "application/problem+json", `{"title":"Service Unavailable","status":503}`),
		"503 status mismatch": answer(503, "", "application/problem+json", `{"status":500,"code":"SERVICE_UNAVAILABLE"}`),
		"503 as json":         answer(503, "", "application/json", `{"status":503,"code":"SERVICE_UNAVAILABLE"}`),
		"429 html":            answer(429, "0", "text/html", "<html>slow down</html>"),
		"500 bare":            answer(500, "", "", ""),
	}
	retried := map[string]outcome{"429": succeeds, "503": succeeds, "502": succeeds, "504": succeeds, "dropped": succeeds, "truncated": succeeds,
		"503 bare": succeeds, "503 html": succeeds, "503 foreign problem": succeeds, "503 status mismatch": succeeds, "503 as json": succeeds, "429 html": succeeds}
	want := map[string]map[string]outcome{
		"GET":       retried,
		"list POST": retried,
		// A write that failed without proof that it was not processed may
		// have been applied, idempotent or not.
		"PUT": merge(retried, map[string]outcome{"500": unknown, "500 bare": unknown}),
		"comment": {"429": succeeds, "503": succeeds, "429 html": succeeds,
			"502": unknown, "504": unknown, "dropped": unknown, "500": unknown, "500 bare": unknown,
			"503 bare": unknown, "503 html": unknown, "503 foreign problem": unknown, "503 status mismatch": unknown, "503 as json": unknown},
	}
	for opName, op := range operations {
		for fname, failure := range failures {
			if opName == "comment" && fname == "truncated" {
				continue // a 2xx with a lost body: covered by TestCommentAnsweredButBodyLost
			}
			t.Run(opName+"/"+fname, func(t *testing.T) {
				s := &script{steps: []func(http.ResponseWriter, *http.Request){failure, ok}}
				c, _, _ := newTestClient(t, s)
				err := op(c)
				w, listed := want[opName][fname]
				if !listed {
					w = fails
				}
				switch w {
				case succeeds:
					if err != nil || s.count() != 2 {
						t.Errorf("err = %v after %d requests; want success after 2", err, s.count())
					}
				case fails:
					if _, isAPI := AsAPIError(err); !isAPI || errors.Is(err, ErrOutcomeUnknown) || s.count() != 1 {
						t.Errorf("err = %v after %d requests; want an API error after 1", err, s.count())
					}
				case unknown:
					if !errors.Is(err, ErrOutcomeUnknown) || s.count() != 1 {
						t.Errorf("err = %v after %d requests; want ErrOutcomeUnknown after 1", err, s.count())
					}
					if !strings.Contains(err.Error(), strings.Fields(opVerb[opName])[0]) || !strings.Contains(err.Error(), "outcome unknown") {
						t.Errorf("error does not say which operation has an unknown outcome: %v", err)
					}
				}
			})
		}
	}
}

func TestCommentAnsweredButBodyLost(t *testing.T) {
	s := &script{steps: []func(http.ResponseWriter, *http.Request){func(w http.ResponseWriter, r *http.Request) {
		conn, buf, _ := http.NewResponseController(w).Hijack()
		_, _ = buf.WriteString("HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\n{\"data\"")
		_ = buf.Flush()
		_ = conn.Close()
	}, ok}}
	c, _, _ := newTestClient(t, s)
	_, _, err := c.AddComment(context.Background(), testRef, AddCommentRequest{Content: "x"})
	if !errors.Is(err, ErrOutcomeUnknown) || s.count() != 1 || !strings.Contains(err.Error(), "do not send it again") {
		t.Errorf("err = %v after %d requests; want one request and an error saying it was applied", err, s.count())
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 4, 15, 20, 0, 0, 0, time.UTC)
	clock := func(c *Config) { c.now = func() time.Time { return now } }
	t.Run("delta seconds", func(t *testing.T) {
		s := &script{steps: []func(http.ResponseWriter, *http.Request){status(429, "7"), status(503, "3"), ok}}
		c, _, rec := newTestClient(t, s, clock)
		if _, err := c.ListUsers(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := rec.get(); len(got) != 2 || got[0] != 7*time.Second || got[1] != 3*time.Second {
			t.Errorf("waits = %v, want [7s 3s]", got)
		}
	})
	t.Run("HTTP-date", func(t *testing.T) {
		date := now.Add(90 * time.Second).Format(http.TimeFormat)
		s := &script{steps: []func(http.ResponseWriter, *http.Request){status(503, date), ok}}
		c, _, rec := newTestClient(t, s, clock, func(c *Config) { c.MaxRetryTime = 5 * time.Minute })
		if _, err := c.ListUsers(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := rec.get(); len(got) != 1 || got[0] != 90*time.Second {
			t.Errorf("waits = %v, want [1m30s]", got)
		}
	})
	t.Run("beyond the budget", func(t *testing.T) {
		s := &script{steps: []func(http.ResponseWriter, *http.Request){status(429, "120"), ok}}
		c, _, rec := newTestClient(t, s, clock, func(c *Config) { c.MaxRetryTime = 10 * time.Second })
		_, err := c.ListUsers(context.Background())
		e, isAPI := AsAPIError(err)
		if !isAPI || e.Status != 429 || e.Code != CodeRateLimited || e.RetryAfter != 120*time.Second {
			t.Fatalf("err = %v, want the 429 with RetryAfter 2m", err)
		}
		if s.count() != 1 || len(rec.get()) != 0 {
			t.Errorf("%d requests, waits %v: want one request and no wait", s.count(), rec.get())
		}
		if !strings.Contains(err.Error(), "retry after 2m0s") {
			t.Errorf("Error() = %q, want the Retry-After", err)
		}
	})
	t.Run("beyond the context deadline", func(t *testing.T) {
		s := &script{steps: []func(http.ResponseWriter, *http.Request){status(503, "30"), ok}}
		c, _, _ := newTestClient(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := c.ListUsers(ctx)
		if ErrorCode(err) != CodeServiceUnavailable || s.count() != 1 {
			t.Errorf("err = %v after %d requests; want the 503 at once", err, s.count())
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 4, 15, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true}, {"1", time.Second, true}, {" 120 ", 2 * time.Minute, true},
		{now.Add(time.Hour).Format(http.TimeFormat), time.Hour, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Wednesday, 15-Apr-26 20:00:05 GMT", 5 * time.Second, true}, // RFC 850
		{"99999999999999999999", maxRetryAfter, true},
		{"", 0, false}, {"-1", 0, false}, {"soon", 0, false}, {"1.5", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	base, maxDelay := 100*time.Millisecond, time.Second
	for n := 1; n <= 70; n++ {
		ceil := min(maxDelay, base<<min(n-1, 20))
		for range 50 {
			if d := backoff(n, base, maxDelay); d < 0 || d > ceil {
				t.Fatalf("backoff(%d) = %v, outside [0, %v]", n, d, ceil)
			}
		}
	}
}

func TestAttemptsAndBudgetBound(t *testing.T) {
	t.Run("max attempts", func(t *testing.T) {
		s := &script{steps: []func(http.ResponseWriter, *http.Request){status(503, "")}}
		c, _, _ := newTestClient(t, s, func(c *Config) { c.MaxAttempts = 3 })
		_, err := c.ListUsers(context.Background())
		if ErrorCode(err) != CodeServiceUnavailable || s.count() != 3 || !strings.Contains(err.Error(), "gave up after 3 attempts") {
			t.Errorf("err = %v after %d requests; want the 503 after 3", err, s.count())
		}
	})
	t.Run("retry time", func(t *testing.T) {
		// A fake clock that the waits advance: the budget, not MaxAttempts, ends the call.
		var mu sync.Mutex
		now := time.Date(2026, 4, 15, 20, 0, 0, 0, time.UTC)
		var waited time.Duration
		s := &script{steps: []func(http.ResponseWriter, *http.Request){status(502, "")}}
		c, _, _ := newTestClient(t, s, func(c *Config) {
			c.MaxAttempts = 1000
			c.MaxRetryTime = 3 * time.Second
			c.retryBaseDelay, c.retryMaxDelay = 200*time.Millisecond, 400*time.Millisecond
			c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			c.wait = func(_ context.Context, d time.Duration) error {
				mu.Lock()
				defer mu.Unlock()
				now = now.Add(d + 100*time.Millisecond) // each attempt costs 100ms too
				waited += d
				return nil
			}
		})
		_, err := c.ListUsers(context.Background())
		if ErrorCode(err) != CodeBadGateway {
			t.Fatalf("err = %v, want the last 502", err)
		}
		if s.count() >= 1000 || waited > 3*time.Second {
			t.Errorf("%d requests and %v of waits: the 3s budget was not enforced", s.count(), waited)
		}
	})
}

func TestContextCancellation(t *testing.T) {
	t.Run("in flight", func(t *testing.T) {
		arrived := make(chan struct{}, 1)
		hang := func(w http.ResponseWriter, r *http.Request) {
			// Reading the body lets the server notice the client hanging up.
			_, _ = io.Copy(io.Discard, r.Body)
			arrived <- struct{}{}
			<-r.Context().Done()
		}
		for _, name := range []string{"GET", "comment"} {
			s := &script{steps: []func(http.ResponseWriter, *http.Request){hang}}
			c, _, _ := newTestClient(t, s)
			ctx, cancel := context.WithCancel(context.Background())
			go func() { <-arrived; cancel() }()
			var err error
			if name == "GET" {
				_, err = c.ListComments(ctx, testRef)
			} else {
				_, _, err = c.AddComment(ctx, testRef, AddCommentRequest{Content: "x"})
			}
			if !errors.Is(err, context.Canceled) || s.count() != 1 {
				t.Errorf("%s: err = %v after %d requests; want context.Canceled after 1", name, err, s.count())
			}
			if name == "comment" && !errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("a comment cancelled after it was sent must report an unknown outcome: %v", err)
			}
		}
	})
	t.Run("while waiting", func(t *testing.T) {
		s := &script{steps: []func(http.ResponseWriter, *http.Request){status(503, "30"), ok}}
		ctx, cancel := context.WithCancel(context.Background())
		c, _, _ := newTestClient(t, s, func(c *Config) {
			c.MaxRetryTime = time.Hour
			c.wait = func(ctx context.Context, d time.Duration) error { cancel(); return sleepContext(ctx, d) }
		})
		done := make(chan error, 1)
		go func() { _, err := c.ListUsers(ctx); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) || s.count() != 1 || !strings.Contains(err.Error(), "503") {
				t.Errorf("err = %v after %d requests; want context.Canceled naming the 503", err, s.count())
			}
		case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
			t.Fatal("a cancelled wait did not return")
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		s := &script{steps: []func(http.ResponseWriter, *http.Request){ok}}
		c, _, _ := newTestClient(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.ListUsers(ctx)
		if !errors.Is(err, context.Canceled) || s.count() != 0 {
			t.Errorf("err = %v after %d requests; want context.Canceled and no request", err, s.count())
		}
	})
}

// An attempt that outlives Config.Timeout is abandoned; a read is retried,
// a comment is not (it may have landed).
func TestPerAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hang := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	short := func(c *Config) { c.Timeout = 100 * time.Millisecond }
	s := &script{steps: []func(http.ResponseWriter, *http.Request){hang, ok}}
	c, _, _ := newTestClient(t, s, short)
	if _, err := c.ListUsers(context.Background()); err != nil || s.count() != 2 {
		t.Errorf("read: err = %v after %d requests; want success after 2", err, s.count())
	}
	s = &script{steps: []func(http.ResponseWriter, *http.Request){hang, ok}}
	c, _, _ = newTestClient(t, s, short)
	_, _, err := c.AddComment(context.Background(), testRef, AddCommentRequest{Content: "x"})
	if !errors.Is(err, ErrOutcomeUnknown) || s.count() != 1 {
		t.Errorf("comment: err = %v after %d requests; want ErrOutcomeUnknown after 1", err, s.count())
	}
}

// A comment whose connection could not even be dialled was certainly not
// processed: it is retried, and lands once.
func TestCommentRetriedAfterDialFailure(t *testing.T) {
	s := &script{steps: []func(http.ResponseWriter, *http.Request){ok}}
	var dials atomic.Int32
	c, srv, _ := newTestClient(t, s)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= 2 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return d.DialContext(ctx, network, addr)
	}
	cfg := c.Config()
	cfg.HTTPClient = &http.Client{Transport: tr}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.AddComment(context.Background(), testRef, AddCommentRequest{Content: "x"}); err != nil {
		t.Fatalf("AddComment: %v", err)
	}
	if s.count() != 1 || dials.Load() != 3 {
		t.Errorf("%d requests after %d dials; want 1 after 3", s.count(), dials.Load())
	}
}

// net/http's Transport replays some requests by itself when a reused
// keep-alive connection turns out closed. A comment POST that reached the
// server must not be replayed that way: the server sees it once.
func TestTransportDoesNotReplayComment(t *testing.T) {
	var posts atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
			drop(w, r)
			return
		}
		ok(w, r)
	})
	c, _, _ := newTestClient(t, h)
	var reused atomic.Bool
	ctx := context.Background()
	// Warm the pool so that the POST rides a reused connection.
	if _, err := c.ListUsers(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.AddComment(withReuseProbe(ctx, &reused), testRef, AddCommentRequest{Content: "x"})
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	if !reused.Load() {
		t.Fatal("the POST did not use a reused connection; the test proves nothing")
	}
	if posts.Load() != 1 {
		t.Errorf("the server saw the comment %d times, want 1", posts.Load())
	}
}

// withReuseProbe records whether a request rode a reused connection.
func withReuseProbe(ctx context.Context, reused *atomic.Bool) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if info.Reused {
				reused.Store(true)
			}
		},
	})
}

// An idempotent write that may have landed on an earlier attempt ends, when
// a later attempt fails, with an unknown outcome, not a plain error: the
// first attempt may have changed the incident.
func TestEarlierAttemptMayHaveLanded(t *testing.T) {
	for name, steps := range map[string][]func(http.ResponseWriter, *http.Request){
		"502 then 409":        {status(502, ""), status(409, "")},
		"dropped then 404":    {drop, status(404, "")},
		"gateways throughout": {status(502, ""), status(504, ""), answer(503, "", "text/html", "<p>down</p>")},
	} {
		t.Run(name, func(t *testing.T) {
			s := &script{steps: steps}
			c, _, _ := newTestClient(t, s, func(c *Config) { c.MaxAttempts = 3 })
			_, err := c.UpdateStatus(context.Background(), testRef, UpdateStatusRequest{Status: StatusActive})
			if !errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("err = %v after %d requests; want ErrOutcomeUnknown", err, s.count())
			}
		})
	}
	// A refusal first proves nothing was applied: a plain error.
	s := &script{steps: []func(http.ResponseWriter, *http.Request){status(429, "0"), status(404, "")}}
	c, _, _ := newTestClient(t, s)
	_, err := c.Assign(context.Background(), testRef, AssignRequest{Email: "a@example.com"})
	if _, isAPI := AsAPIError(err); !isAPI || errors.Is(err, ErrOutcomeUnknown) || s.count() != 2 {
		t.Errorf("err = %v after %d requests; want the 404 after 2", err, s.count())
	}
}
