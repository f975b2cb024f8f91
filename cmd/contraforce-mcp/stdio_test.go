package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildBinary returns the real contraforce-mcp binary, built once per test
// run (TestMain removes it).
func buildBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "contraforce-mcp-test-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryDir = dir
		bin := filepath.Join(dir, "contraforce-mcp")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		binaryPath = bin
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

var (
	binaryOnce sync.Once
	binaryDir  string
	binaryPath string
	binaryErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// TestStdioBinaryProtocolOnly starts the real binary in demo mode, drives
// a session over stdin, and checks that every stdout line is a JSON-RPC
// message (logs must go to stderr) and that the calls were answered.
func TestStdioBinaryProtocolOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "stdio", "--demo", "--log-level", "debug")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	requests := []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"stdio-test","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_incidents","arguments":{"limit":2}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"list_incidents","arguments":{"statuses":["Resolved"]}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"no/such/method"}`,
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for _, r := range requests {
		if _, err := io.WriteString(stdin, r+"\n"); err != nil {
			t.Fatal(err)
		}
	}

	answered := map[float64]map[string]any{}
	for len(answered) < 5 {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("stdout closed after %d answers; stderr:\n%s", len(answered), stderr.String())
			}
			var msg map[string]any
			if err := json.Unmarshal([]byte(line), &msg); err != nil || msg["jsonrpc"] != "2.0" {
				t.Fatalf("stdout line is not a JSON-RPC message: %q", line)
			}
			if id, ok := msg["id"].(float64); ok {
				answered[id] = msg
			}
		case <-ctx.Done():
			t.Fatalf("timed out with %d answers; stderr:\n%s", len(answered), stderr.String())
		}
	}
	stdin.Close() // EOF ends the server
	for line := range lines {
		var msg map[string]any
		if err := json.Unmarshal([]byte(line), &msg); err != nil || msg["jsonrpc"] != "2.0" {
			t.Fatalf("stdout line is not a JSON-RPC message: %q", line)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v; stderr:\n%s", err, stderr.String())
	}

	tools := answered[2]["result"].(map[string]any)["tools"].([]any)
	if len(tools) != 9 { // the default scopes: no gamebooks
		t.Errorf("tools/list offered %d tools, want 9", len(tools))
	}
	if res := answered[3]["result"].(map[string]any); res["isError"] == true || res["structuredContent"] == nil {
		t.Errorf("list_incidents failed: %v", res)
	}
	bad := answered[4]["result"].(map[string]any)
	if bad["isError"] != true || !strings.Contains(fmt.Sprint(bad["content"]), "Active, New, Closed") {
		t.Errorf("a bad status should be a tool error listing the allowed values, got %v", bad)
	}
	if answered[5]["error"] == nil {
		t.Errorf("an unknown method should be a protocol error, got %v", answered[5])
	}
	if !strings.Contains(stderr.String(), "serving MCP on stdio") {
		t.Errorf("stderr lacks the start-up log line:\n%s", stderr.String())
	}
}
