package tools_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

// TestConcurrentClients: several MCP clients of one server call tools in
// parallel (run with -race); every call succeeds, and the emulator ends up
// with exactly the comments that were posted, each attributed to the
// client that posted it.
func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	const clients, calls = 8, 10
	e := newEnv(t)
	sess := e.session(demoCred)
	srv := newServer(tools.Deps{Session: func(context.Context) (*tools.Session, error) { return sess, nil }})
	refs := []client.IncidentRef{
		e.findRef(open(emulator.WorkspaceOwnerID, client.SourceSentinel)),
		e.findRef(open(emulator.WorkspaceOwnerID, client.SourceDefenderXDR)),
		e.findRef(open(emulator.WorkspaceResponderID, client.SourceSentinel)),
	}
	before := map[client.IncidentRef]int{}
	for _, r := range refs {
		before[r] = len(e.emu.Comments(r))
	}
	conns := make([]*conn, clients)
	for i := range conns {
		conns[i] = connectServer(t, srv, fmt.Sprintf("agent-%d", i), "")
	}

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		posted = map[client.IncidentRef]int{}
		errs   []string
	)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range calls {
				ref := refs[(i+n)%len(refs)]
				name, args := "get_incident", refArgs(ref, nil)
				if n%2 == 0 {
					name, args = "add_comment", refArgs(ref, map[string]any{"content": fmt.Sprintf("note %d of client %d", n, i)})
				}
				res, err := c.tryCall(name, args)
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, fmt.Sprintf("client %d call %d: %v", i, n, err))
				case res.IsError || len(res.RawStructuredContent) == 0:
					errs = append(errs, fmt.Sprintf("client %d call %d: %s", i, n, resultText(res)))
				case name == "add_comment":
					posted[ref]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, msg := range errs {
		t.Error(msg)
	}

	total := 0
	for _, r := range refs {
		comments := e.emu.Comments(r)
		if got, want := len(comments)-before[r], posted[r]; got != want {
			t.Errorf("%s: %d new comments, %d posted", r.IncidentID, got, want)
		}
		for _, cm := range comments[before[r]:] {
			// "note N of client I" carries the name of client I.
			var n, i int
			if _, err := fmt.Sscanf(cm.Message[strings.Index(cm.Message, "] ")+2:], "note %d of client %d", &n, &i); err != nil ||
				!strings.HasPrefix(cm.Message, fmt.Sprintf("[AI agent: agent-%d via contraforce-mcp] ", i)) {
				t.Errorf("comment %q is attributed to the wrong client", cm.Message)
			}
		}
		total += posted[r]
	}
	if total != clients*calls/2 {
		t.Errorf("%d comments posted, want %d", total, clients*calls/2)
	}
}

// resultText is the text of a result, for messages from goroutines.
func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := mcp.AsTextContent(c); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
