package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/contraforce/contraforce-mcp/client/emulator"
)

// demoAPI is the embedded emulator that --demo runs on loopback.
type demoAPI struct {
	BaseURL string
	srv     *http.Server
}

// startDemo serves the ContraForce emulator with its seeded data on an
// ephemeral loopback port. It is a real HTTP server, so the demo exercises
// the same client, retries and error handling as production.
func startDemo(log *slog.Logger) (*demoAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: listen on loopback: %w", err)
	}
	emu := emulator.New(emulator.Options{})
	d := &demoAPI{
		BaseURL: "http://" + ln.Addr().String() + "/api/v2",
		srv:     &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second, ErrorLog: stdLogger(log, slog.LevelDebug)},
	}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("demo emulator stopped", "err", err)
		}
	}()
	log.Debug("demo emulator listening", "url", d.BaseURL)
	return d, nil
}

// Close stops the emulator.
func (d *demoAPI) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return d.srv.Shutdown(ctx)
}
