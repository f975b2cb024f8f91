package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/mark3labs/mcp-go/server"

	"github.com/contraforce/contraforce-mcp/client"
	"github.com/contraforce/contraforce-mcp/client/emulator"
	"github.com/contraforce/contraforce-mcp/tools"
)

const stdioUsage = `Usage: contraforce-mcp stdio [flags]

Serves MCP on stdin/stdout for one agent (Claude Desktop, Claude Code, VS Code,
Cursor…). Logs go to stderr; stdout carries only protocol messages.

With --demo it runs against an embedded ContraForce emulator with seeded
incidents: no credentials needed.

Flags:
`

// runStdio serves MCP on stdin/stdout until stdin closes or ctx ends.
func runStdio(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	var cfg config
	fs := flag.NewFlagSet("stdio", flag.ContinueOnError)
	finish := commonFlags(fs, &cfg, getenv)
	auditDest := auditFlag(fs, getenv, "off")
	if code, ok := parseFlags(fs, args, stderr, "stdio", stdioUsage); !ok {
		return code
	}
	if err := errors.Join(finish(), cfg.credentials()); err != nil {
		fmt.Fprintf(stderr, "contraforce-mcp stdio: %v\n", err)
		return 2
	}
	log := newLogger(stderr, cfg.LogLevel)

	sess, cleanup, err := newSession(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	defer cleanup()
	audit, closeAudit, err := openAudit(*auditDest, stderr, log)
	if err != nil {
		log.Error("cannot open the audit log", "err", err)
		return 1
	}
	defer closeAudit()
	srv, surf := newMCPServer(serverDeps{
		ToolMiddleware: audit,
		Session:        func(context.Context) (*tools.Session, error) { return sess, nil },
		Logger:         log,
		ConfirmClose:   cfg.ConfirmClose,
	})

	offered := 0
	for _, t := range surf.Tools {
		if t.Offered(sess) {
			offered++
		}
	}
	log.Info("contraforce-mcp serving MCP on stdio", "version", client.Version, "api", sess.Client.Config().BaseURL,
		"demo", cfg.Demo, "tools", offered, "readOnly", cfg.ReadOnly)
	if isTerminal(stdin) {
		fmt.Fprint(stderr, connectHint(cfg.Demo))
	}

	stdio := server.NewStdioServer(srv)
	stdio.SetErrorLogger(stdLogger(log, slog.LevelError))
	if err := stdio.Listen(ctx, stdin, stdout); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("stdio stopped", "err", err)
		return 1
	}
	log.Info("stdio closed; bye")
	return 0
}

// newSession builds the one session of a stdio server: its API client (on
// the embedded emulator with --demo) and the operator's policy.
func newSession(cfg config, log *slog.Logger) (*tools.Session, func(), error) {
	cc := client.Config{
		BaseURL: cfg.BaseURL, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Timeout: cfg.Timeout, Workspaces: cfg.Workspaces, Logger: log,
	}
	cleanup := func() {}
	if cfg.Demo {
		demo, err := startDemo(log)
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { _ = demo.Close() }
		cc.BaseURL, cc.ClientID, cc.ClientSecret = demo.BaseURL, emulator.DemoClientID, emulator.DemoClientSecret
	}
	api, err := client.New(cc)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return &tools.Session{Client: api, Scopes: cfg.Scopes, ReadOnly: cfg.ReadOnly, AgentName: cfg.AgentName,
		ResponseActions: cfg.ResponseActions}, cleanup, nil
}

// connectHint is what a person who started the server in a terminal sees:
// the server speaks JSON-RPC on stdin, so say how to connect a client.
func connectHint(demo bool) string {
	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	return connectHintFor(exe, demo)
}

// connectHintFor is connectHint for the binary at exe ("" if unknown).
func connectHintFor(exe string, demo bool) string {
	install := ""
	if exe == "" || goRunBinary(exe) {
		// Started by go run: the binary is a temporary file or a build-cache
		// entry, neither a path to configure a client with; name the installed one.
		exe = "contraforce-mcp"
		install = "\nFirst install it: go install ./cmd/contraforce-mcp (into $(go env GOPATH)/bin, which must be on PATH).\n"
	}
	args := `["stdio"]`
	if demo {
		args = `["stdio", "--demo"]`
	}
	return fmt.Sprintf(`
This is an MCP server: it speaks JSON-RPC on stdin/stdout and waits for an MCP client.
Connect one instead of typing here (Ctrl-C to quit):
%[5]s
  Claude Code:     claude mcp add contraforce -- %[1]s %[3]s
  Claude Desktop:  add to claude_desktop_config.json under "mcpServers":
                   "contraforce": {"command": %[2]q, "args": %[4]s}
  MCP Inspector:   npx @modelcontextprotocol/inspector %[1]s %[3]s

See README.md for VS Code and Cursor, and for real credentials.

`, exe, exe, map[bool]string{true: "stdio --demo", false: "stdio"}[demo], args, install)
}

// goRunDirs match the directories go run (and go test) build into, wherever
// GOTMPDIR and GOCACHE point: a temporary work directory
// (.../go-build123/b001/exe/<name>), or an executable kept in the build
// cache (GOCACHE/<2 hex>/<64 hex>-d/<name>).
// They are compiled when the hint is shown, not at every start.
var goRunDirs = sync.OnceValue(func() (r struct{ workDir, cacheEntry, cacheShard *regexp.Regexp }) {
	r.workDir = regexp.MustCompile(`^go-build[0-9]+$`)
	r.cacheEntry = regexp.MustCompile(`^[0-9a-f]{64}-d$`)
	r.cacheShard = regexp.MustCompile(`^[0-9a-f]{2}$`)
	return r
})

// goRunBinary reports whether exe was built by go run rather than installed.
func goRunBinary(exe string) bool {
	re := goRunDirs()
	dir := filepath.Dir(exe)
	if re.cacheEntry.MatchString(filepath.Base(dir)) && re.cacheShard.MatchString(filepath.Base(filepath.Dir(dir))) {
		return true
	}
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if re.workDir.MatchString(filepath.Base(d)) {
			return true
		}
	}
	return false
}
