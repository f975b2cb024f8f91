package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// toolsListCeiling bounds the average bytes per tool of tools/list, output
// schemas included, with every tool offered: the measured value (20,518 B
// for 11 tools). The performance issue's target is 1,500 B. What is left is
// mostly what an agent needs to call correctly (every enum, every property
// described, the cross-field rules) and complete output schemas; see the
// README's benchmark notes. The ceiling stops the list from growing
// unnoticed: a tool that adds bytes must move it, in review.
const toolsListCeiling = 1870

// TestToolsListSize measures tools/list as a client reads it (the JSON-RPC
// result), every tool offered, and prints the bytes per tool.
func TestToolsListSize(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	api, err := client.New(client.Config{BaseURL: "http://emulator.invalid/api/v2", ClientID: emulator.DemoClientID,
		ClientSecret: emulator.DemoClientSecret, HTTPClient: &http.Client{Transport: memoryAPI{emu}}})
	if err != nil {
		t.Fatal(err)
	}
	sess := &tools.Session{Client: api, Scopes: gamebookScopes, ResponseActions: true}
	srv, surf := newMCPServer(serverDeps{
		Session: func(context.Context) (*tools.Session, error) { return sess, nil },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx := context.Background()
	srv.HandleMessage(ctx, json.RawMessage(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"size","version":"1"}}}`))
	res, ok := srv.HandleMessage(ctx, json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)).(mcp.JSONRPCResponse)
	if !ok {
		t.Fatal("tools/list failed")
	}
	raw, err := json.Marshal(res.Result)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Tools []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Tools) != len(surf.Tools) {
		t.Fatalf("%d tools listed, %d in the surface", len(list.Tools), len(surf.Tools))
	}
	var per []string
	for _, tl := range list.Tools {
		var def struct{ Name string }
		_ = json.Unmarshal(tl, &def)
		per = append(per, fmt.Sprintf("%s %d", def.Name, len(tl)))
	}
	slices.Sort(per)
	avg := len(raw) / len(list.Tools)
	fmt.Printf("tools/list: %d B for %d tools, %d B per tool (%s)\n", len(raw), len(list.Tools), avg, strings.Join(per, ", "))
	if avg > toolsListCeiling {
		t.Errorf("tools/list averages %d B per tool, above the ceiling of %d B", avg, toolsListCeiling)
	}
}
