package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/cmd/contraforce-mcp/hosted"
)

// The HTTP transports of `contraforce-mcp serve`.
const (
	transportSSE  = "SSE"
	transportHTTP = "streamable HTTP"
)

// hostedTransports are measured in this order.
var hostedTransports = []string{transportSSE, transportHTTP}

// servedProc is a running `contraforce-mcp serve`.
type servedProc struct {
	cmd   *exec.Cmd
	url   string // http://127.0.0.1:PORT
	token string
	// http carries every benchmark client's requests: one pool large
	// enough that no session waits for or churns a connection.
	http *http.Client
}

// startServe starts `contraforce-mcp serve` on a free loopback port against
// the API, with a bearer token known to the benchmark. Its policy limits
// (tool-call rate, sessions per tenant) are lifted: they protect a shared
// deployment, and a benchmark measuring capacity would only measure them.
// With pin, the server runs on pin's server core.
func startServe(ctx context.Context, bin string, a *api, secretFile string, pin pinning) (*servedProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	token, sum := hosted.NewToken()
	cmd := pin.command(bin, "serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--base-url", a.baseURL, "--client-id", emulator.DemoClientID, "--client-secret-file", secretFile,
		"--token-sha256", sum, "--tool-calls-per-second", "0", "--max-sessions", "5000", "--max-sessions-per-tenant", "5000")
	cmd.Env = serverEnv()
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start contraforce-mcp serve: %w", err)
	}
	s := &servedProc{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), token: token, http: pooledHTTP()}
	s.http.Timeout = 0 // SSE streams stay open; calls carry their own deadlines
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls /healthz for up to 20 s.
func (s *servedProc) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/healthz", nil)
		if res, err := s.http.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("contraforce-mcp serve did not answer /healthz within 20 s")
}

// stop sends SIGTERM (a graceful shutdown) and kills after 10 s.
func (s *servedProc) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.http.CloseIdleConnections()
}

// connect opens an initialized MCP session over one transport with the
// protocol version clients speak today (2025-11-25: the initialize
// handshake and a server-side session).
func (s *servedProc) connect(ctx context.Context, kind string) (*mcpclient.Client, error) {
	hdr := map[string]string{"Authorization": "Bearer " + s.token}
	quiet := slog.New(slog.DiscardHandler)
	var tr transport.Interface
	var err error
	if kind == transportSSE {
		tr, err = transport.NewSSE(s.url+"/sse", transport.WithHeaders(hdr), transport.WithHTTPClient(s.http), transport.WithSSELogger(quiet))
	} else {
		tr, err = transport.NewStreamableHTTP(s.url+"/mcp", transport.WithHTTPHeaders(hdr), transport.WithHTTPBasicClient(s.http), transport.WithHTTPLogger(quiet))
	}
	if err != nil {
		return nil, err
	}
	c := mcpclient.NewClient(tr, mcpclient.WithProtocolVersion(mcp.LATEST_LEGACY_PROTOCOL_VERSION))
	// Start takes the session's own context: the SSE stream lives as long
	// as it does (the transport bounds the wait for its endpoint, 30 s).
	if err := c.Start(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("%s: start: %w", kind, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	req.Params.ClientInfo = mcp.Implementation{Name: "contraforce-bench", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("%s: initialize: %w", kind, err)
	}
	return c, nil
}

// callTool calls a tool over an MCP client session; a tool error is an error.
func callTool(ctx context.Context, c *mcpclient.Client, name string, args map[string]any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if res.IsError {
		return fmt.Errorf("%s: tool error", name)
	}
	return nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
