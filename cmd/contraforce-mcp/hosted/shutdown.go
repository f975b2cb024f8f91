package hosted

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// ToolMiddleware is the hosted server's tool handler middleware: it counts
// tool calls by tenant, tool and outcome, times them, and ties each call to
// the shutdown's hard stop (SSE runs a call on a context detached from its
// HTTP request, so nothing else could cancel it).
func (s *Server) ToolMiddleware() server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
			s.toolsRunning.Add(1)
			ctx, cancel := context.WithCancel(ctx)
			stop := context.AfterFunc(s.hardStop, cancel)
			start := time.Now()
			defer func() {
				stop()
				cancel()
				s.toolsRunning.Add(-1)
				tenant := ""
				if sess, e := SessionFrom(ctx); e == nil {
					tenant = sess.Tenant
				}
				outcome := "ok"
				if err != nil || res == nil || res.IsError {
					outcome = "error"
				}
				s.metrics.toolCalls.add(1, tenant, req.Params.Name, outcome)
				s.metrics.toolDuration.observe(time.Since(start).Seconds(), req.Params.Name)
			}()
			return next(ctx, req)
		}
	}
}

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops
// accepting (the listener closes, idle connections too, new MCP requests on
// open connections get 503), lets the requests in flight finish and their
// answers reach the clients within ShutdownTimeout, then ends every session
// (SSE streams close) and returns nil. When the time runs out, running tool
// calls are cancelled and connections closed. Serve may be called once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.handler == nil {
		return errors.New("hosted: Mount the MCP server before Serve")
	}
	defer s.close()
	defer s.serveMetrics()()
	hs := s.httpServer()
	served := make(chan error, 1)
	go func() {
		if s.o.TLSCertFile != "" {
			served <- hs.ServeTLS(ln, s.o.TLSCertFile, s.o.TLSKeyFile)
		} else {
			served <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	s.shutdown(hs)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdown drains and stops hs.
func (s *Server) shutdown(hs *http.Server) {
	s.draining.Store(true)
	start := time.Now()
	s.log.Info("shutting down: draining in-flight requests", "inflight", s.inflight.Load(), "sessions", s.reg.counts(), "grace", s.o.ShutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), s.o.ShutdownTimeout)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- hs.Shutdown(ctx) }()

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for s.inflight.Load() > 0 && ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	left := s.inflight.Load()
	// Every answer is out (or the time is up): end the sessions so that the
	// streams, which Shutdown would otherwise wait for, close.
	s.reg.endAll()
	s.sse.CloseSessions()
	_ = s.streamable.Shutdown(ctx)
	if err := <-stopped; err != nil {
		s.log.Warn("shutdown grace ran out: cancelling the calls still running and closing connections",
			"inflight", left, "toolCalls", s.toolsRunning.Load(), "err", err)
		s.stopHard()
		_ = hs.Close()
		return
	}
	s.log.Info("shutdown complete", "took", time.Since(start).Round(time.Millisecond))
}

// close stops the background work; idempotent.
func (s *Server) close() {
	s.closeOnce.Do(func() {
		close(s.bgStop)
		s.bg.Wait()
		if s.shared != nil {
			s.shared.close()
		}
		s.stopHard()
		if s.streamable != nil {
			_ = s.streamable.Shutdown(context.Background())
		}
	})
}
