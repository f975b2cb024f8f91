// Command contraforce-emulator serves the in-memory ContraForce v2 API
// emulator (package client/emulator) over HTTP, for demos, manual testing
// and benchmarks:
//
//	go run ./cmd/contraforce-emulator --addr 127.0.0.1:8089
//
// It accepts the demo credential (or the one given with --client-id and
// --client-secret, which replaces it) and the test credentials "reader" and
// "responder-nocomment". It listens only on loopback addresses unless
// --allow-remote is given: it is a test double whose demo secret is public.
// Logs go to stderr (slog with tint, coloured only on a terminal); it stops
// gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lmittmann/tint"

	"github.com/contraforce/contraforce-mcp/client/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "contraforce-emulator:", err)
		os.Exit(1)
	}
}

// config is the command line, parsed.
type config struct {
	addr, clientID, clientSecret string
	seed                         int64
	pageSize                     int
	level                        slog.Level
	allowRemote                  bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("contraforce-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8089", "listen address; port 0 picks a free port (loopback only unless --allow-remote)")
	fs.StringVar(&c.clientID, "client-id", emulator.DemoClientID, "client id of the demo credential")
	secret := emulator.DemoClientSecret
	if v := os.Getenv("CONTRAFORCE_EMULATOR_CLIENT_SECRET"); v != "" {
		secret = v // a flag shows in ps; the environment does not
	}
	fs.StringVar(&c.clientSecret, "client-secret", secret, "client secret of the demo credential (env CONTRAFORCE_EMULATOR_CLIENT_SECRET)")
	fs.Int64Var(&c.seed, "seed", 1, "dataset seed (the same seed serves the same dataset)")
	fs.IntVar(&c.pageSize, "page-size", emulator.DefaultPageSize, "incidents per (workspace, source) stream per page of the list call")
	level := fs.String("log-level", "info", "log level: debug (every request), info, warn or error")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow a non-loopback --addr (the demo credential is public: think twice)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q (all options are flags; see --help)", fs.Args())
	}
	if err := c.level.UnmarshalText([]byte(*level)); err != nil {
		return c, fmt.Errorf("--log-level %q: use debug, info, warn or error", *level)
	}
	if strings.TrimSpace(c.clientID) == "" || c.clientSecret == "" {
		return c, errors.New("--client-id and --client-secret must not be empty")
	}
	if c.pageSize < 1 {
		return c, fmt.Errorf("--page-size %d: must be at least 1", c.pageSize)
	}
	return c, checkLoopback(c.addr, c.allowRemote)
}

// checkLoopback refuses to listen beyond this machine unless allowed.
func checkLoopback(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %v (want host:port, e.g. 127.0.0.1:8089)", addr, err)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to listen on %q: the emulator is a test double with a public demo credential; use a loopback address such as 127.0.0.1:8089, or pass --allow-remote", addr)
}

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(tint.NewHandler(stderr, &tint.Options{Level: c.level, NoColor: !isTerminal(stderr), TimeFormat: time.TimeOnly}))

	creds := emulator.DefaultCredentials()
	creds[0].ClientID, creds[0].ClientSecret = c.clientID, c.clientSecret
	emu := emulator.New(emulator.Options{Seed: c.seed, PageSize: c.pageSize, Credentials: creds})

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	srv := &http.Server{
		Handler:           logRequests(logger, emu),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	base := "http://" + ln.Addr().String() + "/api/v2"
	shown := "***" // never print a secret, except the public demo one
	if c.clientSecret == emulator.DemoClientSecret {
		shown = c.clientSecret
	}
	fmt.Fprintf(stderr, "contraforce-emulator listening on %s (seed %d, %d incidents)\n", base, c.seed, len(emu.Refs()))
	fmt.Fprintf(stderr, "  try: curl -s -u '%s:%s' -X POST %s/incidents/across-workspaces -H 'Content-Type: application/json' -d '{\"isFirstCall\":true}'\n",
		c.clientID, shown, base)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// isTerminal reports whether w is a character device (colour only then).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// logRequests logs every request at debug level: method, path, status,
// duration and request id — never headers (they carry the credential).
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() { // deferred: a dropped connection aborts the handler with a panic
			status := any(sw.status)
			if sw.status == 0 {
				status = "dropped"
			}
			logger.Debug("request", "method", r.Method, "path", r.URL.EscapedPath(), "status", status,
				"duration", time.Since(start).Round(time.Microsecond), "request_id", w.Header().Get("X-Request-Id"))
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusWriter records the status; Unwrap lets the emulator hijack the
// connection through it (fault injection).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
