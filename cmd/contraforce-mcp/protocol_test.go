package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/resources"
)

// stdioProc is the real binary serving MCP on stdio, driven with raw
// JSON-RPC lines, as a client that reads the wire would.
type stdioProc struct {
	t      *testing.T
	stdin  io.WriteCloser
	msgs   chan map[string]any
	stderr *lockedBuffer
	init   map[string]any // the answer to initialize
	nextID int
	// notes are the notifications read so far, in order.
	notes []map[string]any
}

// startStdio starts the binary with args and initializes a session.
func startStdio(t *testing.T, args ...string) *stdioProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, buildBinary(t), args...)
	cmd.Env = cleanEnv()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &stdioProc{t: t, stdin: stdin, msgs: make(chan map[string]any, 1000), stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
			<-done
		}
		cancel()
	})
	go func() {
		defer close(p.msgs)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"unparsable": sc.Text()}
			}
			p.msgs <- m
		}
	}()
	p.init = p.call("initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "protocol-test", "version": "1"}})
	if p.init["result"] == nil {
		t.Fatalf("initialize: %v", p.init)
	}
	p.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
	return p
}

func (p *stdioProc) send(msg map[string]any) {
	p.t.Helper()
	raw, err := json.Marshal(msg)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.stdin.Write(append(raw, '\n')); err != nil {
		p.t.Fatal(err)
	}
}

// call sends a request and returns its answer; notifications that arrive
// before it are kept in notes.
func (p *stdioProc) call(method string, params any) map[string]any {
	p.t.Helper()
	p.nextID++
	id := p.nextID
	p.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-p.msgs:
			if !ok {
				p.t.Fatalf("%s: stdout closed; stderr:\n%s", method, p.stderr.String())
			}
			if m["unparsable"] != nil {
				p.t.Fatalf("stdout line is not JSON: %v", m["unparsable"])
			}
			if m["id"] == nil {
				p.notes = append(p.notes, m)
				continue
			}
			if m["id"] == float64(id) {
				return m
			}
		case <-timeout:
			p.t.Fatalf("%s: no answer in 30s; stderr:\n%s", method, p.stderr.String())
		}
	}
}

// logMessages returns the notifications/message read so far and forgets them.
func (p *stdioProc) logMessages() []map[string]any {
	var out []map[string]any
	for _, n := range p.notes {
		if n["method"] == "notifications/message" {
			out = append(out, n["params"].(map[string]any))
		}
	}
	p.notes = nil
	return out
}

// errorOf returns the code and message of a JSON-RPC error answer.
func errorOf(t *testing.T, answer map[string]any) (int, string) {
	t.Helper()
	e, ok := answer["error"].(map[string]any)
	if !ok {
		t.Fatalf("want an error, got %v", answer)
	}
	return int(e["code"].(float64)), fmt.Sprint(e["message"])
}

// TestProtocolErrorCodes: through the real binary, a prompts/get whose
// arguments are at fault answers -32602 (invalid params), a resources/read
// of a URI naming no resource -32002 (resource not found; -32602 in
// protocol 2026-07-28), each with the sentence to act on; good requests
// still succeed.
func TestProtocolErrorCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	p := startStdio(t, "stdio", "--demo")
	ws := emulator.WorkspaceOwnerID
	incident := func(source, id string) string {
		return "contraforce://workspaces/" + ws + "/incidents/" + source + "/" + id
	}
	modern := map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "protocol-test", "version": "1"},
		"io.modelcontextprotocol/clientCapabilities": map[string]any{},
	}
	tests := []struct {
		name   string
		method string
		params map[string]any
		code   int
		says   []string
	}{
		{"prompt: invalid source", "prompts/get", map[string]any{"name": "triage_incident",
			"arguments": map[string]any{"workspaceId": ws, "source": "NoSuchProduct", "incidentId": "1"}},
			-32602, []string{`invalid argument "source"`, "NoSuchProduct", "Sentinel, DefenderXDR"}},
		{"prompt: missing argument", "prompts/get", map[string]any{"name": "close_incident",
			"arguments": map[string]any{"workspaceId": ws, "source": "Sentinel"}},
			-32602, []string{`missing required argument "incidentId"`}},
		{"prompt: no such incident", "prompts/get", map[string]any{"name": "triage_incident",
			"arguments": map[string]any{"workspaceId": ws, "source": "Sentinel", "incidentId": "no-such-incident"}},
			-32602, []string{"NOT_FOUND", "no-such-incident", "list_incidents"}},
		{"prompt: unknown prompt", "prompts/get", map[string]any{"name": "no_such_prompt"}, -32602, []string{"no_such_prompt"}},
		{"resource: no such incident", "resources/read", map[string]any{"uri": incident("Sentinel", "no-such-incident")},
			-32002, []string{"resource not found", "NOT_FOUND", "no-such-incident"}},
		{"resource: not an incident URI", "resources/read", map[string]any{"uri": incident("NoSuchProduct", "1")},
			-32002, []string{"not an incident resource URI", "Sentinel"}},
		{"resource: unknown scheme", "resources/read", map[string]any{"uri": "test://nothing"}, -32002, []string{"test://nothing"}},
		{"resource: no such incident, protocol 2026-07-28", "resources/read",
			map[string]any{"uri": incident("Sentinel", "no-such-incident"), "_meta": modern},
			-32602, []string{"resource not found", "NOT_FOUND"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := errorOf(t, p.call(tt.method, tt.params))
			if code != tt.code {
				t.Errorf("code %d, want %d (%s)", code, tt.code, msg)
			}
			for _, s := range tt.says {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q lacks %q", msg, s)
				}
			}
		})
	}

	// A good read and a good prompt still succeed.
	list := p.call("tools/call", map[string]any{"name": "list_incidents", "arguments": map[string]any{"limit": 1}})
	rows := list["result"].(map[string]any)["structuredContent"].(map[string]any)["incidents"].([]any)
	row := rows[0].(map[string]any)
	uri := resources.IncidentURI(client.IncidentRef{WorkspaceID: row["workspaceId"].(string),
		Source: client.Source(row["source"].(string)), IncidentID: row["incidentId"].(string)})
	if res := p.call("resources/read", map[string]any{"uri": uri}); res["result"] == nil {
		t.Errorf("reading %s: %v", uri, res)
	}
	args := map[string]any{"workspaceId": row["workspaceId"], "source": row["source"], "incidentId": row["incidentId"]}
	if res := p.call("prompts/get", map[string]any{"name": "triage_incident", "arguments": args}); res["result"] == nil {
		t.Errorf("triage_incident: %v", res)
	}
}
