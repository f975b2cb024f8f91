package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// The server's per-request hot paths, in process: tools/list and a read
// tool call through the whole stack (mcp-go's dispatch, hooks, recovery,
// the adapter, the API client) against an emulator served in memory. The
// end-to-end figures (cold start, transports, RSS) are contraforce-bench's:
// go run ./cmd/contraforce-bench

// memoryAPI serves requests with a handler in the calling goroutine.
type memoryAPI struct{ h http.Handler }

func (m memoryAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// benchServer returns a message handler of the server, as stdio builds it,
// on an in-memory emulator, and an incident the demo credential may read.
func benchServer(b *testing.B) (func(msg string) mcp.JSONRPCMessage, client.IncidentRef) {
	b.Helper()
	emu := emulator.New(emulator.Options{})
	api, err := client.New(client.Config{BaseURL: "http://emulator.invalid/api/v2", ClientID: emulator.DemoClientID,
		ClientSecret: emulator.DemoClientSecret, HTTPClient: &http.Client{Transport: memoryAPI{emu}}})
	if err != nil {
		b.Fatal(err)
	}
	sess := &tools.Session{Client: api, Scopes: defaultScopes}
	srv, _ := newMCPServer(serverDeps{
		Session: func(context.Context) (*tools.Session, error) { return sess, nil },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	var ref client.IncidentRef
	for _, r := range emu.Refs() {
		if r.WorkspaceID == emulator.WorkspaceResponderID {
			ref = r
			break
		}
	}
	ctx := context.Background()
	handle := func(msg string) mcp.JSONRPCMessage { return srv.HandleMessage(ctx, json.RawMessage(msg)) }
	handle(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`)
	return handle, ref
}

// mustResult fails the benchmark on a JSON-RPC error or a tool error.
func mustResult(b *testing.B, res mcp.JSONRPCMessage) {
	b.Helper()
	r, ok := res.(mcp.JSONRPCResponse)
	if !ok {
		b.Fatalf("not a result: %#v", res)
	}
	if ctr, ok := r.Result.(*mcp.CallToolResult); ok && ctr.IsError {
		b.Fatalf("tool error: %+v", ctr.Content)
	}
}

// BenchmarkToolsList measures answering tools/list, encoding included (the
// transports encode the result; the bytes are what a client reads).
func BenchmarkToolsList(b *testing.B) {
	handle, _ := benchServer(b)
	b.ReportAllocs()
	for b.Loop() {
		res := handle(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
		mustResult(b, res)
		raw, err := json.Marshal(res)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(raw)))
	}
}

// BenchmarkToolCall measures a read tool call through the whole server,
// encoding of the answer included.
func BenchmarkToolCall(b *testing.B) {
	handle, ref := benchServer(b)
	for _, c := range []struct{ name, args string }{
		{"get_incident", fmt.Sprintf(`{"workspaceId":%q,"source":%q,"incidentId":%q}`, ref.WorkspaceID, ref.Source, ref.IncidentID)},
		{"list_incidents", `{}`},
	} {
		msg := fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, c.name, c.args)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res := handle(msg)
				mustResult(b, res)
				if _, err := json.Marshal(res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
