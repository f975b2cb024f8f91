package tools_test

import (
	"testing"

	"github.com/contraforce/contraforce-mcp/client/emulator"
)

func TestZZExperiment(t *testing.T) {
	e := newEnv(t)
	c := connect(t, e.session(demoCred), "claude-ai")
	t.Logf("protocol %s", c.c.ProtocolVersion())
	ref := e.findRef(open(emulator.WorkspaceOwnerID, "Sentinel"))
	text := c.ok("add_comment", refArgs(ref, map[string]any{"content": "hello"}), nil)
	t.Logf("%s", text)
	for _, r := range c.listToolsRaw() {
		t.Logf("%s", r)
	}
}
